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


def _each_named(problems: list[str], paths: dict[str, Path], expected: dict[str, str]) -> None:
    """Every expected problem is one line that starts with its file's path."""
    for key, text in expected.items():
        assert any(line.startswith(f"privbench: {paths[key]}: ") and text in line for line in problems), (key, problems)


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
        "stale": f"made under protocol {protocol.version} 121212121212, not this clone's",
        "resplit": "split sha256 343434343434 differs from",
        "elsewhere": "no split file",
        "impostor": "encoder name 'mine' already belongs to sha256 abababababab",
        "hostile": "encoder.name '<img src=x>' must be lower-case letters",
        "moved": "its content names moved/quick/synthetic/audio-activation.json",
    }
    _each_named(problems, paths, expected)
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


# ---------------------------------------------------------------- what the check refuses beyond the schema

def test_the_check_refuses_records_whose_metrics_contradict_each_other(clone, runner):
    root, protocol, split = clone
    results = root / "leaderboard" / "results"
    fine = _record("fine", protocol, split)
    fine["metrics"]["privacy_mlp"] = copy.deepcopy(fine["metrics"]["privacy"])
    _write(results, fine)
    union = _record("union", protocol, split)  # U 0.91 while U(M) = U(F) = 0.33: no prediction gives that
    for name, value in (("uar", 0.91), ("uar_male", 0.33), ("uar_female", 0.33)):
        union["metrics"][name] = summarise(name, [value] * 5, 1, 0.05)
    mlp = _record("mlp", protocol, split)  # P 0.99 while the MLP family's P, which P is, is 0.50
    mlp["metrics"]["privacy"] = summarise("privacy", [0.99] * 5, 1, 0.05)
    mlp["metrics"]["privacy_mlp"] = summarise("privacy_mlp", [0.50] * 5, 1, 0.05)
    gap = _record("gapped", protocol, split)
    gap["metrics"]["gap"] = summarise("gap", [0.2] * 5, 1, 0.05)  # U(F) - U(M) is 0 in every rotation
    worst = _record("worst", protocol, split)
    for name, value in (("privacy_mlp", 0.5), ("privacy_logistic", 0.4), ("privacy_knn", 0.3), ("privacy_worst", 0.45)):
        worst["metrics"][name] = summarise(name, [value] * 5, 1, 0.05)
    worst["metrics"]["privacy"] = summarise("privacy", [0.5] * 5, 1, 0.05)
    lr = _record("surface", protocol, split)
    for name, value in (("membership_lr_auc", 0.7), ("membership_lr_auc_h", 0.6), ("membership_lr_auc_loss", 0.55)):
        lr["metrics"][name] = summarise(name, [value] * 5, 1, 0.05, pooled=value)
    lr["selection"] = {"membership_lr_surface": "h"}
    flags = _record("flags", protocol, split)
    flags["metrics"]["privacy"]["inverted"] = [True] * 5  # P 0.52..0.58: not all past the margin
    paths = {name: _write(results, record) for name, record in
             (("union", union), ("mlp", mlp), ("gapped", gap), ("worst", worst), ("surface", lr), ("flags", flags))}
    result = invoke(runner, "leaderboard", "check")
    assert result.exit_code == 1
    problems = result.stderr.strip().splitlines()[:-1]
    expected = {
        "union": "rotation 0: U 0.9100 exceeds U(M) + U(F) = 0.6600, which no prediction can give",
        "mlp": "rotation 0: P 0.99 differs from privacy_mlp 0.5, and P is the MLP family's P",
        "gapped": "rotation 0: the gap 0.2000 is not U(F) - U(M) = 0.0000",
        "worst": "rotation 0: privacy_worst 0.4500 is none of privacy_mlp, privacy_logistic, privacy_knn",
        "surface": "membership_lr_auc is not the h surface's (membership_lr_auc_h)",
        "flags": "metrics.privacy.inverted does not match its rotations at this protocol's margin (0.05 past chance)",
    }
    _each_named(problems, paths, expected)
    assert not any("/fine/" in line for line in problems)
    import shutil

    shutil.copytree(REPO / "leaderboard" / "templates", root / "leaderboard" / "templates")
    built = invoke(runner, "leaderboard", "build", "--no-markdown")  # the site leaves them out as well
    assert built.exit_code == 0 and "refused record:" in built.stderr and "union" in built.stderr


def test_the_check_refuses_smoke_records_and_the_templates_card(clone, runner):
    root, protocol, split = clone
    (root / "submissions" / "my_encoder").mkdir(parents=True)
    template = REPO / "submissions" / "my_encoder" / "submission.toml"
    (root / "submissions" / "my_encoder" / "submission.toml").write_text(template.read_text())
    results = root / "leaderboard" / "results"
    smoke = _record("quickly", protocol, split)
    smoke["protocol"]["budget"] = "smoke"
    for name in smoke["metrics"]:
        smoke["metrics"][name] = summarise(name, smoke["metrics"][name]["rotations"][:1], 1, 0.05)
    smoke_path = _write(results, smoke, record_path(results, "quickly", "smoke", "synthetic", "audio", "activation"))
    card = _record("unedited", protocol, split)
    card["submission"].update(url="https://github.com/your/repo", display_name="Template: attention-pooled acoustic encoder",
                              description="The template encoder privbench ships: the paper's acoustic stream with attention "
                                          "pooling instead of mean pooling, and no adversary. Copy it to start your own.")
    card_path = _write(results, card)
    result = invoke(runner, "leaderboard", "check")
    assert result.exit_code == 1
    problems = result.stderr.strip().splitlines()[:-1]
    assert any(line.startswith(f"privbench: {smoke_path}: budget smoke is below quick: it checks that the tool runs (1 rotation, "
                               "2 epochs) and says nothing about an encoder; evaluate with --budget quick or more") for line in problems)
    for key in ("url", "display_name", "description"):
        assert any(line.startswith(f"privbench: {card_path}: submission.{key} is still the template's") for line in problems), key
    assert len(problems) == 4


