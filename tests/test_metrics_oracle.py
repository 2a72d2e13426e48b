"""privbench's hand-written metrics against scikit-learn's reference implementations, on random cases."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score, recall_score, roc_auc_score, roc_curve
from sklearn.neighbors import KNeighborsClassifier

from privbench.protocol import get_protocol
from privbench.scoring.attacks import Attack, knn_probabilities, roc_auc, tpr_at_fpr
from privbench.measures import uar


@pytest.mark.parametrize("seed", range(20))
def test_uar_is_sklearns_macro_recall_over_the_classes_present(seed):
    rng = np.random.default_rng(seed)
    classes = int(rng.integers(2, 4))
    truth = rng.integers(0, classes, size=int(rng.integers(5, 60)))
    predicted = rng.integers(0, classes + 1, size=len(truth))  # a prediction may name a class the truth lacks
    present = np.unique(truth)
    assert uar(truth, predicted) == pytest.approx(recall_score(truth, predicted, labels=present, average="macro", zero_division=0))
    if set(np.unique(predicted)) <= set(present):
        assert uar(truth, predicted) == pytest.approx(balanced_accuracy_score(truth, predicted))


@pytest.mark.parametrize("seed", range(20))
def test_roc_auc_matches_sklearn_with_ties(seed):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 2, size=int(rng.integers(4, 200)))
    truth[:2] = [0, 1]
    score = np.round(rng.random(len(truth)), 1)  # rounded: many ties, counted half
    assert roc_auc(truth, score) == pytest.approx(roc_auc_score(truth, score))


@pytest.mark.parametrize("seed", range(20))
def test_tpr_at_low_fpr_is_the_best_operating_point_of_sklearns_roc_curve(seed):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 2, size=400)
    score = rng.normal(size=400) + 1.5 * truth  # continuous scores: no ties
    fpr, tpr, _ = roc_curve(truth, score)
    for limit in (0.01, 0.05, 0.1):
        assert tpr_at_fpr(truth, score, limit) == pytest.approx(tpr[fpr <= limit].max())


def test_the_knn_attacker_agrees_with_sklearns_classifier():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 5)).astype(np.float32)
    y = (x[:, 0] + 0.3 * rng.normal(size=300) > 0).astype(np.int64)
    attack = Attack(x[:200], y[:200], x[200:250], y[200:250], x[250:], y[250:])
    neighbours = get_protocol().attacker.knn_neighbours
    ours = knn_probabilities(attack, neighbours).test_probabilities  # k picked on validation, inputs z-scored with the training statistics
    mean, scale = x[:200].mean(axis=0), x[:200].std(axis=0)
    z = lambda rows: (rows - mean) / scale  # noqa: E731
    scores = {k: uar(y[200:250], KNeighborsClassifier(k).fit(z(x[:200]), y[:200]).predict(z(x[200:250]))) for k in neighbours}
    best = max(neighbours, key=lambda k: (scores[k], -neighbours.index(k)))
    theirs = KNeighborsClassifier(best).fit(z(x[:200]), y[:200]).predict_proba(z(x[250:]))
    np.testing.assert_allclose(ours, theirs, atol=1e-6)
