"""Training jobs, as the driver sees them: the spec and its key, and the stored outputs.

A training job is a pure function of its `JobSpec` (`run.train.run_job` runs it
in a worker). The driver writes its outputs as a `TrainRecord` into the store
(`<cache>/store/train/`, named by the spec's key, atomically), so a rerun
skips finished jobs, a killed run resumes, and scoring (a later, separate
step) never retrains.

The key hashes what training reads: the encoder's contents, the protocol's
tables that training reads (`TRAINING_SECTIONS`, not its version or its
attack settings), the corpus' content and split, the setup, rotation, seed,
configuration, epoch limit, the shared representation it trains on (if any)
and the training code (paths.TRAIN_MODULES; this module is not among them:
nothing here changes what a job computes).
"""

from __future__ import annotations

import dataclasses
import platform
import subprocess
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from privbench.storage import canonical_json, sha256_bytes
from privbench.store.artifacts import exists, read_arrays
from privbench.store.representations import RepresentationSet, TrainRecord

# The tables of protocol.toml that training reads (its cache key hashes them).
TRAINING_SECTIONS = ("labels", "corpora", "features", "folds", "setups", "training", "membership", "anonymisation")


@dataclass(frozen=True)
class JobSpec:
    """Everything a training job's outputs depend on (device and threads excepted: they are recorded)."""

    encoder_dir: str
    encoder_sha256: str
    training_sha256: str  # Protocol.sections_sha256(TRAINING_SECTIONS)
    corpus: str
    corpus_sha256: str
    split_sha256: str
    modality: str
    task: str
    rotation: int
    seed: int
    config: dict[str, Any]
    kind: str  # "main" or "membership"
    max_epochs: int
    code_sha256: str  # privbench's training code (paths.code_sha256("train"))
    representation: str = ""  # the key of the shared h this job's head trains on ("" for an encoder that learns h)
    device: str = field(default="cpu", compare=False)

    def identity(self) -> dict[str, Any]:
        fields = dataclasses.asdict(self)
        fields.pop("device")
        fields.pop("encoder_dir")  # a moved folder with the same contents is the same encoder
        return fields

    @property
    def key(self) -> str:
        return sha256_bytes(canonical_json(self.identity()).encode())

    def describe(self, name: str | None = None) -> str:
        """The job in words; `name`: the submission's name (submission.toml), else its folder's."""
        return (f"{name or Path(self.encoder_dir).name} {self.kind} {self.corpus}/{self.modality}/{self.task} "
                f"rotation {self.rotation} seed {self.seed}")


def read_job(spec: JobSpec) -> TrainRecord | None:
    """The finished job's stored record, or None (absent, or not valid: then it runs again)."""
    record = TrainRecord.read(spec.key)
    return record if record is not None and record.key == spec.key else None


def job_done(spec: JobSpec) -> dict[str, Any] | None:
    """A finished job's metadata (timings, fit report), without loading its arrays: for progress."""
    if not exists("train", spec.key):
        return None
    found = read_arrays("train", spec.key, with_arrays=False)
    return found[0] if found is not None else None


def write_job(spec: JobSpec, result: dict[str, Any]) -> TrainRecord:
    """Store a job's outputs atomically and return them as `read_job` would give them back (a job on
    shared representations stores only its posteriors and names the shared h)."""
    ids = tuple(result["ids"])
    h = result["h"] if result["h"] is not None else RepresentationSet.read(spec.representation).rows(ids)
    record = TrainRecord(spec.key, dataclasses.asdict(spec), ids, h, result["probabilities"], result["fit"], result["timings"], result["environment"],
                         datetime.now(timezone.utc).isoformat(timespec="seconds"), spec.representation or None)
    record.write()
    return record


def environment(device: str) -> dict[str, str]:
    """Versions, device and git commit of the machine that trains (the result record reports them)."""
    import torch

    from importlib.metadata import PackageNotFoundError, version

    from privbench.paths import repo_root

    try:
        privbench_version = version("privbench")
    except PackageNotFoundError:  # a clone on sys.path without pip install
        privbench_version = "unknown"
    try:
        git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repo_root(), capture_output=True, text=True,
                             timeout=10).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        git = "unknown"
    return {"privbench": privbench_version, "torch": torch.__version__, "python": platform.python_version(),
            "device": device, "git": git}
