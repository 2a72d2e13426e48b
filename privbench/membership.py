"""Who is a member: PROTOCOL.md section 6's membership-identification sets, as utterance ids.

For rotation r the folds are ordered from r: the first three train, the fourth
is s4 (the attacker's), the fifth s5 (scoring). In s4 and in s5 independently,
half the speakers are selected (at least one, balanced by gender where
possible) and half of each selected speaker's utterances join the encoder's
training set; the rest are that speaker's unused utterances. Everything is
drawn from a generator seeded with (seed, rotation), so a job is reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from privbench.protocol import Membership


@dataclass(frozen=True)
class MembershipSplit:
    encoder_train: list[str]  # D1 plus the added utterances, minus encoder_valid
    encoder_valid: list[str]  # a seeded share of the training utterances, for early stopping
    attacker_yes: list[str]  # training utterances and unused utterances of s4's selected speakers
    attacker_no: list[str]  # s4's unselected speakers
    attacker_valid_yes: list[str]  # held out of s4 for the attacker's validation
    attacker_valid_no: list[str]
    score_yes: list[str]  # s5: unused utterances of selected speakers
    score_no: list[str]  # s5: utterances of unselected speakers


def _select_speakers(fold: pd.DataFrame, fraction: float, rng: np.random.Generator) -> list[str]:
    """About `fraction` of the fold's speakers, at least one, split between genders in proportion."""
    per_gender = fold.groupby("gender")["speaker"].unique()
    total = sum(len(s) for s in per_gender)
    wanted = max(1, int(round(total * fraction)))
    chosen: list[str] = []
    for gender, speakers in sorted(per_gender.items()):
        share = int(round(wanted * len(speakers) / total))
        chosen.extend(rng.choice(sorted(speakers), size=min(share, len(speakers)), replace=False).tolist())
    if not chosen:
        chosen = [rng.choice(sorted(fold["speaker"].unique())).item()]
    return sorted(chosen)


def _split_speakers(fold: pd.DataFrame, rules: Membership, rng: np.random.Generator):
    """(selected speakers, added utterances, unused utterances of selected, utterances of unselected)."""
    selected = _select_speakers(fold, rules.selected_speaker_fraction, rng)
    added, unused = [], []
    for speaker in selected:
        ids = sorted(fold.loc[fold["speaker"] == speaker, "utterance_id"])
        take = set(rng.choice(ids, size=int(round(len(ids) * rules.added_utterance_fraction)), replace=False).tolist())
        added += [u for u in ids if u in take]
        unused += [u for u in ids if u not in take]
    unselected = sorted(fold.loc[~fold["speaker"].isin(selected), "utterance_id"])
    return selected, added, unused, unselected


def _hold_out(ids: list[str], speakers: pd.Series, rules: Membership, rng: np.random.Generator) -> tuple[list[str], list[str]]:
    """(kept, held out): one whole speaker when the label has several, else a share of utterances."""
    owners = sorted(set(speakers.loc[ids]))
    if len(owners) > 1:
        held = rng.choice(owners).item()
        return [u for u in ids if speakers[u] != held], [u for u in ids if speakers[u] == held]
    held = set(rng.choice(ids, size=max(1, int(round(len(ids) * rules.heldout_utterance_fraction))), replace=False).tolist())
    return [u for u in ids if u not in held], [u for u in ids if u in held]


def membership_split(table: pd.DataFrame, folds_from_rotation: list[int], rules: Membership, seed: int,
                     rotation_index: int) -> MembershipSplit:
    """The sets of one membership job; `folds_from_rotation` is [r, r+1, ..., r+4] mod count."""
    rng = np.random.default_rng([seed, rotation_index, 7])
    training_folds, s4_fold, s5_fold = folds_from_rotation[:3], folds_from_rotation[3], folds_from_rotation[4]
    speakers = table.set_index("utterance_id")["speaker"]
    d1 = sorted(table.loc[table["fold"].isin(training_folds), "utterance_id"])
    s4_selected, s4_added, s4_unused, s4_unselected = _split_speakers(table[table["fold"] == s4_fold], rules, rng)
    _, s5_added, s5_unused, s5_unselected = _split_speakers(table[table["fold"] == s5_fold], rules, rng)

    training = d1 + s4_added + s5_added
    validation = set(rng.choice(training, size=max(1, int(round(len(training) * rules.encoder_validation_fraction))),
                                replace=False).tolist())
    yes_s4, valid_yes = _hold_out(s4_unused, speakers, rules, rng)
    no_s4, valid_no = _hold_out(s4_unselected, speakers, rules, rng)
    return MembershipSplit(
        encoder_train=[u for u in training if u not in validation], encoder_valid=sorted(validation),
        attacker_yes=training + yes_s4, attacker_no=no_s4, attacker_valid_yes=valid_yes, attacker_valid_no=valid_no,
        score_yes=s5_unused, score_no=s5_unselected,
    )
