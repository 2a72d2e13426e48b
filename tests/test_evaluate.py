"""Metrics, attacks, membership sets, significance, records, the job plan and `privbench evaluate`."""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as scipy_stats

from conftest import REPO, invoke
from privbench.scoring.attacks import Attack, MembershipData, attack_uar, leakage, membership, privacy, roc_auc, tpr_at_fpr
from privbench.measures import uar, utility
from privbench.run.plan import configurations
from privbench.protocol import get_protocol
from privbench.records import RecordError, read_record, read_records, record_path, summarise, validate, values, write_record
from privbench.scoring.stats import compare, paired_p
from privbench.encoders.submission import read_submission

# ---------------------------------------------------------------- metrics


def test_uar_is_the_mean_recall_over_classes_present_in_the_truth():
    # recalls: class 0 1/2, class 1 2/2, class 2 0/1 -> 0.5
    assert uar(np.array([0, 0, 1, 1, 2]), np.array([0, 1, 1, 1, 0])) == pytest.approx(0.5)
    # class 2 is predicted but absent from the truth: it does not count
    assert uar(np.array([0, 0, 1]), np.array([2, 0, 1])) == pytest.approx(0.75)
    assert math.isnan(uar(np.array([], dtype=int), np.array([], dtype=int)))


def test_utility_splits_by_gender_and_reports_the_gap():
    truth = np.array([0, 1, 2, 0, 1, 2])
    predicted = np.array([0, 1, 2, 0, 0, 0])
    gender = np.array([0, 0, 0, 1, 1, 1])  # F F F M M M
    scores = utility(truth, predicted, gender)
    assert scores["uar_female"] == pytest.approx(1.0)
    assert scores["uar_male"] == pytest.approx(1 / 3)
    assert scores["gap"] == pytest.approx(2 / 3)
    assert scores["uar"] == pytest.approx((1.0 + 0.5 + 0.5) / 3)


# ---------------------------------------------------------------- attacks on constructed representations

def _representations(gender: np.ndarray, informative: bool, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    h = rng.normal(size=(len(gender), 16)).astype(np.float32)
    if informative:
        h[:, 0] += 6.0 * (gender - 0.5)
    return h


@pytest.fixture(scope="module")
def genders():
    rng = np.random.default_rng(0)
    return [rng.integers(0, 2, size=n) for n in (160, 80, 120)]  # D1, validation, test


def test_a_representation_that_encodes_gender_leaks_and_gives_no_privacy(genders):
    attacker = get_protocol().attacker
    d1, valid, test = genders
    h = [_representations(g, True, i) for i, g in enumerate(genders)]
    assert leakage(h[0], d1, h[1], valid, h[2], test, attacker, 0) > 0.95
    scores = privacy(h[2], test, h[1], valid, h[0], d1, attacker, 0)
    assert scores["privacy"] < 0.05 and scores["privacy_worst"] < 0.05


def test_a_random_representation_gives_privacy_near_one_half(genders):
    attacker = get_protocol().attacker
    d1, valid, test = genders
    h = [_representations(g, False, i) for i, g in enumerate(genders)]
    scores = privacy(h[2], test, h[1], valid, h[0], d1, attacker, 0)
    assert 0.35 < scores["privacy"] < 0.65 and 0.35 < scores["privacy_worst"] < 0.65
    assert scores["privacy_worst"] in (scores["privacy_mlp"], scores["privacy_logistic"], scores["privacy_knn"])


def test_privacy_worst_catches_an_attacker_shape_the_mlp_misses():
    # Gender lives in the distance from the origin: a line cannot separate the rings, k-NN can. P-worst must
    # be the P of the family that is strongest on validation (k-NN here), not the paper's MLP's or the line's.
    attacker = get_protocol().attacker
    rng = np.random.default_rng(1)

    def ring(n):
        g = rng.integers(0, 2, size=n)
        angle = rng.uniform(0, 2 * np.pi, size=n)
        radius = np.where(g == 1, 3.0, 1.0) + rng.normal(0, 0.1, size=n)
        return np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1).astype(np.float32), g

    (test, g_test), (valid, g_valid), (d1, g_d1) = ring(200), ring(100), ring(200)
    scores = privacy(test, g_test, valid, g_valid, d1, g_d1, attacker, 0)
    assert scores["privacy_knn"] < 0.05 and scores["privacy_logistic"] > 0.25  # 1 - UAR: a line misses the rings
    assert scores["privacy_worst"] == scores["privacy_knn"] < scores["privacy_logistic"]


