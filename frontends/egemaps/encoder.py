"""eGeMAPS v02 functionals (openSMILE) as a frozen privbench front end: 88 acoustic parameters per utterance.

The extended Geneva Minimalistic Acoustic Parameter Set (Eyben et al., 2016)
is a fixed, hand-designed set: F0, jitter, shimmer, loudness, formants,
spectral slopes, MFCCs 1-4 and rates of voiced segments, summarised over the
utterance by arithmetic means, coefficients of variation, percentiles and
slopes. It is computed by audEERING's openSMILE through its Python wrapper
(`opensmile.Smile`, `FeatureSet.eGeMAPSv02`, `FeatureLevel.Functionals`), in
the order of `Smile.feature_names`; nothing is learned. openSMILE needs 60 ms
(960 samples, its F0 window) to measure anything and fills shorter segments
with NaN, so shorter clips are zero-padded to 960 samples. Utterances run one
at a time, on the CPU (openSMILE has no GPU path; `spec.device` is ignored).
"""

from __future__ import annotations

import numpy as np

from privbench import Batch, FrozenEncoder, FrontEndSpec
from privbench.errors import SubmissionError

INSTALL = "pip install -e '.[egemaps]'"
SAMPLE_RATE = 16000
EMBEDDING_DIM = 88
MIN_SAMPLES = 960  # 60 ms: shorter segments come back as NaN


class EGeMAPS(FrozenEncoder):
    def __init__(self, spec: FrontEndSpec):
        super().__init__(spec)
        try:
            import opensmile
        except ImportError as error:
            raise SubmissionError(f"egemaps needs openSMILE's Python wrapper, opensmile 2.6.0 ({error.name} is missing): "
                                  f"{INSTALL}") from None
        self.smile = opensmile.Smile(feature_set=opensmile.FeatureSet.eGeMAPSv02,
                                     feature_level=opensmile.FeatureLevel.Functionals)
        if len(self.smile.feature_names) != EMBEDDING_DIM:
            raise SubmissionError(f"egemaps: opensmile gives {len(self.smile.feature_names)} eGeMAPS v02 functionals, "
                                  f"not {EMBEDDING_DIM} (another release?): {INSTALL}")

    def embed_one(self, samples: np.ndarray) -> np.ndarray:
        padded = np.pad(samples, (0, max(0, MIN_SAMPLES - len(samples))))
        return self.smile.process_signal(padded, SAMPLE_RATE).to_numpy()[0]

    def represent(self, batch: Batch) -> np.ndarray:
        rows = [self.embed_one(batch.waveform[i, :n]) for i, n in enumerate(batch.waveform_lengths)]
        return np.stack(rows).astype(np.float32, copy=False)
