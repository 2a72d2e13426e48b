"""From a prepared corpus to what an encoder sees: labelled sets and unlabelled batches.

`stores` maps a stream ("audio", "text") to anything that gives an
utterance's [T, D] matrix by id (a FeatureStore, or a dict in tests and checks).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from privbench.data.labels import GENDER_CODES
from privbench.encoders.interface import Batch, Encoder, LabelledSet, make_batch

INFERENCE_BATCH = 64  # rows per embed/predict call; results do not depend on it (padding invariance)


def labelled_set(table: pd.DataFrame, ids: Sequence[str], stores: Mapping[str, Any], streams: Sequence[str], task: str,
                 training_speakers: Sequence[str], seed: int, batch_size: int, bucket_batches: int = 16) -> LabelledSet:
    """The rows `ids` of `table` as a LabelledSet; speakers outside `training_speakers` get label -1."""
    rows = table.set_index("utterance_id").loc[list(ids)]
    speaker_index = {speaker: i for i, speaker in enumerate(sorted(training_speakers))}
    return LabelledSet(
        list(ids), {stream: stores[stream] for stream in streams},
        emotion=rows[f"{task}_class"].to_numpy(np.int64),
        gender=rows["gender"].map(GENDER_CODES).to_numpy(np.int64),
        speaker=np.array([speaker_index.get(s, -1) for s in rows["speaker"]], dtype=np.int64),
        n_speakers=len(speaker_index), seed=seed, batch_size=batch_size, bucket_batches=bucket_batches,
    )


def unlabelled_batches(ids: Sequence[str], stores: Mapping[str, Any], streams: Sequence[str],
                       batch_size: int = INFERENCE_BATCH) -> Iterator[Batch]:
    """Features only, in the order of `ids`, sorted by length within each call to save padding."""
    for start in range(0, len(ids), batch_size):
        chunk = ids[start:start + batch_size]
        yield make_batch({stream: [np.asarray(stores[stream][uid]) for uid in chunk] for stream in streams})


def _length_order(ids: Sequence[str], stores: Mapping[str, Any], stream: str) -> np.ndarray:
    store = stores[stream]
    lengths = [store.length(uid) if hasattr(store, "length") else len(store[uid]) for uid in ids]
    return np.argsort(lengths, kind="stable")


def collect(method, ids: Sequence[str], stores: Mapping[str, Any], streams: Sequence[str]) -> np.ndarray:
    """Run `method` (embed, predict_proba, a front end's represent) over length-sorted batches and
    return its rows in the order of `ids`."""
    if not len(ids):
        raise ValueError("no utterances to run the encoder on")
    order = _length_order(ids, stores, streams[0])
    sorted_ids = [ids[i] for i in order]
    outputs = np.concatenate([method(batch) for batch in unlabelled_batches(sorted_ids, stores, streams)])
    result = np.empty_like(outputs)
    result[order] = outputs
    return result


def embed_all(encoder: Encoder, ids: Sequence[str], stores: Mapping[str, Any], streams: Sequence[str]) -> np.ndarray:
    """h of every utterance in `ids`, [N, D] in that order."""
    return collect(encoder.embed, ids, stores, streams)


def predict_all(encoder: Encoder, ids: Sequence[str], stores: Mapping[str, Any], streams: Sequence[str]) -> np.ndarray:
    """Emotion probabilities of every utterance in `ids`, [N, classes] in that order."""
    return collect(encoder.predict_proba, ids, stores, streams)
