"""What one job measured: the record `privbench.run.jobs` writes and `privbench.scoring.aggregate` reads.

A `JobResult` is the job record's JSON as a dict, checked key by key when it is
read (`from_json`: a record that fails is treated as missing, so the job runs
again), with typed accessors for what aggregation looks up. Keys:

- `schema` ("privbench.job/1"), `key` (the sha256 of the spec), `spec` (the
  JobSpec's fields: encoder, protocol, corpus and split sha256, modality, task,
  rotation, seed, config, kind, epoch limit, code sha256);
- `chance_reached`, `epochs`, `best_epoch`: the fit's report;
- `attacks`: the attack metrics (main: leakage, privacy and its variants;
  membership: MI, MI-spk, MI-AUC, TPR at 1% FPR), numbers or null;
- `timings`: seconds by phase (train_s, embed_s, attack_s);
- main jobs only: `validation` (emotion UAR and the farthest gender head's UAR,
  for selection), `history` (per epoch), `test_ids` and `test_probabilities`
  (utility is computed from the seeds' averaged probabilities).
"""

from __future__ import annotations

import json
import math
from typing import Any

JOB_SCHEMA = "privbench.job/1"
COMMON = ("schema", "key", "spec", "chance_reached", "epochs", "best_epoch", "attacks", "timings")
MAIN_ONLY = ("validation", "history", "test_ids", "test_probabilities")


class JobResultError(ValueError):
    """A job record that does not follow the format (it is then run again)."""


def _number(value: Any) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value))


class JobResult(dict):
    """A validated job record (see the module docstring for its keys)."""

    @classmethod
    def from_json(cls, document: str | dict[str, Any]) -> JobResult:
        data = json.loads(document) if isinstance(document, str) else document
        if not isinstance(data, dict) or data.get("schema") != JOB_SCHEMA:
            raise JobResultError(f"not a {JOB_SCHEMA} record")
        spec = data.get("spec")
        wanted = COMMON + (MAIN_ONLY if isinstance(spec, dict) and spec.get("kind") == "main" else ())
        missing = [key for key in wanted if key not in data]
        if missing:
            raise JobResultError(f"missing {missing[0]}")
        if not isinstance(spec, dict) or not {"rotation", "seed", "config", "kind"} <= set(spec):
            raise JobResultError("spec lacks rotation, seed, config or kind")
        if not all(_number(v) for v in data["attacks"].values()) or not all(_number(v) for v in data["timings"].values()):
            raise JobResultError("attacks and timings must be numbers")
        if spec["kind"] == "main" and len(data["test_ids"]) != len(data["test_probabilities"]):
            raise JobResultError("one probability row per test utterance")
        return cls(data)

    @property
    def rotation(self) -> int:
        return int(self["spec"]["rotation"])

    @property
    def seed(self) -> int:
        return int(self["spec"]["seed"])

    @property
    def config(self) -> dict[str, Any]:
        return self["spec"]["config"]

    @property
    def kind(self) -> str:
        return self["spec"]["kind"]

    @property
    def seconds(self) -> float:
        return float(sum(self["timings"].values()))
