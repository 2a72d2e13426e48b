"""The score step hands each attack exactly the folds the protocol names (docs/protocol.md section 6).

Every row of h below says which fold it came from, so a spy in place of each attacker can tell which
folds it was given for training, selection and scoring: swapping D1 and test anywhere fails here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import privbench.scoring.score as score
from privbench.data.folds import rotation as fold_rotation
from privbench.data.membership_split import fold_order, membership_split
from privbench.protocol import get_protocol
from privbench.store.representations import TrainRecord

PROTOCOL = get_protocol()


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    rows = [{"utterance_id": f"{g}{fold}{j}-{k}", "speaker": f"{g}{fold}{j}", "gender": g, "fold": fold,
             "activation_class": k % 3} for fold in range(5) for j in range(2) for g in "FM" for k in range(6)]
    return pd.DataFrame(rows)


def _record(table: pd.DataFrame, kind: str, rotation: int) -> TrainRecord:
    ids = tuple(sorted(table["utterance_id"]))
    folds = table.set_index("utterance_id").loc[list(ids), "fold"].to_numpy()
    h = np.stack([folds, np.arange(len(ids))], axis=1).astype(np.float32)  # column 0: the row's fold
    fit = {"epochs": 1, "best_epoch": 1, "chance_reached": None, "chance_source": None, "gender_uar": None, "history": []}
    return TrainRecord("x" * 64, {"rotation": rotation, "seed": 0, "config": {}, "kind": kind}, ids, h,
                       np.full((len(ids), 3), 1 / 3), fit, {}, {}, "2026-01-01")


def _folds_of(h: np.ndarray) -> set[int]:
    return set(h[:, 0].astype(int).tolist())


@pytest.mark.parametrize("rotation", range(5))
def test_a_main_jobs_attacks_get_the_folds_the_protocol_names(table, monkeypatch, rotation):
    seen = {}
    monkeypatch.setattr(score, "leakage", lambda tr, gt, va, gv, te, gte, s, seed: seen.setdefault(
        "leakage", (_folds_of(tr), _folds_of(va), _folds_of(te))) and 0.5)
    monkeypatch.setattr(score, "privacy", lambda tr, gt, va, gv, te, gte, s, seed: seen.setdefault(
        "privacy", (_folds_of(tr), _folds_of(va), _folds_of(te))) and {"privacy": 0.5})
    monkeypatch.setattr(score, "identity", lambda d1, s1, va, s2, te, s3, settings, seed, rot: seen.setdefault(
        "identity", (_folds_of(d1), _folds_of(va), _folds_of(te))) and {})
    score.score_main(_record(table, "main", rotation), table, PROTOCOL)
    place = fold_rotation(rotation, PROTOCOL.folds)
    d1, valid, test = set(place.training_folds), {place.validation_fold}, {place.test_fold}
    assert seen["leakage"] == (d1, valid, test)  # L: trained on D1, selected on validation, scored on test
    assert seen["privacy"] == (test, valid, d1)  # P: the attacker's own data is test; scored on D1
    assert seen["identity"] == (d1, valid, test)  # ID: informed on D1, family chosen on validation, scored on test


def test_the_membership_attack_gets_s4_to_learn_and_s5_to_score(table, monkeypatch):
    captured = {}

    def spy(data, settings, rules, seed):
        captured["data"] = data
        return {"membership": 0.5}

    monkeypatch.setattr(score, "membership", spy)
    record = _record(table, "membership", 2)
    score.score_membership(record, table, PROTOCOL)
    order = fold_order(2, PROTOCOL.folds)
    roles = dict(zip(order, PROTOCOL.membership.fold_roles))
    s4 = next(fold for fold, role in roles.items() if role == "attacker")
    s5 = next(fold for fold, role in roles.items() if role == "score")
    d1 = {fold for fold, role in roles.items() if role == "train"}
    data = captured["data"]
    assert _folds_of(data.train_x) == d1 | {s4} and _folds_of(data.valid_x) == {s4}
    assert _folds_of(data.test_x) == {s5}  # no s5 utterance before scoring; every scored one from s5
    split = membership_split(table, order, PROTOCOL.membership, 0, 2)
    assert len(data.test_y) == len(split.score_yes) + len(split.score_no) and data.test_y.sum() == len(split.score_yes)