def test_privacy_worst_is_chosen_on_validation_not_on_the_scored_data(monkeypatch):
    # The scored data (D1) is where logistic does best and k-NN worst; on validation it is the other way
    # round. Version 2 took the lowest P on the scored data (logistic's); protocol 3 takes the family that
    # validation chose (k-NN), whatever it scores on D1.
    import privbench.scoring.attacks as attacks

    def picked(family, attack, settings, seed, classes=2):
        valid_uar = {"mlp": 0.70, "logistic": 0.60, "knn": 0.90}[family]
        scored_uar = {"mlp": 0.70, "logistic": 0.95, "knn": 0.55}[family]
        correct = int(round(scored_uar * len(attack.test_y)))
        predicted = attack.test_y.copy()
        predicted[correct:] = 1 - predicted[correct:]
        return attacks.Picked(valid_uar, np.eye(2)[predicted])

    monkeypatch.setattr(attacks, "attack_family", picked)
    g = np.array([0, 1] * 50)
    h = np.zeros((100, 2), np.float32)
    scores = attacks.privacy(h, g, h, g, h, g, get_protocol().attacker, 0)
    assert scores["privacy_worst"] == scores["privacy_knn"] == pytest.approx(0.45)
    assert scores["privacy_logistic"] == pytest.approx(0.05)  # the lowest P, not chosen


def test_roc_auc_and_tpr_at_low_fpr_on_hand_cases():
    truth = np.array([1, 1, 0, 0])
    assert roc_auc(truth, np.array([0.9, 0.8, 0.2, 0.1])) == 1.0
    assert roc_auc(truth, np.array([0.9, 0.1, 0.8, 0.2])) == 0.5  # 0.9 beats both negatives, 0.1 neither: 2 of 4 pairs
    assert roc_auc(np.array([1, 0]), np.array([0.5, 0.5])) == 0.5  # a tie counts half
    truth = np.array([1] * 10 + [0] * 100)
    score = np.r_[np.linspace(0.5, 0.95, 10), np.linspace(0.0, 0.6, 100)]
    # 100 negatives: at FPR <= 1% one negative may score above the threshold (0.6 > 0.5939...)
    assert tpr_at_fpr(truth, score, 0.01) == pytest.approx(np.mean(np.linspace(0.5, 0.95, 10) > np.linspace(0.0, 0.6, 100)[-2]))


