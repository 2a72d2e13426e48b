"""Signal-processing speaker anonymisation: the VoicePrivacy Challenge's McAdams baseline (B2).

`mcadams(waveform, sample_rate_hz, coefficient, lpc_order, window_ms, shift_ms)`
returns an anonymised copy of a mono waveform (float32, same length, same scale).

Method
------
Baseline B2 of the VoicePrivacy Challenge 2020 and 2022 (Tomashenko et al., "The
VoicePrivacy 2020 Challenge Evaluation Plan", 2020), published as Patino, Tomashenko,
Todisco, Nautsch and Evans, "Speaker anonymisation using the McAdams coefficient",
Interspeech 2021 (arXiv:2011.01130). The challenge used 20 ms Hann windows with a
10 ms shift, LPC order 20 and McAdams coefficient alpha = 0.8.

The signal is cut into overlapping frames, each weighted by the analysis window
sqrt(hann / K), K = sum(hann) / shift. Per frame, linear prediction gives the
all-pole vocal-tract model 1/A(z); the residual e = A(z) x carries the excitation
(voicing, pitch, noise). Each complex pole pair r exp(+-i phi), phi in (0, pi)
radians, is moved to r exp(+-i phi**alpha): the radius (formant bandwidth) is kept,
real poles are left alone. The frame is resynthesised as e filtered by 1/A_new(z),
weighted again by the same window, and overlap-added; since the two windows
multiply to hann / K, whose shifted copies sum to about 1, the output keeps the
input's scale (exactly the input, up to rounding and the window ripple below, when
alpha = 1).

Effect: phi -> phi**alpha with alpha < 1 raises every pole angle below 1 rad
(fs / (2 pi), 2546 Hz at 16 kHz) and lowers every one above it, so low formants move
up, high formants move down and the spectral envelope is compressed towards that
point (alpha > 1 does the opposite). A 1 kHz formant at 16 kHz (0.393 rad) moves to
about 1.20 kHz with alpha = 0.8. The pitch lives in the residual, which is not
touched, so the fundamental frequency and the timing are kept: the warp changes
the speaker's timbre (vocal-tract cues), not the prosody.

Reference implementation
------------------------
Followed: `baseline/local/anon/anonymise_dir_mcadams.py`, function `anonym`, in
github.com/Voice-Privacy-Challenge/Voice-Privacy-Challenge-2022 (read at commit
1b2724ec54d112ef7557955f45e628b474b13574; the 2020 repository's copy of this file
was not available to read, the 2022 one is B2 as rerun in 2022), and its
vectorised rewrite `anonym_v2` in
`anonymization/modules/mcadams/anonymise_dir_mcadams_rand_seed.py` of
Voice-Privacy-Challenge-2024 (commit 1b23f7a19cfa6b7e52c428c84035b8c0e41bf5b9).
As there: window length floor(window_ms * fs / 1000) and shift floor(shift_ms * fs /
1000); symmetric Hann window `np.hanning`; K = sum(hann) / shift; analysis window
sqrt(hann / K) applied before LPC and residual, the same window applied again after
resynthesis; residual = lfilter(a, 1, frame), resynthesis = lfilter(1, a_new,
residual), both from zero state within the frame; a positive angle phi becomes
phi**alpha, the conjugate gets -(phi**alpha) (sign-based pairing as in `anonym_v2`,
which does not rely on the conjugate being the next root as `anonym` does); new
angles clipped to [0, pi] as in `anonym` (only alpha > 1 can reach pi); a_new =
real(poly(new_poles)). The reference adds no dither and no randomness for a given
coefficient (the 2022/2024 "rand_seed" scripts only draw alpha per speaker or
utterance, which a caller does outside this function), so there is no seed argument.

Deviations, and why:

- LPC by the autocorrelation method (batched Levinson-Durbin on the windowed frame's
  autocorrelation), not librosa's Burg method: librosa is not a dependency here, and
  the autocorrelation method guarantees a minimum-phase A(z), so the warped 1/A_new
  (same radii) is stable. Burg and autocorrelation estimates differ slightly on
  short frames; the warping itself is unchanged.
- Numerical guards instead of the reference's `+ eps` (float32 eps added to the
  whole signal and again to each frame): the autocorrelation is normalised by its
  lag-0 value and lag 0 is raised by a factor 1 + 1e-9 (a -90 dB white-noise floor),
  which keeps ill-conditioned frames (a pure tone, a DC offset) positive definite;
  Levinson stops early for a frame if a reflection coefficient would reach
  |k| >= 1 in floating point or is not finite. A silent frame (lag-0
  autocorrelation 0, e.g. all zeros) has no LPC: it gets A(z) = 1, i.e. passes
  through unchanged (zeros stay zeros, no NaN). The reference's eps offset would
  turn digital silence into a tiny non-zero output.
- Edges: the reference processes only complete frames of the unpadded signal
  (`anonym` even skips the first one), so the first 10 ms fade in, the last
  samples after the last complete frame come out as zeros, and an input shorter
  than one window gives all zeros (NaN after its peak normalisation). Here the
  signal is zero-padded by window - shift samples at the start and enough at the
  end that every input sample gets the full overlap-add gain, and the output is
  cut back to the input's length; short inputs are processed like any other.
- Scale: the reference divides the result by its peak (to 1.0, or to int16 full
  scale in 2024) when writing the file. That is a per-utterance gain, not part of
  the anonymisation, and it would hide the input's level, so it is left out: the
  output has the input's scale (overlap-add gain 1), and it is not clipped, so warped
  speech can exceed [-1, 1] slightly. Peak-normalise afterwards to reproduce the
  challenge's files.
- Window ripple: kept from the reference. `np.hanning(N)` is symmetric (period N - 1),
  so its copies shifted by N / 2 sum to 1 only within +-0.31% (320-sample window,
  160 shift), a gain ripple 50 dB down; at alpha = 1 the output matches the input
  at about 55 dB SNR (measured on noise and on a pulse train), not at rounding level.

Limits of the method (the reference's too): only what the LPC does not model stays
in the residual. Speech's pitch does (a 20th-order envelope cannot resolve the
harmonics of a 20 ms frame), but a lone sinusoid is modelled by a pole pair itself,
so a pure tone's frequency is warped too (220 Hz -> about 320 Hz at alpha 0.8).
With a pitch period dividing the shift exactly (200 Hz at 10 ms), every frame sees
the same pulse pattern and the output also repeats at the frame shift.

Speed (measured on a shared 2-core CPU machine, 20 ms / 10 ms, order 20, 16 kHz,
1.5 s and 5 s inputs): 0.010-0.019 s of compute per second of audio depending on
the other load, i.e. at most about 1.5 min for a 1,500-utterance corpus of 3 s
utterances. Three quarters of it is pole finding, one batched eigenvalue call on
the companion matrices np.roots would build (the roots np.roots returns); LPC,
warping and the polynomial rebuild are batched across frames, the two lfilter
calls per frame are not.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.signal import lfilter

# Lag-0 autocorrelation is multiplied by this (a -90 dB white-noise floor): keeps the
# Toeplitz system positive definite for near-singular frames (a pure tone, a DC offset).
_WHITE_NOISE_CORRECTION = 1.0 + 1e-9


def _frame_lengths(sample_rate_hz: int, window_ms: float, shift_ms: float) -> tuple[int, int]:
    # As the reference: np.floor(ms * 0.001 * fs).
    window = int(math.floor(window_ms * 0.001 * sample_rate_hz))
    shift = int(math.floor(shift_ms * 0.001 * sample_rate_hz))
    return window, shift


def _lpc_autocorrelation(frames: np.ndarray, order: int) -> np.ndarray:
    """A(z) coefficients [1, a_1, ..., a_p] per frame (rows), autocorrelation method.

    Batched Levinson-Durbin. Silent frames (lag-0 autocorrelation 0) get [1, 0, ..., 0].
    """
    n_frames, length = frames.shape
    r = np.empty((n_frames, order + 1))
    for lag in range(order + 1):
        r[:, lag] = np.einsum("ij,ij->i", frames[:, : length - lag], frames[:, lag:])
    r0 = r[:, 0]
    silent = ~(r0 > 0.0)
    r = r / np.where(silent, 1.0, r0)[:, None]
    r[silent] = 0.0
    r[:, 0] = _WHITE_NOISE_CORRECTION

    a = np.zeros((n_frames, order + 1))
    a[:, 0] = 1.0
    error = r[:, 0].copy()
    active = ~silent
    for i in range(1, order + 1):
        acc = r[:, i] + np.einsum("ij,ij->i", a[:, 1:i], r[:, i - 1 : 0 : -1])
        with np.errstate(divide="ignore", invalid="ignore"):
            k = -acc / error
        active &= np.isfinite(k) & (np.abs(k) < 1.0)
        k = np.where(active, k, 0.0)
        a[:, 1:i] = a[:, 1:i] + k[:, None] * a[:, i - 1 : 0 : -1]
        a[:, i] = k
        error = error * (1.0 - k * k)
    return a


def _roots(a: np.ndarray) -> np.ndarray:
    """Roots of each monic polynomial row [1, a_1, ..., a_p]: eigenvalues of the
    companion matrices np.roots would build, in one batched call."""
    n_frames, n_coef = a.shape
    order = n_coef - 1
    companion = np.zeros((n_frames, order, order))
    companion[:, 0, :] = -a[:, 1:]
    if order > 1:
        companion[:, np.arange(1, order), np.arange(order - 1)] = 1.0
    return np.linalg.eigvals(companion)


def _poly(roots: np.ndarray) -> np.ndarray:
    """real(np.poly(row)) for each row of roots."""
    n_frames, order = roots.shape
    c = np.zeros((n_frames, order + 1), dtype=np.complex128)
    c[:, 0] = 1.0
    for k in range(order):
        c[:, 1 : k + 2] = c[:, 1 : k + 2] - roots[:, k : k + 1] * c[:, : k + 1]
    return c.real.copy()


def _warp_poles(poles: np.ndarray, coefficient: float) -> np.ndarray:
    """phi -> phi**alpha for complex poles (sign-symmetric), radius kept, real poles kept."""
    angles = np.angle(poles)
    complex_ = poles.imag != 0.0
    positive = complex_ & (angles > 0.0)
    negative = complex_ & (angles < 0.0)
    new_angles = angles.copy()
    new_angles[positive] = angles[positive] ** coefficient
    new_angles[negative] = -((-angles[negative]) ** coefficient)
    # As the reference: keep the new angles within [0, pi] (mirrored for conjugates).
    new_angles = np.clip(new_angles, -np.pi, np.pi)
    warped = np.abs(poles) * np.exp(1j * new_angles)
    return np.where(complex_, warped, poles)


def mcadams(
    waveform: np.ndarray,
    sample_rate_hz: int,
    coefficient: float,
    lpc_order: int,
    window_ms: float,
    shift_ms: float,
) -> np.ndarray:
    """Anonymise a mono waveform with the McAdams coefficient (VoicePrivacy baseline B2).

    Each frame's LPC pole angles phi (radians, in (0, pi)) become phi**coefficient,
    radii kept; the LPC residual (pitch, excitation) is kept. The challenge used
    coefficient 0.8, lpc_order 20, window_ms 20, shift_ms 10. See the module
    docstring for the method, the reference implementation and the deviations.

    Args:
        waveform: mono samples, float (values roughly in [-1, 1]), shape (n,).
        sample_rate_hz: sampling rate in Hz.
        coefficient: McAdams coefficient alpha > 0 (1.0: identity up to
            resynthesis error; < 1 moves formants below fs/(2 pi) up).
        lpc_order: LPC order (number of poles), smaller than the window in samples.
        window_ms: Hann window length in milliseconds.
        shift_ms: frame shift in milliseconds, at most the window length.

    Returns:
        float32 array of the input's length and scale (not peak-normalised, not
        clipped). Deterministic: the same input gives bit-identical output.
    """
    samples = np.asarray(waveform)
    if samples.ndim != 1:
        raise ValueError(f"mcadams expects a mono 1-D waveform, got shape {samples.shape}")
    if not np.issubdtype(samples.dtype, np.floating):
        raise ValueError(f"mcadams expects a float waveform, got dtype {samples.dtype}")
    if sample_rate_hz <= 0:
        raise ValueError(f"sample_rate_hz must be positive, got {sample_rate_hz}")
    if not (math.isfinite(coefficient) and coefficient > 0.0):
        raise ValueError(f"coefficient must be a positive number, got {coefficient}")
    window, shift = _frame_lengths(sample_rate_hz, window_ms, shift_ms)
    if shift < 1 or window < shift:
        raise ValueError(
            f"need 1 <= shift <= window in samples, got window {window}, shift {shift} "
            f"({window_ms} ms, {shift_ms} ms at {sample_rate_hz} Hz)"
        )
    if not 1 <= lpc_order < window:
        raise ValueError(f"lpc_order must be in [1, {window - 1}], got {lpc_order}")
    n = samples.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.float32)
    x = samples.astype(np.float64)
    if not np.all(np.isfinite(x)):
        raise ValueError("mcadams: the waveform contains NaN or infinite samples")

    # Analysis/synthesis window as the reference: sqrt(hann / K), K = sum(hann) / shift.
    hann = np.hanning(window)
    win = np.sqrt(hann / (hann.sum() / shift))

    # Zero-pad so every input sample sees the full overlap-add gain (deviation: edges).
    pad_left = window - shift
    n_frames = 1 + max(0, math.ceil((pad_left + n + (window - shift) - window) / shift))
    padded = np.zeros(window + (n_frames - 1) * shift)
    padded[pad_left : pad_left + n] = x
    frames = np.lib.stride_tricks.sliding_window_view(padded, window)[::shift] * win

    a = _lpc_autocorrelation(frames, lpc_order)
    a_new = _poly(_warp_poles(_roots(a), coefficient))
    one = np.ones(1)

    out = np.zeros_like(padded)
    for m in range(n_frames):
        residual = lfilter(a[m], one, frames[m])
        resynthesised = lfilter(one, a_new[m], residual)
        out[m * shift : m * shift + window] += resynthesised * win
    return out[pad_left : pad_left + n].astype(np.float32)
