"""Helpers the official-release adapters share: finding files among spelling variants,
skipping macOS `._*` files, reading a WAV's duration from its header, and the notes an
adapter leaves for the user (for example a failed data check)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import soundfile

from privbench.errors import CorpusError


def visible(paths: Iterable[Path]) -> list[Path]:
    """Paths without hidden parts (`._x.wav` AppleDouble files, `.DS_Store`), sorted."""
    return sorted(p for p in paths if not any(part.startswith(".") for part in p.parts[-2:]))


def first_existing(root: Path, candidates: Iterable[str]) -> Path | None:
    """The first of several spellings that exists under `root`."""
    for name in candidates:
        if (root / name).exists():
            return root / name
    return None


def wav_index(root: Path, pattern: str = "*.wav") -> dict[str, Path]:
    """stem -> path of every visible WAV under `root` (recursive)."""
    return {path.stem: path for path in visible(root.rglob(pattern))}


def duration_s(path: Path) -> float:
    try:
        info = soundfile.info(str(path))
    except (RuntimeError, soundfile.LibsndfileError) as error:
        if _is_lfs_pointer(path):
            raise CorpusError(f"{path} is a Git LFS pointer, not audio: run git lfs pull in the corpus' repository") from None
        raise CorpusError(f"{path} is not readable audio ({error}): check the file or remove it from the corpus") from None
    return info.frames / info.samplerate


def _is_lfs_pointer(path: Path) -> bool:
    """A repository cloned without Git LFS (CREMA-D's) holds small text files in place of audio."""
    with open(path, "rb") as handle:
        return handle.read(40).startswith(b"version https://git-lfs")


def raw_table(rows: list[dict], notes: list[str]) -> pd.DataFrame:
    """Raw rows as a DataFrame carrying the adapter's notes (shown by privbench prepare)."""
    table = pd.DataFrame(rows)
    table.attrs["notes"] = list(notes)
    return table


def missing_root(root: Path, expected: str, hint: str) -> CorpusError:
    return CorpusError(f"no {expected} under {root}: {hint}")
