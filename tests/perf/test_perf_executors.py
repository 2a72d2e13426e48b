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

from privbench.run.evaluate import Request, evaluate
from privbench.run.executor import LocalExecutor
from privbench.paths import cache_root

REPO = Path(__file__).resolve().parents[2]


def _executor(kind: str):
    if kind == "ray-2cpu":
        from privbench.run.ray_executor import RayExecutor  # Ray comes with the dev extra

        return RayExecutor(local_cpus=2)
    return LocalExecutor(workers=int(kind.split("-")[1]))


def _evaluate_cold(protocol, results: Path, executor, modalities=()):
    shutil.rmtree(cache_root() / "store", ignore_errors=True)  # nothing trained or scored: a cold run
    request = Request(REPO / "baselines" / "general", ("synthetic",), modalities, ("activation", "valence"), "smoke", "cpu", results)
    return evaluate(request, protocol, executor)


@pytest.mark.parametrize("kind", ["local-1", "local-2", "ray-2cpu"])
def test_executor_throughput_smoke_general(benchmark, benchmark_corpus, tmp_path, kind):
    """About 3 minutes for the three executors with --benchmark-enable; in the normal test run each
    runs the text setups only (4 jobs), so every executor is exercised without the cost."""
    _, protocol = benchmark_corpus
    executor = _executor(kind)
    modalities = ("text",) if benchmark.disabled else ()
    try:
        evaluation = benchmark.pedantic(_evaluate_cold, args=(protocol, tmp_path / "results", executor, modalities),
                                        rounds=1, iterations=1)
    finally:
        executor.close()
    jobs = sum(r["jobs"]["main"] + r["jobs"]["membership"] for r in evaluation.records)
    assert len(evaluation.records) == (2 if modalities else 6) and not evaluation.failures
    if benchmark.stats:
        benchmark.extra_info["jobs"] = jobs
        benchmark.extra_info["jobs_per_minute"] = round(60 * jobs / benchmark.stats.stats.min, 2)
