"""From job records to one setup's metrics: selection, seed averaging, per-rotation values.

Selection (PROTOCOL.md section 5), per rotation, on validation: a model without
a gender adversary maximises emotion UAR; a privacy model maximises it among
configurations whose every seed reached chance, ties broken by the smaller
|gender UAR - 0.5|. When none reached chance, the configuration closest to
chance is kept (ties by emotion UAR) with chance_reached False: the epoch
rule's fallback carried up a level (PROTOCOL.md is silent; docs/protocol.md
states the choice).
Utility metrics use the seeds' averaged test probabilities; privacy metrics
are averaged over the seeds' encoders.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import pandas as pd

from privbench.scoring.job_result import JobResult
from privbench.scoring.metric_defs import ATTACKS, MEMBERSHIP
from privbench.scoring.metrics import CHANCE_DISTANCE_DECIMALS, chance_distance, utility
from privbench.data.labels import GENDER_CODES
from privbench.storage import canonical_json


def select(main: list[JobResult]) -> tuple[dict[str, Any], bool | None]:
    """The chosen configuration among one rotation's main-job records, and chance_reached."""
    by_config: dict[str, list[JobResult]] = defaultdict(list)
    for record in main:
        by_config[canonical_json(record.config)].append(record)
    privacy_model = any(record["chance_reached"] is not None for record in main)

    def uar(records) -> float:  # rounded like the distance, so that a tie is a tie whatever the seeds' order
        return round(float(np.mean([r["validation"]["uar"] for r in records])), CHANCE_DISTANCE_DECIMALS)

    def distance(records) -> float:  # the seeds' mean |gender UAR - 0.5|, rounded as the epoch rule's
        genders = [chance_distance([r["validation"]["gender_uar"]]) for r in records if r["validation"]["gender_uar"] is not None]
        return round(float(np.mean(genders)), CHANCE_DISTANCE_DECIMALS) if genders else 0.0

    candidates = list(by_config.values())
    if not privacy_model:
        return max(candidates, key=uar)[0].config, None
    at_chance = [records for records in candidates if all(r["chance_reached"] for r in records)]
    if at_chance:
        best = max(at_chance, key=lambda records: (uar(records), -distance(records)))
    else:
        best = min(candidates, key=lambda records: (distance(records), -uar(records)))
    return best[0].config, bool(at_chance)


def setup_metrics(table: pd.DataFrame, task: str, main: list[JobResult], membership: list[JobResult],
                  selections: list[tuple[dict[str, Any], bool | None]]) -> dict[str, Any]:
    """Per-rotation metrics of one setup, given each rotation's selection (`select`'s result, made
    once by the caller): the configurations chosen, chance_reached overall and per rotation, and the
    kept epochs' validation gender UAR per rotation (the seeds' mean)."""
    rows = table.set_index("utterance_id")
    per_rotation: dict[str, list[float]] = defaultdict(list)
    chosen, reached_all, gender_uars = [], [], []
    for rotation, (config, reached) in enumerate(selections):
        records = [r for r in main if r.rotation == rotation]
        chosen.append(config)
        reached_all.append(reached)
        seeds = [r for r in records if r.config == config]
        genders = [r["validation"]["gender_uar"] for r in seeds if r["validation"]["gender_uar"] is not None]
        gender_uars.append(float(np.mean(genders)) if genders else None)
        ids = seeds[0]["test_ids"]
        probabilities = np.mean([np.asarray(r["test_probabilities"]) for r in seeds], axis=0)
        truth = rows.loc[ids, f"{task}_class"].to_numpy()
        gender = rows.loc[ids, "gender"].map(GENDER_CODES).to_numpy()
        for name, value in utility(truth, probabilities.argmax(axis=1), gender).items():
            per_rotation[name].append(value)
        for name in ATTACKS:
            per_rotation[name].append(float(np.mean([r["attacks"][name] for r in seeds])))
        mi = [r for r in membership if r.rotation == rotation]
        if mi:
            for name in MEMBERSHIP:
                per_rotation[name].append(float(np.nanmean([r["attacks"][name] for r in mi])))
    chance = None if all(r is None for r in reached_all) else all(bool(r) for r in reached_all)
    return {"rotations": dict(per_rotation), "configs": chosen, "chance_reached": chance,
            "chance_reached_rotations": reached_all, "gender_uar_rotations": gender_uars}
