"""Configuration selection across one rotation's main jobs (docs/protocol.md section 5)."""

import numpy as np
import pandas as pd
import pytest

import privbench.scoring.aggregate as aggregate
from privbench.protocol import get_protocol
from privbench.store.representations import TrainRecord

TABLE = pd.DataFrame({"utterance_id": ["u"], "fold": [1], "activation_class": [0]})


def _job(config: str, seed: int, uar: float, gender_uar: float | None, reached: bool | None) -> TrainRecord:
    fit = {"epochs": 1, "best_epoch": 1, "chance_reached": reached, "chance_source": "privbench", "gender_uar": gender_uar,
           "history": [], "uar": uar}  # "uar": what validation_uar gives back below
    return TrainRecord(f"{config}{seed}".ljust(64, "0"), {"rotation": 0, "seed": seed, "config": {"name": config}, "kind": "main"},
                       ("u",), np.zeros((1, 1), np.float32), np.full((1, 3), 1 / 3), fit, {}, {}, "2026-01-01")


@pytest.fixture(autouse=True)
def validation_uar(monkeypatch):
    """Selection reads each job's validation emotion UAR from its stored posteriors; here it is given."""
    monkeypatch.setattr(aggregate, "validation_uar", lambda record, table, task, protocol: record.fit["uar"])


def select(jobs):
    return aggregate.select(jobs, TABLE, "activation", get_protocol())


def test_a_privacy_model_keeps_the_best_emotion_uar_among_configurations_at_chance():
    jobs = [_job("a", 0, 0.70, 0.80, False), _job("b", 0, 0.60, 0.52, True), _job("c", 0, 0.55, 0.50, True)]
    assert select(jobs) == ({"name": "b"}, True)


def test_a_configuration_counts_as_at_chance_only_when_every_seed_is():
    jobs = [_job("a", 0, 0.70, 0.50, True), _job("a", 1, 0.70, 0.70, False), _job("b", 0, 0.40, 0.53, True)]
    assert select(jobs) == ({"name": "b"}, True)


def test_equal_emotion_uar_at_chance_is_broken_by_the_distance_from_chance():
    jobs = [_job("a", 0, 0.60, 0.46, True), _job("b", 0, 0.60, 0.51, True)]
    assert select(jobs) == ({"name": "b"}, True)


def test_when_no_configuration_reaches_chance_the_one_closest_to_chance_is_kept():
    # the epoch rule's fallback, one level up: "a" has the better emotion UAR but its head is far
    # from chance (0.9), "b" is nearest (0.4, 0.1 away), "c" is as near from the other side (0.6)
    # with a better emotion UAR, so it wins the tie.
    jobs = [_job("a", 0, 0.80, 0.90, False), _job("b", 0, 0.50, 0.40, False), _job("c", 0, 0.55, 0.60, False)]
    assert select(jobs) == ({"name": "c"}, False)


def test_a_model_without_a_gender_adversary_maximises_emotion_uar():
    jobs = [_job("a", 0, 0.50, None, None), _job("b", 0, 0.60, None, None)]
    assert select(jobs) == ({"name": "b"}, None)


def test_validation_uar_is_read_from_the_stored_posteriors_of_the_validation_fold(monkeypatch):
    monkeypatch.undo()
    protocol = get_protocol()
    table = pd.DataFrame({"utterance_id": ["a", "b", "c", "d"], "fold": [1, 1, 0, 2], "activation_class": [0, 2, 1, 1]})
    probabilities = np.array([[0.9, 0.05, 0.05], [0.1, 0.1, 0.8], [1, 0, 0], [1, 0, 0]])  # validation (fold 1): both right
    record = TrainRecord("v" * 64, {"rotation": 0, "seed": 0, "config": {}, "kind": "main"}, ("a", "b", "c", "d"),
                         np.zeros((4, 1), np.float32), probabilities,
                         {"epochs": 1, "best_epoch": 1, "chance_reached": None, "chance_source": None, "gender_uar": None,
                          "history": []}, {}, {}, "2026-01-01")
    assert aggregate.validation_uar(record, table, "activation", protocol) == 1.0  # c and d (test, D1) are wrong, unread
