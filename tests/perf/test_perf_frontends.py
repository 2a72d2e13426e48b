"""What each pretrained front end of frontends/ costs per utterance on the CPU (docs/frontends.md, "Cost").

Run: .venv/bin/python -m pytest tests/perf/test_perf_frontends.py --benchmark-enable --benchmark-columns=min,mean,rounds
With --benchmark-enable: `represent` on one 3 s utterance (a harmonic voice, as
in tests/test_frontends.py), 10 rounds after a warm-up, at 1 and 2 torch threads
(CTranslate2, for Whisper, is given the same count when the model loads). In
the normal test run the body runs once. A front end whose extra is not
installed is skipped.
"""

from __future__ import annotations

import pytest

from privbench import make_batch
from test_frontends import FRONT_ENDS, build, voiced

SECONDS = 3.0


@pytest.mark.parametrize("threads", [1, 2], indirect=True)
@pytest.mark.parametrize("name", list(FRONT_ENDS))
def test_front_end_seconds_per_utterance(benchmark, name, threads):
    spec = FRONT_ENDS[name]
    spec.skip_unless_installed()
    encoder = build(spec)  # after `threads`: Whisper's CTranslate2 takes its thread count at load
    batch = make_batch({"waveform": [voiced(120, SECONDS)]})
    rows = benchmark.pedantic(encoder.represent, args=(batch,), rounds=10 if not benchmark.disabled else 1, iterations=1,
                              warmup_rounds=1)
    assert rows.shape == (1, spec.dim)
    if benchmark.stats:
        benchmark.extra_info["x_real_time"] = round(SECONDS / benchmark.stats.stats.min, 1)
