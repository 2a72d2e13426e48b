"""ID, identity linkability: the detection measures against scikit-learn, the attack on constructed h."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.metrics import roc_curve

from privbench.measures import lda_projection
from privbench.protocol import get_protocol
from privbench.scoring.identity import identity
from privbench.scoring.roc import equal_error_rate, resolvable, roc_points, tpr_at_fpr


def _sklearn_eer(truth, score) -> float:
    """The EER from sklearn's ROC, interpolated between the two points around fnr = fpr."""
    fpr, tpr, _ = roc_curve(truth, score, drop_intermediate=False)
    fnr = 1 - tpr
    i = int(np.argmax(fnr <= fpr))
    if i == 0:
        return 0.0
    before, after = fnr[i - 1] - fpr[i - 1], fnr[i] - fpr[i]
    return float(fpr[i - 1] + before / (before - after) * (fpr[i] - fpr[i - 1]))


@pytest.mark.parametrize("seed", range(15))
def test_roc_points_and_the_eer_agree_with_sklearns_roc_curve(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(8, 200))
    truth = rng.integers(0, 2, size=n)
    truth[:2] = [0, 1]
    score = np.round(rng.normal(size=n) + truth * rng.uniform(0, 3), int(rng.integers(1, 4)))  # ties included
    fpr, tpr, _ = roc_curve(truth, score, drop_intermediate=False)
    ours_fpr, ours_tpr = roc_points(truth, score)
    np.testing.assert_allclose(ours_fpr, fpr)
    np.testing.assert_allclose(ours_tpr, tpr)
    assert equal_error_rate(truth, score) == pytest.approx(_sklearn_eer(truth, score))
    # TPR at an FPR: the best sklearn ROC point whose fpr is within it, thresholds strictly above the negatives allowed
    for rate in (0.01, 0.1, 0.3):
        allowed = int(np.floor(rate * (truth == 0).sum()))
        negatives = np.sort(score[truth == 0])[::-1]
        cut = negatives[allowed] if allowed < len(negatives) else -np.inf
        assert tpr_at_fpr(truth, score, rate) == pytest.approx(np.mean(score[truth == 1] > cut))


def test_eer_on_hand_cases():
    assert equal_error_rate([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == 0.0  # separated
    assert equal_error_rate([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1]) == 1.0  # separated the wrong way
    assert equal_error_rate([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]) == pytest.approx(0.5)  # one threshold: all or nothing
    assert np.isnan(equal_error_rate([1, 1], [0.1, 0.2]))
    assert resolvable(100, 0.01) and not resolvable(99, 0.01) and resolvable(10, 0.1)


def test_lda_finds_the_subspace_sklearn_finds():
    rng = np.random.default_rng(2)
    speakers = np.repeat(np.arange(6), 40)
    centres = rng.normal(size=(6, 10)) * 3
    h = centres[speakers] + rng.normal(size=(240, 10))
    ours = h @ lda_projection(h, speakers)
    theirs = LinearDiscriminantAnalysis(solver="eigen").fit(h, speakers).transform(h)
    assert ours.shape == theirs.shape == (240, 5)  # speakers - 1 components
    # The same subspace: each of sklearn's components is (almost) a linear function of ours.
    fitted = ours @ np.linalg.lstsq(ours, theirs, rcond=None)[0]
    assert np.allclose(fitted, theirs, atol=1e-2 * np.abs(theirs).max())


def _folds(code, rng, speakers=(12, 4, 5), per_speaker=20):
    """(h, speaker ids) for D1, validation and test, h from `code(speaker index, rng)`."""
    parts, start = [], 0
    for count in speakers:
        ids = np.repeat(np.arange(start, start + count), per_speaker)
        parts += [np.stack([code(s, rng) for s in ids]).astype(np.float32), ids.astype(str)]
        start += count
    return parts


def test_a_one_hot_speaker_code_is_fully_linkable_and_noise_is_not():
    settings = get_protocol().identity
    rng = np.random.default_rng(0)
    one_hot = _folds(lambda s, r: np.eye(32)[s] + 0.01 * r.normal(size=32), rng)
    linked = identity(*one_hot, settings, seed=0)
    assert linked["identity_eer"] == 0.0 and linked["identity_link"] == 1.0 and linked["identity_tpr_at_1fpr"] == 1.0
    assert linked["identity_speakers"] == 5 and linked["identity_eer_ignorant"] == 0.0
    noise = identity(*_folds(lambda s, r: r.normal(size=32), rng), settings, seed=0)
    assert 0.4 < noise["identity_eer"] < 0.6 and noise["identity_link"] < 2 / 5
    assert noise["identity_eer"] in (noise["identity_eer_ignorant"], noise["identity_eer_informed"])


def test_the_informed_attacker_learns_which_directions_carry_the_voice():
    # The speaker lives in 2 of 40 dimensions, under noise 5 times larger in the other 38: cosine on
    # standardised h barely links; LDA trained on D1's speakers finds the 2 dimensions and links, and it is
    # chosen on validation.
    settings = get_protocol().identity
    rng = np.random.default_rng(1)
    voices = rng.normal(size=(21, 2)) * 2

    def code(s, r):
        return np.r_[voices[s] + 0.3 * r.normal(size=2), 5 * r.normal(size=38)]

    found = identity(*_folds(code, rng), settings, seed=0)
    assert found["identity_eer_informed"] < 0.2 < found["identity_eer_ignorant"]  # measured: 0.16 and 0.26
    assert found["identity_eer"] == found["identity_eer_informed"]


def test_a_test_fold_with_one_speaker_gives_no_value():
    settings = get_protocol().identity
    rng = np.random.default_rng(0)
    d1, s1, valid, s2, test, s3 = _folds(lambda s, r: r.normal(size=4), rng, speakers=(6, 3, 1))
    assert identity(d1, s1, valid, s2, test, s3, settings, seed=0)["identity_eer"] is None
