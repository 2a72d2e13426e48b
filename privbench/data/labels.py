"""Section 1: mean ratings become low / mid / high classes with each corpus' exact edges."""

from __future__ import annotations

import numpy as np
import pandas as pd

from privbench.errors import CorpusError
from privbench.protocol import CorpusRules, DerivedLabels

# Gender as a label: 0 = F, 1 = M (the order of protocol.toml's labels.genders), in every stage that encodes it.
GENDER_CODES = {"F": 0, "M": 1}


def off_scale(ratings, scale: tuple) -> np.ndarray:
    """True where a rating is missing, infinite or outside the declared scale ("min"/"max" ends bound nothing)."""
    values = np.asarray(ratings, dtype=np.float64)
    low, high = scale
    bad = ~np.isfinite(values)
    if not isinstance(low, str):
        bad |= values < float(low)
    if not isinstance(high, str):
        bad |= values > float(high)
    return bad


def check_scale(table: pd.DataFrame, rules: CorpusRules, corpus: str, tasks: tuple[str, ...]) -> None:
    """Refuse a rating that is missing or outside the corpus' declared scale: binning would
    otherwise put it silently in the low or the high class (a NaN sorts above every edge)."""
    for task in tasks:
        bad = off_scale(table[task], rules.scale)
        if bad.any():
            row = table.loc[bad].iloc[0]
            value = row[task]
            what = (f"has no {task} rating" if not np.isfinite(value) else
                    f"{task} rating {value} is outside the scale {list(rules.scale)} of protocol.toml's [corpora.{corpus}]")
            raise CorpusError(f"{corpus}: utterance {row['utterance_id']} {what} (rows missing or off the scale: "
                              f"{int(bad.sum())}): check this copy's label files")


def bin_ratings(ratings: pd.Series | np.ndarray, edges: tuple[float, float]) -> np.ndarray:
    """0 for ratings <= edges[0], 1 for edges[0] < r <= edges[1], 2 above.

    Closed on the right, as docs/protocol.md writes the bins: [min, e0], (e0, e1], (e1, max].
    """
    values = np.asarray(ratings, dtype=np.float64)
    # searchsorted(side="left") counts the edges strictly below each value.
    return np.searchsorted(np.asarray(edges, dtype=np.float64), values, side="left").astype(np.int64)


def derive_ratings(raw: pd.DataFrame, derived: DerivedLabels, classes: tuple[str, ...], corpus: str) -> pd.DataFrame:
    """Activation and valence for a corpus without ratings: each row's `emotion` (and
    `intensity`, where the protocol shifts by it) mapped to a class index, which then
    serves as the rating on the scale [0, len(classes) - 1]."""
    unknown = sorted(set(raw["emotion"]) - set(derived.activation))
    if unknown:
        raise CorpusError(f"{corpus}: emotion {unknown[0]!r} has no entry in protocol.toml's "
                          f"[corpora.{corpus}.derived_labels]; known: {', '.join(derived.activation)}")
    index = {name: position for position, name in enumerate(classes)}
    activation = raw["emotion"].map(lambda emotion: index[derived.activation[emotion]]).to_numpy(np.int64)
    if derived.intensity_activation_shift is not None:
        shift = raw["intensity"].map(derived.intensity_activation_shift)
        if shift.isna().any():
            level = raw.loc[shift.isna(), "intensity"].iloc[0]
            raise CorpusError(f"{corpus}: intensity level {level!r} has no entry in intensity_activation_shift")
        activation = np.clip(activation + shift.to_numpy(np.int64), 0, len(classes) - 1)
    result = raw.copy()
    result["activation"] = activation.astype(np.float64)
    result["valence"] = raw["emotion"].map(lambda emotion: float(index[derived.valence[emotion]]))
    return result  # copy() keeps attrs, so the adapter's notes survive
