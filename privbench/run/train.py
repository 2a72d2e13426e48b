"""The train step, in a worker: fit an encoder on one setup, rotation and seed, and give back what leaves it.

kind = "main": fit on D1, select on validation; give h and posteriors of D1,
validation and test. kind = "membership": fit on the membership training set
(D1 and the added halves of s4 and s5, docs/protocol.md section 6); give h and
posteriors of D1, s4 and s5. The driver stores them (`run.jobs.write_job`).

A job whose spec names a `representation` (a frozen front end's h, computed
once per corpus, or frozen representations a user submitted) trains only the
protocol's emotion head on that h.

This module is one of paths.TRAIN_MODULES: a change to it retrains everything.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from privbench.run.jobs import JobSpec, environment
from privbench.store.representations import RepresentationSet

PROBABILITY_TOLERANCE = 1e-4  # predict_proba rows must sum to 1 within this


def are_probabilities(values: np.ndarray) -> bool:
    """No negative value and every row summing to 1 within PROBABILITY_TOLERANCE (evaluate and check alike)."""
    return bool(values.min() >= 0 and np.abs(values.sum(axis=1) - 1).max() <= PROBABILITY_TOLERANCE)


_CONTEXT: dict[tuple, Any] = {}  # per process: corpus, stores, encoder class, by fingerprint


def _context(spec: JobSpec):
    """Protocol, corpus, the setup's feature stores and the encoder class, loaded once per worker
    process. Only the streams the setup uses are opened: an audio setup needs no text features;
    a job on stored representations opens none and needs no encoder class."""
    from privbench.data.corpora.store import feature_store_folder, load_corpus
    from privbench.data.feature_cache import open_store
    from privbench.encoders.interface import batch_streams
    from privbench.encoders.submission import load_encoder_class, read_submission
    from privbench.errors import SubmissionError
    from privbench.protocol import get_protocol

    fingerprint = (spec.encoder_dir, spec.encoder_sha256, spec.corpus, spec.corpus_sha256)
    if fingerprint not in _CONTEXT:
        protocol = get_protocol()
        submission = read_submission(Path(spec.encoder_dir), protocol)
        if submission.sha256 != spec.encoder_sha256:
            raise SubmissionError(f"{spec.encoder_dir} changed while its jobs ran: start the evaluation again")
        corpus = load_corpus(spec.corpus, protocol)
        cls = None if spec.representation else load_encoder_class(submission)
        _CONTEXT.clear()
        _CONTEXT[fingerprint] = (protocol, corpus, {}, cls, submission.inputs)
    protocol, corpus, stores, cls, inputs = _CONTEXT[fingerprint]
    if not spec.representation:
        for stream in batch_streams(spec.modality, inputs):
            if stream not in stores:
                stores[stream] = open_store(feature_store_folder(corpus, stream))
    return protocol, corpus, stores, cls, inputs


def job_ids(spec: JobSpec, table, protocol) -> dict[str, list[str]]:
    """The utterances a job trains and validates on ("train", "valid"), and every utterance it stores
    ("stored"): what the attacks of its kind read."""
    from privbench.data.folds import rotation
    from privbench.data.membership_split import fold_order, membership_split

    if spec.kind == "main":
        place = rotation(spec.rotation, protocol.folds)
        parts = {name: sorted(table.loc[table["fold"].isin(folds), "utterance_id"])
                 for name, folds in (("train", place.training_folds), ("valid", [place.validation_fold]),
                                     ("test", [place.test_fold]))}
        return {"train": parts["train"], "valid": parts["valid"], "stored": parts["train"] + parts["valid"] + parts["test"]}
    if spec.kind == "membership":
        split = membership_split(table, fold_order(spec.rotation, protocol.folds), protocol.membership, spec.seed, spec.rotation)
        return {"train": split.encoder_train, "valid": split.encoder_valid, "stored": sorted(table["utterance_id"])}
    raise ValueError(f"unknown job kind {spec.kind!r}")


def run_job(spec: JobSpec) -> dict[str, Any]:
    """Run one training job and return its outputs (the driver stores them)."""
    protocol, corpus, stores, cls, inputs = _context(spec)
    ids = job_ids(spec, corpus.table, protocol)
    started = time.perf_counter()
    if spec.representation:
        fitted, trained = _fit_head(spec, protocol, corpus.table, ids)
    else:
        fitted, trained = _fit_encoder(spec, protocol, corpus.table, stores, (cls, inputs), ids)
    fitted["timings"] = {"train_s": trained - started, "embed_s": time.perf_counter() - trained}
    fitted["environment"] = environment(spec.device)
    return fitted


def _encoder_spec(spec: JobSpec, protocol, n_speakers: int, inputs):
    from privbench.encoders.interface import EncoderSpec

    return EncoderSpec(modality=spec.modality, task=spec.task, n_speakers=n_speakers, config=spec.config,
                       device=spec.device, seed=spec.seed, max_epochs=spec.max_epochs, training=protocol.training, inputs=inputs)


def _fit_report(report) -> dict[str, Any]:
    return {"epochs": report.epochs, "best_epoch": report.best_epoch, "chance_reached": report.chance_reached,
            "chance_source": (report.chance_check if report.chance_reached is not None else None),
            "gender_uar": _worst_gender_uar(report.validation), "history": _rounded(report.history)}


def _fit_encoder(spec: JobSpec, protocol, table, stores, encoder_class, ids) -> tuple[dict[str, Any], float]:
    """(outputs, the time training ended)."""
    from privbench.run.setup_data import embed_all, labelled_set, predict_all

    cls, inputs = encoder_class
    speakers = sorted(table.set_index("utterance_id").loc[ids["train"], "speaker"].unique())
    encoder_spec = _encoder_spec(spec, protocol, len(speakers), inputs)
    encoder = cls(encoder_spec)
    streams = encoder_spec.batch_streams
    train = labelled_set(table, ids["train"], stores, streams, spec.task, speakers, spec.seed, protocol.training.batch_size)
    valid = labelled_set(table, ids["valid"], stores, streams, spec.task, speakers, spec.seed, protocol.training.batch_size)
    try:
        report = encoder.fit(train, valid)
    finally:
        train.close()
        valid.close()
    trained = time.perf_counter()
    stored = ids["stored"]
    h = checked("embed", embed_all(encoder, stored, stores, streams), len(stored), dtype=np.float32)
    probabilities = checked("predict_proba", predict_all(encoder, stored, stores, streams), len(stored), encoder_spec.n_classes,
                            probabilities=True)
    return {"ids": stored, "h": h, "probabilities": probabilities.astype(np.float64), "fit": _fit_report(report)}, trained


def _fit_head(spec: JobSpec, protocol, table, ids) -> tuple[dict[str, Any], float]:
    """The protocol's emotion head on a shared representation (a frozen front end's, or a user's);
    (outputs, the time training ended). h stays the shared set's: the record names it."""
    from privbench.encoders.emotion_head import EmotionHead
    from privbench.errors import SubmissionError

    shared = RepresentationSet.read(spec.representation)
    if shared is None:
        raise SubmissionError(f"the stored representations {spec.representation[:12]} of {spec.describe()} are gone: "
                              "run the evaluation again")
    rows = table.set_index("utterance_id")[f"{spec.task}_class"]
    h_train, h_valid = shared.rows(ids["train"]), shared.rows(ids["valid"])
    head = EmotionHead(h_train.shape[1], _encoder_spec(spec, protocol, 0, ()))
    report = head.fit(h_train, rows.loc[ids["train"]].to_numpy(np.int64), h_valid, rows.loc[ids["valid"]].to_numpy(np.int64))
    trained = time.perf_counter()
    stored = ids["stored"]
    probabilities = head.predict_proba(shared.rows(stored))
    return {"ids": stored, "h": None, "probabilities": probabilities, "fit": _fit_report(report)}, trained


