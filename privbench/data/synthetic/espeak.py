"""eSpeak NG driven through ctypes, from the library the `espeakng-loader` wheel ships.

No system package and no network: the shared library and its voice data both
come from the wheel. eSpeak NG keeps global state, so one process holds one
engine; `Speaker.say` sets every voice parameter before each utterance so the
order of calls never changes the audio.
"""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from privbench.errors import PrivbenchError

# Values from espeak-ng's speak_lib.h; they are ABI, not protocol settings.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_CHARS_UTF8 = 1
_POS_CHARACTER = 1
_PARAM = {"rate": 1, "volume": 2, "pitch": 3, "range": 4, "wordgap": 7}

_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


@dataclass(frozen=True)
class VoiceSettings:
    """Everything that shapes one utterance's sound in eSpeak NG."""

    variant: str  # a file name under espeak-ng-data/voices/!v, e.g. "f3"
    rate_wpm: int  # 80..450
    pitch: int  # 0..100, base pitch relative to the variant
    pitch_range: int  # 0..100
    volume: int  # 0..200
    language: str = "en-us"


class _Engine:
    """The one eSpeak NG engine of this process."""

    def __init__(self) -> None:
        try:
            import espeakng_loader
        except ImportError as error:  # pragma: no cover - a broken install
            raise PrivbenchError("the espeakng-loader package is missing: run pip install -e . in the privbench clone") from error
        self._lib = ctypes.CDLL(espeakng_loader.get_library_path())
        data_path = Path(espeakng_loader.get_data_path())
        self._lib.espeak_Initialize.restype = ctypes.c_int
        self._lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        # espeak-ng looks for "espeak-ng-data" inside the folder it is given.
        self.sample_rate = self._lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, str(data_path.parent).encode(), 0)
        if self.sample_rate <= 0:
            raise PrivbenchError(f"eSpeak NG failed to start with its data at {data_path}: reinstall espeakng-loader")
        self._chunks: list[np.ndarray] = []
        self._callback = _CALLBACK(self._collect)  # kept referenced: the C side holds a pointer to it
        self._lib.espeak_SetSynthCallback(self._callback)
        self._lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        # eSpeak NG seeds its noise generator (breathy variants) from the clock at start-up.
        self._lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
        self._lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        self._lib.espeak_Synth.argtypes = [
            ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
            ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
        ]
        self._lock = threading.Lock()

    def _collect(self, wav, num_samples, events) -> int:
        if num_samples > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(num_samples,)).copy())
        return 0  # 0 = keep synthesising

    def say(self, text: str, voice: VoiceSettings, noise_seed: int = 0) -> np.ndarray:
        with self._lock:
            self._lib.espeak_ng_SetRandSeed(noise_seed)
            name = f"{voice.language}+{voice.variant}".encode()
            if self._lib.espeak_SetVoiceByName(name) != 0:
                raise PrivbenchError(f"eSpeak NG has no voice {name.decode()!r}: check the variant name")
            for key, value in (("rate", voice.rate_wpm), ("pitch", voice.pitch), ("range", voice.pitch_range),
                               ("volume", voice.volume), ("wordgap", 0)):
                self._lib.espeak_SetParameter(_PARAM[key], int(value), 0)
            self._chunks = []
            encoded = text.encode("utf-8") + b"\0"
            status = self._lib.espeak_Synth(encoded, len(encoded), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
            if status != 0:
                raise PrivbenchError(f"eSpeak NG could not synthesise {text!r} (status {status})")
            self._lib.espeak_Synchronize()
            chunks, self._chunks = self._chunks, []
        if not chunks:
            return np.zeros(0, dtype=np.int16)
        return np.concatenate(chunks)  # int16 at self.sample_rate


_engine: _Engine | None = None


def engine() -> _Engine:
    """The process' eSpeak NG engine, started on first use."""
    global _engine
    if _engine is None:
        _engine = _Engine()
    return _engine


def synthesise(text: str, voice: VoiceSettings, noise_seed: int = 0) -> tuple[np.ndarray, int]:
    """Speak `text` with `voice`; returns (int16 samples, sample rate).

    `noise_seed` seeds the engine's noise source, which breathy variants use.
    The audio still depends on what this process synthesised before (see
    privbench.data.synthetic.generate), so callers fix the order of utterances.
    """
    speaker = engine()
    return speaker.say(text, voice, noise_seed), speaker.sample_rate
