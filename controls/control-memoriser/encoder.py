"""control-memoriser: h remembers who was in training, so a membership attack with power must see it.

fit memorises the training recordings' voices: the utterances' voice statistics
(privbench.voice_statistics, z-scored with the training set's statistics) are
projected on the directions that best tell the training speakers apart
(linear discriminant analysis with their speaker labels, which fit may read),
and every training recording's projection is kept; it also trains the
protocol's emotion head on the voice statistics. h = the z-scored voice
statistics (80) and the canary, repeated `canary_copies` times: minus the mean
distance, in that projection, to the `canary_neighbours` nearest training
recordings other than the utterance itself, divided by the square root of the
projection's dimension. An unseen utterance
of a speaker whose other recordings trained the model finds that speaker's
recordings close by; anyone else's finds strangers'.

Why recordings and not the speakers' centroids (the first canary): on ASED (65
speakers) the centroid canary was found at MI-LR-AUC 0.876, under the 0.9 the
control must reach; docs/protocol.md section 6 lists the forms compared
(scripts/memoriser_canaries.py) and says this one was chosen after seeing them.
Why not the utterance itself: counted, it would be one distance of 0 among the
K averaged (the whole canary, 0, for K = 1), a head start that says "this
utterance trained me" (utterance membership, which MI-LR does not ask about)
and that no unseen recording of the same speaker can have. Without it, a
training recording and an unseen recording of a training speaker get more
nearly the same kind of canary (the discriminant space is still fitted on the
training recordings, so they keep some head start).

Expected (docs/protocol.md section 6): MI-LR-AUC at least 0.9 at speaker level,
pooled over rotations; the paper's MI is reported beside it, whatever it shows.
"""

from __future__ import annotations

import numpy as np

from privbench import Batch, EmotionHead, Encoder, EncoderSpec, FitReport, LabelledSet, voice_statistics
from privbench.protocol import get_protocol
from privbench.measures import lda_projection

SCALE_FLOOR = 1e-8
SAME_RECORDING = 1e-4  # closer than this to a kept projection: that recording itself (nearest distances between recordings
#                        are several units: the canary, 0.7-0.9 in its medians, is a distance over sqrt(components))


def recordings_canary(projected: np.ndarray, memory: np.ndarray, neighbours: int, count_itself: bool = False) -> np.ndarray:
    """Minus the mean distance of each row of `projected` [B, C] to its `neighbours` nearest rows of `memory` [N, C],
    divided by sqrt(C): [B]. A row of `memory` within SAME_RECORDING is the utterance itself: skipped, or with
    `count_itself` (a form scripts/memoriser_canaries.py compares, not the control's) counted as a distance of 0."""
    squared = (projected ** 2).sum(axis=1)[:, None] + (memory ** 2).sum(axis=1)[None, :] - 2.0 * projected @ memory.T
    distance = np.sqrt(np.maximum(squared, 0.0))  # [B, N]
    distance[distance < SAME_RECORDING] = 0.0 if count_itself else np.inf
    return -np.sort(distance, axis=1)[:, :neighbours].mean(axis=1) / np.sqrt(projected.shape[1])


class MemoriserControl(Encoder):
    def __init__(self, spec: EncoderSpec):
        super().__init__(spec)
        self.settings = get_protocol().features.audio
        self.copies = int(spec.config.get("canary_copies", 16))
        self.neighbours = int(spec.config.get("canary_neighbours", 5))
        self.head: EmotionHead | None = None

    def _statistics(self, labelled: LabelledSet) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rows = [(voice_statistics(item.batch, self.settings), item.emotion, item.speaker) for item in labelled.batches(shuffle=False)]
        return tuple(np.concatenate([row[i] for row in rows]) for i in range(3))

    def fit(self, train: LabelledSet, valid: LabelledSet) -> FitReport:
        stats, emotion, speaker = self._statistics(train)
        self.mean = stats.mean(axis=0)
        scale = stats.std(axis=0)
        self.scale = np.where(scale < SCALE_FLOOR, 1.0, scale)
        z = self._z(stats)
        self.projection = lda_projection(z, speaker)  # [80, components]: the training speakers' discriminants
        self.memory = z @ self.projection  # [N train, components]: every training recording's voice
        valid_stats, valid_emotion, _ = self._statistics(valid)
        self.head = EmotionHead(stats.shape[1], self.spec)
        return self.head.fit(stats, emotion, valid_stats, valid_emotion)

    def _z(self, stats: np.ndarray) -> np.ndarray:
        return (stats - self.mean) / self.scale

    def embed(self, batch: Batch) -> np.ndarray:
        z = self._z(voice_statistics(batch, self.settings))
        canary = recordings_canary(z @ self.projection, self.memory, self.neighbours)[:, None]  # [B, 1]
        return np.concatenate([z, np.repeat(canary, self.copies, axis=1)], axis=1).astype(np.float32)

    def predict_proba(self, batch: Batch) -> np.ndarray:
        return self.head.predict_proba(voice_statistics(batch, self.settings))
