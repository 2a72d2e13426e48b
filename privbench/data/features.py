"""Section 2: the protocol's features, as a public API submitters can call.

- `log_mel_filterbank(waveform, sample_rate)`: 40 log mel filterbank energies
  per 10 ms frame, computed with kaldi-native-fbank (Kaldi's recipe, dither 0).
- `speaker_znorm(matrices, speakers)`: z-normalisation per speaker.
- `load_word_vectors(path)` and `word_matrix(tokens, vectors)`: word2vec lookup.

The settings come from `[features]` in benchmark/protocol.toml.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import soundfile
from scipy.signal import resample_poly

from privbench.errors import FeatureError, ProtocolError
from privbench.protocol import AudioFeatures, TextFeatures, get_protocol
from privbench.data.text import lookup_candidates

# Kaldi reads 16-bit PCM as integers; scaling [-1, 1] floats the same way keeps
# the energies equal to Kaldi's, so its log floor (FLT_EPSILON) means the same.
PCM16_SCALE = 32768.0


def _audio_settings(settings: AudioFeatures | None) -> AudioFeatures:
    return settings or get_protocol().features.audio


def to_mono_16k(waveform: np.ndarray, sample_rate: int, target_rate: int) -> np.ndarray:
    """Average the channels ([samples, channels] as soundfile gives them) and resample."""
    samples = np.asarray(waveform, dtype=np.float32)
    if samples.ndim == 2:
        samples = samples.mean(axis=1)
    if sample_rate != target_rate:
        divisor = math.gcd(int(sample_rate), int(target_rate))
        samples = resample_poly(samples, target_rate // divisor, sample_rate // divisor).astype(np.float32)
    return samples


def _fbank_options(settings: AudioFeatures):
    import kaldi_native_fbank as knf

    options = knf.FbankOptions()
    frame = options.frame_opts
    frame.samp_freq = float(settings.sample_rate_hz)
    frame.frame_length_ms = settings.frame_length_ms
    frame.frame_shift_ms = settings.frame_shift_ms
    frame.dither = settings.dither
    frame.window_type = settings.window
    frame.preemph_coeff = settings.preemphasis
    frame.remove_dc_offset = settings.remove_dc_offset
    frame.snip_edges = settings.snip_edges
    frame.round_to_power_of_two = settings.round_to_power_of_two
    options.mel_opts.num_bins = settings.num_mel_bins
    options.mel_opts.low_freq = settings.low_freq_hz
    options.mel_opts.high_freq = settings.high_freq_hz
    options.use_power = settings.use_power
    options.use_energy = False
    options.use_log_fbank = True
    return options


def frame_count(samples: int, settings: AudioFeatures | None = None) -> int:
    """How many frames `samples` samples at the protocol's rate give (snip_edges: whole frames only)."""
    settings = _audio_settings(settings)
    length = int(settings.sample_rate_hz * settings.frame_length_ms / 1000)
    shift = int(settings.sample_rate_hz * settings.frame_shift_ms / 1000)
    return 0 if samples < length else 1 + (samples - length) // shift


def log_mel_filterbank(waveform: np.ndarray, sample_rate: int, settings: AudioFeatures | None = None) -> np.ndarray:
    """The protocol's acoustic features of one utterance: float32 [frames, 40].

    `waveform`: samples in [-1, 1], shape [samples] or [samples, channels], at
    any `sample_rate`; it is averaged to mono and resampled to 16 kHz with
    scipy's `resample_poly`. Raises FeatureError when the audio is shorter than one frame.
    """
    import kaldi_native_fbank as knf

    settings = _audio_settings(settings)
    samples = to_mono_16k(waveform, sample_rate, settings.sample_rate_hz)
    if frame_count(len(samples), settings) == 0:
        raise FeatureError(f"audio of {len(samples)} samples is shorter than one {settings.frame_length_ms:g} ms frame")
    fbank = knf.OnlineFbank(_fbank_options(settings))
    fbank.accept_waveform(float(settings.sample_rate_hz), samples * PCM16_SCALE)
    fbank.input_finished()
    return np.stack([fbank.get_frame(i) for i in range(fbank.num_frames_ready)]).astype(np.float32, copy=False)


def read_audio(path: Path) -> tuple[np.ndarray, int]:
    """Samples in [-1, 1] and the sample rate, or a FeatureError that names the file."""
    try:
        waveform, sample_rate = soundfile.read(str(path), dtype="float32", always_2d=False)
    except (RuntimeError, soundfile.LibsndfileError, OSError) as error:
        raise FeatureError(f"cannot read audio file {path} ({error}): replace or remove it") from None
    if waveform.size == 0:
        raise FeatureError(f"audio file {path} is empty: replace or remove it")
    if not np.isfinite(waveform).all():
        raise FeatureError(f"audio file {path} holds NaN or infinite samples: replace or remove it")
    return waveform, sample_rate


