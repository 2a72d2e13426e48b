"""control-voice: h is the voice itself, so gender and identity attacks must see it.

h = the utterance mean and standard deviation of the protocol's 40 log mel
filterbanks, from the 16 kHz waveform, not speaker-normalised
(privbench.voice_statistics). It does not depend on any training data, so it is
a frozen front end: privbench computes it once per corpus and trains the
protocol's emotion head on it.

Expected (docs/protocol.md section 6), on real speech with 24 or more speakers:
informed ID-EER at most 0.25 and L at least 0.75 (means over rotations).
"""

from __future__ import annotations

import numpy as np

from privbench import Batch, FrontEndSpec, FrozenEncoder, voice_statistics
from privbench.protocol import get_protocol


class VoiceControl(FrozenEncoder):
    def __init__(self, spec: FrontEndSpec):
        super().__init__(spec)
        self.settings = get_protocol().features.audio

    def represent(self, batch: Batch) -> np.ndarray:
        return voice_statistics(batch, self.settings)
