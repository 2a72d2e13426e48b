"""One progress account per command: counts, cached jobs, and an ETA from measured job times per kind."""

from __future__ import annotations

import dataclasses

import numpy as np

from privbench.run.jobs import JobSpec, write_job
from privbench.run.progress import CommandProgress, duration
from privbench.run.score_jobs import ScoreSpec

BASE = JobSpec("/e", "ab" * 32, "cd" * 32, "synthetic", "ef" * 32, "01" * 32, "audio", "activation", 0, 0, {"a": 1}, "main", 15, "x")


def _job(modality: str, rotation: int, kind: str = "main", config=None) -> JobSpec:
    return dataclasses.replace(BASE, modality=modality, rotation=rotation, kind=kind, config=config or {"a": 1})


def test_eta_weighs_each_kind_by_its_own_measured_time_and_the_workers(isolated):
    jobs = [_job("audio", r) for r in range(4)] + [_job("text", r) for r in range(4)]
    progress = CommandProgress(jobs, workers=2)
    assert progress.status().eta_s is None and progress.status().remaining == 8  # nothing measured yet
    progress.job_finished(jobs[0], {"timings": {"train_s": 50.0, "attack_s": 10.0}})  # an audio job: 60 s
    progress.job_finished(jobs[4], {"timings": {"train_s": 1.0, "attack_s": 1.0}})  # a text job: 2 s
    status = progress.status()
    assert (status.total, status.done, status.remaining) == (8, 2, 6)
    assert status.eta_s == (3 * 60 + 3 * 2) / 2  # 3 audio and 3 text jobs left, 2 workers
    assert "8 jobs: 0 cached, 2 done, 6 to run" in status.line() and "about 2 min left" in status.line()


def test_cached_jobs_count_as_settled_and_give_the_first_estimate(isolated):
    jobs = [_job("audio", r) for r in range(3)]
    write_job(jobs[0], {"ids": ["u"], "h": np.zeros((1, 2), np.float32), "probabilities": np.full((1, 3), 1 / 3),
                        "fit": {"epochs": 3, "best_epoch": 2, "chance_reached": None, "chance_source": None, "gender_uar": None,
                                "history": []}, "timings": {"train_s": 30.0}, "environment": {}})
    progress = CommandProgress(jobs, workers=1)
    status = progress.status()
    assert (status.cached, status.remaining, status.eta_s) == (1, 2, 60.0)  # the cached job's 30 s, twice


def test_a_membership_job_is_matched_whatever_configuration_selection_chose(isolated):
    planned = _job("audio", 0, "membership", {"a": 1})
    chosen = _job("audio", 0, "membership", {"a": 2})
    progress = CommandProgress([planned], workers=1)
    progress.job_cached(chosen, {"timings": {"train_s": 5.0}})
    assert progress.status().total == 1 and progress.status().cached == 1 and progress.status().remaining == 0


def test_a_log_line_goes_out_every_interval_not_on_every_job(isolated):
    now = [0.0]
    lines: list[str] = []
    jobs = [_job("audio", r) for r in range(5)]
    progress = CommandProgress(jobs, workers=1, log=lines.append, interval_s=100, clock=lambda: now[0])
    for i, job in enumerate(jobs[:4]):
        now[0] = 60.0 * (i + 1)
        progress.job_finished(job, {"timings": {"train_s": 60.0}} if i != 2 else None)
    assert len(lines) == 2  # at 120 s and 240 s
    assert lines[-1] == "5 jobs: 0 cached, 3 done, 1 to run, 1 failed; about 1 min left"


def test_durations_read_well():
    assert duration(None) == "unknown" and duration(20) == "under a minute"
    assert duration(600) == "10 min" and duration(4 * 3600) == "4.0 h"


def test_an_unmeasured_kind_borrows_its_modality_before_the_mean_of_all(isolated):
    jobs = [_job("audio", 0), _job("audio", 1, "membership"), _job("text", 0), _job("text", 1, "membership")]
    progress = CommandProgress(jobs, workers=1)
    progress.job_finished(jobs[0], {"timings": {"train_s": 100.0}})
    progress.job_finished(jobs[2], {"timings": {"train_s": 2.0}})
    assert progress.status().eta_s == 100.0 + 2.0  # audio membership ~ audio main; text membership ~ text main


def test_variants_of_one_folder_keep_their_membership_jobs_apart(isolated):
    # The lambda study runs priv-c at several strengths from one folder: before selection their
    # membership jobs look alike, so without the owning evaluation they collapsed into one slot
    # (reproduce --table all counted 110 of its 140 jobs).
    strengths = {"priv-c on c": {"lambda": 0.5}, "priv-c-lambda-0.3 on c": {"lambda": 0.3}}
    planned = [(owner, _job("audio", r, kind, config)) for owner, config in strengths.items()
               for r in range(2) for kind in ("main", "membership")]
    progress = CommandProgress(planned, workers=1)
    assert progress.status().total == 8
    owner, job = planned[1]
    progress.job_finished(job, {"timings": {"train_s": 5.0}}, owner)
    assert progress.status().done == 1 and progress.status().remaining == 7
    assert CommandProgress([job for _, job in planned], workers=1).status().total == 6  # what the count was


def test_two_evaluations_that_share_a_main_job_count_it_once(isolated):
    # at the standard budget priv-c's default configuration and priv-c-lambda-0.5 are one job
    shared = _job("audio", 0)
    progress = CommandProgress([("priv-c on c", shared), ("priv-c-lambda-0.5 on c", shared)], workers=1)
    assert progress.status().total == 1


def test_score_steps_are_counted_and_estimated_from_score_steps_not_from_training(isolated):
    jobs = [_job("audio", r) for r in range(2)]
    scores = [ScoreSpec(job, "code", "tables") for job in jobs]
    progress = CommandProgress(jobs + scores, workers=1)
    assert progress.status().total == 4
    progress.job_finished(jobs[0], {"timings": {"train_s": 100.0}})
    progress.job_finished(scores[0], {"timings": {"score_s": 2.0}})
    assert progress.status().eta_s == 100.0 + 2.0  # one job and one score step left, each at its own kind's cost
