"""docs/protocol.md section 7: paired tests over rotations, corrected together per table.

`compare` is the one comparison function of privbench: the terminal summary,
the paper's tables, the findings and the leaderboard all call it. Each cell
pairs a model's per-rotation values of one metric with a reference's; pairs
with a non-finite value are dropped per cell, and a cell left with fewer than
`significance.min_pairs` pairs gets no p-value (it never blanks the rest of the
table). The paired differences are rounded to 9 decimals before the test
(measures.COMPARISON_DECIMALS: float noise of 2e-16 is no difference), and the
test is scipy's, with no shortcut: all differences zero gives p = 1, a
constant non-zero difference is as significant as the test says. The p-values
of one call are corrected together (statsmodels' `multipletests`, method
`significance.correction`); a cell is significant when its adjusted p < alpha,
and then has a direction from the metric's definition.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as scipy_stats
from statsmodels.stats.multitest import multipletests

from privbench.measures import COMPARISON_DECIMALS
from privbench.protocol import Significance
from privbench.scoring.metric_defs import BY_NAME

Values = Sequence[float | None]
TESTS = {"ttest_rel": scipy_stats.ttest_rel}  # protocol.toml's significance.test -> the paired test


@dataclass(frozen=True)
class Comparison:
    p: float | None
    p_adjusted: float | None
    significant: bool
    direction: str | None  # "better" or "worse" than the reference, when significant
    difference: float | None  # mean of the paired differences, model - reference
    pairs: int

    @property
    def mark(self) -> str:
        return {"better": "+", "worse": "-"}.get(self.direction or "", "")


def finite_pairs(values: Values, reference: Values) -> tuple[np.ndarray, np.ndarray]:
    """The rotations where both values are finite numbers, as two float arrays."""
    pairs = [(a, b) for a, b in zip(values, reference)
             if a is not None and b is not None and math.isfinite(a) and math.isfinite(b)]
    if not pairs:
        return np.empty(0), np.empty(0)
    a, b = np.array(pairs, dtype=float).T
    return a, b


def paired_differences(values: Values, reference: Values) -> np.ndarray:
    """model - reference over the finite pairs, rounded to COMPARISON_DECIMALS."""
    a, b = finite_pairs(values, reference)
    return np.round(a - b, COMPARISON_DECIMALS)


def paired_p(values: Values, reference: Values, significance: Significance) -> float | None:
    """Two-sided paired test p over the finite pairs (differences rounded); None with fewer than
    min_pairs of them; 1 when every difference is zero (where the test itself is undefined)."""
    differences = paired_differences(values, reference)
    if len(differences) < max(2, significance.min_pairs):
        return None
    if not differences.any():
        return 1.0
    with warnings.catch_warnings():  # a constant difference: scipy warns of a precision loss, then answers
        warnings.simplefilter("ignore", RuntimeWarning)
        p = float(TESTS[significance.test](differences, np.zeros_like(differences)).pvalue)
    return 1.0 if math.isnan(p) else p


def adjust(p_values: Sequence[float], significance: Significance) -> list[float]:
    """The protocol's multiple-testing correction over one family of p-values."""
    if not p_values:
        return []
    return [float(p) for p in multipletests(list(p_values), alpha=significance.alpha, method=significance.correction)[1]]


def compare(cells: Mapping[Hashable, tuple[str, Values, Values]], significance: Significance) -> dict[Hashable, Comparison]:
    """cells: key -> (metric, model's per-rotation values, reference's). Every cell gets a
    Comparison; those with a p-value are corrected together."""
    raw = {key: paired_p(values, reference, significance) for key, (_, values, reference) in cells.items()}
    tested = [key for key, p in raw.items() if p is not None]
    adjusted = dict(zip(tested, adjust([raw[key] for key in tested], significance)))
    comparisons = {}
    for key, (metric, values, reference) in cells.items():
        differences = paired_differences(values, reference)
        difference = float(np.mean(differences)) if len(differences) else None
        p_adjusted = adjusted.get(key)
        significant = p_adjusted is not None and p_adjusted < significance.alpha
        higher = BY_NAME[metric].higher_is_better
        direction = None
        if significant and higher is not None and difference:
            direction = "better" if (difference > 0) == higher else "worse"
        comparisons[key] = Comparison(raw[key], p_adjusted, significant, direction, difference, len(differences))
    return comparisons


# ---------------------------------------------------------------- equivalence margins (section 7a: Q3, Q4, Q5)

@dataclass(frozen=True)
class Difference:
    """The paired differences model - reference over the finite rotations, summarised."""

    mean: float
    sd: float
    n: int

    def interval(self, confidence: float) -> tuple[float, float]:
        """Two-sided t interval of the mean difference (a 90% interval holds both one-sided 5% tests)."""
        if self.n < 2:
            return (-math.inf, math.inf)
        half = scipy_stats.t.ppf(0.5 + confidence / 2, self.n - 1) * self.sd / math.sqrt(self.n)
        return (self.mean - half, self.mean + half)

    def p_above(self, bound: float) -> float:
        """One-sided p of 'the mean difference is above `bound`' (H0: mean <= bound)."""
        return self._one_sided(bound, upper=True)

    def p_below(self, bound: float) -> float:
        """One-sided p of 'the mean difference is below `bound`' (H0: mean >= bound)."""
        return self._one_sided(bound, upper=False)

    def _one_sided(self, bound: float, upper: bool) -> float:
        if self.sd == 0:  # constant differences: the answer is certain either way
            return 0.0 if (self.mean > bound if upper else self.mean < bound) else 1.0
        t = (self.mean - bound) / (self.sd / math.sqrt(self.n))
        return float(scipy_stats.t.sf(t, self.n - 1) if upper else scipy_stats.t.cdf(t, self.n - 1))


def difference(values: Values, reference: Values, significance: Significance) -> Difference | None:
    """The paired differences' summary (rounded as for the test), or None with fewer than min_pairs finite pairs."""
    d = paired_differences(values, reference)
    if len(d) < max(2, significance.min_pairs):
        return None
    return Difference(float(d.mean()), float(d.std(ddof=1)), len(d))
