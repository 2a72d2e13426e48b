"""Frozen representations a user made elsewhere: one `.npz` per corpus, checked before any training.

A frozen-representation submission (docs/submitting.md) names, per corpus, a
file holding `ids` (the utterance ids of that prepared corpus, strings) and
`h` (float32 [N, D]). Everything a user can get wrong is refused in one line
that names the file and the first bad id: a missing utterance, an id the
corpus does not have, a duplicate, a non-finite row, the wrong dtype or shape.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from privbench.errors import SubmissionError


def _fail(path: Path, message: str) -> SubmissionError:
    return SubmissionError(f"{path}: {message}")


def read_submitted(path: Path, corpus_ids: Sequence[str] | None) -> tuple[tuple[str, ...], np.ndarray]:
    """(ids in corpus order, h float32 [N, D] in that order) of a user's file, or one line naming the fault.
    `corpus_ids` None (the corpus is not prepared here): the file is checked against its own ids, sorted."""
    if not path.is_file():
        raise _fail(path, "no such file: save np.savez(path, ids=..., h=...) for this corpus, or drop the corpus")
    try:
        with np.load(path, allow_pickle=False) as stored:
            names = set(stored.files)
            missing = [name for name in ("ids", "h") if name not in names]
            if missing:
                raise _fail(path, f"holds no array {missing[0]!r}: it needs ids (utterance ids) and h (float32 [N, D])")
            ids, h = stored["ids"], stored["h"]
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        if isinstance(error, SubmissionError):
            raise
        raise _fail(path, f"not a readable .npz ({error}): save it with np.savez(path, ids=ids, h=h)") from None
    if ids.ndim != 1 or ids.dtype.kind not in "US":
        raise _fail(path, f"ids must be a 1-d array of strings, not {ids.dtype} of shape {list(ids.shape)}")
    if h.dtype != np.float32:
        raise _fail(path, f"h is {h.dtype}: save it as float32 (h.astype(np.float32))")
    if h.ndim != 2 or len(h) != len(ids) or h.shape[1] < 1:
        raise _fail(path, f"h has shape {list(h.shape)} for {len(ids)} ids: it must be [N, D], one row per id")
    try:  # bytes ids (h5py, np.bytes_) are the same ids as text: str(b"u1") would be "b'u1'"
        ids = [uid.decode("utf-8") if isinstance(uid, bytes) else str(uid) for uid in ids.tolist()]
    except UnicodeDecodeError:
        raise _fail(path, "ids are bytes that are not UTF-8: save them as strings (ids.astype(str))") from None
    seen: set[str] = set()
    for uid in ids:
        if uid in seen:
            raise _fail(path, f"id {uid!r} appears twice: each utterance must have one row")
        seen.add(uid)
    if corpus_ids is None:
        if not ids:
            raise _fail(path, "holds no ids: save it with np.savez(path, ids=ids, h=h)")
        corpus_ids = sorted(ids)
    known = set(corpus_ids)
    unknown = next((uid for uid in ids if uid not in known), None)
    if unknown is not None:
        raise _fail(path, f"holds id {unknown!r}, which the prepared corpus does not have: was h made for another corpus?")
    absent = next((uid for uid in corpus_ids if uid not in seen), None)
    if absent is not None:
        raise _fail(path, f"misses utterance {absent!r} ({len(corpus_ids) - len(ids)} of the corpus' {len(corpus_ids)} "
                          "are absent): h must cover every utterance of the corpus")
    finite = np.isfinite(h).all(axis=1)
    if not finite.all():
        raise _fail(path, f"h of {ids[int(np.argmin(finite))]!r} holds NaN or inf: every value must be finite")
    order = {uid: i for i, uid in enumerate(ids)}
    return tuple(corpus_ids), np.ascontiguousarray(h[[order[uid] for uid in corpus_ids]])
