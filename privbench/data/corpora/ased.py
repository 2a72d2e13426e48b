"""ASED v1 (github.com/Ethio2021/ASED_V1): <NN><Emotion>/xn-yy-aa-gg-bb.wav, 16 kHz.

- File names `xn-yy-aa-gg-bb`: emotion letter x (n f h s a) with its folder number n
  (n1 f2 h3 s4 a5), sentence yy, repetition aa, gender gg (01 female, 02 male), speaker
  bb (01-65). Files are found by this grammar, recursively; README.md, .gitattributes and
  hidden files are not clips.
- The emotion letter is read in either case (the release holds `04Sad/S4-04-02-01-29.wav`),
  noted by name; letter and number must agree, and so must the folder where it is one of
  the five (01Neutral 02Fearful 03Happy 04Sad 05Angry).
- Speaker = `S<bb>`; gender = the majority of the speaker's files' gender fields (five
  speakers of the release each have one file that says otherwise; those files are noted).
- Activation and valence classes are *derived* from the acted emotion by
  `[corpora.ased.derived_labels]` in protocol.toml; nobody rated them. No transcripts.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from pathlib import Path

import pandas as pd

from privbench.data.corpora.release_files import duration_s, missing_root, raw_table, visible
from privbench.errors import CorpusError

NAME = re.compile(r"^([a-z])(\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$", re.IGNORECASE)
EMOTIONS = {"n": (1, "neutral"), "f": (2, "fearful"), "h": (3, "happy"), "s": (4, "sad"), "a": (5, "angry")}
FOLDERS = {"01neutral": "neutral", "02fearful": "fearful", "03happy": "happy", "04sad": "sad", "05angry": "angry"}
GENDERS = {"01": "F", "02": "M"}
SPEAKERS = range(1, 66)


def _clips(root: Path) -> list[Path]:
    """Every clip under `root` by the name grammar (recursive), or the one-line error for a root without any."""
    clips = [path for path in visible(root.rglob("*.wav")) if NAME.match(path.stem)]
    if not clips:
        raise missing_root(root, "ASED clips (01Neutral..05Angry/xn-yy-aa-gg-bb.wav, searched recursively)",
                           "is this the ASED_V1 repository folder?")
    return clips


def check_root(root: Path) -> None:
    _clips(root)


def _emotion(wav: Path, letter: str, number: str) -> str:
    if letter.lower() not in EMOTIONS:
        raise CorpusError(f"{wav}: emotion letter {letter!r} is not one of {', '.join(EMOTIONS)}")
    expected, emotion = EMOTIONS[letter.lower()]
    if int(number) != expected:
        raise CorpusError(f"{wav}: emotion letter {letter} ({emotion}) goes with number {expected}, not {number}: "
                          "check the copy against benchmark/reference/ased.sha256")
    folder = FOLDERS.get(wav.parent.name.lower())
    if folder is not None and folder != emotion:
        raise CorpusError(f"{wav}: the name says {emotion} but the file is in {wav.parent.name}: "
                          "check the copy against benchmark/reference/ased.sha256")
    return emotion


def _speaker_genders(rows: list[dict], root: Path) -> tuple[dict[str, str], list[str]]:
    """Each speaker's gender by majority over their files' gender fields, and a note per
    speaker whose files disagree (naming the outvoted files); a tie is refused."""
    votes: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        votes[row["speaker"]][row["gender"]].append(Path(row["audio_path"]).relative_to(root).as_posix())
    genders, notes = {}, []
    for speaker, by_gender in sorted(votes.items()):
        counts = Counter({gender: len(files) for gender, files in by_gender.items()})
        (winner, most), *rest = counts.most_common()
        if rest and rest[0][1] == most:
            raise CorpusError(f"speaker {speaker} under {root}: {most} files say F and {most} say M, so privbench cannot "
                              "tell the speaker's gender: check the copy against benchmark/reference/ased.sha256")
        genders[speaker] = winner
        if rest:
            outvoted = sorted(f for gender, files in by_gender.items() if gender != winner for f in files)
            notes.append(f"speaker {speaker} read as {winner} ({most} of {counts.total()} files); "
                         f"the gender field of {', '.join(outvoted)} disagrees and is outvoted")
    return genders, notes


def read(root: Path) -> pd.DataFrame:
    rows, upper, seen = [], [], {}
    for wav in _clips(root):  # one walk of the tree serves the root check and the reading
        letter, number, sentence, repetition, gender, speaker = NAME.match(wav.stem).groups()
        emotion = _emotion(wav, letter, number)
        if letter.isupper():
            upper.append(wav.relative_to(root).as_posix())
        if gender not in GENDERS:
            raise CorpusError(f"{wav}: gender field {gender} is neither 01 (female) nor 02 (male)")
        if int(speaker) not in SPEAKERS:
            raise CorpusError(f"{wav}: speaker {speaker} is outside 01-65")
        key = wav.stem.lower()
        if key in seen:
            raise CorpusError(f"{seen[key]} and {wav} are the same clip: keep one copy of the release under {root}")
        seen[key] = wav
        rows.append({"utterance_id": wav.stem, "speaker": f"S{speaker}", "gender": GENDERS[gender],
                     "audio_path": str(wav), "transcript": "", "activation": float("nan"), "valence": float("nan"),
                     "duration_s": duration_s(wav), "emotion": emotion, "sentence": int(sentence),
                     "repetition": int(repetition)})
    genders, gender_notes = _speaker_genders(rows, root)
    for row in rows:
        row["gender"] = genders[row["speaker"]]
    notes = ["activation and valence are derived from the acted emotion (protocol.toml), not rated"]
    if upper:
        notes.append(f"upper-case emotion letter read as lower case: {', '.join(upper)}")
    return raw_table(rows, notes + gender_notes)
