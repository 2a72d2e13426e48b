"""Result records: one JSON file per (encoder, budget, corpus, modality, task).

The schema is ARCHITECTURE.md's, checked on read: a record that fails is
named by path and refused, never silently used. Each metric holds its mean
and its per-rotation values (what the paired t-tests of section 7 need).

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
from privbench.storage import atomic_write_json

SCHEMA = "privbench.result/1"
REQUIRED_METRICS = ("uar", "uar_male", "uar_female", "leakage", "privacy", "membership", "membership_speaker")
OPTIONAL_METRICS = ("gap", "privacy_worst", "privacy_mlp", "privacy_logistic", "privacy_knn",
                    "membership_auc", "membership_tpr_at_1fpr")


class RecordError(PrivbenchError):
    """A result record that does not follow the schema."""


def record_path(results: Path, encoder: str, budget: str, corpus: str, modality: str, task: str) -> Path:
    return results / encoder / budget / corpus / f"{modality}-{task}.json"


def metric(values: list[float]) -> dict[str, Any]:
    finite = [v for v in values if v is not None and not math.isnan(v)]
    return {"mean": sum(finite) / len(finite) if finite else None, "rotations": [None if v is None or math.isnan(v) else v for v in values]}


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
                 metrics: dict[str, list[float]], chance_reached: bool | None, config: Any, runtime_s: float,
                 device: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    record = {
        "schema": SCHEMA, "encoder": encoder, "protocol": protocol, "corpus": corpus, "modality": modality, "task": task,
        "metrics": {name: metric(values) for name, values in metrics.items()},
        "chance_reached": chance_reached, "config": config, "runtime_s": round(runtime_s, 3),
        "environment": environment(device), "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    if extra:
        record.update(extra)
    validate(record, "the new record")
    return record


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
    for name in REQUIRED_METRICS:
        _need(name in record["metrics"], where, f"metrics.{name} is missing")
    for name, value in record["metrics"].items():
        _need(name in REQUIRED_METRICS + OPTIONAL_METRICS, where, f"metrics.{name} is not a known metric")
        _need(isinstance(value, dict) and isinstance(value.get("rotations"), list), where, f"metrics.{name}.rotations must be a list")
        numbers = [v for v in value["rotations"] if v is not None]
        _need(all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in numbers), where,
              f"metrics.{name}.rotations holds a non-number")
        mean = value.get("mean")
        _need(mean is None or (isinstance(mean, (int, float)) and math.isfinite(mean)), where, f"metrics.{name}.mean is not a number")
        if numbers and mean is not None:
            _need(abs(mean - sum(numbers) / len(numbers)) < 1e-9, where, f"metrics.{name}.mean does not match its rotations")
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