def test_membership_attack_finds_members_that_stand_out():
    protocol = get_protocol()
    rng = np.random.default_rng(3)

    def part(n_yes, n_no, speakers):
        y = np.r_[np.ones(n_yes), np.zeros(n_no)].astype(np.int64)
        x = rng.normal(size=(len(y), 8)).astype(np.float32)
        x[:, 0] += 4.0 * y
        return x, y, np.repeat(np.arange(speakers), len(y) // speakers)

    (tx, ty, _), (vx, vy, _), (sx, sy, speakers) = part(100, 100, 10), part(30, 30, 6), part(40, 40, 8)
    scores = membership(MembershipData(tx, ty, vx, vy, sx, sy, speakers), protocol.attacker, protocol.membership, 0)
    assert scores["membership"] > 0.9 and scores["membership_speaker"] == 1.0 and scores["membership_auc"] > 0.95


# ---------------------------------------------------------------- significance

SIGNIFICANCE = get_protocol().significance


def test_paired_t_test_matches_a_hand_computation():
    a = [0.60, 0.62, 0.58, 0.65, 0.61]
    b = [0.55, 0.60, 0.50, 0.60, 0.59]
    d = np.subtract(a, b)
    t = d.mean() / (d.std(ddof=1) / math.sqrt(len(d)))
    assert paired_p(a, b, SIGNIFICANCE) == pytest.approx(2 * scipy_stats.t.sf(abs(t), df=len(d) - 1))
    assert paired_p([0.5, 0.6, 0.7], [0.5, 0.6, 0.7], SIGNIFICANCE) == 1.0
    assert paired_p([0.5, 0.6], [0.4, 0.4], SIGNIFICANCE) is None  # fewer than min_pairs (3) pairs: no test


def test_differences_are_rounded_before_the_test_and_there_is_no_shortcut():
    # A difference of float noise (2e-16) is no difference: p = 1 (version 2's shortcut gave p = 0).
    noise = [0.3 + 0.1 + 0.2, 0.6, 0.6]  # 0.6000000000000001, 0.6, 0.6
    assert noise[0] != 0.6 and paired_p(noise, [0.6, 0.6, 0.6], SIGNIFICANCE) == 1.0
    # A real difference that happens to be constant is as significant as the test says (scipy's t is infinite).
    assert paired_p([0.6, 0.7, 0.8], [0.5, 0.6, 0.7], SIGNIFICANCE) < 1e-6
    # Otherwise the p-value is ttest_rel's on the rounded differences.
    a, b = [0.61, 0.65, 0.58, 0.66], [0.60, 0.61, 0.59, 0.60]
    assert paired_p(a, b, SIGNIFICANCE) == pytest.approx(scipy_stats.ttest_rel(np.round(np.subtract(a, b), 9), np.zeros(4)).pvalue)


def test_non_finite_pairs_are_dropped_per_comparison_and_never_blank_the_table():
    a = [0.60, 0.62, 0.58, 0.65, 0.61]
    b = [0.55, 0.60, 0.50, 0.60, 0.59]
    with_nan = [0.60, float("nan"), 0.58, 0.65, None]
    assert paired_p(with_nan, b, SIGNIFICANCE) == pytest.approx(paired_p([0.60, 0.58, 0.65], [0.55, 0.50, 0.60], SIGNIFICANCE))
    cells = {"clean": ("privacy", a, b), "holes": ("privacy", with_nan, b), "too few": ("privacy", [float("nan")] * 4 + [0.6], b)}
    result = compare(cells, SIGNIFICANCE)
    assert result["clean"].p_adjusted is not None and result["holes"].p_adjusted is not None
    assert result["holes"].pairs == 3 and result["too few"].p is None and result["too few"].p_adjusted is None
    # two tested cells, corrected together: BH over exactly those two
    raw = sorted([result["clean"].p, result["holes"].p])
    assert min(result["clean"].p_adjusted, result["holes"].p_adjusted) == pytest.approx(min(raw[0] * 2, raw[1]))


def test_benjamini_hochberg_over_a_table_with_directions():
    base = [0.50, 0.52, 0.48, 0.51, 0.49]
    cells = {
        "better privacy": ("privacy", [v + 0.10 + 0.01 * i for i, v in enumerate(base)], base),
        "worse leakage": ("leakage", [v + 0.10 + 0.01 * i for i, v in enumerate(base)], base),
        "noise": ("uar", [0.51, 0.50, 0.50, 0.52, 0.47], base),
    }
    result = compare(cells, SIGNIFICANCE)
    raw = {key: paired_p(values, reference, SIGNIFICANCE) for key, (_, values, reference) in cells.items()}
    ordered = sorted(raw, key=raw.get)
    m = len(raw)
    expected = {}
    running = 1.0
    for rank in range(m, 0, -1):  # BH by hand: p * m / rank, made monotone from the top
        key = ordered[rank - 1]
        running = min(running, raw[key] * m / rank)
        expected[key] = running
    for key in cells:
        assert result[key].p_adjusted == pytest.approx(expected[key])
    assert result["better privacy"].direction == "better" and result["better privacy"].mark == "+"
    assert result["worse leakage"].direction == "worse" and result["worse leakage"].mark == "-"
    assert not result["noise"].significant and result["noise"].mark == ""


def test_records_flag_inverted_attacks_and_comparisons_count_them_as_chance():
    margin = get_protocol().metrics.inversion_margin
    privacy = summarise("privacy", [0.40, 0.62, 0.45, 0.56, 0.41], seeds=1, margin=margin)
    assert privacy["inverted"] == [False, True, False, True, False]  # P > 0.55: the attacker flipped
    membership_entry = summarise("membership", [0.60, 0.30, 0.46, 0.44, None], seeds=3, margin=margin)
    assert membership_entry["inverted"] == [False, True, False, True, False]  # MI < 0.45
    assert membership_entry["n"] == 4 * 3 and membership_entry["sd"] == pytest.approx(np.std([0.6, 0.3, 0.46, 0.44], ddof=1))
    assert "inverted" not in summarise("uar", [0.5, 0.6], seeds=1, margin=margin)
    record = {"metrics": {"privacy": privacy}}
    assert values(record, "privacy") == [0.40, 0.5, 0.45, 0.5, 0.41]  # ranked: chance where flagged
    assert values(record, "privacy", ranked=False) == [0.40, 0.62, 0.45, 0.56, 0.41]


# ---------------------------------------------------------------- configurations and records

def test_budgets_plan_the_configurations_of_the_protocol():
    protocol = get_protocol()
    submission = read_submission(REPO / "baselines" / "priv-c", protocol)
    seed = protocol.training.configuration_draw_seed
    assert configurations(submission, protocol.budget("quick"), seed) == [submission.config]
    standard = configurations(submission, protocol.budget("standard"), seed)
    assert standard[0] == submission.config and len({json.dumps(c, sort_keys=True) for c in standard}) == 8
    grid = protocol.training.grid
    size = math.prod(len(getattr(grid, name)) for name in grid.__dataclass_fields__)
    assert len(configurations(submission, protocol.budget("paper"), seed)) == size == 384


# ---------------------------------------------------------------- privbench evaluate, end to end

@pytest.fixture
def prepared(isolated, runner, evaluable_corpus):
    result = invoke(runner, "prepare", "synthetic", "--root", str(evaluable_corpus))
    assert result.exit_code == 0, result.output
    return isolated


def _records(folder: Path) -> dict[str, dict]:
    return {path.name: read_record(path) for path in sorted(folder.rglob("*.json"))}


def test_evaluate_smoke_end_to_end_resumes_and_reproduces(prepared, runner, tmp_path):
    results = tmp_path / "results"
    args = ["evaluate", str(REPO / "baselines" / "general"), "--budget", "smoke", "--results", str(results), "--workers", "1"]
    first = invoke(runner, *args)
    assert first.exit_code == 0, first.output
    records = _records(results)
    assert sorted(records) == sorted(f"{m}-{t}.json" for m in ("audio", "text", "multimodal") for t in ("activation", "valence"))
    record = records["audio-activation.json"]
    assert record["encoder"]["name"] == "general" and record["protocol"]["budget"] == "smoke"
    assert record["chance_reached"] is None and len(record["metrics"]["uar"]["rotations"]) == 1
    for name in ("uar", "leakage", "privacy", "privacy_worst", "membership", "membership_speaker", "membership_auc"):
        assert 0.0 <= record["metrics"][name]["mean"] <= 1.0, name
    assert "| audio" not in first.stdout and "audio" in first.stdout and "U(M)" in first.stdout

    # one account of the whole command's tasks: 12 training jobs and their 12 score steps (a log line: the
    # test's stderr is not a terminal)
    assert "privbench: progress: 24 jobs: 0 cached, 0 done, 24 to run" in first.stderr
    before = {path.name: path.read_bytes() for path in results.rglob("*.json")}
    again = invoke(runner, *args)  # every job and score stored: nothing trains, the same records byte for byte
    assert again.exit_code == 0
    assert "training (6 cached)" in again.stderr and "privbench: progress: 24 jobs: 24 cached, 0 done, 0 to run" in again.stderr
    assert {path.name: path.read_bytes() for path in results.rglob("*.json")} == before

    shutil.rmtree(Path(prepared.parent / "cache" / "store"))  # recompute from scratch: deterministic
    third = invoke(runner, *args)
    assert third.exit_code == 0
    assert {k: r["metrics"] for k, r in _records(results).items()} == {k: r["metrics"] for k, r in records.items()}


def test_a_job_that_crashes_is_reported_and_the_rerun_resumes(prepared, runner, tmp_path, monkeypatch):
    import privbench.run.executor as executor

    calls = []
    real = executor.run_job

    def flaky(spec):
        calls.append(spec.key)
        if len(calls) == 2:
            raise RuntimeError("simulated crash")
        return real(spec)

    monkeypatch.setattr(executor, "run_job", flaky)
    results = tmp_path / "results"
    args = ["evaluate", str(REPO / "baselines" / "general"), "--budget", "smoke", "--results", str(results),
            "--workers", "1", "--modality", "audio"]
    first = invoke(runner, *args)
    assert first.exit_code == 1
    assert "privbench: job failed: general main synthetic/audio/valence rotation 0 seed 0: RuntimeError: simulated crash" in first.stderr
    assert first.stderr.strip().splitlines()[-1].startswith("privbench: error: 1 job failed")
    assert [p.name for p in results.rglob("*.json")] == ["audio-activation.json"]  # the other setup is kept
    ran_before = len(calls)
    second = invoke(runner, *args)
    assert second.exit_code == 0, second.output
    assert len(calls) - ran_before == 2  # only the crashed job and its setup's membership job ran
    assert sorted(p.name for p in results.rglob("*.json")) == ["audio-activation.json", "audio-valence.json"]


@pytest.mark.parametrize("args, message, status", [
    (["baselines/general", "--budget", "huge"], "privbench: error: unknown budget 'huge': choose one of smoke, quick, standard, paper\n", 2),
    (["submissions/my_encoder", "--modality", "text"], "privbench: error: my-encoder takes audio, not text (submission.toml modalities): drop --modality text\n", 1),
    (["baselines/priv-e", "--modality", "audio"], "privbench: error: priv-e refuses audio: PrivE puts an adversary on each stream, so it needs the multimodal setup; audio has one stream\n", 1),
    (["baselines/general", "--corpus", "nowhere"], "privbench: error: unknown corpus 'nowhere': privbench knows iemocap, msp-improv, msp-podcast, muse, crema-d, ravdess, ased, synthetic; a corpus of your own is prepared first: privbench prepare nowhere --root ITS.toml (docs/datasets.md)\n", 2),
])
def test_evaluate_refuses_bad_requests_in_one_line(prepared, runner, tmp_path, args, message, status):
    result = invoke(runner, "evaluate", str(REPO / args[0]), *args[1:], "--results", str(tmp_path / "r"))
    assert result.exit_code == status
    assert result.stderr == message
    assert not (tmp_path / "r").exists()


def test_output_folders_are_checked_before_anything_runs(isolated, runner, tmp_path):
    """On a fresh clone (no corpus generated yet), a --results that cannot be written is one line, before the
    synthetic corpus is generated or any job runs."""
    import os

    afile = tmp_path / "results.txt"
    afile.write_text("not a folder")
    general = str(REPO / "baselines" / "general")
    for args, message in (
            (["evaluate", general, "--results", str(afile)], f"privbench: error: --results {afile} is a file, not a folder: give a folder to write into\n"),
            (["evaluate", general, "--results", str(afile / "sub")], f"privbench: error: --results {afile / 'sub'} cannot be made: {afile} is a file, not a folder\n"),
            (["reproduce", "--table", "2", "--results", str(afile)], f"privbench: error: --results {afile} is a file, not a folder: give a folder to write into\n"),
            (["leaderboard", "build", "--results", str(tmp_path), "--out", str(afile / "site")], f"privbench: error: --out's folder {afile} is a file, not a folder: give a folder to write into\n")):
        result = invoke(runner, *args)
        assert result.exit_code == 1, (args, result.output)
        assert result.stderr == message, args
    if os.geteuid() != 0:  # root writes through permissions: only an unprivileged user can see this refusal
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        result = invoke(runner, "evaluate", general, "--results", str(locked / "r"))
        assert result.exit_code == 1 and f"--results {locked / 'r'} is not writable" in result.stderr
    assert not (isolated.parent / "cache" / "synthetic").exists() and not (isolated.parent / "cache" / "store").exists()


def _broken_submission(tmp_path: Path, name: str, fit_body: str) -> Path:
    """A copy of the template whose fit starts with `fit_body` (one line of Python)."""
    folder = tmp_path / name
    shutil.copytree(REPO / "submissions" / "my_encoder", folder)
    toml = (folder / "submission.toml").read_text().replace('name = "my-encoder"', f'name = "{name}"')
    (folder / "submission.toml").write_text(toml)
    code = (folder / "encoder.py").read_text()
    marker = "    def fit(self, train: LabelledSet, valid: LabelledSet) -> FitReport:\n"
    assert marker in code
    (folder / "encoder.py").write_text(code.replace(marker, marker + f"        {fit_body}\n"))
    return folder


def test_a_bug_in_the_submission_is_named_logged_and_fits_80_columns(prepared, runner, tmp_path, monkeypatch):
    import io
    import re

    from rich.console import Console

    import privbench.cli as cli

    screen = io.StringIO()  # an 80-column terminal: the progress bars draw, as they do for a person
    monkeypatch.setattr(cli, "err_console", Console(file=screen, width=80, force_terminal=True, color_system=None))
    folder = _broken_submission(tmp_path, "cheese-encoder", 'raise RuntimeError("out of cheese")')
    line = next(n for n, text in enumerate((folder / "encoder.py").read_text().splitlines(), 1) if "out of cheese" in text)
    result = invoke(runner, "evaluate", str(folder), "--budget", "smoke", "--workers", "1", "--task", "activation",
                    "--results", str(tmp_path / "r"))
    assert result.exit_code == 1
    drawn = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.getvalue()).replace("\r", "\n")
    failed = [text for text in drawn.splitlines() if text.startswith("privbench: job failed:")]
    assert failed and failed[0].startswith(f"privbench: job failed: cheese-encoder main synthetic/audio/activation rotation 0 seed 0: "
                                           f"RuntimeError: out of cheese (at encoder.py:{line}); traceback in ")
    log = Path(failed[0].split("traceback in ")[1].strip())
    assert log.parent == prepared.parent / "cache" / "logs" and log.name.endswith(".log")
    trace = log.read_text()
    assert "Traceback (most recent call last)" in trace and f'encoder.py", line {line}, in fit' in trace
    assert trace.count('File "') >= 3  # the whole traceback, not its last frame
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("privbench: error: 1 job failed (first: job failed: cheese-encoder main synthetic/audio/activation")
    assert last.endswith("a bug in cheese-encoder's own code: fix it, then run the same command again (finished jobs are kept)")
    assert "retry" not in last and "U(M)" not in result.stdout  # no empty summary table
    bars = [text for text in drawn.splitlines() if text.startswith("all jobs")]
    assert bars and all(len(text) <= 80 for text in drawn.splitlines() if text.startswith(("all jobs", "  training")))
    assert re.search(r"\d+/\d+ +3 not run +\d:\d\d:\d\d$", bars[-1]), bars[-1]  # counts, what is left, elapsed
    assert "1 failed" in bars[-1] and "about under a minute" not in drawn


