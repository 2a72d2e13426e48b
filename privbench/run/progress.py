"""One progress account per command: every task `evaluate` or `reproduce` will run, cached or not, with an ETA.

Tasks are training jobs, score steps and frozen front ends' representations
(executor.Task); "jobs" below means any of them. The plan
(evaluate.planned_jobs) lists every task of the command before the first one
runs; a membership job's configuration (and which main jobs are scored) is
only known after selection, so a main job or a representation is matched by
its key, and a membership job or a score step by its slot (encoder, setup,
kind, rotation, seed) and the evaluation that owns it:
`reproduce` runs variants of one baseline folder (the lambda study's priv-c
at four strengths), whose membership slots would otherwise coincide and drop
out of the count. The ETA sums, over the jobs still
to run, the compute-seconds measured for jobs of the same kind (modality and
main/membership: an audio job costs tens of times a text job) in this run,
else in the cached records of earlier runs, else the mean of all kinds, and
divides by the workers. A kind not measured yet borrows the same modality's
other kind (main and membership jobs cost about the same), so the ETA is close
once one job per modality has finished: within the first minutes. The same figures go to a log line every few minutes
when stderr is not a terminal (CI, Ray drivers, nohup).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from privbench.run.jobs import JobSpec, job_done
from privbench.run.represent import RepresentSpec
from privbench.run.score_jobs import ScoreSpec, read_score
from privbench.store.artifacts import read_arrays

Task = JobSpec | ScoreSpec | RepresentSpec


def slot(spec: Task, owner: str = "") -> tuple:
    """`owner` names the evaluation (e.g. "priv-c-lambda-0.3 on synthetic"), "" for a lone one.
    A main job or a representation is its key (two evaluations that share one, priv-c and
    priv-c-lambda-0.5 at the standard budget, share the job); a membership job's configuration,
    and which main jobs are scored, is chosen later, so its owner tells the variants apart (and
    counts such a shared job twice until it has run)."""
    if isinstance(spec, RepresentSpec) or (isinstance(spec, JobSpec) and spec.kind == "main"):
        return (spec.kind, spec.key)
    job, what = (spec.job, f"score {spec.job.kind}") if isinstance(spec, ScoreSpec) else (spec, spec.kind)
    return (owner, job.encoder_sha256, job.encoder_dir, job.corpus, job.modality, job.task, what, job.rotation, job.seed)


Owned = tuple[str, Task]  # (evaluation, task)


def _owned(planned: Sequence[Task | Owned]) -> list[Owned]:
    return [item if isinstance(item, tuple) else ("", item) for item in planned]


def kind(spec: Task) -> str:
    """What a task costs like: its modality and kind ("audio main", "text score", "audio represent")."""
    return f"{spec.job.modality if isinstance(spec, ScoreSpec) else spec.modality} {spec.kind}"


def _seconds(record: Any) -> float:
    """Compute-seconds of a finished task's artifact or result (a dict with `timings`, or a stored record)."""
    timings = record.get("timings", {}) if isinstance(record, dict) else getattr(record, "timings", None)
    if timings is None:  # a representation set keeps its timings in its metadata
        timings = getattr(record, "meta", {}).get("timings", {})
    return float(sum(timings.values()))


def cached(spec: Task) -> Any | None:
    """A finished task's metadata or result (with its timings), without loading arrays; None if not done."""
    if isinstance(spec, JobSpec):
        return job_done(spec)
    if isinstance(spec, ScoreSpec):
        return read_score(spec)
    found = read_arrays("representations", spec.key, with_arrays=False)
    return found[0] if found is not None else None


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    minutes = round(seconds / 60)
    if minutes < 1:
        return "under a minute"
    return f"{minutes} min" if minutes < 120 else f"{minutes / 60:.1f} h"


