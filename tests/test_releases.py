"""Adapters for the paper's corpora, on tiny fixture trees laid out as the official releases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from conftest import invoke
from privbench.corpora import iemocap, msp_improv, msp_podcast, muse
from privbench.errors import CorpusError


def _wav(path: Path, seconds: float = 1.0, rate: int = 16000) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * rate)) / rate
    soundfile.write(path, (0.1 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), rate)


# ---------------------------------------------------------------- IEMOCAP

def _iemocap(root: Path, sessions=range(1, 6)) -> Path:
    for k in sessions:
        session = root / f"Session{k}"
        dialog = f"Ses0{k}M_impro05a" if k == 3 else f"Ses0{k}F_script01_1"
        evaluation = session / "dialog" / "EmoEvaluation"
        (evaluation / "Categorical").mkdir(parents=True)
        (evaluation / "Categorical" / f"{dialog}_e1_cat.txt").write_text("junk that must not be read\n")
        lines = ["% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]", ""]
        for i, gender in enumerate("FM"):
            utterance = f"{dialog}_{gender}00{i}"
            lines += [f"[1.0{i} - 2.0{i}]\t{utterance}\tang\t[1.5000, 4.0000, 4.5000]", "C-E1:\tAnger;\t()",
                      "A-E3:\tval 2; act 4; dom  4;\t()", ""]
            _wav(session / "sentences" / "wav" / dialog / f"{utterance}.wav", 1.0 + i)
        (evaluation / f"{dialog}.txt").write_text("\n".join(lines))
        (evaluation / f"._{dialog}.txt").write_bytes(b"\x00\x05AppleDouble")
        transcripts = session / "dialog" / "transcriptions"
        transcripts.mkdir(parents=True)
        (transcripts / f"{dialog}.txt").write_text(
            f"{dialog}_F000 [001.0000-002.0000]: [LAUGHTER] Excuse me.\n{dialog}_M001 [002.0100-003.0100]: Do you  [BREATHING] have a pen?\n"
            f"{dialog}_MXX0 [004.0000-005.0000]: [LAUGHTER]\n")
    return root


def test_iemocap_speaker_gender_labels_and_transcripts(tmp_path):
    table = iemocap.read(_iemocap(tmp_path / "IEMOCAP_full_release"))
    assert len(table) == 10
    row = table.set_index("utterance_id").loc["Ses03M_impro05a_F000"]
    # the last field's letter, not the session's: a female speaker of session 3
    assert (row["gender"], row["speaker"], row["session"]) == ("F", "Ses03F", 3)
    assert (row["valence"], row["activation"]) == (1.5, 4.0)  # [V, A, D]
    assert row["transcript"] == "Excuse me."
    assert table.set_index("utterance_id").loc["Ses01F_script01_1_M001", "transcript"] == "Do you have a pen?"
    assert table["duration_s"].round(3).tolist()[:2] == [1.0, 2.0]
    assert sorted(table["speaker"].unique()) == [f"Ses0{k}{g}" for k in range(1, 6) for g in "FM"]


def test_iemocap_partial_root_says_what_is_missing(tmp_path):
    root = _iemocap(tmp_path / "partial", sessions=(1, 2))
    with pytest.raises(CorpusError, match=r"no Session1..5/dialog/EmoEvaluation under .*partial: is this IEMOCAP_full_release\? \(missing: Session3, Session4, Session5\)"):
        iemocap.read(root)


def test_iemocap_label_line_that_does_not_parse_names_file_and_line(tmp_path):
    root = _iemocap(tmp_path / "IEMOCAP_full_release")
    label_file = root / "Session2" / "dialog" / "EmoEvaluation" / "Ses02F_script01_1.txt"
    label_file.write_text(label_file.read_text().replace("[1.5000, 4.0000, 4.5000]", "[1.5, four, 4.5]", 1))
    with pytest.raises(CorpusError, match=rf"{label_file} line 3: not an IEMOCAP turn line"):
        iemocap.read(root)


def test_prepare_iemocap_through_the_cli_with_session_folds(isolated, runner, tmp_path):
    root = _iemocap(tmp_path / "IEMOCAP_full_release")
    result = invoke(runner, "prepare", "iemocap", "--root", str(root))
    assert result.exit_code == 0, result.output
    assert "prepared iemocap: 10 utterances, 10 speakers" in result.stdout
    inspect = invoke(runner, "inspect", "iemocap")
    assert "fold 2: Ses03F, Ses03M" in inspect.stdout
    wrong = invoke(runner, "prepare", "iemocap", "--root", str(tmp_path))
    assert wrong.exit_code == 1 and wrong.stderr.startswith(f"privbench: error: no Session1..5/dialog/EmoEvaluation under {tmp_path}")


# ---------------------------------------------------------------- MSP-IMPROV

def _improv(root: Path, label_name="Evaluation.txt", reversed_activation=False) -> Path:
    lines = []
    for speaker in ("F01", "M01", "F02", "M02"):
        for emotion, activation in (("A", 4.2), ("S", 1.8)):
            if reversed_activation:
                activation = 6 - activation
            stem = f"S01{emotion}-{speaker}-P-FM01"
            lines += [f"UTD-IMPROV-{stem}.avi; {emotion}; A:{activation:.6f}; V:3.000000; D:2.833333 ; N:3.166667;",
                      "rater1; Angry; (); A:4.0; V:2.0; D:3.0; N:3.0;", ""]
            _wav(root / "Audio" / "session1" / f"S01{emotion}" / "P" / f"MSP-IMPROV-{stem}.wav", 1.0, rate=48000)
    lines.append("UTD-IMPROV-S02A-F01-P-FM01.avi; A; A:NaN; V:3.000000; D:NaN ; N:NaN;")
    (root / label_name).write_text("\n".join(lines))
    return root


@pytest.mark.parametrize("label_name", ["Evaluation.txt", "Evalution.txt"])
def test_msp_improv_reads_both_label_spellings_in_avdn_order(tmp_path, label_name):
    table = msp_improv.read(_improv(tmp_path / "improv", label_name))
    assert len(table) == 8
    row = table.set_index("utterance_id").loc["MSP-IMPROV-S01A-M02-P-FM01"]
    assert (row["speaker"], row["gender"], row["activation"], row["valence"]) == ("M02", "M", 4.2, 3.0)
    notes = table.attrs["notes"]
    assert f"read labels from {label_name}" in notes and any("1 labelled clips left out" in n for n in notes)
    assert not any(n.startswith("WARNING") for n in notes)


def test_msp_improv_warns_loudly_when_activation_looks_reversed(tmp_path):
    table = msp_improv.read(_improv(tmp_path / "improv", reversed_activation=True))
    assert any(n.startswith("WARNING: MSP-IMPROV activation looks reversed") for n in table.attrs["notes"])


def test_msp_improv_missing_labels(tmp_path):
    (tmp_path / "improv").mkdir()
    with pytest.raises(CorpusError, match=r"no Evaluation.txt \(or Evalution.txt\) under"):
        msp_improv.read(tmp_path / "improv")


# ---------------------------------------------------------------- MSP-Podcast

@pytest.mark.parametrize("label_name", ["labels_consensus.csv", "labels_concensus.csv"])
def test_msp_podcast_uses_speaker_and_gender_columns_and_drops_unknowns(tmp_path, label_name):
    root = tmp_path / "podcast"
    (root / "Labels").mkdir(parents=True)
    rows = ["FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set",
            "MSP-PODCAST_0001_0008.wav,N,2.2,4.0,2.6,30,Male,Test1",
            "MSP-PODCAST_0001_0009.wav,N,3.777778,3.555556,3.777778,39,Female,Test1",
            "MSP-PODCAST_0002_0001.wav,N,4,4,4,Unknown,Unknown,Train",
            "MSP-PODCAST_0002_0002.wav,N,4,4,4,41,Unknown,Train"]
    (root / "Labels" / label_name).write_text("\n".join(rows) + "\n")
    for name in ("MSP-PODCAST_0001_0008", "MSP-PODCAST_0001_0009", "MSP-PODCAST_0002_0001", "MSP-PODCAST_0002_0002"):
        _wav(root / "Audios" / f"{name}.wav")
    table = msp_podcast.read(root)
    assert table[["utterance_id", "speaker", "gender"]].values.tolist() == [
        ["MSP-PODCAST_0001_0008", "30", "M"], ["MSP-PODCAST_0001_0009", "39", "F"]]
    assert "2 utterances with unknown speaker or gender left out" in table.attrs["notes"]


# ---------------------------------------------------------------- MuSE

@pytest.mark.parametrize("label_folder, audio_folder", [
    ("Survey Information (Questions, Data etc)", "NotStressed/Audio/Non Stressed Question Monologue Audio [Sentence Split]"),
    ("SurveyInformation", "Non Stressed/Audio/Non Stressed Question Monologue Audio"),
])
def test_muse_reads_either_folder_spelling(tmp_path, label_folder, audio_folder):
    root = tmp_path / "MuSE"
    (root / label_folder).mkdir(parents=True)
    header = "Sentence_name,Duration,Gender,Type,Ques_Type,Activation_Mean,Activation_SD,Valence_Mean,Valence_SD"
    rows = [header, "01_q1_s1.wav,4.0,M,NS,1,5.5,1,6.2,1", "08_q2_s3.wav,5.0,F,NS,1,3.0,1,4.0,1"]
    (root / label_folder / muse.LABEL_NAME).write_text("\n".join(rows) + "\n")
    _wav(root / audio_folder / "01_q1_s1.wav", 4.0)
    _wav(root / audio_folder / "08_q2_s3.wav", 5.0)
    _wav(root / audio_folder / "._08_q2_s3.wav", 1.0)
    (root / "Combined" / "Utterance Transcripts").mkdir(parents=True)
    (root / "Combined" / "Utterance Transcripts" / "01_q1_s1.txt").write_text("I think  it went well\n")
    table = muse.read(root).set_index("utterance_id")
    assert table.loc["01_q1_s1", ["speaker", "gender", "activation", "valence"]].tolist() == ["01", "M", 5.5, 6.2]
    assert table.loc["01_q1_s1", "transcript"] == "I think it went well"
    assert table.loc["08_q2_s3", "transcript"] == "" and table.loc["08_q2_s3", "gender"] == "F"


def test_muse_without_labels_says_what_was_expected(tmp_path):
    with pytest.raises(CorpusError, match=r"'Survey Information \(Questions, Data etc\)/' or 'SurveyInformation/'"):
        muse.read(tmp_path)
