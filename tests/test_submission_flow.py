"""Submitting by pull request: `privbench leaderboard check`, the JSON Schema of records, the workflow files."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, invoke
from privbench.data.folds import write_split
from privbench.protocol import get_protocol
from privbench.records import record_path, summarise

SPEAKERS = {f"{g}{i}": i % 5 for g in "FM" for i in range(10)}


def _record(name: str, protocol, split_sha: str, sha: str = "ab" * 32, modality: str = "audio") -> dict:
    values = {n: [0.5, 0.6, 0.55, 0.52, 0.58] for n in ("uar", "uar_male", "uar_female", "leakage", "privacy", "membership",
                                                        "membership_speaker")}
    return {
        "schema": "privbench.result/1",
        "encoder": {"name": name, "sha256": sha, "display_name": name.title()},
        "protocol": {"version": protocol.version, "sha256": protocol.sha256, "budget": "quick"},
        "corpus": {"name": "synthetic", "content_sha256": "ef" * 32, "split_sha256": split_sha},
        "modality": modality, "task": "activation",
        "metrics": {n: summarise(n, v, 1, 0.05) for n, v in values.items()},
        "chance_reached": None, "config": {}, "runtime_s": 1.0,
        "environment": {"privbench": "0.1.0", "torch": "2", "device": "cpu", "git": "x"}, "created": "2026-01-01T00:00:00+00:00",
        "submission": {"name": name, "url": "https://example.org", "authors": ["A. Person"]},
    }


def _write(results: Path, record: dict, path: Path | None = None) -> Path:
    path = path or record_path(results, record["encoder"]["name"], "quick", record["corpus"]["name"], record["modality"], record["task"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record))
    return path


@pytest.fixture
def clone(isolated):
    protocol = get_protocol()
    split = write_split(isolated / "benchmark" / "splits", "synthetic", SPEAKERS)
    return isolated, protocol, split


def test_good_records_pass_the_check(clone, runner):
    root, protocol, split = clone
    results = root / "leaderboard" / "results"
    _write(results, _record("mine", protocol, split))
    _write(results, _record("mine", protocol, split, modality="text"))
    result = invoke(runner, "leaderboard", "check")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"2 records in {results}: all acceptable"


def test_each_bad_record_gets_one_line_naming_its_file(clone, runner):
    root, protocol, split = clone
    results = root / "leaderboard" / "results"
    good = _write(results, _record("mine", protocol, split))
    _write(results, _record("mine", protocol, split, modality="multimodal"))
    old_protocol = _record("stale", protocol, split)
    old_protocol["protocol"]["sha256"] = "12" * 32
    other_split = _record("resplit", protocol, "34" * 32)
    no_split = _record("elsewhere", protocol, split)
    no_split["corpus"]["name"] = "mycorpus"
    impostor = _record("mine", protocol, split, sha="cd" * 32, modality="text")  # the name belongs to sha ab...
    hostile = _record("evil", protocol, split)
    hostile["encoder"]["name"] = "<img src=x>"
    paths = {"stale": _write(results, old_protocol), "resplit": _write(results, other_split),
             "elsewhere": _write(results, no_split), "impostor": _write(results, impostor),
             "hostile": _write(results, hostile, results / "evil" / "quick" / "synthetic" / "audio-activation.json"),
             "moved": _write(results, _record("moved", protocol, split), results / "moved" / "quick" / "synthetic" / "x.json")}
    result = invoke(runner, "leaderboard", "check")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    problems = lines[:-1]
    assert lines[-1].startswith("privbench: error: 6 problems in")
    expected = {
        "stale": "made under protocol 2 121212121212, not this clone's",
        "resplit": "split sha256 343434343434 differs from",
        "elsewhere": "no split file",
        "impostor": "encoder name 'mine' already belongs to sha256 abababababab",
        "hostile": "encoder.name '<img src=x>' must be lower-case letters",
        "moved": "its content names moved/quick/synthetic/audio-activation.json",
    }
    for key, text in expected.items():
        assert any(line.startswith(f"privbench: {paths[key]}: ") and text in line for line in problems), (key, problems)
    assert not any(str(good) in line for line in problems)


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def test_against_the_base_no_record_on_the_leaderboard_changes_and_names_stay_taken(clone, runner):
    root, protocol, split = clone
    results = root / "leaderboard" / "results"
    theirs = _write(results, _record("theirs", protocol, split))
    _git(root, "init", "-q")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@t", "add", "-A")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base")
    changed = json.loads(theirs.read_text())
    changed["metrics"]["uar"] = summarise("uar", [0.9] * 5, 1, 0.05)
    theirs.write_text(json.dumps(changed))
    squatter = _write(results, _record("theirs", protocol, split, sha="cd" * 32, modality="text"))
    mine = _write(results, _record("mine", protocol, split))
    result = invoke(runner, "leaderboard", "check", "--base", "HEAD")
    assert result.exit_code == 1
    problems = result.stderr.strip().splitlines()[:-1]
    assert any(line.startswith(f"privbench: {theirs}: changes a record already on the leaderboard (HEAD)") for line in problems)
    assert any(line.startswith(f"privbench: {squatter}: ") and "'theirs' is taken on the leaderboard by sha256 abababababab"
               in line for line in problems)
    assert not any(str(mine) in line for line in problems)
    theirs.unlink()
    deleted = invoke(runner, "leaderboard", "check", "--base", "HEAD")
    assert f"{theirs}: deletes a record already on the leaderboard" in deleted.stderr


def test_the_json_schema_accepts_good_records_and_refuses_hostile_ones(clone):
    import jsonschema  # the dev extra's; the tests need it as they need pytest

    _, protocol, split = clone
    schema = json.loads((REPO / "leaderboard" / "result.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    good = _record("mine", protocol, split)
    assert not list(validator.iter_errors(good))
    for path in sorted((REPO / "leaderboard" / "results").rglob("*.json")):  # every committed record
        assert not list(validator.iter_errors(json.loads(path.read_text()))), path
    tampering = [
        lambda r: r["encoder"].update(name="x/../../y"),
        lambda r: r["encoder"].update(name='"><script>alert(1)</script>'),
        lambda r: r["submission"].update(url="javascript:alert(1)"),
        lambda r: r["protocol"].update(sha256="not hex"),
        lambda r: r.update(extra="?"),
        lambda r: r["metrics"]["privacy"].update(inverted="yes"),
        lambda r: r.update(modality="video"),
    ]
    for tamper in tampering:
        bad = copy.deepcopy(good)
        tamper(bad)
        assert list(validator.iter_errors(bad)), bad


def test_every_workflow_file_follows_githubs_workflow_schema():
    checker = Path(sys.executable).parent / "check-jsonschema"
    assert checker.exists(), "install the dev extra: pip install -e '.[dev]' (check-jsonschema)"
    workflows = sorted((REPO / ".github" / "workflows").glob("*.yml"))
    assert {p.name for p in workflows} >= {"leaderboard.yml", "submission.yml"}
    done = subprocess.run([str(checker), "--builtin-schema", "vendor.github-workflows", *map(str, workflows)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