def checked(name: str, values: np.ndarray, rows: int, columns: int | None = None, dtype=None,
            probabilities: bool = False) -> np.ndarray:
    from privbench.errors import SubmissionError

    if not isinstance(values, np.ndarray) or values.ndim != 2 or values.shape[0] != rows or (columns and values.shape[1] != columns):
        shape = list(values.shape) if isinstance(values, np.ndarray) else type(values).__name__
        raise SubmissionError(f"the encoder's {name} returned {shape} for {rows} utterances: run privbench check on it")
    if not np.isfinite(values).all():
        raise SubmissionError(f"the encoder's {name} returned NaN or inf: run privbench check on it")
    if dtype is not None and values.dtype != dtype:
        raise SubmissionError(f"the encoder's {name} returned {values.dtype}, not {np.dtype(dtype).name}: run privbench check on it")
    if probabilities and not are_probabilities(values):
        raise SubmissionError(f"the encoder's {name} returned rows that are not probabilities (negative, or not summing to 1): "
                              "return softmax outputs, not logits; run privbench check on it")
    return values


def _rounded(history: list[dict[str, float]]) -> list[dict[str, float]]:
    """The fit's per-epoch history, for the record (and for investigating checkpoint selection)."""
    return [{key: round(float(value), 6) for key, value in epoch.items() if isinstance(value, (int, float))} for epoch in history]


def _worst_gender_uar(validation: dict[str, float]) -> float | None:
    """The validation UAR of the encoder's gender head farthest from chance (priv-e has one per stream)."""
    values = [value for key, value in validation.items() if key.startswith("gender") and key.endswith("_uar")]
    return max(values, key=lambda value: abs(value - 0.5)) if values else None
