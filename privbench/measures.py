"""The measures training and scoring share: UAR, utility, class weights, the chance distance.

They sit below both stages (docs/protocol.md sections 5 and 6): the training
recipe keeps an epoch by its validation UAR and weighs its loss by class
frequency, and the attackers are scored and weighted the same way, so the two
can never drift apart.

UAR (unweighted average recall) is the mean of per-class recall over the
classes present in the truth, so a class missing from a fold neither counts as
0 nor as 1: chance is 1/3 for emotion with three classes present, 1/2 for gender.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg

from privbench.errors import ProtocolError


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


def inverse_frequency_weights(labels: np.ndarray, classes: int) -> np.ndarray:
    """Inverse class frequency, mean 1 over the classes present; absent classes (and label -1) weigh 0."""
    labels = np.asarray(labels)
    counts = np.bincount(labels[labels >= 0], minlength=classes).astype(np.float64)
    weights = np.zeros(classes)
    present = counts > 0
    weights[present] = 1.0 / counts[present]
    weights[present] /= weights[present].mean()
    return weights


def uniform_weights(labels: np.ndarray, classes: int) -> np.ndarray:
    """Every class weighs 1 (an unweighted cross-entropy)."""
    return np.ones(classes)


# protocol.toml's names for class weightings: training.class_weights and attacker.loss.
CLASS_WEIGHTINGS = {"inverse_frequency_mean_one": inverse_frequency_weights, "balanced_cross_entropy": inverse_frequency_weights,
                    "cross_entropy": uniform_weights}


def class_weighting(name: str, where: str):
    """The class weighting a protocol key names; an unknown name is one line naming the key."""
    try:
        return CLASS_WEIGHTINGS[name]
    except KeyError:
        raise ProtocolError(f"protocol.toml: {where} = {name!r} is not one of {', '.join(CLASS_WEIGHTINGS)}") from None


# UARs are ratios of small counts, and their distance from 0.5 picks up float noise
# (|0.55 - 0.5| is 0.05000000000000004, |0.45 - 0.5| is 0.04999999999999999), which
# would refuse a head at 0.55 while accepting one at 0.45. Rounding to this many
# decimals makes both sides of 0.5 equal; no UAR of a real validation set differs
# from another by less. The same rounding applies wherever a measured value is
# compared with a threshold or with another value (the inverted flag, paired
# differences before a test: docs/protocol.md sections 6 and 7).
COMPARISON_DECIMALS = 9
CHANCE_DISTANCE_DECIMALS = COMPARISON_DECIMALS


def rounded(value: float) -> float:
    """A measured value as comparisons see it (COMPARISON_DECIMALS)."""
    return round(float(value), COMPARISON_DECIMALS)


def chance_distance(gender_uars) -> float:
    """How far the farthest gender head is from chance: max |UAR - 0.5| (section 5, two-sided),
    rounded so that UARs equally far above and below 0.5 are equally far."""
    return round(max(abs(value - 0.5) for value in gender_uars), CHANCE_DISTANCE_DECIMALS)


# ---------------------------------------------------------------- speaker discriminants

SCALE_FLOOR = 1e-8  # a (near) constant dimension is left unscaled
# LDA's within-speaker scatter gets this share of its mean variance added on the diagonal, so a
# representation with more dimensions than utterances (or a constant one) still has a transform.
WITHIN_RIDGE = 1e-3


def lda_projection(h_d1: np.ndarray, speakers: np.ndarray) -> np.ndarray:
    """Linear discriminant directions [D, components] of `h_d1` (standardised rows) by speaker:
    the generalised eigenvectors of between- against within-speaker scatter, largest first."""
    classes = np.unique(speakers)
    overall = h_d1.mean(axis=0)
    dim = h_d1.shape[1]
    within = np.zeros((dim, dim))
    between = np.zeros((dim, dim))
    for speaker in classes:
        rows = h_d1[speakers == speaker]
        centred = rows - rows.mean(axis=0)
        within += centred.T @ centred
        offset = (rows.mean(axis=0) - overall)[:, None]
        between += len(rows) * (offset @ offset.T)
    within /= len(h_d1)
    between /= len(h_d1)
    within += WITHIN_RIDGE * max(float(np.trace(within)) / dim, SCALE_FLOOR) * np.eye(dim)
    values, vectors = linalg.eigh(between, within)
    components = min(len(classes) - 1, dim)
    return vectors[:, np.argsort(values)[::-1][:max(1, components)]]
