"""Content-addressed files under `<cache>/store/<kind>/`, written atomically.

Every artifact is named by the sha256 of what it was computed from (its key),
so a rerun finds finished work, a killed run loses nothing (a file appears
only whole, by rename) and nothing is ever read stale. Kinds:

- `train/`: one `.npz` per training job (`representations.TrainRecord`);
- `representations/`: one `.npz` per corpus of a frozen front end or a
  frozen-representation submission (`representations.RepresentationSet`);
- `scores/`: one `.json` per scored training job (the attacks' metrics).
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from privbench.paths import cache_root
from privbench.storage import atomic_write_bytes, atomic_write_text, canonical_json

KINDS = {"train": ".npz", "representations": ".npz", "scores": ".json"}
META = "meta"  # the npz entry holding an artifact's JSON metadata


def store_root() -> Path:
    return cache_root() / "store"


def artifact_path(kind: str, key: str) -> Path:
    return store_root() / kind / key[:2] / f"{key}{KINDS[kind]}"


def write_arrays(kind: str, key: str, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> Path:
    """An npz of `arrays` plus the JSON `meta`, atomically. Arrays are stored as given (no pickles)."""
    buffer = io.BytesIO()
    np.savez(buffer, **{META: np.array(canonical_json(dict(meta)))}, **arrays)
    path = artifact_path(kind, key)
    atomic_write_bytes(path, buffer.getvalue())
    return path


def read_arrays(kind: str, key: str, with_arrays: bool = True) -> tuple[dict[str, Any], dict[str, np.ndarray]] | None:
    """(meta, arrays) of a stored npz, or None when it is absent or unreadable (then it is made again).
    `with_arrays=False` reads the metadata only (an npz member is read on access)."""
    path = artifact_path(kind, key)
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files if with_arrays or name == META}
    except (OSError, ValueError, EOFError, KeyError):
        return None
    meta = arrays.pop(META, None)
    try:
        return json.loads(str(meta)), arrays
    except (TypeError, ValueError):
        return None


def write_json(kind: str, key: str, value: Mapping[str, Any]) -> Path:
    path = artifact_path(kind, key)
    atomic_write_text(path, canonical_json(dict(value)))
    return path


def read_json(kind: str, key: str) -> dict[str, Any] | None:
    try:
        value = json.loads(artifact_path(kind, key).read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def exists(kind: str, key: str) -> bool:
    return artifact_path(kind, key).is_file()


def stored(kind: str) -> Iterator[tuple[str, Path]]:
    """(key, path) of every artifact of one kind."""
    folder = store_root() / kind
    if not folder.is_dir():
        return
    suffix = KINDS[kind]
    for path in sorted(folder.glob(f"*/*{suffix}")):
        yield path.name[: -len(suffix)], path


def size_bytes(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0
