"""The score step: one stored training job's attacks, from its `TrainRecord` and the corpus' labels only.

No encoder is involved: every attack reads the stored h (and, for utility,
the stored posteriors, read by aggregation). A main job's score holds L, P
and its families, P-worst and ID; a membership job's the paper's MI. MI-LR
compares several jobs' records, so it is computed per setup
(`scoring.membership_lr`). The score of a job is cached by the run stage
under a key of the job's key, the scoring code and the protocol's scoring
tables, so a change to an attack re-scores without retraining.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from privbench.data.folds import rotation as fold_rotation
from privbench.data.labels import GENDER_CODES
from privbench.data.membership_split import fold_order, membership_split
from privbench.protocol import Protocol
from privbench.scoring.attacks import MembershipData, leakage, membership, privacy
from privbench.scoring.identity import identity
from privbench.store.representations import TrainRecord

# The tables of protocol.toml the score step reads (its cache key hashes them).
SCORING_SECTIONS = ("attacker", "membership", "identity", "folds")


def main_ids(table: pd.DataFrame, rotation_index: int, protocol: Protocol) -> dict[str, list[str]]:
    """A main job's parts, as utterance ids: D1 ("train"), "valid" and "test"."""
    place = fold_rotation(rotation_index, protocol.folds)
    return {"train": sorted(table.loc[table["fold"].isin(place.training_folds), "utterance_id"]),
            "valid": sorted(table.loc[table["fold"] == place.validation_fold, "utterance_id"]),
            "test": sorted(table.loc[table["fold"] == place.test_fold, "utterance_id"])}


def score_main(record: TrainRecord, table: pd.DataFrame, protocol: Protocol) -> dict[str, Any]:
    """L (probe trained on D1, selected on validation, scored on test), P and P-worst (trained on test,
    selected on validation, scored on D1) and ID (on test speakers; the family chosen on validation)."""
    rows = table.set_index("utterance_id")
    ids = main_ids(table, record.rotation, protocol)
    h = {part: record.rows(record.h, members) for part, members in ids.items()}
    gender = {part: rows.loc[members, "gender"].map(GENDER_CODES).to_numpy(np.int64) for part, members in ids.items()}
    speakers = {part: rows.loc[members, "speaker"].to_numpy(str) for part, members in ids.items()}
    settings = protocol.attacker
    scores: dict[str, Any] = {"leakage": leakage(h["train"], gender["train"], h["valid"], gender["valid"], h["test"],
                                                 gender["test"], settings, record.seed)}
    scores.update(privacy(h["test"], gender["test"], h["valid"], gender["valid"], h["train"], gender["train"], settings,
                          record.seed))
    scores.update(identity(h["train"], speakers["train"], h["valid"], speakers["valid"], h["test"], speakers["test"],
                           protocol.identity, record.seed, record.rotation))
    return scores


def score_membership(record: TrainRecord, table: pd.DataFrame, protocol: Protocol) -> dict[str, Any]:
    """The paper's MI: an attacker trained on 'yes' = D1 and s4's selected speakers, 'no' = s4's
    unselected ones, scored on s5 (docs/protocol.md section 6)."""
    split = membership_split(table, fold_order(record.rotation, protocol.folds), protocol.membership, record.seed,
                             record.rotation)

    def labelled(yes, no):
        x = np.concatenate([record.rows(record.h, yes), record.rows(record.h, no)])
        return x, np.r_[np.ones(len(yes)), np.zeros(len(no))].astype(np.int64)

    train_x, train_y = labelled(split.attacker_yes, split.attacker_no)
    valid_x, valid_y = labelled(split.attacker_valid_yes, split.attacker_valid_no)
    test_x, test_y = labelled(split.score_yes, split.score_no)
    speakers = table.set_index("utterance_id").loc[split.score_yes + split.score_no, "speaker"].to_numpy()
    return membership(MembershipData(train_x, train_y, valid_x, valid_y, test_x, test_y, speakers),
                      protocol.attacker, protocol.membership, record.seed)


def score(record: TrainRecord, table: pd.DataFrame, protocol: Protocol) -> dict[str, Any]:
    return (score_main if record.kind == "main" else score_membership)(record, table, protocol)
