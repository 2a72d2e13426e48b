"""Frozen front ends: encoders whose representation does not depend on the training data.

A pretrained speaker verifier, a self-supervised speech model used as is, a
fixed feature set (eGeMAPS) or the protocol's controls map an utterance to h
without learning from the corpus. privbench computes their h once per corpus
(not once per job: `privbench.run.represent`), stores it like any other
representation, and in every job trains the protocol's emotion head on it
(`privbench.encoders.emotion_head`). The attacks see h, exactly as for an
encoder that learns.

A submission is a frozen front end when its entry class subclasses
`FrozenEncoder` (instead of `Encoder`); everything else in submission.toml is
the same. `privbench check` holds `represent` to the promises of
`Encoder.embed`: float32 [B, D], finite, D fixed, row i depending only on
utterance i (not on padding or batch-mates), the same output for the same
input.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from privbench.encoders.interface import DEFAULT_INPUTS, Batch, batch_streams, modality_streams


@dataclass(frozen=True)
class FrontEndSpec:
    """What a frozen front end is built for; given to `FrozenEncoder.__init__`.

    - `modality`: "audio", "text" or "multimodal" (batches then carry both streams).
    - `inputs`: what the submission asked for (submission.toml's `inputs`): "waveform" gives
      `Batch.waveform`, the 16 kHz mono audio as recorded, which pretrained models expect.
    - `config`: submission.toml's `[config]` (plain TOML values).
    - `device`: "cpu" or "cuda" (already resolved from --device auto).
    """

    modality: str
    inputs: tuple[str, ...] = DEFAULT_INPUTS
    config: Mapping[str, Any] = field(default_factory=dict)
    device: str = "cpu"

    @property
    def streams(self) -> tuple[str, ...]:
        return modality_streams(self.modality)

    @property
    def batch_streams(self) -> tuple[str, ...]:
        """The Batch fields this front end gets: "audio" (filterbanks), "waveform", "text"."""
        return batch_streams(self.modality, self.inputs)


class FrozenEncoder(abc.ABC):
    """A front end that maps utterances to h without training on the corpus.

    privbench builds one per corpus and modality (`FrozenEncoder(spec)`), calls
    `represent` on unlabelled batches of every utterance once, in any batch sizes,
    and trains the protocol's emotion head on the result in each job. It never
    sees a label.
    """

    def __init__(self, spec: FrontEndSpec):
        self.spec = spec

    @abc.abstractmethod
    def represent(self, batch: Batch) -> np.ndarray:
        """The representation h: float32 [B, D], finite, D the same for every batch,
        row i depending only on utterance i (not on padding or batch-mates), deterministic."""
