"""control-noise: h carries nothing, so every attack must land at chance.

h is 64 numbers of seeded Gaussian noise per utterance. The generator's seed is
the sha256 of the utterance's own features (its real frames and words only, so
padding and batch-mates change nothing): a fixed function of the utterance,
like its id, that says nothing about the speaker, the words or the emotion.
The emotion model predicts the uniform distribution, so neither h nor the
model's loss tells members from non-members.

Expected (docs/protocol.md section 6): L, P, the paper's MI and MI-LR-AUC within
0.05 of 0.5 (means over rotations), ID-EER at least 0.45, ID-link at most 2/N.
"""

from __future__ import annotations

import hashlib

import numpy as np

from privbench import Batch, Encoder, EncoderSpec, FitReport, LabelledSet


class NoiseControl(Encoder):
    def __init__(self, spec: EncoderSpec):
        super().__init__(spec)
        self.dim = int(spec.config.get("dim", 64))

    def fit(self, train: LabelledSet, valid: LabelledSet) -> FitReport:
        return FitReport(epochs=0, best_epoch=0)  # nothing to learn

    def _seed(self, batch: Batch, row: int) -> int:
        digest = hashlib.sha256()
        for stream in batch.streams:
            length = int(getattr(batch, f"{stream}_lengths")[row])
            digest.update(stream.encode() + np.ascontiguousarray(getattr(batch, stream)[row, :length]).tobytes())
        return int.from_bytes(digest.digest()[:8], "little")

    def embed(self, batch: Batch) -> np.ndarray:
        return np.stack([np.random.default_rng(self._seed(batch, i)).standard_normal(self.dim)
                         for i in range(batch.size)]).astype(np.float32)

    def predict_proba(self, batch: Batch) -> np.ndarray:
        return np.full((batch.size, self.spec.n_classes), 1.0 / self.spec.n_classes)
