"""Representations that do not depend on training, made once per corpus and stored.

Two sources (docs/submitting.md):

- a frozen front end (a submission whose entry subclasses `FrozenEncoder`):
  `RepresentSpec` is a task an executor runs once per corpus and modality,
  keyed by the submission's contents, the corpus' content, the feature
  settings it reads and the code (paths.REPRESENT_MODULES); every job of the
  submission then trains only the protocol's emotion head on the stored h;
- frozen representations a user made elsewhere (`representations = {corpus =
  "file.npz"}` in submission.toml): read and checked in the driver before any
  training (`submitted_representations`), stored under a key of the file's
  sha256 and the corpus' content.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from privbench.storage import canonical_json, sha256_bytes, sha256_file
from privbench.store.representations import RepresentationSet


@dataclass(frozen=True)
class RepresentSpec:
    """One frozen front end's h over one corpus and modality."""

    encoder_dir: str
    encoder_sha256: str
    features_sha256: str  # Protocol.sections_sha256(("features",)): the inputs it reads
    corpus: str
    corpus_sha256: str
    modality: str
    code_sha256: str  # paths.code_sha256("represent")
    device: str = field(default="cpu", compare=False)

    @property
    def key(self) -> str:
        return sha256_bytes(canonical_json({"encoder": self.encoder_sha256, "features": self.features_sha256,
                                            "corpus": self.corpus_sha256, "modality": self.modality,
                                            "code": self.code_sha256}).encode())

    @property
    def kind(self) -> str:
        return "represent"

    def describe(self, name: str | None = None) -> str:
        return f"{name or Path(self.encoder_dir).name} representations of {self.corpus}/{self.modality}"


def read_representation(spec: RepresentSpec) -> RepresentationSet | None:
    return RepresentationSet.read(spec.key)


def write_representation(spec: RepresentSpec, result: dict[str, Any]) -> RepresentationSet:
    shared = RepresentationSet(spec.key, tuple(result["ids"]), result["h"],
                               {"source": "front end", "encoder_sha256": spec.encoder_sha256, "corpus": spec.corpus,
                                "corpus_sha256": spec.corpus_sha256, "modality": spec.modality, "timings": result["timings"],
                                "environment": result["environment"],
                                "created": datetime.now(timezone.utc).isoformat(timespec="seconds")})
    shared.write()
    return shared


def run_represent(spec: RepresentSpec) -> dict[str, Any]:
    """h of every utterance of the corpus under a frozen front end (in a worker)."""
    from privbench.data.corpora.store import feature_store_folder, load_corpus
    from privbench.data.feature_cache import open_store
    from privbench.encoders.frozen import FrontEndSpec
    from privbench.encoders.submission import load_encoder_class, read_submission
    from privbench.errors import SubmissionError
    from privbench.protocol import get_protocol
    from privbench.run.jobs import environment
    from privbench.run.train import checked
    from privbench.run.setup_data import collect

    protocol = get_protocol()
    submission = read_submission(Path(spec.encoder_dir), protocol)
    if submission.sha256 != spec.encoder_sha256:
        raise SubmissionError(f"{spec.encoder_dir} changed while its jobs ran: start the evaluation again")
    corpus = load_corpus(spec.corpus, protocol)
    front_spec = FrontEndSpec(spec.modality, submission.inputs, dict(submission.config), spec.device)
    stores = {stream: open_store(feature_store_folder(corpus, stream)) for stream in front_spec.batch_streams}
    ids = sorted(corpus.table["utterance_id"])
    started = time.perf_counter()
    front_end = load_encoder_class(submission)(front_spec)
    h = checked("represent", collect(front_end.represent, ids, stores, front_spec.batch_streams), len(ids), dtype=np.float32)
    return {"ids": ids, "h": h, "timings": {"represent_s": time.perf_counter() - started}, "environment": environment(spec.device)}


def submitted_key(path: Path, corpus) -> str:
    """The store key of a user's file for a corpus: its contents and the corpus' content."""
    return sha256_bytes(canonical_json({"file": sha256_file(path) if path.is_file() else "", "corpus": corpus.content_sha256,
                                        "source": "submission"}).encode())


def submitted_representations(path: Path, corpus, submission_sha256: str) -> RepresentationSet:
    """A user's file for one corpus, checked (one line naming the file and the first bad id) and stored."""
    from privbench.store.submitted import read_submitted

    key = submitted_key(path, corpus)
    known = RepresentationSet.read(key)
    if known is not None:
        return known
    ids, h = read_submitted(path, sorted(corpus.table["utterance_id"]))
    shared = RepresentationSet(key, ids, h, {"source": "submission", "encoder_sha256": submission_sha256, "file": path.name,
                                             "corpus": corpus.name, "corpus_sha256": corpus.content_sha256,
                                             "created": datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
                                             .isoformat(timespec="seconds")})
    shared.write()
    return shared
