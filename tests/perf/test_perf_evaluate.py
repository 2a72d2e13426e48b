"""Wall time of evaluations on the full synthetic corpus, and where the time goes.

Run: .venv/bin/python -m pytest tests/perf/test_perf_evaluate.py --benchmark-enable --benchmark-columns=min,mean,rounds
Each round starts from an empty store (features stay cached), with the
local executor's defaults (2 workers of 1 thread on this machine). The share of
time in training, embedding and scoring (every attack) is summed from the
stored jobs' and scores' own timings and stored in the benchmark's extra_info.
"""

import shutil
from pathlib import Path


from privbench.run.evaluate import Request, evaluate
from privbench.run.executor import LocalExecutor
from privbench.paths import cache_root

REPO = Path(__file__).resolve().parents[2]


def _evaluate_cold(protocol, tmp_path: Path, budget: str, modalities=(), tasks=("activation", "valence")):
    shutil.rmtree(cache_root() / "store", ignore_errors=True)
    request = Request(REPO / "baselines" / "general", ("synthetic",), modalities, tasks, budget, "cpu", tmp_path / "results")
    return evaluate(request, protocol, LocalExecutor())


def _score_seconds(record, protocol) -> float:
    from privbench.paths import code_sha256
    from privbench.run.score_jobs import score_key
    from privbench.scoring.score import SCORING_SECTIONS
    from privbench.store.artifacts import read_json

    code, scoring = code_sha256("score"), protocol.sections_sha256(SCORING_SECTIONS)
    scores = [read_json("scores", score_key(job, code, scoring)) for job in record["stored"]]
    return sum(score["timings"]["score_s"] for score in scores if score is not None)


def _shares(benchmark, evaluation, protocol) -> None:
    totals = {key: sum(r["timings_s"][key] for r in evaluation.records) for key in ("train_s", "embed_s")}
    totals["score_s"] = sum(_score_seconds(r, protocol) for r in evaluation.records)
    whole = sum(totals.values())
    benchmark.extra_info.update({f"share_{key[:-2]}": round(value / whole, 3) for key, value in totals.items()})
    benchmark.extra_info["jobs"] = sum(r["jobs"]["main"] + r["jobs"]["membership"] for r in evaluation.records)


def test_smoke_evaluation_all_setups(benchmark, benchmark_corpus, tmp_path):
    _, protocol = benchmark_corpus
    evaluation = benchmark.pedantic(_evaluate_cold, args=(protocol, tmp_path, "smoke"), rounds=1, iterations=1)
    _shares(benchmark, evaluation, protocol)
    assert len(evaluation.records) == 6 and not evaluation.failures


def test_quick_evaluation_one_audio_setup(benchmark, benchmark_corpus, tmp_path):
    """About 3 minutes with --benchmark-enable; in the normal test run the same body runs once at the
    smoke budget (seconds), so it is exercised without its cost."""
    _, protocol = benchmark_corpus
    budget = "smoke" if benchmark.disabled else "quick"
    evaluation = benchmark.pedantic(_evaluate_cold, args=(protocol, tmp_path, budget, ("audio",), ("activation",)),
                                    rounds=1, iterations=1)
    _shares(benchmark, evaluation, protocol)
    assert len(evaluation.records) == 1 and not evaluation.failures
