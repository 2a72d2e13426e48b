"""Executors run tasks and hand each outcome back to the driver, which stores it.

A task is a training job (`JobSpec`), a score step (`ScoreSpec`) or a frozen
front end's representations of a corpus (`RepresentSpec`); `run_task` runs
any of them. The interface is one method, `run(tasks, on_outcome)`; the local
executor uses worker processes (spawned, each with its own torch thread
count), or runs in this process when `workers` is 1. A task that raises
becomes a failed outcome naming the task, the exception, where it was raised
(the submission's own code when the traceback passes through its folder) and
why (`JobOutcome.cause`); the whole traceback goes to a log file under the
cache (`<cache>/logs/<time>-<task key>.log`, written atomically) that the
outcome names. The others go on.
"""

from __future__ import annotations

import abc
import multiprocessing
import os
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from privbench.errors import PrivbenchError, describe_exception
from privbench.run.jobs import JobSpec
from privbench.run.train import run_job
from privbench.run.represent import RepresentSpec, run_represent
from privbench.run.score_jobs import ScoreSpec, run_score

Task = JobSpec | ScoreSpec | RepresentSpec

DEFAULT_THREADS_PER_JOB = 1  # the paper's small GRUs gain little from more threads; more jobs in parallel gain more


# Why a task failed (JobOutcome.cause), and what the user should do about it (`advice`).
SUBMISSION = "submission"  # the traceback passes through the submission's own folder: a bug to fix there
INPUT = "input"  # privbench refused what it was given (a PrivbenchError): its message says what to do
WORKER = "worker"  # the worker process died or ran out of memory: transient, a rerun retries it
PRIVBENCH = "privbench"  # raised in privbench's own code: a privbench bug


@dataclass(frozen=True)
class JobOutcome:
    spec: Task
    result: dict[str, Any] | None
    error: str | None = None  # one line: the exception and where it was raised
    cause: str | None = None  # SUBMISSION, INPUT, WORKER or PRIVBENCH
    log: str | None = None  # the file that holds the whole traceback


def _submission_folder(spec: Task) -> Path:
    return Path(spec.job.encoder_dir if isinstance(spec, ScoreSpec) else spec.encoder_dir).resolve()


def _submission_frame(error: BaseException, folder: Path) -> traceback.FrameSummary | None:
    """The innermost frame of the traceback that lies in the submission's folder, if any."""
    frames = traceback.extract_tb(error.__traceback__) if error.__traceback__ else []
    for frame in reversed(frames):
        try:
            if Path(frame.filename).resolve().is_relative_to(folder):
                return frame
        except (OSError, ValueError):
            continue
    return None


def describe_error(error: BaseException, frame: traceback.FrameSummary | None = None) -> str:
    """One line: a user error's message, or a bug's exception and where it happened (`frame`, the
    submission's own line, when given; else the innermost one)."""
    if isinstance(error, PrivbenchError):
        return str(error)
    if frame is None:
        return describe_exception(error)
    return f"{type(error).__name__}: {error} (at {Path(frame.filename).name}:{frame.lineno})"


def cause_of(error: BaseException, spec: Task) -> tuple[str, traceback.FrameSummary | None]:
    """Why `error` ended `spec`, and the submission's frame it passed through (if any)."""
    frame = _submission_frame(error, _submission_folder(spec))
    if isinstance(error, MemoryError):
        return WORKER, frame
    if frame is not None:
        return SUBMISSION, frame
    if isinstance(error, PrivbenchError):
        return INPUT, None
    return PRIVBENCH, None


def write_failure_log(spec: Task, error: BaseException) -> str | None:
    """The whole traceback of a failed task, in `<cache>/logs/<time>-<task key>.log`; None when the
    log cannot be written (a failure to log never hides the failure itself)."""
    import platform
    from datetime import datetime, timezone
    from importlib.metadata import PackageNotFoundError, version

    from privbench.paths import cache_root
    from privbench.storage import atomic_write_text

    try:
        privbench_version = version("privbench")
    except PackageNotFoundError:  # a clone on sys.path without pip install
        privbench_version = "unknown"
    now = datetime.now(timezone.utc)
    path = cache_root() / "logs" / f"{now.strftime('%Y%m%dT%H%M%SZ')}-{spec.key}.log"
    text = (f"privbench {privbench_version}, python {platform.python_version()}, {now.isoformat(timespec='seconds')}\n"
            f"task: {spec.describe()} ({type(spec).__name__} {spec.key})\n"
            f"submission folder: {_submission_folder(spec)}\n\n"
            + "".join(traceback.format_exception(type(error), error, error.__traceback__)))
    try:
        atomic_write_text(path, text)
    except OSError:
        return None
    return str(path)


def advice(outcomes: Sequence[JobOutcome], name: str | None = None) -> str:
    """What to do about failed tasks: fix the submission (`name`; its own bug, or what privbench refused),
    rerun (a worker died), or report (privbench's bug). Finished jobs are kept either way."""
    causes = {outcome.cause for outcome in outcomes}
    if SUBMISSION in causes:
        name = name or next(_submission_folder(o.spec).name for o in outcomes if o.cause == SUBMISSION)
        return f"a bug in {name}'s own code: fix it, then run the same command again (finished jobs are kept)"
    if INPUT in causes:
        return "fix what the line says, then run the same command again (finished jobs are kept)"
    if causes == {WORKER}:
        return ("the worker process died (out of memory, or killed): run the same command again to retry "
                "(finished jobs are kept)")
    return ("a privbench bug, not your encoder's: please report it with the log "
            "(finished jobs are kept; the same command retries them)")


def failure_line(outcome: JobOutcome, name: str | None = None) -> str:
    """`<task>: <error>; traceback in <log>` (one line, the submission named by `name`)."""
    return (f"{outcome.spec.describe(name)}: {outcome.error}"
            + (f"; traceback in {outcome.log}" if outcome.log else ""))


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
        cause, frame = cause_of(error, spec)
        return JobOutcome(spec, None, describe_error(error, frame), cause, write_failure_log(spec, error))


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
                        outcome = JobOutcome(spec, None, "its worker process died (out of memory, or killed)", WORKER)
                    on_outcome(outcome)
        except BaseException:
            # Interrupted (Ctrl-C, or SIGTERM turned into KeyboardInterrupt by the CLI): stop the
            # workers now rather than leave them computing jobs nobody will record.
            for process in list(getattr(pool, "_processes", {}).values()):
                process.terminate()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
