import json

import numpy as np
import pandas as pd
import pytest

from privbench.errors import CorpusError, ProtocolError
from privbench.data.folds import check_split, greedy_gender_balanced_folds, rotation, session_folds, write_split
from privbench.data.labels import bin_ratings, check_scale
from privbench.protocol import get_protocol


def test_bins_are_closed_on_the_right_with_iemocap_edges():
    ratings = [1.0, 2.7, 2.75, 2.7500001, 3.0, 3.25, 3.2500001, 5.0]
    assert list(bin_ratings(ratings, (2.75, 3.25))) == [0, 0, 0, 1, 1, 1, 2, 2]


def test_bins_use_each_corpus_edges():
    podcast = get_protocol().corpus("msp-podcast").edges
    assert list(bin_ratings([3.75, 4.0, 4.25, 4.3, 7.0], podcast)) == [0, 1, 1, 2, 2]
    muse = get_protocol().corpus("muse").edges
    assert list(bin_ratings([4.5, 4.6, 5.5, 5.6], muse)) == [0, 1, 1, 2]


def test_a_rating_outside_the_scale_or_missing_is_refused_not_binned():
    def table(values):
        return pd.DataFrame({"utterance_id": [f"u{i}" for i in range(len(values))], "activation": values,
                             "valence": [3.0] * len(values)})
    iemocap = get_protocol().corpus("iemocap")  # scale [1, 5]
    check_scale(table([1.0, 3.0, 5.0]), iemocap, "iemocap", ("activation", "valence"))  # the ends are on the scale
    for bad, named in (([1.0, 5.5, 6.0], "u1"), ([0.5, 3.0], "u0")):
        with pytest.raises(CorpusError, match=rf"iemocap: utterance {named} activation rating .* outside the scale \[1.0, 5.0\]"):
            check_scale(table(bad), iemocap, "iemocap", ("activation", "valence"))
    with pytest.raises(CorpusError, match=r"iemocap: utterance u1 has no activation rating \(rows missing or off the scale: 1\)"):
        check_scale(table([3.0, float("nan")]), iemocap, "iemocap", ("activation", "valence"))
    # "min"/"max" (MuSE) take the data's own extremes: any finite rating is on the scale, NaN is not
    muse = get_protocol().corpus("muse")
    check_scale(table([2.0, 8.5, 5.0]), muse, "muse", ("activation",))
    with pytest.raises(CorpusError, match="muse: utterance u1 has no activation rating"):
        check_scale(table([2.0, float("nan")]), muse, "muse", ("activation",))


def _table(speakers: dict[str, tuple[str, int]]) -> pd.DataFrame:
    rows = [{"utterance_id": f"{s}_{i}", "speaker": s, "gender": g} for s, (g, n) in speakers.items() for i in range(n)]
    return pd.DataFrame(rows)


def test_greedy_folds_follow_the_rule_by_hand():
    # Sorted: A(F,10) B(F,8) C(M,7) D(M,7) E(F,5) F(F,5) G(F,1); three folds for a short hand computation.
    table = _table({"A": ("F", 10), "B": ("F", 8), "C": ("M", 7), "D": ("M", 7), "E": ("F", 5), "F": ("F", 5), "G": ("F", 1)})
    # F counts: A->0 [10,0,0]; B->1 [10,8,0]; E->2 [10,8,5]; F->2 [10,8,10]; G->1 [10,9,10]
    # M counts: C->0 [7,0,0]; D->1 [7,7,0]
    assert greedy_gender_balanced_folds(table, 3) == {"A": 0, "B": 1, "C": 0, "D": 1, "E": 2, "F": 2, "G": 1}


def test_greedy_folds_break_count_ties_by_speaker_id():
    table = _table({"b": ("M", 3), "a": ("M", 3), "c": ("M", 3)})
    assert greedy_gender_balanced_folds(table, 5) == {"a": 0, "b": 1, "c": 2}


def test_session_folds_put_session_k_in_fold_k_minus_one():
    table = pd.DataFrame({"utterance_id": ["1", "2", "3"], "speaker": ["1F", "1M", "3F"], "gender": ["F", "M", "F"], "session": [1, 1, 3]})
    assert session_folds(table, 5) == {"1F": 0, "1M": 0, "3F": 2}
    with pytest.raises(CorpusError, match="session 6"):
        session_folds(table.assign(session=[1, 1, 6]), 5)


def test_rotations_cover_each_fold_once_as_test_and_validation():
    folds = get_protocol().folds
    rotations = [rotation(r, folds) for r in range(5)]
    assert [(r.test_fold, r.validation_fold, r.training_folds) for r in rotations[:2]] == [(0, 1, (2, 3, 4)), (1, 2, (0, 3, 4))]
    assert rotations[4].validation_fold == 0 and rotations[4].training_folds == (1, 2, 3)
    assert sorted(r.validation_fold for r in rotations) == [0, 1, 2, 3, 4]
    with pytest.raises(ProtocolError):
        rotation(5, folds)


def test_split_file_is_written_then_enforced(tmp_path):
    digest = check_split(tmp_path, "demo", {"a": 0, "b": 1})
    assert not (tmp_path / "demo.json").exists()  # checking never writes
    assert write_split(tmp_path, "demo", {"a": 0, "b": 1}) == digest
    document = json.loads((tmp_path / "demo.json").read_text())
    assert document["speaker_folds"] == {"a": 0, "b": 1} and document["sha256"] == digest
    assert write_split(tmp_path, "demo", {"b": 1, "a": 0}) == digest
    with pytest.raises(CorpusError, match="different speaker-to-fold map.*speaker b"):
        check_split(tmp_path, "demo", {"a": 0, "b": 2})
    document["speaker_folds"]["a"] = 3
    (tmp_path / "demo.json").write_text(json.dumps(document))
    with pytest.raises(ProtocolError, match="was edited"):
        check_split(tmp_path, "demo", {"a": 3, "b": 1})


def test_committed_synthetic_split_is_gender_balanced():
    from conftest import REPO

    folds = json.loads((REPO / "benchmark" / "splits" / "synthetic.json").read_text())["speaker_folds"]
    per_fold = {fold: sorted(s[0] for s, f in folds.items() if f == fold) for fold in range(5)}
    assert all(genders.count("F") == genders.count("M") for genders in per_fold.values())
    assert np.array_equal(sorted(len(v) for v in per_fold.values()), [4, 4, 4, 6, 6])
