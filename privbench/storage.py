"""Atomic writes and content hashes.

Everything privbench writes (splits, tables, caches, records) goes through
here: first to a temporary name in the same folder, then renamed into place,
so a killed run leaves either the old file or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def check_writable_folder(path: Path, what: str) -> None:
    """Refuse, in one line and before anything runs, a folder privbench could not write into later: a
    path that is a file, one below a file, or one whose nearest existing folder does not take a new
    file (permissions, a read-only disk). Nothing is created: a probe file is made and removed."""
    from privbench.errors import PrivbenchError

    path = Path(path).expanduser()
    if path.exists() and not path.is_dir():
        raise PrivbenchError(f"{what} {path} is a file, not a folder: give a folder to write into")
    existing = path
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        raise PrivbenchError(f"{what} {path} cannot be made: {existing} is a file, not a folder")
    try:
        handle, probe = tempfile.mkstemp(dir=existing, prefix=".privbench-probe-")
        os.close(handle)
        os.unlink(probe)
    except OSError as error:
        raise PrivbenchError(f"{what} {path} is not writable ({existing}: {error.strerror or error}): "
                             "give a folder you can write into") from None


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and fixed separators: equal values, equal bytes."""
    return json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def atomic_write_json(path: Path, value: Any) -> None:
    atomic_write_text(path, canonical_json(value))


@contextlib.contextmanager
def atomic_directory(path: Path) -> Iterator[Path]:
    """Yield a temporary folder that becomes `path` only if the block succeeds.

    An existing `path` is replaced whole. A crash leaves a `.tmp` sibling that
    the next attempt ignores and a later one cleans up.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        yield temporary
        if path.exists():
            retired = temporary.with_name(temporary.name + ".old")
            os.replace(path, retired)
            os.replace(temporary, path)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(temporary, path)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()
