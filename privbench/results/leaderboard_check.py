"""`privbench leaderboard check`: is a set of result records acceptable on the leaderboard?

What a pull request's check runs (.github/workflows/submission.yml), and what a
submitter runs first. One line per problem, naming the file:

- every record passes the schema (privbench/records.py, leaderboard/result.schema.json)
  and sits at the path its content names;
- it was made under this clone's protocol (version and the sha256 of
  benchmark/protocol.toml) and on the corpus split committed in
  benchmark/splits/<corpus>.json (the same sha256);
- an encoder name belongs to one encoder: all records of a name share one
  encoder sha256 (the one most of its records carry; ties: the earliest record's);
- with `base` (a git revision, the pull request's target): no record that
  exists there is changed or deleted, and a new record of an encoder name the
  base already has carries that encoder's sha256.
"""

from __future__ import annotations

import subprocess
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

from privbench.errors import PrivbenchError
from privbench.data.folds import read_split, split_path, split_sha256
from privbench.protocol import Protocol
from privbench.records import iter_records


def _seconds(created: str) -> float:
    return datetime.fromisoformat(created).timestamp()


def _split_digests(splits: Path, corpora: set[str]) -> dict[str, str | None]:
    digests: dict[str, str | None] = {}
    for corpus in corpora:
        path = split_path(splits, corpus)
        try:
            digests[corpus] = split_sha256(read_split(path)) if path.is_file() else None
        except PrivbenchError:
            digests[corpus] = None
    return digests


def _git(repo: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as error:
        raise PrivbenchError(f"git is needed to compare with the base revision: {error}") from None
    if done.returncode != 0:
        raise PrivbenchError(f"git {' '.join(args[:2])} failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode}"
                             ": is the base revision fetched (git fetch origin main)?")
    return done.stdout


def _base_records(repo: Path, base: str, results: Path) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """(path relative to the repository -> status A/M/D against base, encoder name -> a base record's encoder)."""
    import json

    folder = results.resolve().relative_to(repo.resolve()).as_posix()
    changes = {}
    for line in _git(repo, "diff", "--name-status", "--no-renames", base, "--", folder).splitlines():
        status, _, path = line.partition("\t")
        changes[path] = status[:1]
    for line in _git(repo, "ls-files", "--others", "--exclude-standard", "--", folder).splitlines():
        changes[line] = "A"
    owners: dict[str, dict[str, Any]] = {}
    for path in _git(repo, "ls-tree", "-r", "--name-only", base, "--", folder).splitlines():
        if not path.endswith(".json"):
            continue
        try:
            encoder = json.loads(_git(repo, "show", f"{base}:{path}"))["encoder"]
            owners.setdefault(encoder["name"], {"sha256": encoder["sha256"], "path": path})
        except (ValueError, KeyError, TypeError, PrivbenchError):
            continue
    return changes, owners


def check_results(results: Path, protocol: Protocol, splits: Path, base: str | None = None,
                  repo: Path | None = None) -> tuple[int, list[str]]:
    """(records read, one line per problem)."""
    found, problems = iter_records(results)
    corpora = {record["corpus"]["name"] for _, record in found}
    digests = _split_digests(splits, corpora)
    shas: dict[str, dict[str, list[Path]]] = defaultdict(lambda: defaultdict(list))
    created: dict[Path, str] = {}
    for path, record in found:
        run, corpus = record["protocol"], record["corpus"]
        if run["version"] != protocol.version or run["sha256"] != protocol.sha256:
            problems.append(f"{path}: made under protocol {run['version']} {run['sha256'][:12]}, not this clone's "
                            f"{protocol.version} {protocol.sha256[:12]} (benchmark/protocol.toml): evaluate again with it")
        expected = digests.get(corpus["name"])
        if expected is None:
            problems.append(f"{path}: no split file {split_path(splits, corpus['name'])}: add the split the records were made on")
        elif corpus["split_sha256"] != expected:
            problems.append(f"{path}: split sha256 {corpus['split_sha256'][:12]} differs from {split_path(splits, corpus['name'])} "
                            f"({expected[:12]}): evaluate on the committed split")
        shas[record["encoder"]["name"]][record["encoder"]["sha256"]].append(path)
        created[path] = record["created"]
    for name, by_sha in sorted(shas.items()):
        if len(by_sha) > 1:
            majority = max(by_sha, key=lambda sha: (len(by_sha[sha]), -min(_seconds(created[p]) for p in by_sha[sha]), sha))
            for sha, paths in sorted(by_sha.items()):
                if sha != majority:
                    problems += [f"{path}: encoder name {name!r} already belongs to sha256 {majority[:12]}; this record's "
                                 f"encoder is {sha[:12]}: give your submission its own name" for path in paths]
    if base is not None:
        repo = repo or results
        top = Path(_git(repo, "rev-parse", "--show-toplevel").strip())
        changes, owners = _base_records(top, base, results)
        for path, status in sorted(changes.items()):
            if status in ("M", "D"):
                problems.append(f"{top / path}: {'changes' if status == 'M' else 'deletes'} a record already on the "
                                f"leaderboard ({base}): leave others' records as they are")
        for file, record in found:
            relative = file.resolve().relative_to(top.resolve()).as_posix()
            owner = owners.get(record["encoder"]["name"])
            if changes.get(relative) == "A" and owner and owner["sha256"] != record["encoder"]["sha256"]:
                problems.append(f"{file}: encoder name {record['encoder']['name']!r} is taken on the leaderboard by sha256 "
                                f"{owner['sha256'][:12]} ({owner['path']}): give your submission its own name")
    return len(found), problems
