"""control-memoriser: h remembers who was in training, so a membership attack with power must see it.

fit learns the training speakers' voices: the utterances' voice statistics
(privbench.voice_statistics, z-scored with the training set's statistics) are
projected on the directions that best tell the training speakers apart
(linear discriminant analysis with their speaker labels, which fit may read),
where each training speaker has a centroid; it also trains the protocol's
emotion head on the voice statistics. h = the z-scored voice statistics (80)
and the canary, repeated `canary_copies` times: minus the distance, in that
projection, to the nearest training speaker's centroid (per dimension). An
utterance of a speaker whose other utterances trained the model lands near its
own centroid; anyone else's lands between strangers'.

Expected (docs/protocol.md section 6): MI-LR-AUC at least 0.9 at speaker level,
pooled over rotations; the paper's MI is reported beside it, whatever it shows.
"""

from __future__ import annotations

import numpy as np

from privbench import Batch, EmotionHead, Encoder, EncoderSpec, FitReport, LabelledSet, voice_statistics
from privbench.protocol import get_protocol
from privbench.measures import lda_projection

SCALE_FLOOR = 1e-8


class MemoriserControl(Encoder):
    def __init__(self, spec: EncoderSpec):
        super().__init__(spec)
        self.settings = get_protocol().features.audio
        self.copies = int(spec.config.get("canary_copies", 16))
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
        projected = z @ self.projection
        self.centroids = np.stack([projected[speaker == s].mean(axis=0) for s in np.unique(speaker)])
        valid_stats, valid_emotion, _ = self._statistics(valid)
        self.head = EmotionHead(stats.shape[1], self.spec)
        return self.head.fit(stats, emotion, valid_stats, valid_emotion)

    def _z(self, stats: np.ndarray) -> np.ndarray:
        return (stats - self.mean) / self.scale

    def embed(self, batch: Batch) -> np.ndarray:
        z = self._z(voice_statistics(batch, self.settings))
        projected = z @ self.projection  # [B, components]
        distance = np.sqrt(((projected[:, None, :] - self.centroids[None, :, :]) ** 2).sum(axis=2)).min(axis=1)  # [B]
        canary = -(distance / np.sqrt(self.projection.shape[1]))[:, None]  # [B, 1]
        return np.concatenate([z, np.repeat(canary, self.copies, axis=1)], axis=1).astype(np.float32)

    def predict_proba(self, batch: Batch) -> np.ndarray:
        return self.head.predict_proba(voice_statistics(batch, self.settings))
