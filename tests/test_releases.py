"""Corpus adapters (the paper's four, CREMA-D, RAVDESS, ASED) on tiny fixture trees laid out as the official releases."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import REPO, invoke
from release_fixtures import (CREMA_ACTORS, CREMA_CLIPS, LFS_POINTER, RELEASE_TREES, ased_clip, ased_tree, crema_d_tree,
                              iemocap_tree, msp_improv_tree, msp_podcast_tree, muse_tree, ravdess_tree)
from privbench.data.corpora import ased, crema_d, iemocap, msp_improv, msp_podcast, muse, ravdess
from privbench.errors import CorpusError
from privbench.protocol import get_protocol


# ---------------------------------------------------------------- IEMOCAP

def test_iemocap_speaker_gender_labels_and_transcripts(tmp_path):
    table = iemocap.read(iemocap_tree(tmp_path / "IEMOCAP_full_release"))
    assert len(table) == 10
    row = table.set_index("utterance_id").loc["Ses03M_impro05a_F000"]
    # the last field's letter, not the session's: a female speaker of session 3
    assert (row["gender"], row["speaker"], row["session"]) == ("F", "Ses03F", 3)
    assert (row["valence"], row["activation"]) == (1.5, 4.0)  # [V, A, D]
    assert row["transcript"] == "Excuse me."
    assert table.set_index("utterance_id").loc["Ses01F_script01_1_M001", "transcript"] == "Do you have a pen?"
    suffixed = table.set_index("utterance_id").loc["Ses05M_script01_1b_M001"]  # an xxx-labelled turn of a suffixed dialog
    assert (suffixed["speaker"], suffixed["gender"], suffixed["activation"]) == ("Ses05M", "M", 4.0)
    assert table["duration_s"].round(3).tolist()[:2] == [1.0, 2.0]
    assert sorted(table["speaker"].unique()) == [f"Ses0{k}{g}" for k in range(1, 6) for g in "FM"]


def test_iemocap_partial_root_says_what_is_missing(tmp_path):
    root = iemocap_tree(tmp_path / "partial", sessions=(1, 2))
    with pytest.raises(CorpusError, match=r"no Session1..5/dialog/EmoEvaluation under .*partial: is this IEMOCAP_full_release\? \(missing: Session3, Session4, Session5\)"):
        iemocap.read(root)


def test_iemocap_label_line_that_does_not_parse_names_file_and_line(tmp_path):
    root = iemocap_tree(tmp_path / "IEMOCAP_full_release")
    label_file = root / "Session2" / "dialog" / "EmoEvaluation" / "Ses02F_script01_1.txt"
    label_file.write_text(label_file.read_text().replace("[1.5000, 4.0000, 4.5000]", "[1.5, four, 4.5]", 1))
    with pytest.raises(CorpusError, match=rf"{label_file} line 3: not an IEMOCAP turn line"):
        iemocap.read(root)


def test_prepare_iemocap_through_the_cli_with_session_folds(isolated, runner, tmp_path):
    root = iemocap_tree(tmp_path / "IEMOCAP_full_release")
    result = invoke(runner, "prepare", "iemocap", "--root", str(root))
    assert result.exit_code == 0, result.output
    assert "prepared iemocap: 10 utterances, 10 speakers" in result.stdout
    inspect = invoke(runner, "inspect", "iemocap")
    assert "fold 2: Ses03F, Ses03M" in inspect.stdout
    wrong = invoke(runner, "prepare", "iemocap", "--root", str(tmp_path))
    assert wrong.exit_code == 1 and wrong.stderr.startswith(f"privbench: error: no Session1..5/dialog/EmoEvaluation under {tmp_path}")


# ---------------------------------------------------------------- MSP-IMPROV

@pytest.mark.parametrize("label_name", ["Evaluation.txt", "Evalution.txt"])
def test_msp_improv_reads_both_label_spellings_in_avdn_order(tmp_path, label_name):
    table = msp_improv.read(msp_improv_tree(tmp_path / "improv", label_name))
    assert len(table) == 20
    row = table.set_index("utterance_id").loc["MSP-IMPROV-S01A-M02-P-FM01"]
    assert (row["speaker"], row["gender"], row["activation"], row["valence"]) == ("M02", "M", 4.2, 3.0)
    notes = table.attrs["notes"]
    assert f"read labels from {label_name}" in notes and any("1 labelled clips left out" in n for n in notes)
    assert not any(n.startswith("WARNING") for n in notes)


def test_msp_improv_warns_loudly_when_activation_looks_reversed(tmp_path):
    table = msp_improv.read(msp_improv_tree(tmp_path / "improv", reversed_activation=True))
    assert any(n.startswith("WARNING: MSP-IMPROV activation looks reversed") for n in table.attrs["notes"])


def test_msp_improv_missing_labels(tmp_path):
    (tmp_path / "improv").mkdir()
    with pytest.raises(CorpusError, match=r"no Evaluation.txt \(or Evalution.txt\) under"):
        msp_improv.read(tmp_path / "improv")


# ---------------------------------------------------------------- MSP-Podcast

@pytest.mark.parametrize("label_name", ["labels_consensus.csv", "labels_concensus.csv"])
def test_msp_podcast_uses_speaker_and_gender_columns_and_drops_unknowns(tmp_path, label_name):
    table = msp_podcast.read(msp_podcast_tree(tmp_path / "podcast", label_name))
    assert len(table) == 20
    assert table[["utterance_id", "speaker", "gender"]].values.tolist()[:2] == [
        ["MSP-PODCAST_0001_0001", "30", "M"], ["MSP-PODCAST_0001_0002", "30", "M"]]
    assert table.set_index("utterance_id").loc["MSP-PODCAST_0002_0001", "gender"] == "F"
    assert "2 utterances with unknown speaker or gender left out" in table.attrs["notes"]
    assert f"read labels from {label_name}" in table.attrs["notes"]


def test_a_rating_off_the_scale_stops_prepare_in_one_line_and_writes_nothing(isolated, runner, tmp_path):
    root = msp_podcast_tree(tmp_path / "podcast")
    labels = root / "Labels" / "labels_consensus.csv"
    labels.write_text(labels.read_text().replace("MSP-PODCAST_0003_0002.wav,N,5.777778", "MSP-PODCAST_0003_0002.wav,N,7.5"))
    result = invoke(runner, "prepare", "msp-podcast", "--root", str(root))
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "privbench: error: msp-podcast: utterance MSP-PODCAST_0003_0002 activation rating 7.5 is outside the scale "
        "[1.0, 7.0] of protocol.toml's [corpora.msp-podcast] (rows missing or off the scale: 1): check this copy's label files"]
    assert not (isolated / "benchmark" / "splits" / "msp-podcast.json").exists()
    assert not (isolated.parent / "cache" / "corpora" / "msp-podcast").exists()


# ---------------------------------------------------------------- MuSE

@pytest.mark.parametrize("label_folder, audio_folder", [
    ("Survey Information (Questions, Data etc)", "NotStressed/Audio/Non Stressed Question Monologue Audio [Sentence Split]"),
    ("SurveyInformation", "Non Stressed/Audio/Non Stressed Question Monologue Audio"),
])
def test_muse_reads_either_folder_spelling(tmp_path, label_folder, audio_folder):
    table = muse.read(muse_tree(tmp_path / "MuSE", label_folder, audio_folder)).set_index("utterance_id")
    assert len(table) == 21  # the 2 s sentence is read here and left out by the protocol's filter later
    assert table.loc["01_q1_s1", ["speaker", "gender", "activation", "valence"]].tolist() == ["01", "F", 5.5, 6.2]
    assert table.loc["01_q1_s1", "transcript"] == "I think it went well"
    assert table.loc["02_q2_s1", "transcript"] == "" and table.loc["02_q2_s1", "gender"] == "M"


def test_muse_without_labels_says_what_was_expected(tmp_path):
    with pytest.raises(CorpusError, match=r"'Survey Information \(Questions, Data etc\)/' or 'SurveyInformation/'"):
        muse.read(tmp_path)


# ---------------------------------------------------------------- CREMA-D

def test_crema_d_gender_attributes_transcripts_and_silent_clip(tmp_path):
    table = crema_d.read(crema_d_tree(tmp_path / "CREMA-D"))
    assert len(table) == len(CREMA_ACTORS) * len(CREMA_CLIPS)  # 1076_MTI_SAD_XX and the ._ file left out
    assert "1076_MTI_SAD_XX skipped: it has no audio signal" in table.attrs["notes"]
    row = table.set_index("utterance_id").loc["1004_IEO_HAP_HI"]
    assert (row["speaker"], row["gender"], row["age"], row["age_group"], row["race"], row["ethnicity"]) == (
        "1004", "F", 42, "40s", "African American", "Not Hispanic")
    assert (row["transcript"], row["emotion"], row["intensity"]) == ("It's eleven o'clock", "HAP", "HI")
    assert table.set_index("utterance_id").loc["1001_DFA_ANG_XX", "gender"] == "M"


def test_crema_d_labels_are_derived_from_the_protocol_table_with_the_intensity_shift(tmp_path):
    from privbench.data.corpora.store import read_corpus
    from privbench.protocol import get_protocol

    corpus = read_corpus("crema-d", crema_d_tree(tmp_path / "CREMA-D"), get_protocol())
    classes = corpus.table.set_index("utterance_id")[["activation_class", "valence_class"]]
    # ANG high/low; HAP high/high (HI cannot go above high); SAD low, HI moves it to mid;
    # ANG at LO moves down to mid; NEU mid/mid; DIS mid/low.
    expected = {"DFA_ANG_XX": (2, 0), "IEO_HAP_HI": (2, 2), "IEO_SAD_HI": (1, 0), "IEO_ANG_LO": (1, 0),
                "ITS_NEU_XX": (1, 1), "TSI_DIS_XX": (1, 0)}
    for clip, pair in expected.items():
        assert tuple(classes.loc[f"1002_{clip}"]) == pair, clip
    assert corpus.setups == ("audio", "text", "multimodal")


def test_crema_d_root_without_wavs_or_with_lfs_pointers(tmp_path):
    root = crema_d_tree(tmp_path / "CREMA-D")
    wav = root / "AudioWAV" / "1001_DFA_ANG_XX.wav"
    wav.write_text(LFS_POINTER)
    with pytest.raises(CorpusError, match=rf"{wav} is a Git LFS pointer, not audio: run git lfs pull"):
        crema_d.read(root)
    for path in (root / "AudioWAV").iterdir():
        path.unlink()
    (root / "AudioWAV").rmdir()
    with pytest.raises(CorpusError, match=r"no AudioWAV/ under .*CREMA-D: privbench reads the 16 kHz WAVs, not AudioMP3/"):
        crema_d.read(root)
    (root / "VideoDemographics.csv").unlink()
    with pytest.raises(CorpusError, match=r"no VideoDemographics.csv under .*CREMA-D: is this the CREMA-D repository folder\?"):
        crema_d.read(root)


def test_crema_d_demographics_line_that_does_not_parse_names_file_and_line(tmp_path):
    root = crema_d_tree(tmp_path / "CREMA-D")
    demographics = root / "VideoDemographics.csv"
    demographics.write_text(demographics.read_text().replace('"Female"', '"F?"', 1))
    with pytest.raises(CorpusError, match=rf"{demographics} line 3: Sex 'F\?' is neither Male nor Female"):
        crema_d.read(root)


# ---------------------------------------------------------------- RAVDESS

def test_ravdess_gender_from_actor_parity_speech_only_and_statements(tmp_path):
    table = ravdess.read(ravdess_tree(tmp_path / "RAVDESS"))
    assert len(table) == 40
    assert "1 song clips left out (privbench uses the speech clips)" in table.attrs["notes"]
    by_speaker = table.groupby("speaker")["gender"].first().to_dict()
    assert by_speaker == {f"Actor_{a:02d}": "M" if a % 2 else "F" for a in range(1, 11)}
    row = table.set_index("utterance_id").loc["03-01-05-02-02-01-04"]
    assert (row["emotion"], row["intensity"], row["transcript"]) == ("angry", "strong", "Dogs are sitting by the door")
    assert table["duration_s"].round(3).eq(1.5).all()


def test_ravdess_derived_labels_and_folds_through_the_cli(isolated, runner, tmp_path):
    root = ravdess_tree(tmp_path / "RAVDESS")
    result = invoke(runner, "prepare", "ravdess", "--root", str(root))
    assert result.exit_code == 0, result.output
    assert "prepared ravdess: 40 utterances, 10 speakers" in result.stdout
    from privbench.data.corpora.store import load_corpus
    from privbench.protocol import get_protocol

    table = load_corpus("ravdess", get_protocol()).table.set_index("utterance_id")
    # neutral mid/mid, calm low/high, angry high/low, sad low/low (intensity is not used for RAVDESS)
    assert tuple(table.loc["03-01-02-02-01-01-01", ["activation_class", "valence_class"]]) == (0, 2)
    assert tuple(table.loc["03-01-05-02-02-01-01", ["activation_class", "valence_class"]]) == (2, 0)
    assert tuple(table.loc["03-01-01-01-01-01-01", ["activation_class", "valence_class"]]) == (1, 1)
    # five folds of one actress and one actor each (docs/protocol.md section 3's greedy rule)
    assert table.groupby("fold")["gender"].apply(lambda g: "".join(sorted(g.unique()))).tolist() == ["FM"] * 5
    assert table.groupby("fold")["speaker"].nunique().tolist() == [2] * 5


def test_ravdess_wrong_root_is_one_line(isolated, runner, tmp_path):
    (tmp_path / "empty").mkdir()
    result = invoke(runner, "prepare", "ravdess", "--root", str(tmp_path / "empty"))
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"privbench: error: no RAVDESS clips (Actor_XX/03-01-EE-II-SS-RR-AA.wav, searched recursively) under {tmp_path / 'empty'}: "
        "is this the unpacked Audio_Speech_Actors_01-24 folder?"]


def test_a_derived_label_naming_an_unknown_class_is_refused(tmp_path):
    from privbench.errors import ProtocolError
    from privbench.paths import repo_root
    from privbench.protocol import load_protocol

    text = (repo_root() / "benchmark" / "protocol.toml").read_text().replace('calm = "low"', 'calm = "lowish"', 1)
    (tmp_path / "protocol.toml").write_text(text)
    with pytest.raises(ProtocolError, match=r"corpora.ravdess.derived_labels.activation.calm = 'lowish'; use one of low, mid, high"):
        load_protocol(tmp_path / "protocol.toml")


# ---------------------------------------------------------------- ASED

def test_ased_reads_the_emotion_folders_by_the_name_grammar(tmp_path):
    root = ased_tree(tmp_path / "ASED_V1")
    raw = ased.read(root)
    table = raw.set_index("utterance_id")
    assert len(table) == 50  # README.md, .gitattributes and the ._ file are not clips
    row = table.loc["a5-05-01-02-04"]
    assert (row["speaker"], row["gender"], row["emotion"], row["sentence"], row["repetition"], row["transcript"]) == (
        "S04", "M", "angry", 5, 1, "")
    # the upper-case letter is read, and the file is named in a note
    assert (table.loc["S4-04-01-01-03", "emotion"], table.loc["S4-04-01-01-03", "speaker"]) == ("sad", "S03")
    assert "upper-case emotion letter read as lower case: 04Sad/S4-04-01-01-03.wav" in raw.attrs["notes"]
    assert table["duration_s"].round(3).eq(2.0).all()


def test_ased_gender_is_each_speakers_majority_and_the_outvoted_file_is_named(tmp_path):
    table = ased.read(ased_tree(tmp_path / "ASED_V1"))
    assert table.groupby("speaker")["gender"].agg(set).to_dict() == {
        f"S{s:02d}": {"F" if s % 2 else "M"} for s in range(1, 11)}  # S09's 03Happy file says 02, the other four 01
    assert ("speaker S09 read as F (4 of 5 files); the gender field of 03Happy/h3-03-01-02-09.wav disagrees and is outvoted"
            in table.attrs["notes"])


def test_ased_derived_labels_and_folds_through_the_cli(isolated, runner, tmp_path):
    result = invoke(runner, "prepare", "ased", "--root", str(ased_tree(tmp_path / "ASED_V1")))
    assert result.exit_code == 0, result.output
    assert "prepared ased: 50 utterances, 10 speakers, modalities audio" in result.stdout
    assert "privbench: note: upper-case emotion letter read as lower case: 04Sad/S4-04-01-01-03.wav" in result.stderr
    assert "privbench: note: speaker S09 read as F (4 of 5 files)" in result.stderr
    from privbench.data.corpora.store import load_corpus

    table = load_corpus("ased", get_protocol()).table.set_index("utterance_id")
    # neutral mid/mid, fearful high/low, happy high/high, sad low/low, angry high/low
    expected = {1: (1, 1), 2: (2, 0), 3: (2, 2), 4: (0, 0), 5: (2, 0)}
    for emotion, pair in expected.items():
        assert tuple(table.loc[Path(ased_clip(emotion, 2)).stem, ["activation_class", "valence_class"]]) == pair
    assert table.loc[table["speaker"] == "S09", "gender"].eq("F").all()
    # five folds of one woman and one man each, S09 counted as a woman
    assert table.groupby("fold")["gender"].apply(lambda g: "".join(sorted(g.unique()))).tolist() == ["FM"] * 5
    assert table.groupby("fold")["speaker"].nunique().tolist() == [2] * 5


def _one_error_line(runner, root) -> str:
    result = invoke(runner, "prepare", "ased", "--root", str(root))
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_ased_lfs_pointer_is_one_line(isolated, runner, tmp_path):
    root = ased_tree(tmp_path / "ASED_V1", lfs_pointer=True)
    assert _one_error_line(runner, root) == (f"privbench: error: {root / ased_clip(1, 1)} is a Git LFS pointer, not audio: "
                                             "run git lfs pull in the corpus' repository")


def test_ased_root_without_clips_is_one_line(isolated, runner, tmp_path):
    root = ased_tree(tmp_path / "ASED_V1")
    for wav in root.rglob("*.wav"):
        wav.unlink()  # what is left: README.md, .gitattributes and empty emotion folders
    assert _one_error_line(runner, root) == (
        f"privbench: error: no ASED clips (01Neutral..05Angry/xn-yy-aa-gg-bb.wav, searched recursively) under {root}: "
        "is this the ASED_V1 repository folder?")


def test_ased_clip_in_another_emotions_folder_is_one_line(isolated, runner, tmp_path):
    root = ased_tree(tmp_path / "ASED_V1")
    moved = root / "04Sad" / "a5-05-01-02-04.wav"
    (root / ased_clip(5, 4)).rename(moved)
    assert _one_error_line(runner, root) == (f"privbench: error: {moved}: the name says angry but the file is in 04Sad: "
                                             "check the copy against benchmark/reference/ased.sha256")
    (root / "extra").mkdir()
    moved.rename(root / "extra" / moved.name)
    assert invoke(runner, "prepare", "ased", "--root", str(root)).exit_code == 0  # outside the five folders, the name decides


def test_ased_letter_with_the_wrong_number_or_a_clip_found_twice_is_refused(tmp_path):
    root = ased_tree(tmp_path / "ASED_V1")
    (root / "extra").mkdir()
    wrong = root / "extra" / "n3-01-01-01-01.wav"
    (root / ased_clip(1, 1)).rename(wrong)
    with pytest.raises(CorpusError, match=rf"^{wrong}: emotion letter n \(neutral\) goes with number 1, not 3: check the copy"):
        ased.read(root)
    wrong.rename(root / ased_clip(1, 1))
    twice = root / "copy" / "05Angry" / "a5-05-01-02-04.wav"
    twice.parent.mkdir(parents=True)
    twice.write_bytes((root / ased_clip(5, 4)).read_bytes())
    with pytest.raises(CorpusError, match=rf"^{root / ased_clip(5, 4)} and {twice} are the same clip: keep one copy"):
        ased.read(root)


def test_ased_speaker_whose_files_tie_on_gender_is_one_line(isolated, runner, tmp_path):
    root = ased_tree(tmp_path / "ASED_V1")
    for emotion in (1, 2):
        (root / ased_clip(emotion, 1)).rename(root / ased_clip(emotion, 1, "02"))
    (root / ased_clip(3, 1)).unlink()
    assert _one_error_line(runner, root) == (
        f"privbench: error: speaker S01 under {root}: 2 files say F and 2 say M, so privbench cannot tell the speaker's "
        "gender: check the copy against benchmark/reference/ased.sha256")


# ---------------------------------------------------------------- every corpus through the CLI

EXPECTED_PREPARED = {"iemocap": (10, 10), "msp-improv": (20, 10), "msp-podcast": (20, 10), "muse": (20, 10),
                     "crema-d": (60, 10), "ravdess": (40, 10), "ased": (50, 10)}  # utterances after the protocol's filter, speakers


@pytest.mark.parametrize("corpus", sorted(RELEASE_TREES))
def test_every_release_fixture_prepares_into_five_populated_folds(isolated, runner, tmp_path, corpus):
    build, folder = RELEASE_TREES[corpus]
    result = invoke(runner, "prepare", corpus, "--root", str(build(tmp_path / folder)))
    assert result.exit_code == 0, result.output
    utterances, speakers = EXPECTED_PREPARED[corpus]
    assert f"prepared {corpus}: {utterances} utterances, {speakers} speakers" in result.stdout
    derived = get_protocol().corpus(corpus).derived_labels is not None
    assert ("activation and valence are derived from the acted emotion" in result.stderr) == derived
    inspect = invoke(runner, "inspect", corpus)
    assert inspect.exit_code == 0, inspect.output
    for fold in range(5):
        assert f"fold {fold}: " in inspect.stdout
    listed = invoke(runner, "corpora")
    assert re.search(rf"│ {corpus} +│ prepared ", listed.stdout), listed.stdout


def test_a_corpus_with_transcripts_but_no_word_vectors_evaluates_its_audio_setup(isolated, runner, tmp_path):
    # Regression: the worker opened a feature store for every stream the corpus has, so every audio
    # job of an audio-only preparation failed with "has no text features yet".
    root = ravdess_tree(tmp_path / "RAVDESS")
    assert invoke(runner, "prepare", "ravdess", "--root", str(root)).exit_code == 0
    inspected = invoke(runner, "inspect", "ravdess")
    assert "(audio; text not prepared)" in inspected.stdout
    results = tmp_path / "results"
    result = invoke(runner, "evaluate", str(REPO / "baselines" / "general"), "--corpus", "ravdess", "--budget", "smoke",
                    "--workers", "1", "--task", "activation", "--results", str(results))
    assert result.exit_code == 0, result.output
    assert "ravdess has no text features (prepare it again with --word2vec FILE): its text setups are skipped" in result.stderr
    assert sorted(p.name for p in results.rglob("*.json")) == ["audio-activation.json"]
    # The bug report's own command: the audio modality asked for by name.
    named = invoke(runner, "evaluate", str(REPO / "baselines" / "general"), "--corpus", "ravdess", "--budget", "smoke",
                   "--workers", "1", "--modality", "audio", "--task", "valence", "--results", str(results))
    assert named.exit_code == 0, named.output
    assert "text features" not in named.stderr  # nothing about text when only audio was asked for
    assert sorted(p.name for p in results.rglob("*.json")) == ["audio-activation.json", "audio-valence.json"]
    asked = invoke(runner, "evaluate", str(REPO / "baselines" / "general"), "--corpus", "ravdess", "--budget", "smoke",
                   "--workers", "1", "--modality", "text", "--results", str(results))
    assert asked.exit_code == 1 and asked.stderr.strip() == (
        "privbench: error: corpus ravdess has no text features yet: run privbench prepare ravdess --word2vec FILE")
