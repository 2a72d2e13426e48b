"""Executors run tasks and hand each outcome back to the driver, which stores it.

A task is a training job (`JobSpec`), a score step (`ScoreSpec`) or a frozen
front end's representations of a corpus (`RepresentSpec`); `run_task` runs
any of them. The interface is one method, `run(tasks, on_outcome)`; the local
executor uses worker processes (spawned, each with its own torch thread
count), or runs in this process when `workers` is 1. A task that raises
becomes a failed outcome naming the task and the exception; the others go on.
"""

from __future__ import annotations

import abc
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from privbench.errors import PrivbenchError, describe_exception
from privbench.run.jobs import JobSpec
from privbench.run.train import run_job
from privbench.run.represent import RepresentSpec, run_represent
from privbench.run.score_jobs import ScoreSpec, run_score

Task = JobSpec | ScoreSpec | RepresentSpec

DEFAULT_THREADS_PER_JOB = 1  # the paper's small GRUs gain little from more threads; more jobs in parallel gain more


@dataclass(frozen=True)
class JobOutcome:
    spec: Task
    result: dict[str, Any] | None
    error: str | None = None


def describe_error(error: BaseException) -> str:
    """One line: a user error's message, or a bug's exception and where it happened."""
    return str(error) if isinstance(error, PrivbenchError) else describe_exception(error)


def run_task(task: Task) -> dict[str, Any]:
    if isinstance(task, JobSpec):
        return run_job(task)
    if isinstance(task, ScoreSpec):
        return run_score(task)
    return run_represent(task)


def run_safely(spec: Task) -> JobOutcome:
    try:
        return JobOutcome(spec, run_task(spec))
    except Exception as error:  # a task's failure must not take the others down
        return JobOutcome(spec, None, describe_error(error))


def default_workers(threads_per_job: int = DEFAULT_THREADS_PER_JOB) -> int:
    return max(1, (os.cpu_count() or 1) // threads_per_job)


def _init_worker(threads: int) -> None:
    """Per worker: its torch thread count, and deterministic kernels on CUDA.

    On CUDA, torch runs the GRUs with cuDNN; deterministic cuDNN algorithms (no
    autotuning) and cuBLAS' fixed workspace make a seed give the same numbers
    on the same GPU and software, at some cost in speed."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    import torch

    torch.set_num_threads(threads)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False


class Executor(abc.ABC):
    @abc.abstractmethod
    def run(self, jobs: Sequence[Task], on_outcome: Callable[[JobOutcome], None]) -> None:
        """Run every task; call `on_outcome` in the driver once per task, in completion order."""

    @property
    def workers(self) -> int:
        """How many jobs run at once (for the ETA)."""
        return 1

    def close(self) -> None:
        """Release what the executor holds (worker pools, a Ray connection); the CLI calls it at the end."""


class LocalExecutor(Executor):
    def __init__(self, workers: int | None = None, threads_per_job: int = DEFAULT_THREADS_PER_JOB):
        self.threads_per_job = threads_per_job
        self._workers = workers or default_workers(threads_per_job)

    @property
    def workers(self) -> int:
        return self._workers

    def run(self, jobs: Sequence[Task], on_outcome: Callable[[JobOutcome], None]) -> None:
        if not jobs:
            return
        if self.workers == 1:
            _init_worker(self.threads_per_job)
            for spec in jobs:
                on_outcome(run_safely(spec))
            return
        context = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(self.workers, mp_context=context, initializer=_init_worker, initargs=(self.threads_per_job,))
        try:
            pending = {pool.submit(run_safely, spec): spec for spec in jobs}
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    spec = pending.pop(future)
                    try:
                        outcome = future.result()
                    except BrokenProcessPool:
                        outcome = JobOutcome(spec, None, "its worker process died (out of memory, or killed)")
                    on_outcome(outcome)
        except BaseException:
            # Interrupted (Ctrl-C, or SIGTERM turned into KeyboardInterrupt by the CLI): stop the
            # workers now rather than leave them computing jobs nobody will record.
            for process in list(getattr(pool, "_processes", {}).values()):
                process.terminate()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
