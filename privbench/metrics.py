"""PROTOCOL.md section 6's utility metrics, as pure functions of labels and predictions.

UAR (unweighted average recall) is the mean of per-class recall over the
classes present in the truth, so a class missing from a fold neither counts as
0 nor as 1: chance is 1/3 for emotion with three classes present, 1/2 for gender.
"""

from __future__ import annotations

import numpy as np


def uar(truth: np.ndarray, predicted: np.ndarray) -> float:
    """Mean recall over the classes present in `truth` (nan when `truth` is empty)."""
    truth = np.asarray(truth)
    predicted = np.asarray(predicted)
    if truth.shape != predicted.shape:
        raise ValueError(f"truth has shape {truth.shape}, predictions {predicted.shape}")
    classes = np.unique(truth)
    if len(classes) == 0:
        return float("nan")
    return float(np.mean([np.mean(predicted[truth == c] == c) for c in classes]))


def utility(truth: np.ndarray, predicted: np.ndarray, gender: np.ndarray, genders: tuple[str, ...] = ("F", "M")) -> dict[str, float]:
    """U, U(M), U(F) and the gap U(F) - U(M); `gender` holds 0 for genders[0] (F) and 1 for genders[1] (M)."""
    gender = np.asarray(gender)
    female = gender == genders.index("F")
    male = gender == genders.index("M")
    scores = {"uar": uar(truth, predicted),
              "uar_male": uar(np.asarray(truth)[male], np.asarray(predicted)[male]),
              "uar_female": uar(np.asarray(truth)[female], np.asarray(predicted)[female])}
    scores["gap"] = scores["uar_female"] - scores["uar_male"]
    return scores
