"""A job's record is typed and checked when read back: a malformed one is treated as missing and runs again."""

from __future__ import annotations

import dataclasses
import json

import pytest

from privbench.run.jobs import JobSpec, job_path, read_job, write_job
from privbench.scoring.job_result import JobResult, JobResultError

SPEC = JobSpec("/e", "ab" * 32, "cd" * 32, "synthetic", "ef" * 32, "01" * 32, "audio", "activation", 2, 1, {"a": 1},
               "membership", 15, "x")
RESULT = {"chance_reached": None, "epochs": 4, "best_epoch": 3, "attacks": {"membership": 0.6, "membership_auc": None},
          "timings": {"train_s": 10.0, "embed_s": 1.0, "attack_s": 0.5}}


def test_a_job_record_round_trips_typed(isolated):
    written = write_job(SPEC, RESULT)
    assert isinstance(written, JobResult) and written == read_job(SPEC)
    assert (written.rotation, written.seed, written.kind, written.config, written.seconds) == (2, 1, "membership", {"a": 1}, 11.5)


@pytest.mark.parametrize("tamper", [
    lambda record: record.pop("attacks"),
    lambda record: record["timings"].update(train_s="fast"),
    lambda record: record.update(schema="privbench.job/0"),
    lambda record: record["spec"].pop("rotation"),
])
def test_a_malformed_job_record_is_treated_as_missing(isolated, tamper):
    write_job(SPEC, RESULT)
    path = job_path(SPEC)
    record = json.loads(path.read_text())
    tamper(record)
    path.write_text(json.dumps(record))
    assert read_job(SPEC) is None  # so the job runs again rather than feeding a bad record to aggregation
    with pytest.raises(JobResultError):
        JobResult.from_json(record)


def test_a_main_job_needs_its_test_probabilities(isolated):
    main = dataclasses.replace(SPEC, kind="main")
    record = {"schema": "privbench.job/1", "key": main.key, "spec": dataclasses.asdict(main), **RESULT,
              "validation": {"uar": 0.5, "gender_uar": None}, "history": [], "test_ids": ["a", "b"], "test_probabilities": [[1, 0, 0]]}
    with pytest.raises(JobResultError, match="one probability row per test utterance"):
        JobResult.from_json(record)


def test_a_scratch_job_cache_shares_prepared_data_and_no_job(isolated):
    from privbench.paths import cache_root, use_scratch_job_cache

    before = cache_root()
    for folder in ("features", "jobs"):
        (before / folder).mkdir(parents=True, exist_ok=True)
    scratch = use_scratch_job_cache("privbench-test-")
    assert cache_root() == scratch != before  # what runs next uses the scratch cache
    assert (scratch / "features").resolve() == (before / "features").resolve()
    assert not (scratch / "jobs").exists() and not (scratch / "corpora").exists()  # no job; absent folders not linked
