"""The artifacts between training and scoring, typed and checked on the way in and out.

`TrainRecord`: what one training job leaves behind, and everything scoring may
read of it:

- `ids`: every utterance of the corpus the job's attacks and utility read, in a
  fixed order (a main job: D1, validation and test; a membership job: D1, s4, s5);
- `h`: float32 [N, D], the representation that leaves the device, row i of `ids[i]`;
- `probabilities`: float64 [N, classes], the emotion model's posteriors (utility,
  configuration selection, and the loss surface of the membership attack);
- `fit`: epochs, the kept epoch, `chance_reached` and who checked it
  (`chance_source`: "privbench" when privbench's recipe made the report, else
  "self_reported"), the validation UAR of the gender head farthest from chance,
  and the per-epoch history;
- `timings` (train_s, embed_s), `environment` (versions, device, git) and `created`:
  what the result record reports, taken from here so that re-scoring re-creates a
  record byte for byte.

A job of a frozen front end (or of frozen representations) shares one
`RepresentationSet` per corpus instead of storing h again: its record names it
(`representation`) and `h` is read from there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from privbench.store.artifacts import read_arrays, write_arrays

TRAIN_SCHEMA = "privbench.train/1"
SHARED_LIMIT = 8  # representation sets kept in memory per process
REPRESENTATION_SCHEMA = "privbench.representations/1"


class StoreError(ValueError):
    """A stored artifact that does not follow its format (it is then made again)."""


def _need(condition: bool, message: str) -> None:
    if not condition:
        raise StoreError(message)


def _id_array(ids) -> np.ndarray:
    return np.asarray([str(i) for i in ids], dtype=np.str_)


_SHARED: dict[str, "RepresentationSet"] = {}


@dataclass(frozen=True)
class RepresentationSet:
    """h of every utterance of one corpus, for an encoder whose h does not depend on training."""

    key: str
    ids: tuple[str, ...]
    h: np.ndarray  # float32 [N, D]
    meta: dict[str, Any] = field(default_factory=dict)  # source, encoder, corpus, timings, environment, created

    def __post_init__(self) -> None:
        _need(self.h.dtype == np.float32 and self.h.ndim == 2 and len(self.h) == len(self.ids),
              f"representations {self.key[:12]}: h must be float32 [N, D] with one row per id")

    def rows(self, ids) -> np.ndarray:
        position = {uid: i for i, uid in enumerate(self.ids)}
        return self.h[[position[uid] for uid in ids]]

    def write(self) -> None:
        write_arrays("representations", self.key, {"schema": REPRESENTATION_SCHEMA, "key": self.key, **self.meta},
                     {"ids": _id_array(self.ids), "h": self.h})

    @classmethod
    def read(cls, key: str) -> RepresentationSet | None:
        """The stored set (read once per process: every job of a frozen front end reads it), or None."""
        if key in _SHARED:
            return _SHARED[key]
        found = read_arrays("representations", key)
        if found is None:
            return None
        meta, arrays = found
        try:
            _need(meta.get("schema") == REPRESENTATION_SCHEMA and meta.get("key") == key, "not this artifact")
            meta = {k: v for k, v in meta.items() if k not in ("schema", "key")}
            shared = cls(key, tuple(arrays["ids"].tolist()), arrays["h"], meta)
        except (KeyError, StoreError):
            return None
        if len(_SHARED) >= SHARED_LIMIT:
            _SHARED.clear()
        _SHARED[key] = shared
        return shared


@dataclass(frozen=True)
class TrainRecord:
    """One training job's outputs (see the module docstring)."""

    key: str
    spec: dict[str, Any]
    ids: tuple[str, ...]
    h: np.ndarray  # float32 [N, D]
    probabilities: np.ndarray  # float64 [N, classes]
    fit: dict[str, Any]
    timings: dict[str, float]
    environment: dict[str, str]
    created: str
    representation: str | None = None  # the shared RepresentationSet's key, for frozen h

    def __post_init__(self) -> None:
        n = len(self.ids)
        _need(self.h.dtype == np.float32 and self.h.ndim == 2 and len(self.h) == n, "h must be float32 [N, D]")
        _need(self.probabilities.ndim == 2 and len(self.probabilities) == n, "probabilities must be [N, classes]")
        _need(bool(np.isfinite(self.h).all()) and bool(np.isfinite(self.probabilities).all()), "non-finite values")
        _need({"rotation", "seed", "config", "kind"} <= set(self.spec), "spec lacks rotation, seed, config or kind")
        _need({"epochs", "best_epoch", "chance_reached", "chance_source", "gender_uar", "history"} <= set(self.fit),
              "fit lacks a field")
        _need(all(isinstance(v, (int, float)) and math.isfinite(v) for v in self.timings.values()), "timings must be numbers")

    # What selection and aggregation look up.
    @property
    def rotation(self) -> int:
        return int(self.spec["rotation"])

    @property
    def seed(self) -> int:
        return int(self.spec["seed"])

    @property
    def config(self) -> dict[str, Any]:
        return self.spec["config"]

    @property
    def kind(self) -> str:
        return self.spec["kind"]

    @property
    def chance_reached(self) -> bool | None:
        return self.fit["chance_reached"]

    @property
    def seconds(self) -> float:
        return float(sum(self.timings.values()))

    def position(self) -> dict[str, int]:
        return {uid: i for i, uid in enumerate(self.ids)}

    def rows(self, array: np.ndarray, ids) -> np.ndarray:
        """The rows of `array` (h or probabilities) for `ids`, in that order."""
        position = self.position()
        return array[[position[uid] for uid in ids]]

    def meta(self) -> dict[str, Any]:
        return {"schema": TRAIN_SCHEMA, "key": self.key, "spec": self.spec, "fit": self.fit, "timings": self.timings,
                "environment": self.environment, "created": self.created, "representation": self.representation}

    def write(self) -> None:
        arrays = {"ids": _id_array(self.ids), "probabilities": self.probabilities}
        if self.representation is None:
            arrays["h"] = self.h
        write_arrays("train", self.key, self.meta(), arrays)

    @classmethod
    def read(cls, key: str) -> TrainRecord | None:
        """The stored record, or None (absent, malformed, or its shared h gone: then the job runs again)."""
        found = read_arrays("train", key)
        if found is None:
            return None
        meta, arrays = found
        try:
            _need(meta.get("schema") == TRAIN_SCHEMA and meta.get("key") == key, "not this artifact")
            ids = tuple(arrays["ids"].tolist())
            if meta.get("representation") is not None:
                shared = RepresentationSet.read(meta["representation"])
                if shared is None:
                    return None
                h = shared.rows(ids)
            else:
                h = arrays["h"]
            return cls(key, meta["spec"], ids, h, arrays["probabilities"], meta["fit"], meta["timings"],
                       meta["environment"], meta["created"], meta.get("representation"))
        except (KeyError, StoreError, TypeError):
            return None