def filterbank_of_file(path: Path, settings: AudioFeatures | None = None) -> np.ndarray:
    waveform, sample_rate = read_audio(path)
    try:
        return log_mel_filterbank(waveform, sample_rate, settings)
    except FeatureError as error:
        raise FeatureError(f"{path}: {error}") from None


def speaker_znorm(matrices: Sequence[np.ndarray], speakers: Sequence[str], epsilon: float | None = None) -> list[np.ndarray]:
    """Z-normalise each utterance's [frames, dims] matrix with its speaker's statistics.

    Mean and standard deviation are taken over every frame of the speaker (all
    utterances together), per dimension, as the protocol says.
    """
    if len(matrices) != len(speakers):
        raise ValueError("one speaker per matrix")
    epsilon = get_protocol().features.audio.z_epsilon if epsilon is None else epsilon
    by_speaker: dict[str, list[int]] = {}
    for index, speaker in enumerate(speakers):
        by_speaker.setdefault(speaker, []).append(index)
    normalised: list[np.ndarray] = [np.empty(0)] * len(matrices)
    for indices in by_speaker.values():
        frames = np.concatenate([matrices[i] for i in indices]).astype(np.float64)
        mean, std = frames.mean(axis=0), frames.std(axis=0)
        for i in indices:
            normalised[i] = ((matrices[i] - mean) / (std + epsilon)).astype(np.float32)
    return normalised


# protocol.toml's features.audio.normalisation -> the function that normalises a corpus' matrices.
NORMALISATIONS = {"speaker_z": speaker_znorm}


def normalise(matrices: Sequence[np.ndarray], speakers: Sequence[str], settings: AudioFeatures) -> list[np.ndarray]:
    """The protocol's normalisation of a corpus' filterbank matrices (per speaker z-scores)."""
    try:
        method = NORMALISATIONS[settings.normalisation]
    except KeyError:
        raise ProtocolError(f"protocol.toml: features.audio.normalisation = {settings.normalisation!r} is not one of "
                            f"{', '.join(NORMALISATIONS)}") from None
    return method(matrices, speakers, settings.z_epsilon)


# ---------------------------------------------------------------- word vectors

def load_word_vectors(path: Path, dim: int | None = None):
    """Word2vec vectors with gensim: binary (`.bin`, `.bin.gz`) or text format.

    Returns gensim KeyedVectors. A file in neither format, or with vectors of
    another dimension than the protocol's 300, raises FeatureError naming it.
    """
    from gensim.models import KeyedVectors

    dim = get_protocol().features.text.dim if dim is None else dim
    path = Path(path)
    if not path.is_file():
        raise FeatureError(f"word2vec file {path} does not exist")
    binary = path.name.endswith((".bin", ".bin.gz"))
    try:
        vectors = KeyedVectors.load_word2vec_format(str(path), binary=binary, unicode_errors="ignore")
    except Exception as error:  # gensim raises ValueError, EOFError, UnicodeError... for a bad file
        kind = "binary (.bin/.bin.gz)" if binary else "text"
        raise FeatureError(f"{path} is not a word2vec file in {kind} format ({type(error).__name__}: {error})") from None
    if vectors.vector_size != dim:
        raise FeatureError(f"{path} holds {vectors.vector_size}-d vectors; the protocol needs {dim}-d (GoogleNews word2vec)")
    return vectors


def lookup(token: str, vocabulary: Mapping[str, np.ndarray], settings: TextFeatures) -> np.ndarray | None:
    for candidate in lookup_candidates(token, settings):
        if candidate in vocabulary:
            return vocabulary[candidate]
    return None


# protocol.toml's features.text.empty_transcript -> the rows an utterance without any token gets
EMPTY_TRANSCRIPTS = {"one_unk": 1}


def word_matrix(tokens: Sequence[str], vocabulary: Mapping[str, np.ndarray], settings: TextFeatures | None = None) -> np.ndarray:
    """float32 [words, 300]; a word with no vector is the protocol's unknown token (`<unk>`), whose
    vector is all zeros (unless a vocabulary gives it one).

    An utterance with no token at all gets one unknown row (`empty_transcript = "one_unk"`), so
    every utterance has a word.
    """
    settings = settings or get_protocol().features.text
    if settings.empty_transcript not in EMPTY_TRANSCRIPTS:
        raise ProtocolError(f"protocol.toml: features.text.empty_transcript = {settings.empty_transcript!r} is not one of "
                            f"{', '.join(EMPTY_TRANSCRIPTS)}")
    unknown = vocabulary.get(settings.unknown_token)
    unknown = np.zeros(settings.dim, dtype=np.float32) if unknown is None else np.asarray(unknown, dtype=np.float32)
    rows = [lookup(token, vocabulary, settings) for token in tokens] or [None] * EMPTY_TRANSCRIPTS[settings.empty_transcript]
    return np.stack([unknown if row is None else np.asarray(row, dtype=np.float32) for row in rows])
