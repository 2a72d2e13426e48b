"""How a prepared corpus' inputs look to a gender attacker: the realism figures of docs/protocol.md section 9.

For each corpus named on the command line (prepared with `privbench prepare`):

- pitch: each speaker's median F0 over voiced frames (autocorrelation pitch,
  40 ms frames, 60-400 Hz), summarised per gender, with how far the genders
  overlap (speakers of one gender inside the other's range);
- within-speaker pitch spread: the sd, in semitones, of a speaker's
  per-utterance median F0 (how much a voice moves between utterances);
- the gender probe on inputs: the protocol's MLP attacker (the leakage probe)
  on mean-pooled, speaker-z-normalised filterbanks, trained on D1, selected on
  validation, scored on test, for every rotation;
- the same probe for activation (emotion information the inputs carry);
- the share of silent frames (50 dB below the loudest), and duration and
  word count against activation: Spearman's rho with the
  activation rating (a corpus where activation shows in sentence length leaks
  it through length alone; in real speech aroused talk is faster, so a fixed
  text is shorter).

    python scripts/corpus_realism.py synthetic ravdess [--utterances-per-speaker 12] [--json out.json]

Nothing here trains an encoder; it reads the feature cache and the audio.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile
from scipy.signal import resample_poly
from scipy.stats import spearmanr

from privbench.scoring.attacks import attack_uar, Attack
from privbench.data.corpora.store import feature_store_folder, load_corpus
from privbench.data.feature_cache import open_store
from privbench.data.folds import rotation
from privbench.protocol import get_protocol

SAMPLE_RATE = 16000
F0_RANGE_HZ = (60.0, 400.0)
FRAME_S, HOP_S = 0.040, 0.010
VOICING_THRESHOLD = 0.5  # normalised autocorrelation peak of a voiced frame


def read_mono_16k(path: str) -> np.ndarray:
    audio, rate = soundfile.read(path, dtype="float32", always_2d=True)
    audio = audio.mean(axis=1)
    if rate != SAMPLE_RATE:
        divisor = np.gcd(rate, SAMPLE_RATE)
        audio = resample_poly(audio, SAMPLE_RATE // divisor, rate // divisor).astype(np.float32)
    return audio


def frame_pitch(audio: np.ndarray) -> np.ndarray:
    """F0 in Hz of each voiced frame (autocorrelation method); unvoiced frames are left out."""
    frame, hop = int(FRAME_S * SAMPLE_RATE), int(HOP_S * SAMPLE_RATE)
    if len(audio) < frame:
        return np.empty(0)
    count = 1 + (len(audio) - frame) // hop
    frames = np.lib.stride_tricks.sliding_window_view(audio, frame)[::hop][:count]
    frames = frames - frames.mean(axis=1, keepdims=True)
    energy = (frames ** 2).sum(axis=1)
    loud = energy > 0.05 * np.percentile(energy, 95)  # skip silence and breath
    spectrum = np.fft.rfft(frames * np.hanning(frame), n=2 * frame, axis=1)
    correlation = np.fft.irfft(np.abs(spectrum) ** 2, axis=1)[:, :frame]
    correlation /= np.maximum(correlation[:, :1], 1e-12)
    low, high = int(SAMPLE_RATE / F0_RANGE_HZ[1]), int(SAMPLE_RATE / F0_RANGE_HZ[0])
    lags = np.argmax(correlation[:, low:high], axis=1) + low
    peaks = correlation[np.arange(count), lags]
    voiced = loud & (peaks > VOICING_THRESHOLD)
    return SAMPLE_RATE / lags[voiced]


def silent_fraction(audio: np.ndarray) -> float:
    """Share of 25 ms frames more than 50 dB below the utterance's loudest frame (silence and pauses)."""
    frame = int(0.025 * SAMPLE_RATE)
    frames = audio[: len(audio) // frame * frame].reshape(-1, frame)
    energy = 10 * np.log10((frames.astype(np.float64) ** 2).mean(axis=1) + 1e-12)
    return float(np.mean(energy < energy.max() - 50.0))


def pitch_figures(table: pd.DataFrame, per_speaker: int) -> dict:
    """Per-speaker median F0 by gender, gender overlap, within-speaker spread (semitones)."""
    speaker_f0, spread, gender_of = {}, {}, {}
    for speaker, rows in table.groupby("speaker"):
        rows = rows.sort_values("utterance_id").iloc[:: max(1, len(rows) // per_speaker)]
        medians = [np.median(f0) for f0 in (frame_pitch(read_mono_16k(path)) for path in rows["audio_path"]) if len(f0) >= 5]
        if not medians:
            continue
        speaker_f0[speaker] = float(np.median(medians))
        spread[speaker] = float(np.std(12 * np.log2(np.asarray(medians) / np.median(medians)), ddof=1)) if len(medians) > 1 else 0.0
        gender_of[speaker] = rows["gender"].iloc[0]
    by_gender = {g: sorted(speaker_f0[s] for s in speaker_f0 if gender_of[s] == g) for g in ("F", "M")}
    female, male = by_gender["F"], by_gender["M"]
    return {
        "speaker_median_f0_hz": {g: {"min": round(min(v), 1), "median": round(float(np.median(v)), 1), "max": round(max(v), 1),
                                     "speakers": len(v)} for g, v in by_gender.items() if v},
        # speakers of one gender whose median F0 lies inside the other gender's range of speaker medians
        "overlapping_speakers": sum(f <= max(male) for f in female) + sum(m >= min(female) for m in male),
        "within_speaker_sd_semitones": round(float(np.median(list(spread.values()))), 2),
    }


def pooled_inputs(corpus, protocol) -> tuple[np.ndarray, list[str]]:
    store = open_store(feature_store_folder(corpus, "audio"))
    ids = list(corpus.table["utterance_id"])
    return np.stack([np.asarray(store[uid]).mean(axis=0) for uid in ids]).astype(np.float32), ids


def probe(corpus, protocol, pooled: np.ndarray, label: np.ndarray, classes: int) -> list[float]:
    """The protocol's leakage probe (MLP grid) on pooled inputs, one UAR per rotation."""
    folds = corpus.table["fold"].to_numpy()
    scores = []
    for index in range(protocol.folds.count):
        parts = rotation(index, protocol.folds)
        train = np.isin(folds, parts.training_folds)
        valid, test = folds == parts.validation_fold, folds == parts.test_fold
        attack = Attack(pooled[train], label[train], pooled[valid], label[valid], pooled[test], label[test])
        scores.append(round(attack_uar("mlp", attack, protocol.attacker, 0, classes), 4))
    return scores


def figures(name: str, per_speaker: int) -> dict:
    protocol = get_protocol()
    corpus = load_corpus(name, protocol)
    table = corpus.table
    pooled, _ = pooled_inputs(corpus, protocol)
    gender = (table["gender"] == "M").to_numpy(np.int64)
    activation = table["activation_class"].to_numpy(np.int64)
    gender_probe = probe(corpus, protocol, pooled, gender, 2)
    activation_probe = probe(corpus, protocol, pooled, activation, len(protocol.labels.classes))
    silence = [silent_fraction(read_mono_16k(path)) for path in table["audio_path"].iloc[:: max(1, len(table) // 240)]]
    rho, p = spearmanr(table["duration_s"], table["activation"])
    words = table["transcript"].fillna("").str.split().str.len()
    words_rho, words_p = spearmanr(words, table["activation"]) if words.nunique() > 1 else (float("nan"), float("nan"))
    return {
        "corpus": name, "utterances": len(table), "speakers": corpus.speakers,
        "pitch": pitch_figures(table, per_speaker),
        "gender_probe_on_pooled_inputs": {"mean": round(float(np.mean(gender_probe)), 3), "rotations": gender_probe},
        "activation_probe_on_pooled_inputs": {"mean": round(float(np.mean(activation_probe)), 3), "rotations": activation_probe},
        "duration_vs_activation_spearman": {"rho": round(float(rho), 3), "p": float(f"{p:.3g}")},
        "words_vs_activation_spearman": {"rho": round(float(words_rho), 3), "p": float(f"{words_p:.3g}")},
        "duration_s": {"mean": round(float(table["duration_s"].mean()), 2), "sd": round(float(table["duration_s"].std()), 2)},
        "silent_frame_fraction": {"mean": round(float(np.mean(silence)), 3), "sd": round(float(np.std(silence)), 3)},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpora", nargs="+")
    parser.add_argument("--utterances-per-speaker", type=int, default=12, help="utterances per speaker read for pitch")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    results = [figures(name, args.utterances_per_speaker) for name in args.corpora]
    text = json.dumps(results, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
