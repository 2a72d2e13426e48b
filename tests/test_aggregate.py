"""Configuration selection across one rotation's main jobs (docs/protocol.md section 5)."""

from privbench.scoring.aggregate import select
from privbench.scoring.job_result import JobResult


def _job(config: str, seed: int, uar: float, gender_uar: float | None, reached: bool | None) -> JobResult:
    return JobResult({"spec": {"rotation": 0, "seed": seed, "config": {"name": config}, "kind": "main"},
                      "chance_reached": reached, "validation": {"uar": uar, "gender_uar": gender_uar}})


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
