"""Voice statistics: what an utterance's spectrum says about its speaker before anything removes it.

The utterance mean and standard deviation of the protocol's 40 log mel
filterbank energies, computed from the waveform **without** speaker
normalisation: 80 numbers that carry the speaker's vocal tract and recording
channel. The protocol's `control-voice` is exactly this h, and
`control-memoriser` builds its canary from it (docs/protocol.md section 6).
"""

from __future__ import annotations

import numpy as np

from privbench.data.features import log_mel_filterbank
from privbench.encoders.interface import Batch
from privbench.protocol import AudioFeatures


def voice_statistics(batch: Batch, settings: AudioFeatures) -> np.ndarray:
    """float32 [B, 2 x mel bins]: per utterance, the mean and sd over its frames of the un-normalised
    log mel filterbanks of `batch.waveform` (an utterance shorter than one frame is zero-padded to one)."""
    frame = int(settings.sample_rate_hz * settings.frame_length_ms / 1000)
    rows = []
    for i, length in enumerate(batch.waveform_lengths):
        samples = np.ascontiguousarray(batch.waveform[i, :length], dtype=np.float32)
        if len(samples) < frame:
            samples = np.pad(samples, (0, frame - len(samples)))
        frames = log_mel_filterbank(samples, settings.sample_rate_hz, settings)  # [T, 40]
        rows.append(np.concatenate([frames.mean(axis=0), frames.std(axis=0)]))
    return np.stack(rows).astype(np.float32)
