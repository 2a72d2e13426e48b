"""What a self-supervised upstream costs per utterance on the CPU (submissions/ssl_upstream).

Run: .venv/bin/python -m pytest tests/perf/test_perf_ssl.py --benchmark-enable --benchmark-columns=min,mean,rounds
With --benchmark-enable: WavLM Base+'s architecture (12 layers of 768, 94M
parameters) with random weights, which cost what the real checkpoint costs
(no checkpoint can be downloaded here), on one 3.7 s utterance (RAVDESS' mean
length) at 1 and 2 threads. In the normal test run the body runs once on the
tiny preset, so it is exercised without its cost.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]


def _ssl_module():
    spec = importlib.util.spec_from_file_location("ssl_upstream_encoder", REPO / "submissions" / "ssl_upstream" / "encoder.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module




@pytest.mark.parametrize("threads", [1, 2], indirect=True)
def test_upstream_pooled_layers_per_utterance(benchmark, threads):
    ssl = _ssl_module()
    checkpoint = "random:tiny" if benchmark.disabled else "random:wavlm-base-plus"
    waveform = np.random.default_rng(0).normal(0, 0.1, size=int(3.7 * 16000)).astype(np.float32)

    def one_utterance():
        ssl._POOLED.clear()  # time the upstream, not the cache
        return ssl.pooled_layers(checkpoint, waveform, "cpu")

    pooled = benchmark.pedantic(one_utterance, rounds=5 if not benchmark.disabled else 1, iterations=1, warmup_rounds=1)
    model = ssl.load_upstream(checkpoint)
    assert pooled.shape == (model.config.num_hidden_layers + 1, model.config.hidden_size) and np.isfinite(pooled).all()
    if benchmark.stats:
        benchmark.extra_info["parameters_millions"] = round(sum(p.numel() for p in model.parameters()) / 1e6, 1)
        benchmark.extra_info["x_real_time"] = round(3.7 / benchmark.stats.stats.min, 1)
