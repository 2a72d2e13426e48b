"""What each attack costs on one stored quick-budget job (the score step), and MI-LR over a setup.

Run: .venv/bin/python -m pytest tests/perf/test_perf_attacks.py --benchmark-enable --benchmark-columns=min,mean,rounds
The fixture evaluates general on the full synthetic corpus (audio, activation, quick budget: 5 main and
5 membership jobs) once; each benchmark then scores the stored outputs again, one attack at a time, on
one thread as a local worker has. In the normal test run the same bodies run once on the 40-utterance
corpus at the smoke budget (MI-LR then has no out models and is not measured).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import benchmarking

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def stored(benchmark_corpus, request, tmp_path_factory):
    import torch

    from privbench.data.corpora.store import load_corpus
    from privbench.paths import cache_root
    from privbench.run.evaluate import Request, evaluate
    from privbench.run.executor import LocalExecutor
    from privbench.store.representations import TrainRecord

    name, protocol = benchmark_corpus
    budget = "quick" if benchmarking(request.config) else "smoke"
    shutil.rmtree(cache_root() / "store", ignore_errors=True)
    results = tmp_path_factory.mktemp("attack-results")
    evaluation = evaluate(Request(REPO / "baselines" / "general", (name,), ("audio",), ("activation",), budget, "cpu", results),
                          protocol, LocalExecutor())
    assert not evaluation.failures
    records = [TrainRecord.read(key) for key in evaluation.records[0]["stored"]]
    torch.set_num_threads(1)
    return load_corpus(name, protocol).table, records, protocol


def _main(stored):
    table, records, protocol = stored
    return table, next(r for r in records if r.kind == "main" and r.rotation == 0), protocol


def test_score_a_main_job(benchmark, stored):
    """Every attack of a main job: L, P with its three families, ID with its two."""
    from privbench.scoring.score import score_main

    table, record, protocol = _main(stored)
    scores = benchmark.pedantic(score_main, args=(record, table, protocol), rounds=3 if benchmark.enabled else 1, iterations=1)
    assert 0 <= scores["leakage"] <= 1 and scores["identity_eer"] is not None


def test_identity_alone(benchmark, stored):
    from privbench.scoring.identity import identity
    from privbench.scoring.score import main_ids

    table, record, protocol = _main(stored)
    ids = main_ids(table, record.rotation, protocol)
    speakers = table.set_index("utterance_id")["speaker"]
    parts = [(record.rows(record.h, ids[p]), speakers.loc[ids[p]].to_numpy(str)) for p in ("train", "valid", "test")]
    result = benchmark.pedantic(identity, args=(*[x for part in parts for x in part], protocol.identity, 0),
                                rounds=5 if benchmark.enabled else 1, iterations=1)
    assert result["identity_eer"] is not None


def test_score_a_membership_job(benchmark, stored):
    """The paper's MI attack on a membership job."""
    from privbench.scoring.score import score_membership

    table, records, protocol = stored
    record = next(r for r in records if r.kind == "membership")
    scores = benchmark.pedantic(score_membership, args=(record, table, protocol), rounds=3 if benchmark.enabled else 1,
                                iterations=1)
    assert 0 <= scores["membership"] <= 1


def test_membership_lr_over_the_setup(benchmark, stored):
    """MI-LR: every membership model against its out models, both surfaces (a quick budget's 10 jobs)."""
    from privbench.scoring.membership_lr import membership_lr

    table, records, protocol = stored
    main = {}
    for record in records:
        if record.kind == "main":
            main.setdefault(record.rotation, []).append(record)
    membership = [r for r in records if r.kind == "membership"]
    entries, _ = benchmark.pedantic(membership_lr, args=(table, "activation", main, membership, protocol, len(main)),
                                    rounds=5 if benchmark.enabled else 1, iterations=1)
    assert len(main) < 5 or np.isfinite(entries["membership_lr_auc"]["pooled"])
