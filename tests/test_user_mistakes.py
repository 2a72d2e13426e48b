"""A user's mistakes that used to pass silently, hang or end in a traceback: each is now one line.

Found by a review of the input paths (2026-12-06): an empty fold (the membership split looped
forever), bytes ids in a representations file (never matched), logits from predict_proba (the
loss attack ran on them), NaN samples in an audio file and a truncated .npz (tracebacks), and
duplicate ids that differ only by spaces."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile

from conftest import REPO, invoke
from privbench.data.features import read_audio
from privbench.data.folds import check_evaluable
from privbench.data.membership_split import _select_speakers
from privbench.errors import CorpusError, FeatureError, SubmissionError
from privbench.run.train import checked
from privbench.store.submitted import read_submitted


def _table(folds_by_gender: dict[str, list[int]]) -> pd.DataFrame:
    rows = [{"speaker": f"{g}{i}", "gender": g, "fold": fold, "utterance_id": f"{g}{i}_u"}
            for g, folds in folds_by_gender.items() for i, fold in enumerate(folds)]
    return pd.DataFrame(rows)


def test_a_fold_without_a_speaker_of_each_gender_is_refused_before_evaluating():
    check_evaluable(_table({"F": [0, 1, 2, 3, 4], "M": [0, 1, 2, 3, 4]}), "c", 5, ("F", "M"))
    with pytest.raises(CorpusError, match=r"^c: fold 3 holds no F speaker \(3 F and 5 M speakers over 5 folds\): "
                                          r"evaluating needs at least 5 speakers of each gender$"):
        check_evaluable(_table({"F": [0, 1, 2], "M": [0, 1, 2, 3, 4]}), "c", 5, ("F", "M"))


def test_the_membership_split_refuses_an_empty_fold_instead_of_looping():
    empty = pd.DataFrame({"speaker": [], "gender": [], "utterance_id": []})
    with pytest.raises(CorpusError, match="holds no speaker"):
        _select_speakers(empty, 0.5, np.random.default_rng(0))


def test_evaluate_on_a_corpus_with_too_few_speakers_is_one_line(isolated, small_synthetic, runner, tmp_path):
    from test_cli_corpora import _manifest  # 3 female and 3 male speakers: folds 3 and 4 stay empty

    toml = _manifest(tmp_path, small_synthetic)
    assert invoke(runner, "prepare", "mine", "--root", str(toml)).exit_code == 0
    result = invoke(runner, "evaluate", str(REPO / "baselines" / "general"), "--corpus", "mine", "--modality", "audio",
                    "--budget", "smoke", "--results", str(tmp_path / "r"))
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "privbench: error: mine: fold 3 holds no F speaker (3 F and 3 M speakers over 5 folds): evaluating needs at "
        "least 5 speakers of each gender"]
    assert not (tmp_path / "r").exists()


def test_bytes_ids_in_a_representations_file_are_the_same_ids(tmp_path):
    path = tmp_path / "c.npz"
    h = np.arange(6, dtype=np.float32).reshape(3, 2)
    np.savez(path, ids=np.asarray([b"u2", b"u0", b"u1"]), h=h)
    ids, ordered = read_submitted(path, ["u0", "u1", "u2"])
    assert ids == ("u0", "u1", "u2") and ordered.tolist() == [[2, 3], [4, 5], [0, 1]]
    # check, where the corpus is not prepared, reads the file against its own ids the same way
    ids, ordered = read_submitted(path, None)
    assert ids == ("u0", "u1", "u2") and ordered.tolist() == [[2, 3], [4, 5], [0, 1]]


def test_a_truncated_representations_file_is_one_line_in_check(tmp_path):
    path = tmp_path / "c.npz"
    np.savez(path, ids=np.asarray(["u0"]), h=np.zeros((1, 2), np.float32))
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(SubmissionError, match="not a readable .npz"):
        read_submitted(path, None)  # what check runs when the corpus is not prepared here
    assert not zipfile.is_zipfile(path)


def test_predict_proba_returning_logits_is_refused_where_evaluate_checks_outputs():
    probabilities = np.full((4, 3), 1 / 3, dtype=np.float32)
    assert checked("predict_proba", probabilities, 4, 3, probabilities=True) is probabilities
    for bad in (probabilities * 2, probabilities - 0.5):
        with pytest.raises(SubmissionError, match="rows that are not probabilities"):
            checked("predict_proba", bad, 4, 3, probabilities=True)
    checked("embed", probabilities * 2, 4)  # h may be anything finite


def test_an_audio_file_with_nan_samples_is_named(tmp_path):
    path = tmp_path / "x.wav"
    samples = np.zeros(1600, dtype=np.float32)
    samples[10] = np.nan
    soundfile.write(str(path), samples, 16000, subtype="FLOAT")
    with pytest.raises(FeatureError, match=rf"audio file {path} holds NaN or infinite samples"):
        read_audio(path)


def test_prepare_says_what_it_accepts_but_a_user_should_look_at(isolated, small_synthetic, runner, tmp_path):
    from test_cli_corpora import _manifest

    def edit(table):  # every activation rating low; one utterance of F01 marked male
        table = table.assign(activation=1.0)
        table.loc[table.index[0], "gender"] = "Male"
        return table
    toml = _manifest(tmp_path, small_synthetic, edit)
    result = invoke(runner, "prepare", "mine", "--root", str(toml))
    assert result.exit_code == 0, result.output
    assert ("mine: no utterance falls in the mid or high activation class (edges [2.75, 3.25]): check the corpus' scale "
            "and edges") in result.output
    assert "mine: 1 speaker(s) have utterances of both genders (F01): the folds use each one's first utterance's gender" \
        in result.output
    assert "valence class" not in result.output  # valence keeps its three classes
