"""What the store holds, and pruning what no result record needs (`privbench cache`).

A result record lists the training jobs it rests on (`stored`). Everything
else in the store can be made again, and is pruned on request: training jobs
no record names, the representation sets no kept job trains on, and scores
other than the current scoring code's of a kept job. The job cache of
protocol 2 (`<cache>/jobs/`, one JSON per job that trained and attacked in
one step) is no longer read, and is pruned whole.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from privbench.paths import cache_root
from privbench.store.artifacts import KINDS, read_arrays, size_bytes, stored

LEGACY_JOBS = "jobs"  # protocol 2's job cache


@dataclass
class Usage:
    """Per kind: (artifacts, bytes) held, and of those, (artifacts, bytes) that no record needs."""

    held: dict[str, tuple[int, int]] = field(default_factory=dict)
    unneeded: dict[str, tuple[int, int]] = field(default_factory=dict)
    unneeded_paths: list[Path] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        return sum(size for _, size in self.held.values())

    @property
    def unneeded_bytes(self) -> int:
        return sum(size for _, size in self.unneeded.values())


def _legacy() -> Path:
    return cache_root() / LEGACY_JOBS


def _folder_size(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*") if p.is_file()] if folder.is_dir() else []
    return len(files), sum(size_bytes(p) for p in files)


def usage(needed_jobs: Iterable[str], current_score: Callable[[str], str]) -> Usage:
    """What the store holds against the training jobs that records name (`needed_jobs`);
    `current_score(job key)` gives the key of that job's score under the current scoring code."""
    needed = set(needed_jobs)
    wanted_scores = {current_score(key) for key in needed}
    wanted_shared: set[str] = set()
    report = Usage()
    for kind in KINDS:
        count = size = 0
        spare_count = spare_size = 0
        for key, path in stored(kind):
            nbytes = size_bytes(path)
            count, size = count + 1, size + nbytes
            if kind == "train":
                keep = key in needed
                if keep:
                    found = read_arrays("train", key, with_arrays=False)
                    if found and found[0].get("representation"):
                        wanted_shared.add(found[0]["representation"])
            elif kind == "scores":
                keep = key in wanted_scores
            else:
                continue  # representation sets are judged once every kept job is known
            if not keep:
                spare_count, spare_size = spare_count + 1, spare_size + nbytes
                report.unneeded_paths.append(path)
        report.held[kind] = (count, size)
        report.unneeded[kind] = (spare_count, spare_size)
    spare = [(path, size_bytes(path)) for key, path in stored("representations") if key not in wanted_shared]
    report.unneeded["representations"] = (len(spare), sum(size for _, size in spare))
    report.unneeded_paths += [path for path, _ in spare]
    legacy = _folder_size(_legacy())
    if legacy[0]:
        report.held["jobs (protocol 2)"] = legacy
        report.unneeded["jobs (protocol 2)"] = legacy
    return report


def prune(report: Usage) -> int:
    """Delete what `report` found unneeded; returns the bytes freed."""
    for path in report.unneeded_paths:
        path.unlink(missing_ok=True)
    if _legacy().is_dir():
        shutil.rmtree(_legacy(), ignore_errors=True)
    return report.unneeded_bytes
