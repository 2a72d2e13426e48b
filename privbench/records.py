"""Result records: one JSON file per (encoder, budget, corpus, modality, task).

The schema is ARCHITECTURE.md's, checked on read: a record that fails is
named by path and refused, never silently used. Each metric holds its mean,
sample sd and n, its per-rotation values (what the paired t-tests of section 7
need) and, for attacks that can invert, one `inverted` flag per rotation.

    leaderboard/results/<encoder>/<budget>/<corpus>/<modality>-<task>.json
"""

from __future__ import annotations

import json
import math
import platform
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from privbench.errors import PrivbenchError
from privbench.metric_defs import BY_NAME, REQUIRED
from privbench.storage import atomic_write_json

# Protocol 2 added to each metric its sd, n and (for attacks that can invert) per-rotation flags;
# the schema name is unchanged because every version-1 key kept its meaning.
SCHEMA = "privbench.result/1"


class RecordError(PrivbenchError):
    """A result record that does not follow the schema."""


def record_path(results: Path, encoder: str, budget: str, corpus: str, modality: str, task: str) -> Path:
    return results / encoder / budget / corpus / f"{modality}-{task}.json"


def _finite(value: float | None) -> bool:
    return value is not None and not math.isnan(value)


def summarise(name: str, values: list[float | None], seeds: int, margin: float) -> dict[str, Any]:
    """One metric of a record: mean, sample sd and n over the finite rotations, the per-rotation
    values (each the seeds' mean), and, for attacks that can invert, the per-rotation flags."""
    rotations = [float(v) if _finite(v) else None for v in values]
    finite = [v for v in rotations if v is not None]
    mean = sum(finite) / len(finite) if finite else None
    sd = math.sqrt(sum((v - mean) ** 2 for v in finite) / (len(finite) - 1)) if len(finite) > 1 else None
    summary = {"mean": mean, "sd": sd, "n": len(finite) * seeds, "rotations": rotations}
    definition = BY_NAME[name]
    if definition.inverted_side is not None:
        summary["inverted"] = [definition.is_inverted(v, margin) for v in rotations]
    return summary


def values(record: dict[str, Any], name: str, ranked: bool = True) -> list[float | None] | None:
    """A metric's per-rotation values (None where missing); `ranked` counts inverted rotations as chance,
    as rankings and comparisons do (PROTOCOL.md section 6)."""
    entry = record["metrics"].get(name)
    if entry is None:
        return None
    if not ranked:
        return list(entry["rotations"])
    flags = entry.get("inverted") or [False] * len(entry["rotations"])
    return [BY_NAME[name].ranked(value, flag) for value, flag in zip(entry["rotations"], flags)]


def cell(record: dict[str, Any], reference: dict[str, Any], name: str) -> tuple[str, list, list]:
    """One comparison cell for stats.compare: the metric and both records' ranked per-rotation values."""
    return name, values(record, name) or [], values(reference, name) or []


def inverted_count(record: dict[str, Any], name: str) -> int:
    return sum(bool(flag) for flag in record["metrics"].get(name, {}).get("inverted") or [])


def environment(device: str) -> dict[str, str]:
    import torch

    from privbench import __version__
    from privbench.paths import repo_root

    try:
        git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repo_root(), capture_output=True, text=True,
                             timeout=10).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        git = "unknown"
    return {"privbench": __version__, "torch": torch.__version__, "python": platform.python_version(),
            "device": device, "git": git}


