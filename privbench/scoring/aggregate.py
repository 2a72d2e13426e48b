"""From stored training jobs and their scores to one setup's metrics: selection, seed averaging, MI-LR.

Selection (docs/protocol.md section 5), per rotation, on validation: a model
without a gender adversary maximises emotion UAR (from its stored posteriors
of the validation fold); a privacy model maximises it among configurations
whose every seed reached chance, ties broken by the smaller |gender UAR - 0.5|.
When none reached chance, the configuration closest to chance is kept (ties
by emotion UAR) with chance_reached False: the epoch rule's fallback carried
up a level (docs/protocol.md states the choice).
Utility metrics use the seeds' averaged test probabilities; privacy metrics
are averaged over the seeds' encoders; MI-LR compares the rotations' models
with each other (scoring.membership_lr).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from privbench.data.labels import GENDER_CODES
from privbench.measures import CHANCE_DISTANCE_DECIMALS, chance_distance, uar, utility
from privbench.protocol import Protocol
from privbench.scoring.metric_defs import MAIN_SCORES, MEMBERSHIP
from privbench.scoring.membership_lr import membership_lr
from privbench.scoring.score import main_ids
from privbench.storage import canonical_json
from privbench.store.representations import TrainRecord


def validation_uar(record: TrainRecord, table: pd.DataFrame, task: str, protocol: Protocol) -> float:
    """Emotion UAR of a main job's stored posteriors on its validation fold."""
    ids = main_ids(table, record.rotation, protocol)["valid"]
    truth = table.set_index("utterance_id").loc[ids, f"{task}_class"].to_numpy()
    return uar(truth, record.rows(record.probabilities, ids).argmax(axis=1))


def select(main: Sequence[TrainRecord], table: pd.DataFrame, task: str, protocol: Protocol) -> tuple[dict[str, Any], bool | None]:
    """The chosen configuration among one rotation's main jobs, and chance_reached."""
    by_config: dict[str, list[TrainRecord]] = defaultdict(list)
    for record in main:
        by_config[canonical_json(record.config)].append(record)
    privacy_model = any(record.chance_reached is not None for record in main)

    def emotion(records) -> float:  # rounded like the distance, so that a tie is a tie whatever the seeds' order
        return round(float(np.mean([validation_uar(r, table, task, protocol) for r in records])), CHANCE_DISTANCE_DECIMALS)

    def distance(records) -> float:  # the seeds' mean |gender UAR - 0.5|, rounded as the epoch rule's
        genders = [chance_distance([r.fit["gender_uar"]]) for r in records if r.fit["gender_uar"] is not None]
        return round(float(np.mean(genders)), CHANCE_DISTANCE_DECIMALS) if genders else 0.0

    candidates = list(by_config.values())
    if not privacy_model:
        return max(candidates, key=emotion)[0].config, None
    at_chance = [records for records in candidates if all(r.chance_reached for r in records)]
    if at_chance:
        best = max(at_chance, key=lambda records: (emotion(records), -distance(records)))
    else:
        best = min(candidates, key=lambda records: (distance(records), -emotion(records)))
    return best[0].config, bool(at_chance)


def _seed_mean(values: Sequence[float | None]) -> float | None:
    finite = [float(v) for v in values if v is not None and np.isfinite(v)]
    return float(np.mean(finite)) if finite else None


def setup_metrics(table: pd.DataFrame, task: str, main: Sequence[TrainRecord], main_scores: Mapping[str, dict[str, Any]],
                  membership: Sequence[TrainRecord], membership_scores: Mapping[str, dict[str, Any]],
                  selections: Sequence[tuple[dict[str, Any], bool | None]], protocol: Protocol) -> dict[str, Any]:
    """Per-rotation metrics of one setup, given each rotation's selection (`select`'s result, made
    once by the caller) and each scored job's metrics by job key: the configurations chosen,
    chance_reached overall and per rotation, the kept epochs' validation gender UAR per rotation
    (the seeds' mean), and MI-LR's pooled values and headline surface."""
    rows = table.set_index("utterance_id")
    per_rotation: dict[str, list[float | None]] = defaultdict(list)
    chosen, reached_all, gender_uars, kept = [], [], [], {}
    for rotation, (config, reached) in enumerate(selections):
        seeds = [r for r in main if r.rotation == rotation and r.config == config]
        kept[rotation] = seeds
        chosen.append(config)
        reached_all.append(reached)
        gender_uars.append(_seed_mean([r.fit["gender_uar"] for r in seeds]))
        ids = main_ids(table, rotation, protocol)["test"]
        probabilities = np.mean([r.rows(r.probabilities, ids) for r in seeds], axis=0)
        truth = rows.loc[ids, f"{task}_class"].to_numpy()
        gender = rows.loc[ids, "gender"].map(GENDER_CODES).to_numpy()
        for name, value in utility(truth, probabilities.argmax(axis=1), gender).items():
            per_rotation[name].append(value)
        for name in MAIN_SCORES:
            per_rotation[name].append(_seed_mean([main_scores[r.key].get(name) for r in seeds]))
        mi = [r for r in membership if r.rotation == rotation]
        if mi:
            for name in MEMBERSHIP:
                per_rotation[name].append(_seed_mean([membership_scores[r.key][name] for r in mi]))
    lr_entries, surface = membership_lr(table, task, kept, membership, protocol, len(selections))
    pooled = {}
    for name, entry in lr_entries.items():
        per_rotation[name] = entry["rotations"]
        pooled[name] = entry["pooled"]
    chance = None if all(r is None for r in reached_all) else all(bool(r) for r in reached_all)
    return {"rotations": dict(per_rotation), "pooled": pooled, "membership_lr_surface": surface, "configs": chosen,
            "chance_reached": chance, "chance_reached_rotations": reached_all, "gender_uar_rotations": gender_uars}
