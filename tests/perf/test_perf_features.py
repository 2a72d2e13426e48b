"""Performance of corpus generation and features, measured with pytest-benchmark.

Run: .venv/bin/python -m pytest tests/perf --benchmark-enable --benchmark-columns=min,mean,rounds
(In the normal test run benchmarks are disabled: each body runs once, as a test.)
Figures are reported in docs/performance.md, never asserted against a timer.
"""

from pathlib import Path

import numpy as np
import pytest

from privbench.data.corpora.store import feature_store_folder, load_corpus
from privbench.data.feature_cache import open_store
from privbench.data.features import log_mel_filterbank, read_audio
from conftest import EVALUABLE
from privbench.data.synthetic.generate import generate_synthetic_corpus


@pytest.fixture(scope="module")
def speech(small_synthetic: Path) -> np.ndarray:
    """About a minute of real synthetic speech at 16 kHz."""
    pieces = [read_audio(path)[0] for path in sorted((small_synthetic / "audio").rglob("*.wav"))]
    audio = np.concatenate(pieces)
    return audio[: 16000 * 60] if len(audio) >= 16000 * 60 else audio


def test_filterbank_throughput_one_core(benchmark, speech: np.ndarray):
    features = benchmark(log_mel_filterbank, speech, 16000)
    seconds = len(speech) / 16000
    benchmark.extra_info["audio_seconds"] = seconds
    if benchmark.stats:  # only when benchmarking is enabled
        benchmark.extra_info["x_real_time"] = seconds / benchmark.stats.stats.min
    assert features.shape == (1 + (len(speech) - 400) // 160, 40)


def test_full_synthetic_generation(benchmark, tmp_path: Path):
    """Generating the whole 960-utterance corpus (audio, labels, word2vec), 2 workers; in the default
    test run (benchmarks disabled) the same code generates the 40-utterance one."""
    counter = iter(range(1000))
    size = EVALUABLE if benchmark.disabled else None

    def generate():
        return generate_synthetic_corpus(tmp_path / f"run{next(counter)}", size, workers=2)

    folder = benchmark.pedantic(generate, rounds=1, iterations=1)
    expected = 960 if size is None else (size.speakers_female + size.speakers_male) * size.utterances_per_speaker
    assert (folder / "manifest.csv").read_text().count("\n") == expected + 1


def test_feature_cache_load_full_synthetic(benchmark, benchmark_corpus):
    """Open both stores of the prepared corpus and touch every utterance's features."""
    name, protocol = benchmark_corpus

    def load_all():
        corpus = load_corpus(name, protocol)
        stores = [open_store(feature_store_folder(corpus, modality)) for modality in ("audio", "text")]
        total = 0.0
        for store in stores:
            for utterance_id in corpus.table["utterance_id"]:
                total += float(store[utterance_id][0, 0])
        return len(corpus.table), total

    count, _ = benchmark(load_all)
    assert count == (40 if benchmark.disabled else 960)