def build_record(*, encoder: dict[str, str], protocol: dict[str, str], corpus: dict[str, str], modality: str, task: str,
                 metrics: dict[str, list[float]], seeds: int, inversion_margin: float, chance_reached: bool | None,
                 config: Any, runtime_s: float, device: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    record = {
        "schema": SCHEMA, "encoder": encoder, "protocol": protocol, "corpus": corpus, "modality": modality, "task": task,
        "metrics": {name: summarise(name, values, seeds, inversion_margin) for name, values in metrics.items()},
        "chance_reached": chance_reached, "config": config, "runtime_s": round(runtime_s, 3),
        "environment": environment(device), "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    if extra:
        record.update(extra)
    validate(record, "the new record")
    return record


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _need(condition: bool, where: str, message: str) -> None:
    if not condition:
        raise RecordError(f"{where}: {message}")


def validate(record: Any, where: str) -> dict[str, Any]:
    """Check a record against the schema; raise RecordError naming `where` and the key."""
    _need(isinstance(record, dict), where, "not a JSON object")
    _need(record.get("schema") == SCHEMA, where, f"schema is {record.get('schema')!r}, expected {SCHEMA!r}")
    for key, fields in (("encoder", ("name", "sha256", "display_name")), ("protocol", ("version", "sha256", "budget")),
                        ("corpus", ("name", "content_sha256", "split_sha256"))):
        _need(isinstance(record.get(key), dict), where, f"{key} must be an object")
        for name in fields:
            _need(isinstance(record[key].get(name), str) and record[key][name] != "", where, f"{key}.{name} must be a non-empty string")
    for key in ("modality", "task", "created"):
        _need(isinstance(record.get(key), str), where, f"{key} must be a string")
    _need(isinstance(record.get("metrics"), dict), where, "metrics must be an object")
    for name in REQUIRED:
        _need(name in record["metrics"], where, f"metrics.{name} is missing")
    for name, value in record["metrics"].items():
        _need(name in BY_NAME, where, f"metrics.{name} is not a known metric")
        _need(isinstance(value, dict) and isinstance(value.get("rotations"), list), where, f"metrics.{name}.rotations must be a list")
        numbers = [v for v in value["rotations"] if v is not None]
        _need(all(_is_number(v) for v in numbers), where, f"metrics.{name}.rotations holds a non-number")
        for key in ("mean", "sd"):
            _need(value.get(key) is None or _is_number(value[key]), where, f"metrics.{name}.{key} is not a number")
        mean, sd = value.get("mean"), value.get("sd")
        if numbers and mean is not None:
            _need(abs(mean - sum(numbers) / len(numbers)) < 1e-9, where, f"metrics.{name}.mean does not match its rotations")
        if len(numbers) > 1 and sd is not None:
            expected = math.sqrt(sum((v - mean) ** 2 for v in numbers) / (len(numbers) - 1))
            _need(abs(sd - expected) < 1e-9, where, f"metrics.{name}.sd does not match its rotations")
        n = value.get("n")
        _need(n is None or (isinstance(n, int) and not isinstance(n, bool) and n >= len(numbers)), where,
              f"metrics.{name}.n must be a whole number, at least the count of its rotations")
        flags = value.get("inverted")
        _need(flags is None or (isinstance(flags, list) and len(flags) == len(value["rotations"])
                                and all(isinstance(f, bool) for f in flags)), where,
              f"metrics.{name}.inverted must be one true/false per rotation")
    _need(record.get("chance_reached") in (True, False, None), where, "chance_reached must be true, false or null")
    _need(isinstance(record.get("runtime_s"), (int, float)), where, "runtime_s must be a number")
    _need(isinstance(record.get("environment"), dict), where, "environment must be an object")
    return record


def write_record(results: Path, record: dict[str, Any]) -> Path:
    path = record_path(results, record["encoder"]["name"], record["protocol"]["budget"], record["corpus"]["name"],
                       record["modality"], record["task"])
    atomic_write_json(path, record)
    return path


def read_record(path: Path) -> dict[str, Any]:
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise RecordError(f"{path}: not readable JSON ({error})") from None
    return validate(record, str(path))


def read_records(results: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Every valid record under `results`, and one line per refused file."""
    records, refused = [], []
    for path in sorted(results.rglob("*.json")) if results.is_dir() else []:
        try:
            records.append(read_record(path))
        except RecordError as error:
            refused.append(str(error))
    return records, refused