@dataclass
class Status:
    total: int
    cached: int
    done: int
    failed: int
    eta_s: float | None

    @property
    def remaining(self) -> int:
        return self.total - self.cached - self.done - self.failed

    def left(self, short: bool = False) -> str:
        """The time left, in words ("nothing left to run" once every job is settled); `short`: for a
        progress bar's column ("~25 min left")."""
        if self.remaining <= 0:
            return "nothing left" if short else "nothing left to run"
        if self.eta_s is None:
            return "ETA after 1st job" if short else "no ETA until a job finishes"
        text = duration(self.eta_s)
        if text == "under a minute":
            return "<1 min left" if short else "under a minute left"
        return f"~{text} left" if short else f"about {text} left"

    def line(self) -> str:
        return (f"{self.total} jobs: {self.cached} cached, {self.done} done, {self.remaining} to run"
                + (f", {self.failed} failed" if self.failed else "") + f"; {self.left()}")


def _family(job_kind: str) -> str:
    return "score" if job_kind.endswith(" score") else "train"


class CommandProgress:
    """Counts and an ETA for all jobs of one command."""

    def __init__(self, planned: Sequence[Task | Owned], workers: int, log: Callable[[str], None] | None = None,
                 interval_s: float = 180.0, clock: Callable[[], float] = time.monotonic):
        """`planned`: every task of the command, each a task or (owner, task) (see `slot`)."""
        planned = _owned(planned)
        self.kinds = {slot(spec, owner): kind(spec) for owner, spec in planned}
        self.workers = max(1, workers)
        self.measured: dict[str, list[float]] = defaultdict(list)  # this run's jobs
        self.prior: dict[str, list[float]] = defaultdict(list)  # cached records, for kinds not yet measured here
        self.cached: set[tuple] = set()
        self.done: set[tuple] = set()
        self.failed: set[tuple] = set()
        self.log, self.interval_s, self.clock = log, interval_s, clock
        self.last_log = clock()
        for owner, spec in planned:
            record = cached(spec)
            if record is not None:
                self.cached.add(slot(spec, owner))
                self.prior[kind(spec)].append(_seconds(record))

    def job_cached(self, spec: Task, record: Any, owner: str = "") -> None:
        """A job of the plan turned out to be cached (a membership job with its chosen configuration)."""
        key = slot(spec, owner)
        self.kinds.setdefault(key, kind(spec))
        if key not in self.cached:
            self.cached.add(key)
            self.prior[kind(spec)].append(_seconds(record))

    def job_finished(self, spec: Task, result: dict[str, Any] | None, owner: str = "") -> None:
        key = slot(spec, owner)
        self.kinds.setdefault(key, kind(spec))
        self.cached.discard(key)  # a membership job whose chosen configuration was not the cached one
        if result is None:
            self.failed.add(key)
        else:
            self.done.add(key)
            self.measured[kind(spec)].append(_seconds(result))
        if self.log is not None and self.clock() - self.last_log >= self.interval_s:
            self.last_log = self.clock()
            self.log(self.status().line())

    def _estimate(self, job_kind: str) -> float | None:
        """Mean seconds of this kind (this run, else cached records), else of the same modality's
        other kind of the same family (a membership job costs about what a main job does; a score
        step costs a small share of either), else of its family, else of every task."""
        modality, family = job_kind.split(" ")[0], _family(job_kind)
        for matches in (lambda k: k == job_kind, lambda k: k.split(" ")[0] == modality and _family(k) == family,
                        lambda k: _family(k) == family, lambda k: True):
            for source in (self.measured, self.prior):
                values = [s for k, seconds in source.items() if matches(k) for s in seconds]
                if values:
                    return sum(values) / len(values)
        return None

    def status(self) -> Status:
        settled = self.cached | self.done | self.failed
        left = [k for key, k in self.kinds.items() if key not in settled]
        estimates = [self._estimate(k) for k in left]
        eta = None if any(e is None for e in estimates) else sum(estimates) / self.workers
        return Status(len(self.kinds), len(self.cached), len(self.done), len(self.failed), eta if left else 0.0)
