"""Resemblyzer's GE2E voice encoder as a frozen privbench front end: a 256-d speaker embedding per utterance.

The model is the pretrained 3-layer LSTM speaker encoder (Wan et al.'s
generalised end-to-end loss) that the resemblyzer wheel ships as
`pretrained.pt`, run through resemblyzer's own API, as its README does:
`preprocess_wav` (gain raised to -30 dBFS when quieter, silences longer than
about 0.2 s cut out with WebRTC's voice activity detector) then
`VoiceEncoder.embed_utterance` (40 mel bands, 1.6 s windows at 1.3 per second,
the L2-normalised mean of their embeddings). Utterances run one at a time.

Two guards, so every utterance gets a finite vector: a silent clip skips the
gain (its level is minus infinity), and when the voice activity detector keeps
nothing (clips under 30 ms, or no speech-like frame) the untrimmed clip is
embedded instead. A clip shorter than a window is zero-padded to one by
resemblyzer itself.
"""

from __future__ import annotations

import warnings

import numpy as np

from privbench import Batch, FrozenEncoder, FrontEndSpec
from privbench.errors import SubmissionError

INSTALL = "pip install -e '.[ge2e]'"
EMBEDDING_DIM = 256  # model_embedding_size in resemblyzer.hparams


def import_resemblyzer():
    """resemblyzer, imported without its deprecation warnings (pkg_resources, scipy.ndimage.morphology)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", UserWarning)
            import resemblyzer
    except ImportError as error:
        if error.name == "pkg_resources":
            raise SubmissionError(f"ge2e: resemblyzer's webrtcvad imports pkg_resources, which setuptools 81 removed: {INSTALL}") from None
        raise SubmissionError(f"ge2e needs resemblyzer 0.1.4 ({error}): {INSTALL}") from None
    return resemblyzer


class GE2E(FrozenEncoder):
    def __init__(self, spec: FrontEndSpec):
        super().__init__(spec)
        self.resemblyzer = import_resemblyzer()
        self.model = self.resemblyzer.VoiceEncoder(device=spec.device, verbose=False)

    def preprocess(self, samples: np.ndarray) -> np.ndarray:
        """resemblyzer's preprocess_wav (no resampling: privbench's waveforms are 16 kHz), with the two guards."""
        if not np.any(samples):
            return samples
        audio = self.resemblyzer.audio
        louder = audio.normalize_volume(samples, audio.audio_norm_target_dBFS, increase_only=True)
        trimmed = audio.trim_long_silences(louder)
        return trimmed if len(trimmed) else louder

    def represent(self, batch: Batch) -> np.ndarray:
        rows = [self.model.embed_utterance(self.preprocess(batch.waveform[i, :n])) for i, n in enumerate(batch.waveform_lengths)]
        return np.stack(rows).astype(np.float32, copy=False)
