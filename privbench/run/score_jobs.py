"""The score step as a task: one stored training job in, its attacks' metrics out.

A `ScoreSpec` names a training job; its key hashes that job's key, the
scoring code (paths.SCORE_MODULES) and the protocol's tables the attacks read
(`scoring.score.SCORING_SECTIONS`). The driver writes the result under
`<cache>/store/scores/` atomically, so re-scoring after a change to an attack
costs the attacks only, and a rerun with nothing changed costs nothing.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from privbench.run.jobs import JobSpec
from privbench.storage import canonical_json, sha256_bytes
from privbench.store.artifacts import read_json, write_json

SCORE_SCHEMA = "privbench.score/1"


def score_key(job_key: str, code_sha256: str, scoring_sha256: str) -> str:
    """The key of a training job's score under some scoring code and protocol tables."""
    return sha256_bytes(canonical_json({"job": job_key, "code": code_sha256, "protocol": scoring_sha256}).encode())


@dataclass(frozen=True)
class ScoreSpec:
    job: JobSpec
    code_sha256: str  # paths.code_sha256("score")
    scoring_sha256: str  # Protocol.sections_sha256(SCORING_SECTIONS)

    @property
    def key(self) -> str:
        return score_key(self.job.key, self.code_sha256, self.scoring_sha256)

    @property
    def kind(self) -> str:
        return "score"

    def describe(self, name: str | None = None) -> str:
        return f"scoring {self.job.describe(name)}"


def read_score(spec: ScoreSpec) -> dict[str, Any] | None:
    value = read_json("scores", spec.key)
    if value is None or value.get("schema") != SCORE_SCHEMA or value.get("key") != spec.key or not isinstance(value.get("metrics"), dict):
        return None
    return value


def write_score(spec: ScoreSpec, result: dict[str, Any]) -> dict[str, Any]:
    value = {"schema": SCORE_SCHEMA, "key": spec.key, "job": spec.job.key, **result}
    write_json("scores", spec.key, value)
    return value


def run_score(spec: ScoreSpec) -> dict[str, Any]:
    """Score one stored job (in a worker): its TrainRecord and the corpus' labels, nothing else."""
    from privbench.errors import PrivbenchError
    from privbench.protocol import get_protocol
    from privbench.scoring.score import score
    from privbench.store.representations import TrainRecord

    protocol = get_protocol()
    record = TrainRecord.read(spec.job.key)
    if record is None:
        raise PrivbenchError(f"the stored outputs of {spec.job.describe()} are gone: run the evaluation again")
    started = time.perf_counter()
    metrics = score(record, _table(spec.job.corpus), protocol)
    return {"metrics": {name: (None if value is None or not math.isfinite(value) else float(value)) for name, value in metrics.items()},
            "timings": {"score_s": time.perf_counter() - started}}


_TABLES: dict[str, Any] = {}


def _table(corpus: str):
    from privbench.data.corpora.store import load_corpus
    from privbench.protocol import get_protocol

    if corpus not in _TABLES:
        _TABLES.clear()
        _TABLES[corpus] = load_corpus(corpus, get_protocol()).table
    return _TABLES[corpus]
