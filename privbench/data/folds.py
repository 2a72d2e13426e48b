"""Section 3: speaker-independent folds, the split files, and rotations.

The speaker-to-fold map of each corpus is written once to
`benchmark/splits/<corpus>.json` with its sha256; later runs check that the
corpus still gives the same map, so every result names the exact split it used.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from privbench.errors import CorpusError, ProtocolError
from privbench.protocol import Folds
from privbench.storage import atomic_write_json, canonical_json, sha256_bytes

SPLIT_SCHEMA = "privbench.split/1"


def greedy_gender_balanced_folds(table: pd.DataFrame, fold_count: int) -> dict[str, int]:
    """Every corpus but IEMOCAP: largest speakers first, each to the fold holding the
    fewest utterances of that speaker's gender (ties: lowest fold index)."""
    per_speaker = table.groupby("speaker").agg(utterances=("utterance_id", "size"), gender=("gender", "first"))
    order = sorted(per_speaker.index, key=lambda speaker: (-per_speaker.at[speaker, "utterances"], speaker))
    held: dict[str, list[int]] = {}
    assignment = {}
    for speaker in order:
        gender = per_speaker.at[speaker, "gender"]
        counts = held.setdefault(gender, [0] * fold_count)
        fold = min(range(fold_count), key=lambda index: (counts[index], index))
        counts[fold] += int(per_speaker.at[speaker, "utterances"])
        assignment[str(speaker)] = fold
    return dict(sorted(assignment.items()))


def session_folds(table: pd.DataFrame, fold_count: int) -> dict[str, int]:
    """IEMOCAP: fold k = session k+1; adapters give each utterance a `session` 1..5."""
    if "session" not in table.columns:
        raise CorpusError("this corpus' adapter gives no session column, which session folds need")
    sessions = table.groupby("speaker")["session"].first()
    bad = sessions[(sessions < 1) | (sessions > fold_count)]
    if len(bad):
        raise CorpusError(f"speaker {bad.index[0]} has session {bad.iloc[0]}, outside 1..{fold_count}")
    return {str(speaker): int(session) - 1 for speaker, session in sorted(sessions.items())}


def assign_folds(table: pd.DataFrame, rule: str, fold_count: int) -> dict[str, int]:
    if rule == "session":
        return session_folds(table, fold_count)
    if rule == "greedy":
        return greedy_gender_balanced_folds(table, fold_count)
    raise ProtocolError(f"unknown fold rule {rule!r} in protocol.toml: use 'session' or 'greedy'")


def check_evaluable(table: pd.DataFrame, corpus: str, fold_count: int, genders: tuple[str, ...]) -> None:
    """Every fold must hold a speaker of each gender: each rotation tests, validates and attacks on
    folds, and a fold without speakers leaves it nothing to score (the folds are filled greedily, so a
    corpus with fewer speakers of a gender than folds leaves some empty)."""
    for fold in range(fold_count):
        present = set(table.loc[table["fold"] == fold, "gender"])
        for gender in genders:
            if gender not in present:
                counts = table.groupby("gender")["speaker"].nunique()
                held = " and ".join(f"{int(counts.get(g, 0))} {g}" for g in genders)
                raise CorpusError(f"{corpus}: fold {fold} holds no {gender} speaker ({held} speakers over {fold_count} "
                                  f"folds): evaluating needs at least {fold_count} speakers of each gender")


def split_sha256(speaker_folds: dict[str, int]) -> str:
    return sha256_bytes(canonical_json(dict(sorted(speaker_folds.items()))).encode())


def split_path(splits_dir: Path, corpus: str) -> Path:
    return splits_dir / f"{corpus}.json"


def read_split(path: Path) -> dict[str, int]:
    try:
        document = json.loads(path.read_text())
        speaker_folds = {str(k): int(v) for k, v in document["speaker_folds"].items()}
        recorded = document["sha256"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise ProtocolError(f"{path} is not a privbench split file ({error}): restore it from git or delete it") from None
    if split_sha256(speaker_folds) != recorded:
        raise ProtocolError(f"{path} was edited: its sha256 does not match its speaker map; restore it from git")
    return speaker_folds


def check_split(splits_dir: Path, corpus: str, speaker_folds: dict[str, int]) -> str:
    """The split's sha256, after checking it against the corpus' split file if one exists.

    A different map means the corpus on disk is not the one the split was made
    from, which would silently change every result. Nothing is written here:
    `write_split` runs only once a whole prepare has succeeded.
    """
    path = split_path(splits_dir, corpus)
    if path.exists():
        fixed = read_split(path)
        if fixed != speaker_folds:
            changed = sorted(set(fixed.items()) ^ set(speaker_folds.items()))
            raise CorpusError(
                f"{path} fixes a different speaker-to-fold map than this copy of {corpus} gives "
                f"(first difference: speaker {changed[0][0]}): check the corpus root, or delete the split file "
                "to make a new split (results made with the old one will no longer compare)"
            )
    return split_sha256(speaker_folds)


def write_split(splits_dir: Path, corpus: str, speaker_folds: dict[str, int]) -> str:
    """Fix the corpus' split in `benchmark/splits/<corpus>.json` (unchanged if already there)."""
    digest = check_split(splits_dir, corpus, speaker_folds)
    path = split_path(splits_dir, corpus)
    if not path.exists():
        atomic_write_json(path, {"schema": SPLIT_SCHEMA, "corpus": corpus, "speaker_folds": speaker_folds, "sha256": digest})
    return digest


@dataclass(frozen=True)
class Rotation:
    index: int
    test_fold: int
    validation_fold: int
    training_folds: tuple[int, ...]


def rotation(index: int, folds: Folds) -> Rotation:
    """Rotation r: test = fold r, validation = fold r + offset (mod count), D1 = the rest."""
    if not 0 <= index < folds.count:
        raise ProtocolError(f"rotation {index} does not exist: rotations are 0..{folds.count - 1}")
    test = index
    validation = (index + folds.validation_offset) % folds.count
    training = tuple(fold for fold in range(folds.count) if fold not in (test, validation))
    return Rotation(index, test, validation, training)
