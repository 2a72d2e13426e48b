"""Result records: one JSON file per (encoder, budget, corpus, modality, task).

The schema is leaderboard/result.schema.json's, checked on read: a record that
fails is named by path and refused, never silently used. Each metric holds its
mean, sample sd and n, its per-rotation values (what the paired t-tests of
docs/protocol.md section 7 need), for attacks that can invert one `inverted`
flag per rotation, and for a metric scored over every rotation's speakers at
once (MI-LR) its `pooled` value, the headline.

    leaderboard/results/<encoder>/<budget>/<corpus>/<modality>-<task>.json
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from privbench.errors import PrivbenchError
from privbench.scoring.metric_defs import BY_NAME, REQUIRED
from privbench.storage import atomic_write_text

# Protocol 2 added to each metric its sd, n and (for attacks that can invert) per-rotation flags;
# protocol 3 the identity and MI-LR metrics, `pooled`, and the keys that make a record a pure
# function of the stored artifacts. The schema name is unchanged because every earlier key kept
# its meaning.
SCHEMA = "privbench.result/1"


class RecordError(PrivbenchError):
    """A result record that does not follow the schema."""


def record_path(results: Path, encoder: str, budget: str, corpus: str, modality: str, task: str) -> Path:
    return results / encoder / budget / corpus / f"{modality}-{task}.json"


def _finite(value: float | None) -> bool:
    return value is not None and not math.isnan(value)


def summarise(name: str, values: list[float | None], seeds: int, margin: float,
              pooled: float | None = None) -> dict[str, Any]:
    """One metric of a record: mean, sample sd and n over the finite rotations, the per-rotation
    values (each the seeds' mean), for attacks that can invert the per-rotation flags, and for a
    pooled metric its pooled value."""
    rotations = [float(v) if _finite(v) else None for v in values]
    finite = [v for v in rotations if v is not None]
    mean = sum(finite) / len(finite) if finite else None
    sd = math.sqrt(sum((v - mean) ** 2 for v in finite) / (len(finite) - 1)) if len(finite) > 1 else None
    summary = {"mean": mean, "sd": sd, "n": len(finite) * seeds, "rotations": rotations}
    definition = BY_NAME[name]
    if definition.inverted_side is not None:
        summary["inverted"] = [definition.is_inverted(v, margin) for v in rotations]
    if definition.pooled:
        summary["pooled"] = float(pooled) if _finite(pooled) else None
    return summary


def values(record: dict[str, Any], name: str, ranked: bool = True) -> list[float | None] | None:
    """A metric's per-rotation values (None where missing); `ranked` counts every value on the privacy
    side of chance as chance, as rankings and comparisons do (docs/protocol.md section 6)."""
    entry = record["metrics"].get(name)
    if entry is None:
        return None
    if not ranked:
        return list(entry["rotations"])
    return [BY_NAME[name].ranked(value) for value in entry["rotations"]]


def headline(record: dict[str, Any], name: str, ranked: bool = False) -> float | None:
    """The value a table shows for a metric: the pooled value of a pooled metric, else the mean over
    rotations; `ranked`: as rankings count it (the privacy side of chance as chance)."""
    entry = record["metrics"].get(name)
    if entry is None:
        return None
    definition = BY_NAME[name]
    if definition.pooled and "pooled" in entry:
        value = entry["pooled"]
        return definition.ranked(value) if ranked and value is not None else value
    if not ranked:
        return entry.get("mean")
    numbers = [v for v in values(record, name) or [] if v is not None]
    return sum(numbers) / len(numbers) if numbers else None


def cell(record: dict[str, Any], reference: dict[str, Any], name: str) -> tuple[str, list, list]:
    """One comparison cell for stats.compare: the metric and both records' ranked per-rotation values."""
    return name, values(record, name) or [], values(reference, name) or []


def inverted_count(record: dict[str, Any], name: str) -> int:
    return sum(bool(flag) for flag in record["metrics"].get(name, {}).get("inverted") or [])


def build_record(*, encoder: dict[str, str], protocol: dict[str, str], corpus: dict[str, str], modality: str, task: str,
                 metrics: dict[str, list[float]], seeds: int, inversion_margin: float, chance_reached: bool | None,
                 config: Any, runtime_s: float, environment: dict[str, str], created: str,
                 pooled: dict[str, float | None] | None = None, extra: dict[str, Any] | None = None) -> ResultRecord:
    """A validated record. `environment` and `created` are the training's (of the newest stored job the
    record rests on), not the moment the record is written, so re-creating it gives the same bytes."""
    pooled = pooled or {}
    record = {
        "schema": SCHEMA, "encoder": encoder, "protocol": protocol, "corpus": corpus, "modality": modality, "task": task,
        "metrics": {name: summarise(name, values, seeds, inversion_margin, pooled.get(name)) for name, values in metrics.items()},
        "chance_reached": chance_reached, "config": config, "runtime_s": round(runtime_s, 3),
        "environment": dict(environment), "created": created,
    }
    if extra:
        record.update(extra)
    return ResultRecord.from_json(record, "the new record")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _need(condition: bool, where: str, message: str) -> None:
    if not condition:
        raise RecordError(f"{where}: {message}")


# Records arrive by pull request: every string that becomes a path, a URL or markup is checked.
# Encoder and corpus names become path parts and HTML ids: lower-case letters and digits, joined by single
# hyphens or dots (submission names use hyphens only; privbench's lambda variants read "priv-c-lambda-0.75").
SAFE_NAME = re.compile(r"[a-z0-9]+(?:[-.][a-z0-9]+)*")
SHA256 = re.compile(r"[0-9a-f]{64}")
VERSION = re.compile(r"[0-9]+(?:\.[0-9]+)*")
URL = re.compile(r"https?://[^\s\"'<>]+")
TOP_LEVEL = {"schema", "encoder", "protocol", "corpus", "modality", "task", "metrics", "chance_reached", "config",
             "runtime_s", "environment", "created",
             # written by privbench evaluate beyond the core keys (leaderboard/result.schema.json documents each)
             "submission", "synthetic", "jobs", "timings_s", "epochs", "selection", "chance_reached_source", "stored"}
TEXT_LIMIT = 2000  # characters of a display name, description or author


def _text(value: Any, where: str, key: str, limit: int = TEXT_LIMIT, empty: bool = False) -> None:
    _need(isinstance(value, str) and (empty or value.strip() != "") and len(value) <= limit, where,
          f"{key} must be {'a' if empty else 'a non-empty'} string of at most {limit} characters")


def _identity(record: dict[str, Any], where: str, protocol) -> None:
    for key, fields in (("encoder", ("name", "sha256", "display_name")), ("protocol", ("version", "sha256", "budget")),
                        ("corpus", ("name", "content_sha256", "split_sha256"))):
        _need(isinstance(record.get(key), dict), where, f"{key} must be an object")
        for name in fields:
            _need(isinstance(record[key].get(name), str) and record[key][name] != "", where, f"{key}.{name} must be a non-empty string")
        unknown = sorted(set(record[key]) - set(fields))
        _need(not unknown, where, f"{key}.{unknown[0] if unknown else ''} is not a known key")
    encoder, corpus, run = record["encoder"], record["corpus"], record["protocol"]
    for key, value in (("encoder.name", encoder["name"]), ("corpus.name", corpus["name"])):
        _need(SAFE_NAME.fullmatch(value) is not None, where, f"{key} {value[:60]!r} must be lower-case letters and digits joined by hyphens or dots")
    for key, value in (("encoder.sha256", encoder["sha256"]), ("protocol.sha256", run["sha256"]),
                       ("corpus.content_sha256", corpus["content_sha256"]), ("corpus.split_sha256", corpus["split_sha256"])):
        _need(SHA256.fullmatch(value) is not None, where, f"{key} must be 64 lower-case hexadecimal digits")
    _text(encoder["display_name"], where, "encoder.display_name", 200)
    _need(VERSION.fullmatch(run["version"]) is not None, where, f"protocol.version {run['version'][:20]!r} is not a version number")
    _need(run["budget"] in protocol.budgets, where, f"protocol.budget {run['budget'][:40]!r} is not one of {', '.join(protocol.budgets)}")
    _need(record.get("modality") in protocol.setups.modalities, where,
          f"modality must be one of {', '.join(protocol.setups.modalities)}")
    _need(record.get("task") in protocol.setups.tasks, where, f"task must be one of {', '.join(protocol.setups.tasks)}")


def _extras(record: dict[str, Any], where: str) -> None:
    """The keys privbench evaluate writes beyond the core ones, when present."""
    submission = record.get("submission")
    if submission is not None:
        _need(isinstance(submission, dict), where, "submission must be an object")
        for key in ("display_name", "description", "entry", "licence"):
            if key in submission:
                _text(submission[key], where, f"submission.{key}", empty=key == "description")
        if "name" in submission:
            _need(submission["name"] == record["encoder"]["name"], where, "submission.name differs from encoder.name")
        authors = submission.get("authors", [])
        _need(isinstance(authors, list) and all(isinstance(a, str) and len(a) <= 200 for a in authors), where,
              "submission.authors must be a list of strings")
        url = submission.get("url")
        _need(url is None or (isinstance(url, str) and URL.fullmatch(url) is not None and len(url) <= 500), where,
              "submission.url must be an http:// or https:// address")
        for key in ("modalities", "inputs"):
            _need(all(isinstance(v, str) for v in submission.get(key, [])), where, f"submission.{key} must be a list of strings")
        _need(submission.get("kind", "encoder") in ("encoder", "front end", "representations"), where,
              "submission.kind must be encoder, front end or representations")
        files = submission.get("representations", {})
        _need(isinstance(files, dict) and all(isinstance(k, str) and isinstance(v, str) and len(v) <= 200 for k, v in files.items()),
              where, "submission.representations must map corpus names to file names")
    _need(record.get("synthetic") in (None, True, False), where, "synthetic must be true or false")
    jobs = record.get("jobs")
    _need(jobs is None or (isinstance(jobs, dict) and all(isinstance(v, int) and v >= 0 for v in jobs.values())), where,
          "jobs must map a job kind to a count")
    timings = record.get("timings_s")
    _need(timings is None or (isinstance(timings, dict) and all(_is_number(v) and v >= 0 for v in timings.values())), where,
          "timings_s must map a phase to seconds")
    epochs = record.get("epochs")
    _need(epochs is None or (isinstance(epochs, list) and all(isinstance(v, int) and v >= 0 for v in epochs)), where,
          "epochs must be a list of epoch counts")
    _need(record.get("chance_reached_source") in (None, "privbench", "self_reported"), where,
          "chance_reached_source must be privbench, self_reported or null")
    stored = record.get("stored")
    _need(stored is None or (isinstance(stored, list) and all(isinstance(k, str) and SHA256.fullmatch(k) for k in stored)), where,
          "stored must be a list of sha256 keys")
    selection = record.get("selection")
    if selection is not None:
        _need(isinstance(selection, dict) and set(selection) <= {"chance_reached", "gender_uar", "membership_lr_surface"}, where,
              "selection holds chance_reached, gender_uar and membership_lr_surface only")
        _need(selection.get("membership_lr_surface") in (None, "h", "loss"), where,
              "selection.membership_lr_surface must be h, loss or null")
        _need(all(v in (True, False, None) for v in selection.get("chance_reached", [])), where,
              "selection.chance_reached must be true, false or null per rotation")
        _need(all(v is None or _is_number(v) for v in selection.get("gender_uar", [])), where,
              "selection.gender_uar must be numbers or null per rotation")


def validate(record: Any, where: str, protocol=None) -> dict[str, Any]:
    """Check a record against the schema (leaderboard/result.schema.json, and the checks JSON Schema
    cannot express: means that match their rotations, names the protocol knows); raise RecordError
    naming `where` and the key. Records are untrusted input."""
    from privbench.protocol import get_protocol

    protocol = protocol or get_protocol()
    _need(isinstance(record, dict), where, "not a JSON object")
    _need(record.get("schema") == SCHEMA, where, f"schema is {str(record.get('schema'))[:40]!r}, expected {SCHEMA!r}")
    unknown = sorted(set(record) - TOP_LEVEL)
    _need(not unknown, where, f"{unknown[0][:40] if unknown else ''} is not a known key")
    _identity(record, where, protocol)
    _need(isinstance(record.get("created"), str), where, "created must be a string")
    try:
        datetime.fromisoformat(record["created"])
    except ValueError:
        raise RecordError(f"{where}: created is not an ISO-8601 time") from None
    _need(isinstance(record.get("metrics"), dict), where, "metrics must be an object")
    for name in REQUIRED:
        _need(name in record["metrics"], where, f"metrics.{name} is missing")
    for name, value in record["metrics"].items():
        _need(name in BY_NAME, where, f"metrics.{name[:40]} is not a known metric")
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
        pooled = value.get("pooled")
        _need(pooled is None or _is_number(pooled), where, f"metrics.{name}.pooled is not a number")
        _need("pooled" not in value or BY_NAME[name].pooled, where, f"metrics.{name} is not a pooled metric")
        unknown = sorted(set(value) - {"mean", "sd", "n", "rotations", "inverted", "pooled"})
        _need(not unknown, where, f"metrics.{name}.{unknown[0][:40] if unknown else ''} is not a known key")
    _need(record.get("chance_reached") in (True, False, None), where, "chance_reached must be true, false or null")
    _need(isinstance(record.get("config"), dict), where, "config must be an object")
    _need(_is_number(record.get("runtime_s")) and record["runtime_s"] >= 0, where, "runtime_s must be a number of seconds")
    environment = record.get("environment")
    _need(isinstance(environment, dict) and all(isinstance(v, str) and len(v) <= 200 for v in environment.values()), where,
          "environment must map names to strings")
    _extras(record, where)
    return record


class ResultRecord(dict):
    """A result record that passed `validate`: the JSON's keys as a dict (what the templates and
    older code read), with typed accessors for the identity every consumer looks up.

    `from_json` validates every key (leaderboard/result.schema.json documents each) and `to_json`
    validates again before it serialises, so an invalid record can be neither read nor written.
    """

    @classmethod
    def from_json(cls, document: str | dict[str, Any], where: str = "a record") -> ResultRecord:
        if isinstance(document, str):
            try:
                document = json.loads(document)
            except ValueError as error:
                raise RecordError(f"{where}: not readable JSON ({error})") from None
        return cls(validate(document, where))

    def to_json(self) -> str:
        from privbench.storage import canonical_json

        return canonical_json(validate(dict(self), f"the record of {self.encoder_name}"))

    # (The accessors' names never repeat a key: templates read keys as attributes.)
    @property
    def encoder_name(self) -> str:
        return self["encoder"]["name"]

    @property
    def budget(self) -> str:
        return self["protocol"]["budget"]

    @property
    def corpus_name(self) -> str:
        return self["corpus"]["name"]

    @property
    def setup(self) -> tuple[str, str, str]:
        """(corpus, modality, task)."""
        return self["corpus"]["name"], self["modality"], self["task"]

    def mean(self, name: str) -> float | None:
        return self["metrics"].get(name, {}).get("mean")

    def ranked(self, name: str) -> list[float | None] | None:
        """Per-rotation values with inverted rotations counted as chance (what comparisons use)."""
        return values(self, name)

    def path_in(self, results: Path) -> Path:
        return record_path(results, self.encoder_name, self.budget, self.corpus_name, self["modality"], self["task"])


def write_record(results: Path, record: dict[str, Any]) -> Path:
    record = record if isinstance(record, ResultRecord) else ResultRecord(record)
    path = record.path_in(results)
    atomic_write_text(path, record.to_json())
    return path


def read_record(path: Path, results: Path | None = None) -> ResultRecord:
    """A validated record; with `results`, it must also sit at the path its content names."""
    try:
        text = path.read_text()
    except OSError as error:
        raise RecordError(f"{path}: not readable ({error.strerror})") from None
    record = ResultRecord.from_json(text, str(path))
    if results is not None:
        expected = record.path_in(results)
        _need(path.resolve() == expected.resolve(), str(path),
              f"its content names {expected.relative_to(results)}: a record must sit at the path its content names")
    return record


def iter_records(results: Path) -> tuple[list[tuple[Path, ResultRecord]], list[str]]:
    """Every valid record under `results` with its path, and one line per refused file."""
    found, refused = [], []
    for path in sorted(results.rglob("*.json")) if results.is_dir() else []:
        try:
            found.append((path, read_record(path, results)))
        except RecordError as error:
            refused.append(str(error))
    return found, refused


def read_records(results: Path) -> tuple[list[ResultRecord], list[str]]:
    """Every valid record under `results`, and one line per refused file."""
    found, refused = iter_records(results)
    return [record for _, record in found], refused
