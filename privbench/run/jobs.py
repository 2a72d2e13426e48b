"""One job: train an encoder on one setup, rotation and seed, then embed and attack.

A job is a pure function of its `JobSpec`. Its record (plain JSON) is written
atomically under `<cache>/jobs/`, named by the sha256 of the spec, so a rerun
skips finished jobs and a killed run resumes where it stopped.

kind = "main": fit on D1, select on validation; record validation metrics (for
configuration selection), the test fold's emotion probabilities (utility, averaged
over seeds later) and the attacks L, P and P-worst on the frozen encoder.
kind = "membership": fit on the membership training set; record MI.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from privbench.paths import cache_root
from privbench.scoring.job_result import JOB_SCHEMA, JobResult
from privbench.storage import atomic_write_text, canonical_json, sha256_bytes



@dataclass(frozen=True)
class JobSpec:
    """Everything a job's result depends on (device and threads excepted: they are recorded)."""

    encoder_dir: str
    encoder_sha256: str
    protocol_sha256: str
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
    code_sha256: str  # privbench's own source (paths.code_sha256)
    device: str = field(default="cpu", compare=False)

    def identity(self) -> dict[str, Any]:
        fields = dataclasses.asdict(self)
        fields.pop("device")
        fields.pop("encoder_dir")  # a moved folder with the same contents is the same encoder
        return fields

    @property
    def key(self) -> str:
        return sha256_bytes(canonical_json(self.identity()).encode())

    def describe(self) -> str:
        return (f"{Path(self.encoder_dir).name} {self.kind} {self.corpus}/{self.modality}/{self.task} "
                f"rotation {self.rotation} seed {self.seed}")


def job_path(spec: JobSpec) -> Path:
    key = spec.key
    return cache_root() / "jobs" / key[:2] / f"{key}.json"


def read_job(spec: JobSpec) -> JobResult | None:
    """The finished job's record, or None (absent, or not a valid record: then it runs again)."""
    try:
        record = JobResult.from_json(job_path(spec).read_text())
    except (OSError, ValueError):
        return None
    return record if record["key"] == spec.key else None


def write_job(spec: JobSpec, result: dict[str, Any]) -> JobResult:
    """Write the job's record atomically and return it as `read_job` would give it back (no re-read)."""
    text = canonical_json({"schema": JOB_SCHEMA, "key": spec.key, "spec": dataclasses.asdict(spec), **result})
    atomic_write_text(job_path(spec), text)
    return JobResult.from_json(text)


# ---------------------------------------------------------------- running a job (in a worker)

_CONTEXT: dict[tuple, Any] = {}  # per process: corpus, stores, encoder class, by fingerprint


def _context(spec: JobSpec):
    """Protocol, corpus, the setup's feature stores and the encoder class, loaded once per worker
    process. Only the streams the setup uses are opened: an audio setup needs no text features."""
    from privbench.data.corpora.store import feature_store_folder, load_corpus
    from privbench.errors import SubmissionError
    from privbench.data.feature_cache import open_store
    from privbench.encoders.interface import batch_streams
    from privbench.protocol import get_protocol
    from privbench.encoders.submission import load_encoder_class, read_submission

    fingerprint = (spec.encoder_dir, spec.encoder_sha256, spec.corpus, spec.corpus_sha256, spec.protocol_sha256)
    if fingerprint not in _CONTEXT:
        protocol = get_protocol()
        submission = read_submission(Path(spec.encoder_dir), protocol)
        if submission.sha256 != spec.encoder_sha256:
            raise SubmissionError(f"{spec.encoder_dir} changed while its jobs ran: start the evaluation again")
        corpus = load_corpus(spec.corpus, protocol)
        _CONTEXT.clear()
        _CONTEXT[fingerprint] = (protocol, corpus, {}, load_encoder_class(submission), submission.inputs)
    protocol, corpus, stores, cls, inputs = _CONTEXT[fingerprint]
    for stream in batch_streams(spec.modality, inputs):
        if stream not in stores:
            stores[stream] = open_store(feature_store_folder(corpus, stream))
    return protocol, corpus, stores, cls, inputs


def _gender(table, ids) -> np.ndarray:
    from privbench.data.labels import GENDER_CODES

    return table.set_index("utterance_id").loc[list(ids), "gender"].map(GENDER_CODES).to_numpy(np.int64)


def run_job(spec: JobSpec) -> dict[str, Any]:
    """Run one job and return its result (the driver writes it)."""
    from privbench.data.folds import rotation

    protocol, corpus, stores, cls, inputs = _context(spec)
    table = corpus.table
    folds = rotation(spec.rotation, protocol.folds)
    order = [(spec.rotation + i) % protocol.folds.count for i in range(protocol.folds.count)]
    started = time.perf_counter()
    if spec.kind == "main":
        ids = {
            "train": sorted(table.loc[table["fold"].isin(folds.training_folds), "utterance_id"]),
            "valid": sorted(table.loc[table["fold"] == folds.validation_fold, "utterance_id"]),
            "test": sorted(table.loc[table["fold"] == folds.test_fold, "utterance_id"]),
        }
        return _main_job(spec, protocol, table, stores, (cls, inputs), ids, started)
    if spec.kind == "membership":
        from privbench.scoring.membership import membership_split

        split = membership_split(table, order, protocol.membership, spec.seed, spec.rotation)
        return _membership_job(spec, protocol, table, stores, (cls, inputs), split, started)
    raise ValueError(f"unknown job kind {spec.kind!r}")