def test_ctrl_c_says_what_was_kept_and_how_to_resume(prepared, runner, tmp_path):
    folder = _broken_submission(tmp_path, "interrupted", 'if self.spec.task == "valence": raise KeyboardInterrupt')
    args = ["evaluate", str(folder), "--budget", "smoke", "--workers", "1", "--results", str(tmp_path / "r")]
    result = invoke(runner, *args)
    assert result.exit_code == 130
    line = result.stderr.strip().splitlines()[-1]
    # two setups, each a main job, its score step, a membership job and its score step; activation's main job ran
    assert line.startswith("privbench: interrupted: 1 of 8 jobs are finished and kept in ") and "(1 from this run)" in line
    assert line.endswith("run the same command again to resume: it runs only the 7 left") and "Aborted" not in result.output
    again = invoke(runner, *args)  # the rerun finds the finished job
    assert again.exit_code == 130 and "privbench: progress: 8 jobs: 1 cached, 0 done, 7 to run" in again.stderr


# ---------------------------------------------------------------- records on disk

def _valid_record() -> dict:
    def metric(values):
        return {"mean": sum(values) / len(values), "rotations": values}

    return {
        "schema": "privbench.result/1",
        "encoder": {"name": "toy", "sha256": "ab" * 32, "display_name": "Toy"},
        "protocol": {"version": "1", "sha256": "cd" * 32, "budget": "quick"},
        "corpus": {"name": "synthetic", "content_sha256": "ef" * 32, "split_sha256": "01" * 32},
        "modality": "audio", "task": "activation",
        "metrics": {name: metric([0.5, 0.6]) for name in
                    ("uar", "uar_male", "uar_female", "leakage", "privacy", "membership", "membership_speaker")},
        "chance_reached": True, "config": {}, "runtime_s": 1.0,
        "environment": {"privbench": "0.1.0", "torch": "2", "device": "cpu", "git": "x"}, "created": "2026-01-01T00:00:00+00:00",
    }


