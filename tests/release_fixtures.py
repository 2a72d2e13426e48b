"""Tiny copies of each corpus' official release layout, built by code (no committed binaries).

Each builder writes label files in the release's real line formats, including the
tricky cases DATASETS.md lists, and short sine-wave WAVs at the release's sample rate.
Every tree has ten speakers, five of each gender, so `privbench prepare` fills all
five folds. `scripts/inspect_release_fixtures.py` prepares and inspects them all.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile

MUSE_LABEL_NAME = "Emotion data from crowdsourcing (C is when annotators had access to all previous sentences).csv"


def write_wav(path: Path, seconds: float = 1.0, rate: int = 16000) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * rate)) / rate
    soundfile.write(path, (0.1 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), rate)


def iemocap_tree(root: Path, sessions=range(1, 6)) -> Path:
    """One dialog per session, one turn per speaker. Session 3's dialog is `Ses03M_impro05a`
    (its female turn is `..._F000`), session 5's the suffixed `Ses05M_script01_1b`; male
    turns are labelled `xxx` (no category agreement, ratings still present)."""
    for k in sessions:
        session = root / f"Session{k}"
        dialog = {3: "Ses03M_impro05a", 5: "Ses05M_script01_1b"}.get(k, f"Ses0{k}F_script01_1")
        evaluation = session / "dialog" / "EmoEvaluation"
        (evaluation / "Categorical").mkdir(parents=True)
        (evaluation / "Categorical" / f"{dialog}_e1_cat.txt").write_text("junk that must not be read\n")
        lines = ["% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]", ""]
        for i, gender in enumerate("FM"):
            utterance = f"{dialog}_{gender}00{i}"
            category = "ang" if gender == "F" else "xxx"
            lines += [f"[1.0{i} - 2.0{i}]\t{utterance}\t{category}\t[1.5000, 4.0000, 4.5000]", "C-E1:\tAnger;\t()",
                      "A-E3:\tval 2; act 4; dom  4;\t()", ""]
            write_wav(session / "sentences" / "wav" / dialog / f"{utterance}.wav", 1.0 + i)
        (evaluation / f"{dialog}.txt").write_text("\n".join(lines))
        (evaluation / f"._{dialog}.txt").write_bytes(b"\x00\x05AppleDouble")
        transcripts = session / "dialog" / "transcriptions"
        transcripts.mkdir(parents=True)
        (transcripts / f"{dialog}.txt").write_text(
            f"{dialog}_F000 [001.0000-002.0000]: [LAUGHTER] Excuse me.\n{dialog}_M001 [002.0100-003.0100]: Do you  [BREATHING] have a pen?\n"
            f"{dialog}_MXX0 [004.0000-005.0000]: [LAUGHTER]\n")
    return root


IMPROV_SPEAKERS = ("F01", "M01", "F02", "M02", "F03", "M03", "F04", "M04", "F05", "M05")


def msp_improv_tree(root: Path, label_name: str = "Evaluation.txt", reversed_activation: bool = False) -> Path:
    """An angry and a sad clip per speaker (48 kHz), a rater line each, and one all-NaN block."""
    lines = []
    for speaker in IMPROV_SPEAKERS:
        for emotion, activation in (("A", 4.2), ("S", 1.8)):
            if reversed_activation:
                activation = 6 - activation
            stem = f"S01{emotion}-{speaker}-P-FM01"
            lines += [f"UTD-IMPROV-{stem}.avi; {emotion}; A:{activation:.6f}; V:3.000000; D:2.833333 ; N:3.166667;",
                      "rater1; Angry; (); A:4.0; V:2.0; D:3.0; N:3.0;",
                      "rater1; Angry; (); A:4.0; V:2.0; D:3.0; N:3.0;", ""]  # a duplicated rater line, as some copies have
            write_wav(root / "Audio" / "session1" / f"S01{emotion}" / "P" / f"MSP-IMPROV-{stem}.wav", 1.0, rate=48000)
    lines.append("UTD-IMPROV-S02A-F01-P-FM01.avi; A; A:NaN; V:3.000000; D:NaN ; N:NaN;")
    (root / label_name).write_text("\n".join(lines))
    return root


def msp_podcast_tree(root: Path, label_name: str = "labels_consensus.csv") -> Path:
    """Two utterances for each of ten speakers, plus an Unknown speaker and an Unknown gender."""
    (root / "Labels").mkdir(parents=True)
    rows = ["FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set"]
    for s in range(10):
        speaker, gender = 30 + s, ("Male", "Female")[s % 2]
        for u, (activation, valence) in enumerate(((2.2, 4.0), (5.777778, 3.555556))):
            rows.append(f"MSP-PODCAST_{s + 1:04d}_{u + 1:04d}.wav,N,{activation},{valence},3.0,{speaker},{gender},Test1")
    rows += ["MSP-PODCAST_0100_0001.wav,N,4,4,4,Unknown,Unknown,Train", "MSP-PODCAST_0100_0002.wav,N,4,4,4,41,Unknown,Train"]
    (root / "Labels" / label_name).write_text("\n".join(rows) + "\n")
    for row in rows[1:]:
        write_wav(root / "Audios" / row.split(",")[0])
    return root


def muse_tree(root: Path, label_folder: str = "Survey Information (Questions, Data etc)",
              audio_folder: str = "NotStressed/Audio/Non Stressed Question Monologue Audio [Sentence Split]") -> Path:
    """Two monologue sentences per speaker (4 and 5 s, inside the 3-25 s filter), one 2 s sentence, one ._ file."""
    (root / label_folder).mkdir(parents=True)
    rows = ["Sentence_name,Duration,Gender,Type,Ques_Type,Activation_Mean,Activation_SD,Valence_Mean,Valence_SD"]
    transcripts = root / "Combined" / "Utterance Transcripts"
    transcripts.mkdir(parents=True)
    for s in range(1, 11):
        gender = "MF"[s % 2]
        for q, (seconds, activation, valence) in enumerate(((4.0, 5.5, 6.2), (5.0, 3.0, 4.0)), start=1):
            name = f"{s:02d}_q{q}_s1"
            rows.append(f"{name}.wav,{seconds},{gender},NS,1,{activation},1,{valence},1")
            write_wav(root / audio_folder / f"{name}.wav", seconds)
            if q == 1:
                (transcripts / f"{name}.txt").write_text("I think  it went well\n")
    rows.append("01_q3_s1.wav,2.0,M,NS,1,5,1,5,1")
    write_wav(root / audio_folder / "01_q3_s1.wav", 2.0)
    write_wav(root / audio_folder / "._01_q1_s1.wav", 1.0)
    (root / label_folder / MUSE_LABEL_NAME).write_text("\n".join(rows) + "\n")
    return root


CREMA_ACTORS = {"1001": (51, "Male", "Caucasian", "Not Hispanic"), "1002": (21, "Female", "Caucasian", "Not Hispanic"),
                "1003": (21, "Female", "Asian", "Not Hispanic"), "1004": (42, "Female", "African American", "Not Hispanic"),
                "1005": (29, "Male", "Unknown", "Hispanic"), "1006": (58, "Female", "Caucasian", "Not Hispanic"),
                "1007": (38, "Male", "Asian", "Not Hispanic"), "1008": (33, "Male", "African American", "Not Hispanic"),
                "1009": (61, "Male", "Caucasian", "Hispanic"), "1076": (25, "Female", "African American", "Not Hispanic")}
CREMA_CLIPS = ("DFA_ANG_XX", "IEO_HAP_HI", "IEO_SAD_HI", "IEO_ANG_LO", "ITS_NEU_XX", "TSI_DIS_XX")


def crema_d_tree(root: Path) -> Path:
    """Six clips per actor (16 kHz), the silent 1076_MTI_SAD_XX, a ._ file and an AudioMP3/ folder."""
    lines = ['"ActorID","Age","Sex","Race","Ethnicity"']
    lines += [f'{actor},{age},"{sex}","{race}","{ethnicity}"' for actor, (age, sex, race, ethnicity) in CREMA_ACTORS.items()]
    root.mkdir(parents=True)
    (root / "VideoDemographics.csv").write_text("\n".join(lines) + "\n")
    for actor in CREMA_ACTORS:
        for i, clip in enumerate(CREMA_CLIPS):
            write_wav(root / "AudioWAV" / f"{actor}_{clip}.wav", 1.0 + 0.1 * i)
    soundfile.write(root / "AudioWAV" / "1076_MTI_SAD_XX.wav", np.zeros(16000, dtype=np.float32), 16000)
    (root / "AudioWAV" / "._1001_DFA_ANG_XX.wav").write_bytes(b"\x00\x05AppleDouble")
    (root / "AudioMP3").mkdir()
    return root


def ravdess_tree(root: Path, actors=range(1, 11)) -> Path:
    """Four speech clips per actor (48 kHz) in the Zenodo layout, a ._ file each, and one song clip."""
    speech = root / "Audio_Speech_Actors_01-24"
    for actor in actors:
        folder = speech / f"Actor_{actor:02d}"
        for emotion, intensity, statement in (("01", "01", "01"), ("02", "02", "01"), ("05", "02", "02"), ("04", "01", "02")):
            write_wav(folder / f"03-01-{emotion}-{intensity}-{statement}-01-{actor:02d}.wav", 1.5, rate=48000)
        (folder / f"._03-01-01-01-01-01-{actor:02d}.wav").write_bytes(b"\x00\x05AppleDouble")
    write_wav(root / "Audio_Song_Actors_01-24" / "Actor_01" / "03-02-03-01-01-01-01.wav", 1.0, rate=48000)
    return root


ASED_FOLDERS = ("01Neutral", "02Fearful", "03Happy", "04Sad", "05Angry")
ASED_README = "# Amharic Speech Emotional Dataset (ASED) v1\n\nFive emotions were chosen: n f h s a\n"
LFS_POINTER = "version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 96044\n"


def ased_clip(emotion: int, speaker: int, gender: str | None = None) -> str:
    """`<folder>/xn-yy-aa-gg-bb.wav` of sentence `emotion`, first repetition; gender by speaker parity (odd: 01 female)."""
    gender = gender or ("01" if speaker % 2 else "02")
    return f"{ASED_FOLDERS[emotion - 1]}/{'nfhsa'[emotion - 1]}{emotion}-{emotion:02d}-01-{gender}-{speaker:02d}.wav"


def ased_tree(root: Path, lfs_pointer: bool = False) -> Path:
    """One clip per emotion for each of speakers 01-10 (odd ones female, 16 kHz) in the five emotion
    folders, with what the real repository also holds: README.md and .gitattributes, an upper-case
    emotion letter (`04Sad/S4-04-01-01-03.wav`, as the release's `S4-04-02-01-29.wav`), and speaker 09
    (female) whose happy clip's gender field says 02 (as five of the release's speakers); a ._ file.
    `lfs_pointer`: the neutral clip of speaker 01 is a Git LFS pointer, as in a clone without LFS."""
    for speaker in range(1, 11):
        for emotion in range(1, 6):
            write_wav(root / ased_clip(emotion, speaker, "02" if (speaker, emotion) == (9, 3) else None), 2.0)
    (root / ased_clip(4, 3)).rename(root / "04Sad" / "S4-04-01-01-03.wav")
    (root / "README.md").write_text(ASED_README)
    (root / ".gitattributes").write_text("# Auto detect text files and perform LF normalization\n* text=auto\n")
    (root / "01Neutral" / "._n1-01-01-01-01.wav").write_bytes(b"\x00\x05AppleDouble")
    if lfs_pointer:
        (root / ased_clip(1, 1)).write_text(LFS_POINTER)
    return root


# corpus -> (builder, the release's folder name)
RELEASE_TREES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "iemocap": (iemocap_tree, "IEMOCAP_full_release"),
    "msp-improv": (msp_improv_tree, "MSP-IMPROV"),
    "msp-podcast": (msp_podcast_tree, "MSP-PODCAST-Publish-1.11"),
    "muse": (muse_tree, "MuSE"),
    "crema-d": (crema_d_tree, "CREMA-D"),
    "ravdess": (ravdess_tree, "RAVDESS"),
    "ased": (ased_tree, "ASED_V1"),
}
