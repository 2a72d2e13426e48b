"""The Ray executor: the same jobs as Ray tasks, on a local Ray instance or a cluster.

Each job is a task asking for `cpus_per_job` CPUs (its torch thread count) and
`gpus_per_job` of a GPU (with --device cuda). Workers read features from the
shared cache path (PRIVBENCH_CACHE must be the same path on every node: a
shared file system), and return their results to the driver, which writes the
job records atomically, exactly as with the local executor. A task whose
worker dies is retried by Ray (at most `max_retries` times) and then reported
as a failed job. Install with `pip install -e '.[ray]'`.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Sequence

from privbench.errors import PrivbenchError
from privbench.run.executor import Executor, JobOutcome, Task, run_safely

FORWARDED_ENVIRONMENT = ("PRIVBENCH_ROOT", "PRIVBENCH_CACHE")


def _run_in_ray(spec: Task, threads: int) -> JobOutcome:
    from privbench.run.executor import _init_worker

    _init_worker(threads)  # the same thread count and CUDA determinism as a local worker
    return run_safely(spec)


class RayExecutor(Executor):
    def __init__(self, address: str | None = None, cpus_per_job: int = 1, gpus_per_job: float = 0.0,
                 max_retries: int = 2, local_cpus: int | None = None):
        if importlib.util.find_spec("ray") is None:
            raise PrivbenchError("--executor ray needs Ray: pip install -e '.[ray]'")
        self.address, self.cpus_per_job, self.gpus_per_job = address, cpus_per_job, gpus_per_job
        self.max_retries, self.local_cpus = max_retries, local_cpus

    def _connect(self) -> None:
        import ray

        if ray.is_initialized():
            return
        environment = {name: os.environ[name] for name in FORWARDED_ENVIRONMENT if name in os.environ}
        options = {"runtime_env": {"env_vars": environment}, "include_dashboard": False, "log_to_driver": False}
        if self.address:
            ray.init(address=self.address, **options)
        else:
            ray.init(num_cpus=self.local_cpus, **options)

    def run(self, jobs: Sequence[Task], on_outcome: Callable[[JobOutcome], None]) -> None:
        if not jobs:
            return
        import ray
        from ray.exceptions import RayError

        self._connect()
        task = ray.remote(num_cpus=self.cpus_per_job, num_gpus=self.gpus_per_job, max_retries=self.max_retries)(_run_in_ray)
        pending = {task.remote(spec, self.cpus_per_job): spec for spec in jobs}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for reference in done:
                spec = pending.pop(reference)
                try:
                    outcome = ray.get(reference)
                except RayError as error:
                    outcome = JobOutcome(spec, None, f"its Ray worker failed after {self.max_retries} retries: "
                                                     f"{type(error).__name__}: {str(error).splitlines()[0]}", "worker")
                on_outcome(outcome)

    @property
    def workers(self) -> int:
        """Jobs that fit the cluster at once (its CPUs over the CPUs a job asks for)."""
        import ray

        self._connect()
        return max(1, int(ray.cluster_resources().get("CPU", 1) // self.cpus_per_job))

    def close(self) -> None:
        import ray

        if ray.is_initialized():
            ray.shutdown()