def test_the_pull_requests_records_are_checked_by_the_target_branchs_code(clone, runner, tmp_path):
    """What .github/workflows/submission.yml does, locally: the target branch's privbench (this one, whose clone is
    PRIVBENCH_ROOT) checks the records of another tree, a pull request that also edited the check to pass anything."""
    root, protocol, split = clone
    pr = tmp_path / "pr"
    (pr / "benchmark" / "splits").mkdir(parents=True)
    theirs = _write(pr / "leaderboard" / "results", _record("theirs", protocol, split))
    (pr / "privbench" / "results").mkdir(parents=True)
    check = pr / "privbench" / "results" / "leaderboard_check.py"
    check.write_text("def check_results(*args, **kwargs):\n    return 0, []\n")
    _git(pr, "init", "-q", "-b", "main")
    _git(pr, "-c", "user.name=t", "-c", "user.email=t@t", "add", "-A")
    _git(pr, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base")
    _git(pr, "checkout", "-q", "-b", "submission")
    check.write_text("def check_results(*args, **kwargs):\n    return 1, []  # everything passes\n")
    impossible = _record("mine", protocol, split)
    impossible["metrics"]["privacy"] = summarise("privacy", [0.99] * 5, 1, 0.05)
    impossible["metrics"]["privacy_mlp"] = summarise("privacy_mlp", [0.50] * 5, 1, 0.05)
    mine = _write(pr / "leaderboard" / "results", impossible)
    edited = json.loads(theirs.read_text())
    edited["metrics"]["uar"] = summarise("uar", [0.9] * 5, 1, 0.05)
    theirs.write_text(json.dumps(edited))
    _git(pr, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "results and a friendlier check")
    _git(pr, "-c", "user.name=t", "-c", "user.email=t@t", "add", "-A")
    _git(pr, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "mine")
    result = invoke(runner, "leaderboard", "check", "--results", str(pr / "leaderboard" / "results"), "--base", "main")
    assert result.exit_code == 1
    problems = result.stderr.strip().splitlines()[:-1]
    assert any(line.startswith(f"privbench: {mine}: rotation 0: P 0.99 differs from privacy_mlp 0.5") for line in problems)
    assert any(line.startswith(f"privbench: {theirs}: changes a record already on the leaderboard (main)") for line in problems)
    # ... and the pull request mixes code and records: flagged for review by the target branch's script
    scope = subprocess.run([sys.executable, str(REPO / "scripts" / "check_pr_scope.py"), "--repo", str(pr), "--base", "main"],
                           capture_output=True, text=True)
    assert scope.returncode == 1
    assert "changes privbench's code or what defines a record (privbench/results/leaderboard_check.py)" in scope.stderr
    assert "and result records (leaderboard/results/" in scope.stderr and "needs review" in scope.stderr
    _git(pr, "checkout", "-q", "main", "--", "privbench")  # records alone: in scope
    _git(pr, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "only records")
    alone = subprocess.run([sys.executable, str(REPO / "scripts" / "check_pr_scope.py"), "--repo", str(pr), "--base", "main"],
                           capture_output=True, text=True)
    assert alone.returncode == 0 and "result records only" in alone.stdout


def test_the_submission_workflow_checks_records_with_the_target_branchs_privbench():
    import yaml

    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "submission.yml").read_text())
    assert set(workflow[True]) == {"pull_request_target"}  # YAML's `on` is True: this file is the target branch's
    for job in workflow["jobs"].values():
        checkouts = [step for step in job["steps"] if step.get("uses", "").startswith("actions/checkout")]
        assert {step["with"]["path"] for step in checkouts} == {"base", "pr"}
        assert next(s for s in checkouts if s["with"]["path"] == "base")["with"]["ref"] == "${{ github.event.pull_request.base.sha }}"
        text = yaml.safe_dump(job)
        assert "pip install -e" not in text and "pr/.venv" not in text  # nothing of the pull request is installed or run
    records = workflow["jobs"]["records"]["steps"]
    install = next(step for step in records if "pip install" in step.get("run", ""))
    assert install["working-directory"] == "base"
    check = next(step for step in records if "leaderboard check" in step.get("run", ""))
    assert check["working-directory"] == "base" and check["run"].startswith(".venv/bin/privbench leaderboard check")
    assert '--results "${{ github.workspace }}/pr/leaderboard/results"' in check["run"]
    scope = workflow["jobs"]["scope"]["steps"]
    assert any("base/scripts/check_pr_scope.py --repo pr" in step.get("run", "") for step in scope)
    assert any("needs review" in step.get("run", "") and step.get("if", "").startswith("failure()") for step in scope)
    code = yaml.safe_load((REPO / ".github" / "workflows" / "submission-code.yml").read_text())
    assert set(code[True]) == {"pull_request"} and code["permissions"] == {"contents": "read"}
