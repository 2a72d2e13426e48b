"""Section 1: mean ratings become low / mid / high classes with each corpus' exact edges."""

from __future__ import annotations

import numpy as np
import pandas as pd

from privbench.protocol import CorpusRules


def scale_bounds(rules: CorpusRules, ratings: pd.Series) -> tuple[float, float]:
    """The rating scale's ends; "min"/"max" in the protocol mean the data's own extremes."""
    low, high = rules.scale
    return (
        float(ratings.min()) if low == "min" else float(low),
        float(ratings.max()) if high == "max" else float(high),
    )


def bin_ratings(ratings: pd.Series | np.ndarray, edges: tuple[float, float]) -> np.ndarray:
    """0 for ratings <= edges[0], 1 for edges[0] < r <= edges[1], 2 above.

    Closed on the right, as PROTOCOL.md writes the bins: [min, e0], (e0, e1], (e1, max].
    """
    values = np.asarray(ratings, dtype=np.float64)
    # searchsorted(side="left") counts the edges strictly below each value.
    return np.searchsorted(np.asarray(edges, dtype=np.float64), values, side="left").astype(np.int64)
