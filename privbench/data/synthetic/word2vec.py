"""The synthetic corpus' own 300-d word2vec, trained reproducibly.

gensim seeds each word's initial vector with `hashfxn(word + str(seed))`; its
default is Python's `hash`, which is salted per process. A fixed hash and a
single worker thread make the vectors the same on every run.
"""

from __future__ import annotations

import zlib
from pathlib import Path

from privbench.protocol import SyntheticWord2Vec, TextFeatures
from privbench.data.text import tokenize


def _stable_hash(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


def train_word_vectors(sentences: list[str], settings: SyntheticWord2Vec, seed: int, text: TextFeatures, out_path: Path) -> None:
    from gensim.models import Word2Vec

    tokenised = [tokenize(sentence, text) for sentence in sentences]
    model = Word2Vec(
        sentences=tokenised, vector_size=settings.vector_size, window=settings.window, min_count=settings.min_count,
        epochs=settings.epochs, seed=seed, workers=1, hashfxn=_stable_hash, sg=0,
    )
    model.wv.save_word2vec_format(str(out_path), binary=True)