@pytest.mark.parametrize("tamper, message", [
    (lambda r: r["metrics"].pop("privacy"), "metrics.privacy is missing"),
    (lambda r: r["metrics"]["uar"].update(mean=0.9), "metrics.uar.mean does not match its rotations"),
    (lambda r: r.update(schema="other/1"), "schema is 'other/1'"),
    (lambda r: r["encoder"].update(name=""), "encoder.name must be a non-empty string"),
    (lambda r: r["metrics"]["leakage"]["rotations"].append("high"), "metrics.leakage.rotations holds a non-number"),
    (lambda r: r["metrics"]["uar"].update(sd=0.5), "metrics.uar.sd does not match its rotations"),
    (lambda r: r["metrics"]["privacy"].update(inverted=[True]), "metrics.privacy.inverted must be one true/false per rotation"),
    (lambda r: r["metrics"]["privacy"].update(n=1), "metrics.privacy.n must be a whole number"),
])
def test_an_invalid_record_is_named_and_refused(tmp_path, tamper, message):
    good = _valid_record()
    validate(good, "good")
    bad = _valid_record()
    bad["encoder"]["name"] = "other"
    bad_path = record_path(tmp_path, "other", "quick", "synthetic", "audio", "activation")
    tamper(bad)
    write_record(tmp_path, good)
    bad_path.parent.mkdir(parents=True)
    bad_path.write_text(json.dumps(bad))
    with pytest.raises(RecordError, match=re.escape(f"{bad_path}: {message}")):
        read_record(bad_path)
    records, refused = read_records(tmp_path)
    assert len(records) == 1 and len(refused) == 1 and refused[0].startswith(str(bad_path))


