"""Job throughput of the executors on the same jobs: 1 and 2 local workers, Ray on 2 CPUs.

Run: .venv/bin/python -m pytest tests/perf/test_perf_executors.py --benchmark-enable --benchmark-columns=min,rounds
The jobs are `general` on every setup of the full synthetic corpus at the smoke
budget (12 jobs: 6 main, 6 membership). Each round starts from an empty job
cache (features stay cached). extra_info holds jobs per minute; efficiency is
the speed-up over one local worker divided by the workers, computed in
docs/performance.md from these figures.
"""

import shutil
from pathlib import Path

import pytest

from privbench.evaluate import Request, evaluate
from privbench.executor import LocalExecutor
from privbench.paths import cache_root

REPO = Path(__file__).resolve().parents[2]


def _executor(kind: str):
    if kind == "ray-2cpu":
        pytest.importorskip("ray")
        from privbench.ray_executor import RayExecutor

        return RayExecutor(local_cpus=2)
    return LocalExecutor(workers=int(kind.split("-")[1]))


def _evaluate_cold(protocol, results: Path, executor):
    shutil.rmtree(cache_root() / "jobs", ignore_errors=True)
    request = Request(REPO / "baselines" / "general", ("synthetic",), (), ("activation", "valence"), "smoke", "cpu", results)
    return evaluate(request, protocol, executor)


@pytest.mark.parametrize("kind", ["local-1", "local-2", "ray-2cpu"])
def test_executor_throughput_smoke_general(benchmark, full_synthetic_prepared, tmp_path, kind):
    if benchmark.disabled:
        pytest.skip("about 3 minutes for the three executors: runs only with --benchmark-enable")
    _, protocol = full_synthetic_prepared
    executor = _executor(kind)
    try:
        evaluation = benchmark.pedantic(_evaluate_cold, args=(protocol, tmp_path / "results", executor), rounds=1, iterations=1)
    finally:
        if hasattr(executor, "shutdown"):
            executor.shutdown()
    jobs = sum(r["jobs"]["main"] + r["jobs"]["membership"] for r in evaluation.records)
    benchmark.extra_info["jobs"] = jobs
    benchmark.extra_info["jobs_per_minute"] = round(60 * jobs / benchmark.stats.stats.min, 2)
    assert len(evaluation.records) == 6 and not evaluation.failures
