"""The Ray executor gives the same metrics as the local one (local Ray instance, 2 CPUs, smoke budget)."""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

from conftest import REPO, invoke
from privbench.records import read_record


def test_ray_and_local_executors_give_the_same_metrics(isolated, runner, evaluable_corpus, tmp_path):
    importlib.import_module("ray")  # the dev extra's (pip install -e '.[dev]'): a missing Ray fails here, never skips
    assert invoke(runner, "prepare", "synthetic", "--root", str(evaluable_corpus)).exit_code == 0
    common = ["evaluate", str(REPO / "baselines" / "priv-c"), "--budget", "smoke", "--modality", "audio", "--task", "activation"]
    local = invoke(runner, *common, "--results", str(tmp_path / "local"), "--workers", "1")
    assert local.exit_code == 0, local.output
    from privbench.store.artifacts import store_root

    assert store_root().is_dir()
    shutil.rmtree(store_root())  # nothing stored, trained or scored: Ray must run every job itself
    ray_run = invoke(runner, *common, "--results", str(tmp_path / "ray"), "--executor", "ray", "--workers", "2")
    assert ray_run.exit_code == 0, ray_run.output
    relative = Path("priv-c") / "smoke" / "synthetic" / "audio-activation.json"
    local_record, ray_record = read_record(tmp_path / "local" / relative), read_record(tmp_path / "ray" / relative)
    assert ray_record["metrics"] == local_record["metrics"]
    assert ray_record["chance_reached"] == local_record["chance_reached"]


def test_address_without_ray_executor_is_refused(isolated, runner, tmp_path):
    result = invoke(runner, "evaluate", str(REPO / "baselines" / "general"), "--address", "ray://x:10001",
                    "--results", str(tmp_path / "r"))
    assert result.exit_code == 1 and result.stderr == "privbench: error: --address is for --executor ray\n"
