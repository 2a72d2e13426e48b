"""privbench.encoders.anonymise.mcadams: the VoicePrivacy McAdams baseline (B2) on constructed signals."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import lfilter, welch

from privbench.encoders.anonymise import mcadams

FS = 16000
# The challenge's settings: 20 ms Hann window, 10 ms shift, LPC order 20.
SETTINGS = dict(lpc_order=20, window_ms=20.0, shift_ms=10.0)


def _resonator(frequency_hz: float, radius: float) -> np.ndarray:
    theta = 2 * np.pi * frequency_hz / FS
    return np.array([1.0, -2 * radius * np.cos(theta), radius * radius])


def _resonant_noise(frequency_hz: float, seconds: float = 2.0, seed: int = 0) -> np.ndarray:
    """Seeded white noise through one all-pole resonance r exp(+-i theta), r = 0.98."""
    noise = np.random.default_rng(seed).standard_normal(int(seconds * FS))
    x = lfilter([1.0], _resonator(frequency_hz, 0.98), noise)
    return 0.5 * x / np.abs(x).max()


def _vowel(f0_hz: float, seconds: float = 2.0) -> np.ndarray:
    """A pulse train at f0 through three formant resonators (700, 1200, 2600 Hz)."""
    pulses = np.zeros(int(seconds * FS))
    pulses[np.round(np.arange(0, pulses.size - 1, FS / f0_hz)).astype(int)] = 1.0
    denominator = np.array([1.0])
    for formant, bandwidth in [(700, 100), (1200, 120), (2600, 200)]:
        denominator = np.convolve(denominator, _resonator(formant, np.exp(-np.pi * bandwidth / FS)))
    x = lfilter([1.0], denominator, pulses)
    return 0.5 * x / np.abs(x).max()


def _peak_hz(x: np.ndarray) -> float:
    """Frequency of the Welch PSD maximum (512-point segments, 31.25 Hz bins),
    refined by a parabola through the log PSD at the peak bin and its neighbours."""
    freqs, psd = welch(x, FS, nperseg=512)
    i = int(np.argmax(psd))
    left, mid, right = np.log(psd[i - 1 : i + 2])
    offset = 0.5 * (left - right) / (left - 2 * mid + right)
    return float(freqs[i] + offset * (freqs[1] - freqs[0]))


def _snr_db(reference: np.ndarray, estimate: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(reference**2) / np.sum((reference - estimate) ** 2)))


def _window_ripple_db() -> float:
    """How far (dB) the reference's overlap-added window hann/K misses a constant gain of 1:
    np.hanning is symmetric, so its half-overlapped copies sum to 1 only within +-0.31%."""
    window, shift = 320, 160
    hann = np.hanning(window)
    gain = (hann / (hann.sum() / shift))[:shift] + (hann / (hann.sum() / shift))[shift:]
    return float(-20 * np.log10(np.abs(gain - 1).max()))


def _pitch_lag(x: np.ndarray) -> int:
    """Lag (samples) of the autocorrelation maximum between 60 and 400 Hz."""
    x = x - x.mean()
    spectrum = np.fft.rfft(x, 2 * x.size)
    acf = np.fft.irfft(spectrum * np.conj(spectrum))[: x.size]
    low, high = FS // 400, FS // 60
    return low + int(np.argmax(acf[low:high]))


# Tolerance for the warped resonance's peak: 40 Hz, i.e. 1.3 Welch bins. Over 12 noise
# seeds the interpolated peak of the output missed theta**alpha by at most 24 Hz (mean
# under 10 Hz; the same scatter shows for the unprocessed input, so it is the noise
# realisation, not the method). 40 Hz is well under half the smallest shift tested
# (1000 Hz -> 1098 Hz at alpha 0.9), so an unwarped or wrongly warped output fails.
PEAK_TOLERANCE_HZ = 40.0


@pytest.mark.parametrize(
    ("formant_hz", "alpha"),
    [(1000.0, 0.8), (1000.0, 0.9), (4000.0, 0.8)],
)
def test_resonance_moves_to_angle_power_alpha(formant_hz: float, alpha: float) -> None:
    x = _resonant_noise(formant_hz)
    theta = 2 * np.pi * formant_hz / FS
    expected_hz = theta**alpha * FS / (2 * np.pi)
    # 1000 Hz (0.39 rad < 1) moves up: 1206 Hz at 0.8, 1098 Hz at 0.9;
    # 4000 Hz (1.57 rad > 1) moves down: 3655 Hz at 0.8.
    assert (expected_hz > formant_hz) == (theta < 1.0)

    original_peak = _peak_hz(x)
    assert abs(original_peak - formant_hz) < PEAK_TOLERANCE_HZ

    y = mcadams(x, FS, alpha, **SETTINGS)
    peak = _peak_hz(y)
    assert abs(peak - expected_hz) < PEAK_TOLERANCE_HZ
    # Moved away from the original, in the predicted direction, by most of the shift.
    assert np.sign(peak - original_peak) == np.sign(expected_hz - formant_hz)
    assert abs(peak - original_peak) > 0.5 * abs(expected_hz - formant_hz)


@pytest.mark.parametrize("signal", ["noise", "vowel"])
def test_coefficient_one_is_identity_up_to_resynthesis_error(signal: str) -> None:
    x = _resonant_noise(1000.0) if signal == "noise" else _vowel(137.0)
    y = mcadams(x, FS, 1.0, **SETTINGS)
    assert np.corrcoef(x, y)[0, 1] > 0.999
    # Analysis then synthesis with the same A(z) is exact, so what is left is the
    # window's overlap-add ripple (50 dB down) plus rounding; allow 5 dB for the latter.
    assert _snr_db(x, y) > _window_ripple_db() - 5.0


@pytest.mark.parametrize("f0_hz", [137.0, 113.3])
@pytest.mark.parametrize("alpha", [0.7, 0.8, 0.9])
def test_pitch_is_kept(f0_hz: float, alpha: float) -> None:
    # f0 whose period does not divide the 10 ms shift, as in speech (with 200 Hz every
    # frame sees the same pulses and the output also repeats at the shift).
    x = _vowel(f0_hz)
    y = mcadams(x, FS, alpha, **SETTINGS)
    assert abs(_pitch_lag(x) - round(FS / f0_hz)) <= 1
    assert abs(_pitch_lag(y) - _pitch_lag(x)) <= 1
    # ... while the formants did change: the waveform is no longer the input's.
    assert np.corrcoef(x, y)[0, 1] < 0.9


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_deterministic_length_and_dtype(dtype: type) -> None:
    x = _vowel(137.0, seconds=1.0).astype(dtype)
    kept = x.copy()
    first = mcadams(x, FS, 0.8, **SETTINGS)
    second = mcadams(x, FS, 0.8, **SETTINGS)
    assert first.dtype == np.float32 and first.shape == x.shape
    assert first.tobytes() == second.tobytes()
    assert np.array_equal(x, kept)  # the input is not modified
    assert not np.array_equal(first, x.astype(np.float32))


def test_silence_stays_silent() -> None:
    zeros = mcadams(np.zeros(FS), FS, 0.8, **SETTINGS)
    assert zeros.dtype == np.float32 and zeros.shape == (FS,)
    assert np.all(zeros == 0.0)
    # Silence around a burst: all-zero frames pass through as zeros, so everything more
    # than one window (320 samples) away from the burst is exactly zero, no NaN.
    x = np.zeros(FS)
    x[6000:10000] = _resonant_noise(1000.0, seconds=0.25)
    y = mcadams(x, FS, 0.8, **SETTINGS)
    assert np.all(np.isfinite(y))
    assert np.all(y[: 6000 - 320] == 0.0) and np.all(y[10000 + 320 :] == 0.0)
    assert np.abs(y[6000:10000]).max() > 0.1


@pytest.mark.parametrize("length", [1, 10, 100, 319])
def test_input_shorter_than_a_window(length: int) -> None:
    x = _resonant_noise(1000.0, seconds=0.05)[100 : 100 + length]
    y = mcadams(x, FS, 0.8, **SETTINGS)
    assert y.dtype == np.float32 and y.shape == (length,)
    assert np.all(np.isfinite(y))
    if length >= 10:
        # Processed, not blanked: at coefficient 1 it gives the input back.
        identity = mcadams(x, FS, 1.0, **SETTINGS)
        assert np.corrcoef(x, identity)[0, 1] > 0.99


def test_empty_and_invalid_inputs() -> None:
    assert mcadams(np.zeros(0), FS, 0.8, **SETTINGS).shape == (0,)
    with pytest.raises(ValueError):
        mcadams(np.zeros((2, 100)), FS, 0.8, **SETTINGS)
    with pytest.raises(ValueError):
        mcadams(np.zeros(100, dtype=np.int16), FS, 0.8, **SETTINGS)
    with pytest.raises(ValueError):
        mcadams(np.zeros(100), FS, 0.8, lpc_order=400, window_ms=20.0, shift_ms=10.0)
    with pytest.raises(ValueError):
        mcadams(np.full(100, np.nan), FS, 0.8, **SETTINGS)