def test_a_record_must_sit_at_the_path_its_content_names(tmp_path):
    record = _valid_record()
    moved = tmp_path / "toy" / "quick" / "synthetic" / "text-activation.json"
    moved.parent.mkdir(parents=True)
    moved.write_text(json.dumps(record))
    records, refused = read_records(tmp_path)
    assert not records and refused == [f"{moved}: its content names toy/quick/synthetic/audio-activation.json: "
                                       "a record must sit at the path its content names"]


def test_a_result_record_validates_on_the_way_in_and_out(tmp_path):
    from privbench.records import ResultRecord

    record = ResultRecord.from_json(json.dumps(_valid_record()), "test")
    assert (record.encoder_name, record.budget, record.corpus_name, record.setup) == ("toy", "quick", "synthetic",
                                                                                     ("synthetic", "audio", "activation"))
    assert record.path_in(tmp_path) == tmp_path / "toy" / "quick" / "synthetic" / "audio-activation.json"
    assert json.loads(record.to_json()) == _valid_record()
    record["metrics"]["uar"]["mean"] = 0.9  # no longer the mean of its rotations
    with pytest.raises(RecordError, match="metrics.uar.mean does not match"):
        record.to_json()
    with pytest.raises(RecordError, match="test: not readable JSON"):
        ResultRecord.from_json("{", "test")


