"""PROTOCOL.md section 7: paired t-tests over rotations, Benjamini-Hochberg per table.

Each cell compares a model's per-rotation values of one metric with the
reference model's (`general`) on the same corpus, modality, task and budget.
All p-values of one table are corrected together (statsmodels' fdr_bh); a cell
is significant when its adjusted p < alpha, and then has a direction.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import ttest_rel
from statsmodels.stats.multitest import multipletests

# Which way is better for each metric (None: no direction, e.g. the gender gap).
HIGHER_IS_BETTER = {"uar": True, "uar_male": True, "uar_female": True, "gap": None, "leakage": False,
                    "privacy": True, "privacy_worst": True, "privacy_mlp": True, "privacy_logistic": True, "privacy_knn": True,
                    "membership": False, "membership_speaker": False, "membership_auc": False, "membership_tpr_at_1fpr": False}


@dataclass(frozen=True)
class Comparison:
    p: float
    p_adjusted: float
    significant: bool
    direction: str | None  # "better" or "worse" than the reference, when significant

    @property
    def mark(self) -> str:
        return {"better": "+", "worse": "-"}.get(self.direction or "", "")


def paired_p(values: Sequence[float | None], reference: Sequence[float | None]) -> float | None:
    """Two-sided paired t-test p over the rotations both have; None with fewer than two pairs."""
    pairs = [(a, b) for a, b in zip(values, reference) if a is not None and b is not None]
    if len(pairs) < 2:
        return None
    a, b = np.array(pairs).T
    differences = a - b
    if np.allclose(differences, differences[0]):
        # Constant differences: t is infinite (or undefined when all are 0); scipy warns.
        return 1.0 if differences[0] == 0 else 0.0
    return float(ttest_rel(a, b).pvalue)


def compare_table(cells: Mapping[Hashable, tuple[str, Sequence[float | None], Sequence[float | None]]],
                  alpha: float) -> dict[Hashable, Comparison]:
    """cells: key -> (metric, model's per-rotation values, reference's). Cells without a
    p-value (too few rotations) are left out; the rest are corrected together."""
    tested = {key: (metric, values, reference, paired_p(values, reference)) for key, (metric, values, reference) in cells.items()}
    tested = {key: entry for key, entry in tested.items() if entry[3] is not None}
    if not tested:
        return {}
    keys = list(tested)
    rejected, adjusted, _, _ = multipletests([tested[k][3] for k in keys], alpha=alpha, method="fdr_bh")
    comparisons = {}
    for key, reject, p_adjusted in zip(keys, rejected, adjusted):
        metric, values, reference, p = tested[key]
        direction = None
        higher = HIGHER_IS_BETTER.get(metric)
        if reject and higher is not None:
            mean_difference = np.nanmean(np.array(values, dtype=float) - np.array(reference, dtype=float))
            direction = "better" if (mean_difference > 0) == higher else "worse"
        comparisons[key] = Comparison(p, float(p_adjusted), bool(reject and p_adjusted < alpha), direction)
    return comparisons