def _fit(spec: JobSpec, protocol, table, stores, encoder_class, train_ids, valid_ids):
    from privbench.encoders.interface import EncoderSpec
    from privbench.run.setup_data import labelled_set

    cls, inputs = encoder_class
    speakers = sorted(table.set_index("utterance_id").loc[train_ids, "speaker"].unique())
    encoder_spec = EncoderSpec(modality=spec.modality, task=spec.task, n_speakers=len(speakers), config=spec.config,
                               device=spec.device, seed=spec.seed, max_epochs=spec.max_epochs, training=protocol.training,
                               inputs=inputs)
    encoder = cls(encoder_spec)
    streams = encoder_spec.batch_streams
    train = labelled_set(table, train_ids, stores, streams, spec.task, speakers, spec.seed, protocol.training.batch_size)
    valid = labelled_set(table, valid_ids, stores, streams, spec.task, speakers, spec.seed, protocol.training.batch_size)
    try:
        report = encoder.fit(train, valid)
    finally:
        train.close()
        valid.close()
    return encoder, report, streams


def _checked(name: str, values: np.ndarray, rows: int, columns: int | None = None) -> np.ndarray:
    from privbench.errors import SubmissionError

    if not isinstance(values, np.ndarray) or values.ndim != 2 or values.shape[0] != rows or (columns and values.shape[1] != columns):
        shape = list(values.shape) if isinstance(values, np.ndarray) else type(values).__name__
        raise SubmissionError(f"the encoder's {name} returned {shape} for {rows} utterances: run privbench check on it")
    if not np.isfinite(values).all():
        raise SubmissionError(f"the encoder's {name} returned NaN or inf: run privbench check on it")
    return values


def _rounded(history: list[dict[str, float]]) -> list[dict[str, float]]:
    """The fit's per-epoch history, for the record (and for investigating checkpoint selection)."""
    return [{key: round(float(value), 6) for key, value in epoch.items() if isinstance(value, (int, float))} for epoch in history]


def _worst_gender_uar(validation: dict[str, float]) -> float | None:
    """The validation UAR of the encoder's gender head farthest from chance (priv-e has one per stream)."""
    values = [value for key, value in validation.items() if key.startswith("gender") and key.endswith("_uar")]
    return max(values, key=lambda value: abs(value - 0.5)) if values else None


def _main_job(spec, protocol, table, stores, encoder_class, ids, started) -> dict[str, Any]:
    from privbench.scoring.attacks import leakage, privacy
    from privbench.scoring.metrics import uar
    from privbench.run.setup_data import embed_all, predict_all

    encoder, report, streams = _fit(spec, protocol, table, stores, encoder_class, ids["train"], ids["valid"])
    trained = time.perf_counter()
    h = {name: _checked("embed", embed_all(encoder, part, stores, streams), len(part)) for name, part in ids.items()}
    probabilities = {name: _checked("predict_proba", predict_all(encoder, ids[name], stores, streams), len(ids[name]), 3)
                     for name in ("valid", "test")}
    embedded = time.perf_counter()
    gender = {name: _gender(table, part) for name, part in ids.items()}
    rows = table.set_index("utterance_id")
    valid_truth = rows.loc[ids["valid"], f"{spec.task}_class"].to_numpy()
    settings = protocol.attacker
    attacks = {"leakage": leakage(h["train"], gender["train"], h["valid"], gender["valid"], h["test"], gender["test"], settings, spec.seed)}
    attacks.update(privacy(h["test"], gender["test"], h["valid"], gender["valid"], h["train"], gender["train"], settings, spec.seed))
    finished = time.perf_counter()
    return {
        "validation": {"uar": uar(valid_truth, probabilities["valid"].argmax(axis=1)),
                       "gender_uar": _worst_gender_uar(report.validation)},
        "chance_reached": report.chance_reached, "epochs": report.epochs, "best_epoch": report.best_epoch,
        "history": _rounded(report.history), "test_ids": ids["test"], "test_probabilities": probabilities["test"].astype(float).round(6).tolist(),
        "attacks": attacks,
        "timings": {"train_s": trained - started, "embed_s": embedded - trained, "attack_s": finished - embedded},
    }


def _membership_job(spec, protocol, table, stores, encoder_class, split, started) -> dict[str, Any]:
    from privbench.scoring.attacks import MembershipData, membership
    from privbench.run.setup_data import embed_all

    encoder, report, streams = _fit(spec, protocol, table, stores, encoder_class, split.encoder_train, split.encoder_valid)
    trained = time.perf_counter()

    def h(ids):
        return _checked("embed", embed_all(encoder, ids, stores, streams), len(ids))

    labelled = lambda yes, no: (np.concatenate([h(yes), h(no)]), np.r_[np.ones(len(yes)), np.zeros(len(no))].astype(np.int64))  # noqa: E731
    train_x, train_y = labelled(split.attacker_yes, split.attacker_no)
    valid_x, valid_y = labelled(split.attacker_valid_yes, split.attacker_valid_no)
    test_x, test_y = labelled(split.score_yes, split.score_no)
    speakers = table.set_index("utterance_id").loc[split.score_yes + split.score_no, "speaker"].to_numpy()
    embedded = time.perf_counter()
    scores = membership(MembershipData(train_x, train_y, valid_x, valid_y, test_x, test_y, speakers),
                        protocol.attacker, protocol.membership, spec.seed)
    finished = time.perf_counter()
    return {"chance_reached": report.chance_reached, "epochs": report.epochs, "best_epoch": report.best_epoch,
            "attacks": scores,
            "timings": {"train_s": trained - started, "embed_s": embedded - trained, "attack_s": finished - embedded}}