def test_a_submission_that_claims_chance_itself_is_marked_self_reported(prepared, runner, tmp_path):
    """Only privbench's recipe decides chance_reached as privbench; an encoder's own claim is recorded as
    self-reported (docs/protocol.md section 6), and general's (no claim) has no source at all."""
    from test_encoders import GOOD_FIELDS, TOY_ENCODER, _write_submission

    claims = TOY_ENCODER.replace("return FitReport(epochs=1, best_epoch=1)",
                                 "return FitReport(epochs=1, best_epoch=1, chance_reached=True)")
    assert claims != TOY_ENCODER
    folder = _write_submission(tmp_path / "toy", GOOD_FIELDS, claims)
    results = tmp_path / "results"
    common = ["--budget", "smoke", "--modality", "audio", "--task", "activation", "--results", str(results), "--workers", "1"]
    assert invoke(runner, "evaluate", str(folder), *common).exit_code == 0
    assert invoke(runner, "evaluate", str(REPO / "baselines" / "priv-c"), *common).exit_code == 0
    toy = read_record(results / "toy" / "smoke" / "synthetic" / "audio-activation.json")
    priv_c = read_record(results / "priv-c" / "smoke" / "synthetic" / "audio-activation.json")
    assert toy["chance_reached"] is True and toy["chance_reached_source"] == "self_reported"
    assert priv_c["chance_reached"] is not None and priv_c["chance_reached_source"] == "privbench"
