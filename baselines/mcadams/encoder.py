"""Baseline mcadams: anonymise the waveform, then learn emotion on it (no adversary).

Each utterance's 16 kHz waveform goes through the VoicePrivacy Challenge's
signal-processing anonymisation (privbench.mcadams, privbench/encoders/anonymise.py: LPC pole angles
raised to the McAdams coefficient, settings in protocol.toml's
[anonymisation.mcadams]); the protocol's 40 log mel filterbanks are computed
from the anonymised audio and z-normalised per utterance (on a device there are
no other utterances of the speaker to normalise with, which is where this
departs from the paper's per-speaker normalisation); the paper's general
network learns emotion on them. Against the adversarial baselines, it is
anonymise-then-learn against learn-to-forget, under the same attacks.

The anonymised filterbanks of an utterance are the same in every epoch and job,
so each worker process computes them once (a cache keyed by the waveform's
bytes and the settings).
"""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np

from privbench import Batch, EncoderSpec, FitReport, LabelledSet, PaperEncoder, make_batch, mcadams
from privbench.data.features import log_mel_filterbank
from privbench.protocol import get_protocol

COEFFICIENT_KEY = "mcadams_coefficient"
_FEATURES: dict[tuple, np.ndarray] = {}  # (waveform sha1, settings) -> normalised filterbanks [T, 40]
_CACHE_LIMIT = 50_000


class McAdamsGeneral(PaperEncoder):
    adversaries = ()

    def __init__(self, spec: EncoderSpec):
        protocol = get_protocol()
        config = dict(spec.config)
        self.settings = dataclasses.replace(protocol.anonymisation.mcadams,
                                            coefficient=float(config.pop(COEFFICIENT_KEY, protocol.anonymisation.mcadams.coefficient)))
        self.features = protocol.features.audio
        super().__init__(dataclasses.replace(spec, config=config))

    def _filterbanks(self, waveform: np.ndarray) -> np.ndarray:
        key = (hashlib.sha1(waveform.tobytes()).hexdigest(), self.settings, self.features)
        if key not in _FEATURES:
            if len(_FEATURES) >= _CACHE_LIMIT:
                _FEATURES.clear()
            s = self.settings
            anonymised = mcadams(waveform, self.features.sample_rate_hz, s.coefficient, s.lpc_order, s.window_ms, s.shift_ms)
            frame = int(self.features.sample_rate_hz * self.features.frame_length_ms / 1000)
            if len(anonymised) < frame:  # shorter than one frame: one frame of it, zero-padded
                anonymised = np.pad(anonymised, (0, frame - len(anonymised)))
            frames = log_mel_filterbank(anonymised, self.features.sample_rate_hz, self.features)  # [T, 40]
            std = frames.std(axis=0)
            _FEATURES[key] = ((frames - frames.mean(axis=0)) / (std + self.features.z_epsilon)).astype(np.float32)
        return _FEATURES[key]

    def _convert(self, batch: Batch) -> Batch:
        waveforms = [batch.waveform[i, :length] for i, length in enumerate(batch.waveform_lengths)]
        return make_batch({"audio": [self._filterbanks(np.ascontiguousarray(w)) for w in waveforms]})

    def fit(self, train: LabelledSet, valid: LabelledSet) -> FitReport:
        return super().fit(train.mapped(self._convert), valid.mapped(self._convert))

    def embed(self, batch: Batch) -> np.ndarray:
        return super().embed(self._convert(batch))

    def predict_proba(self, batch: Batch) -> np.ndarray:
        return super().predict_proba(self._convert(batch))
