"""The protocol's emotion head on fixed representations: what trains on a frozen front end's h.

A frozen front end (privbench.encoders.frozen) or a frozen-representation
submission gives h; in every job the head learns emotion from h(D1) with the
protocol's recipe (`train_network`: weighted cross-entropy, the protocol's
optimiser, early stopping on validation, the best epoch kept) and gives the
posteriors of every utterance. Its shape is the paper network's emotion head
at the default configuration (`training.default_config`: dense layers and
width), on h z-scored with D1's statistics **[decided: a fixed feature set
such as eGeMAPS mixes hertz and decibels]**. h itself never changes: what
leaves the device is the front end's output.

`FrozenAsEncoder` presents a front end and this head as one `Encoder`, which is
how `privbench check` holds a front end to the interface's promises.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from privbench.encoders.blocks import DenseHead
from privbench.encoders.frozen import FrontEndSpec, FrozenEncoder
from privbench.encoders.interface import Batch, Encoder, EncoderSpec, FitReport, LabelledSet
from privbench.encoders.recipe import Head, train_network

SCALE_FLOOR = 1e-8  # a constant dimension of h is left unscaled


@dataclass(frozen=True)
class VectorBatch:
    """Fixed representations as a batch `batch_tensors` understands: one stream, "vectors"."""

    vectors: np.ndarray  # float32 [B, D]
    vectors_lengths: np.ndarray  # int64 [B], all 1
    streams: tuple[str, ...] = ("vectors",)

    @property
    def size(self) -> int:
        return len(self.vectors)


@dataclass(frozen=True)
class VectorLabelled:
    batch: VectorBatch
    emotion: np.ndarray
    gender: np.ndarray
    speaker: np.ndarray


class VectorSet:
    """Rows of h with emotion labels, batched as the recipe needs (shuffled per epoch with the seed)."""

    def __init__(self, h: np.ndarray, emotion: np.ndarray, seed: int, batch_size: int):
        self.h, self.emotion = np.ascontiguousarray(h, dtype=np.float32), np.asarray(emotion, np.int64)
        self.seed, self.batch_size, self._epoch = seed, batch_size, 0

    def __len__(self) -> int:
        return len(self.h)

    def labels(self, head: str) -> np.ndarray:
        return self.emotion if head == "emotion" else np.full(len(self.h), -1, np.int64)

    def batches(self, shuffle: bool = True) -> Iterator[VectorLabelled]:
        if shuffle:
            self._epoch += 1
            order = np.random.default_rng([self.seed, self._epoch]).permutation(len(self.h))
        else:
            order = np.arange(len(self.h))
        missing = np.full(len(self.h), -1, np.int64)
        for start in range(0, len(order), self.batch_size):
            rows = order[start:start + self.batch_size]
            batch = VectorBatch(self.h[rows], np.ones(len(rows), np.int64))
            yield VectorLabelled(batch, self.emotion[rows], missing[rows], missing[rows])


class EmotionHead:
    """The protocol's dense emotion head over z-scored h; `fit` once, then `predict_proba`."""

    def __init__(self, dim: int, spec: EncoderSpec):
        default = spec.training.default_config
        self.spec = spec
        torch.manual_seed(spec.seed)
        self.network = DenseHead(dim, default.dense_layers, default.dense_width, spec.n_classes)
        self.device = torch.device(spec.device)
        self.mean = np.zeros(dim, np.float32)
        self.scale = np.ones(dim, np.float32)

    def _scaled(self, h: np.ndarray) -> np.ndarray:
        return ((np.asarray(h, np.float32) - self.mean) / self.scale).astype(np.float32)

    def fit(self, h_train: np.ndarray, emotion_train: np.ndarray, h_valid: np.ndarray, emotion_valid: np.ndarray) -> FitReport:
        self.mean = h_train.mean(axis=0).astype(np.float32)
        scale = h_train.std(axis=0).astype(np.float32)
        self.scale = np.where(scale < SCALE_FLOOR, 1.0, scale).astype(np.float32)
        batch_size = self.spec.training.batch_size
        train = VectorSet(self._scaled(h_train), emotion_train, self.spec.seed, batch_size)
        valid = VectorSet(self._scaled(h_valid), emotion_valid, self.spec.seed, batch_size)
        torch.manual_seed(self.spec.seed)
        forward = lambda tensors: {"emotion": self.network(tensors["vectors"][0])}  # noqa: E731
        return train_network(self.network, {"emotion": Head("emotion", self.spec.n_classes)}, forward, train, valid, self.spec)

    @torch.inference_mode()
    def predict_proba(self, h: np.ndarray) -> np.ndarray:
        self.network.eval()
        logits = self.network(torch.from_numpy(self._scaled(h)).to(self.device))
        return torch.softmax(logits.double(), dim=1).cpu().numpy()


def front_end_spec(spec: EncoderSpec) -> FrontEndSpec:
    return FrontEndSpec(spec.modality, tuple(spec.inputs), dict(spec.config), spec.device)


class FrozenAsEncoder(Encoder):
    """A frozen front end and the emotion head as one Encoder: h = the front end's output."""

    front_end_class: type[FrozenEncoder]

    def __init__(self, spec: EncoderSpec):
        super().__init__(spec)
        self.front_end = self.front_end_class(front_end_spec(spec))
        self.head: EmotionHead | None = None

    def _represent(self, labelled: LabelledSet) -> tuple[np.ndarray, np.ndarray]:
        """(h [N, D], emotion [N]) of a labelled set, in one fixed pass."""
        rows = [(np.asarray(self.front_end.represent(item.batch), np.float32), item.emotion) for item in labelled.batches(shuffle=False)]
        return np.concatenate([h for h, _ in rows]), np.concatenate([e for _, e in rows])

    def fit(self, train: LabelledSet, valid: LabelledSet) -> FitReport:
        (h_train, emotion_train), (h_valid, emotion_valid) = self._represent(train), self._represent(valid)
        self.head = EmotionHead(h_train.shape[1], self.spec)
        return self.head.fit(h_train, emotion_train, h_valid, emotion_valid)

    def embed(self, batch: Batch) -> np.ndarray:
        return self.front_end.represent(batch)

    def predict_proba(self, batch: Batch) -> np.ndarray:
        return self.head.predict_proba(np.asarray(self.front_end.represent(batch), np.float32))


def as_encoder(front_end_class: type[FrozenEncoder]) -> type[Encoder]:
    """An Encoder class for a front end class (for `privbench check`)."""
    return type(f"{front_end_class.__name__}WithHead", (FrozenAsEncoder,), {"front_end_class": front_end_class})

