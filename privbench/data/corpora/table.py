"""The utterance table of docs/protocol.md section 1, and what turns raw rows into it.

A corpus adapter gives raw rows (the first eight columns below, audio paths
absolute). `finish_table` applies the corpus' filter, bins the ratings and
assigns folds; the result is the table every later stage reads.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from privbench.data.folds import assign_folds, check_split
from privbench.data.labels import bin_ratings, check_scale
from privbench.protocol import CorpusRules, Protocol
from privbench.storage import sha256_file

RAW_COLUMNS = ("utterance_id", "speaker", "gender", "audio_path", "transcript", "activation", "valence", "duration_s")
TASKS = ("activation", "valence")
EXPORT_COLUMNS = ("utterance_id", "speaker", "gender", "fold", "duration_s", "activation", "valence",
                  "activation_class", "valence_class", "transcript", "audio_path")  # audio_path: for frozen representations made elsewhere


def apply_filter(raw: pd.DataFrame, rules: CorpusRules, genders: tuple[str, ...]) -> pd.DataFrame:
    """Drop the utterances the protocol leaves out of this corpus (length, unknown gender)."""
    keep = np.ones(len(raw), dtype=bool)
    if rules.require_known_gender:
        keep &= raw["gender"].isin(genders).to_numpy()
    if rules.min_duration_s is not None:
        keep &= (raw["duration_s"] >= rules.min_duration_s).to_numpy()
    if rules.max_duration_s is not None:
        keep &= (raw["duration_s"] <= rules.max_duration_s).to_numpy()
    return raw.loc[keep].reset_index(drop=True)


def finish_table(raw: pd.DataFrame, rules: CorpusRules, protocol: Protocol, corpus: str, splits_dir: Path) -> tuple[pd.DataFrame, str]:
    """Filter, bin and assign folds; returns the table and its split's sha256.

    The split is checked against an existing split file but not written.
    """
    table = apply_filter(raw, rules, protocol.labels.genders).sort_values("utterance_id", kind="stable").reset_index(drop=True)
    twice = table["utterance_id"].duplicated()
    if twice.any():
        raise CorpusError(f"{corpus}: utterance id {table.loc[twice, 'utterance_id'].iloc[0]!r} appears twice: "
                          "each utterance needs its own id (check this copy of the corpus)")
    check_scale(table, rules, corpus, TASKS)
    for task in TASKS:
        table[f"{task}_class"] = bin_ratings(table[task], rules.edges)
    speaker_folds = assign_folds(table, rules.folds, protocol.folds.count)
    split_digest = check_split(splits_dir, corpus, speaker_folds)
    table["fold"] = table["speaker"].map(speaker_folds).astype(np.int64)
    return table, split_digest


def content_sha256(table: pd.DataFrame, root: Path) -> str:
    """A fingerprint of what a corpus holds: its rows (audio paths relative to the
    root, so a moved copy keeps its hash) and the bytes of every audio file."""
    digest = hashlib.sha256()
    rows = table[list(RAW_COLUMNS)].copy()
    rows["audio_path"] = [_relative(Path(path), root) for path in rows["audio_path"]]
    digest.update(rows.to_csv(index=False, float_format="%.6g").encode("utf-8"))
    for path in table["audio_path"]:
        digest.update(sha256_file(Path(path)).encode())
    return digest.hexdigest()


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()
