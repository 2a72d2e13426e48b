"""What caching a corpus' waveforms costs: disk and load time, int16 against float32.

    python scripts/waveform_cache_cost.py synthetic ravdess

For each prepared corpus: builds the waveform store in both dtypes (into a
scratch folder, not the cache), and reports the build time, the bytes on
disk, the time to open the store and read every utterance (memory-mapped,
cold page cache not guaranteed: the figure is the warm one, min of 3), and the
largest difference between the two (int16 keeps 16-bit audio exactly).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.iterdir())


def measure(name: str) -> None:
    from privbench.data.corpora.store import load_corpus
    from privbench.data.feature_cache import build_waveform_store, open_store
    from privbench.protocol import get_protocol

    protocol = get_protocol()
    corpus = load_corpus(name, protocol)
    rate = protocol.features.audio.sample_rate_hz
    seconds = None
    stores = {}
    cache = os.environ.get("PRIVBENCH_CACHE")
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["PRIVBENCH_CACHE"] = scratch  # build_waveform_store writes under the cache root
        for dtype in ("int16", "float32"):
            started = time.perf_counter()
            folder = build_waveform_store(name, "cost", corpus.table, rate, dtype)
            built = time.perf_counter() - started
            loads = []
            for _ in range(3):
                started = time.perf_counter()
                store = open_store(folder)
                total, checksum = 0, 0.0
                for uid in corpus.table["utterance_id"]:  # sum the samples: every page is read, not only indexed
                    samples = store[uid]
                    total, checksum = total + len(samples), checksum + float(np.sum(samples, dtype=np.float64))
                loads.append(time.perf_counter() - started)
            seconds = total / rate
            stores[dtype] = {uid: store[uid] for uid in corpus.table["utterance_id"][:50]}
            print(f"{name} {dtype}: {len(corpus.table)} utterances, {seconds / 3600:.2f} h of audio; build {built:.1f} s; "
                  f"{_size(folder) / 2**20:.1f} MiB on disk; open and read all {min(loads):.2f} s")
        gap = max(float(np.max(np.abs(stores["int16"][uid] - stores["float32"][uid]))) for uid in stores["int16"])
        print(f"{name}: largest int16 - float32 difference over 50 utterances: {gap:.2e} (one 16-bit step is {1 / 32768:.2e})")
    if cache is None:  # the next corpus is read from the cache it was prepared in
        os.environ.pop("PRIVBENCH_CACHE")
    else:
        os.environ["PRIVBENCH_CACHE"] = cache


if __name__ == "__main__":
    for corpus in sys.argv[1:] or ["synthetic"]:
        measure(corpus)
