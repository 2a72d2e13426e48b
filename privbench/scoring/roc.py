"""Detection-error measures of a scored attack: ROC AUC, TPR at a low FPR, the equal error rate.

Every attacker that outputs a score per trial (membership: member or not;
identity: same speaker or not) is summarised by these, from `truth` (1 =
positive: member, same speaker) and `score` (higher = more positive). They
agree with scikit-learn's `roc_curve` and `roc_auc_score` (tests/test_identity.py
checks them against it) and need only numpy.
"""

from __future__ import annotations

import numpy as np


def roc_points(truth, score) -> tuple[np.ndarray, np.ndarray]:
    """(fpr, tpr) at every distinct threshold, from (0, 0) to (1, 1), as roc_curve(drop_intermediate=False)."""
    truth = np.asarray(truth).astype(bool)
    score = np.asarray(score, dtype=np.float64)
    order = np.argsort(-score, kind="mergesort")
    score, truth = score[order], truth[order]
    ends = np.r_[np.flatnonzero(np.diff(score)), len(score) - 1]  # the last row of each distinct score
    true_positives = np.cumsum(truth)[ends]
    false_positives = ends + 1 - true_positives
    return (np.r_[0.0, false_positives / max(1, (~truth).sum())], np.r_[0.0, true_positives / max(1, truth.sum())])


def roc_auc(truth, score) -> float:
    """Area under the ROC curve (the Mann-Whitney statistic, ties counted half); nan without both classes."""
    from scipy.stats import rankdata

    truth = np.asarray(truth).astype(bool)
    positives, negatives = int(truth.sum()), int((~truth).sum())
    if not positives or not negatives:
        return float("nan")
    ranks = rankdata(score)
    return float((ranks[truth].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def tpr_at_fpr(truth, score, fpr: float = 0.01) -> float:
    """The highest true-positive rate of a threshold whose false-positive rate is <= `fpr`."""
    truth = np.asarray(truth).astype(bool)
    negatives = np.sort(np.asarray(score)[~truth])[::-1]
    if not truth.any() or not len(negatives):
        return float("nan")
    allowed = int(np.floor(fpr * len(negatives)))  # negatives that may score above the threshold
    threshold = negatives[allowed] if allowed < len(negatives) else -np.inf
    return float((np.asarray(score)[truth] > threshold).mean())


def resolvable(negatives: int, fpr: float) -> bool:
    """Whether a false-positive rate can be told apart with this many negatives (at least 1/fpr of them):
    with fewer, 'TPR at 1% FPR' is 'TPR at no false positive at all'."""
    return negatives * fpr >= 1 - 1e-9


def equal_error_rate(truth, score) -> float:
    """The rate where false positives and false negatives are equal, linearly interpolated between
    the two ROC points around the crossing (the usual speaker-verification EER); nan without both classes."""
    truth = np.asarray(truth).astype(bool)
    if truth.all() or not truth.any():
        return float("nan")
    fpr, tpr = roc_points(truth, score)
    fnr = 1.0 - tpr
    crossed = int(np.argmax(fnr <= fpr))  # fnr falls from 1 and fpr rises from 0: a crossing exists
    if crossed == 0:
        return 0.0
    before = fnr[crossed - 1] - fpr[crossed - 1]  # > 0
    after = fnr[crossed] - fpr[crossed]  # <= 0
    weight = before / (before - after)
    return float(fpr[crossed - 1] + weight * (fpr[crossed] - fpr[crossed - 1]))
