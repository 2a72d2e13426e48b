"""Who is a member: docs/protocol.md section 6's membership-identification sets, as utterance ids.

A split of the data like the folds: training reads it (who trains the
membership encoder) and scoring reads it (who the attacker sees and scores).

For rotation r the folds are ordered from r and take the roles of
protocol.toml's `membership.fold_roles`: the first three train (D1), the
fourth is s4 (the attacker's), the fifth s5 (scoring). In s4 and in s5
independently, half the speakers, rounded down and at least one, are selected,
split between genders as evenly as the fold allows; half of each selected
speaker's utterances join the encoder's training set, the rest are that
speaker's unused utterances. Everything is drawn from a generator seeded with
(seed, rotation), so a job is reproducible.

The attacker never sees an utterance of an s5 speaker before it is scored (the
paper, section 4.2: the attacker "has no information about this split for
s5"): s5's added utterances train the encoder only. Its validation holds one
whole s4 speaker per label out of its training set **[decided: the held-out
'yes' speaker's added utterances leave the attacker's training too, so
validation speakers are unseen]**; a label with a single s4 speaker gives a
share of that speaker's utterances instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from privbench.errors import CorpusError
from privbench.protocol import Folds, Membership


def fold_order(rotation_index: int, folds: Folds) -> list[int]:
    """The folds ordered from rotation r's ([r, r+1, ..., r+4] mod count): the order
    `membership.fold_roles` gives roles to."""
    return [(rotation_index + i) % folds.count for i in range(folds.count)]


@dataclass(frozen=True)
class MembershipSplit:
    encoder_train: list[str]  # D1 plus the added utterances of s4 and s5, minus encoder_valid
    encoder_valid: list[str]  # a seeded share of those training utterances, for early stopping
    attacker_yes: list[str]  # D1, s4's added utterances and unused utterances of s4's selected speakers
    attacker_no: list[str]  # s4's unselected speakers
    attacker_valid_yes: list[str]  # held out of s4 for the attacker's validation
    attacker_valid_no: list[str]
    score_yes: list[str]  # s5: unused utterances of selected speakers
    score_no: list[str]  # s5: utterances of unselected speakers
    s4_selected: tuple[str, ...] = ()
    s5_selected: tuple[str, ...] = ()


def selected_count(speakers: int, fraction: float) -> int:
    """How many of a fold's speakers are selected: the fraction rounded down, at least one."""
    return max(1, math.floor(speakers * fraction))


def _select_speakers(fold: pd.DataFrame, fraction: float, rng: np.random.Generator) -> list[str]:
    """`selected_count` speakers, dealt to the genders in turn (a seeded order decides which
    gender gets an odd one), each gender giving at most the speakers it has."""
    per_gender = {gender: sorted(speakers) for gender, speakers in fold.groupby("gender")["speaker"].unique().items()}
    if not per_gender:  # evaluate refuses such a corpus first (folds.check_evaluable); never loop on nothing
        raise CorpusError("a membership fold holds no speaker: the corpus has fewer speakers than folds")
    wanted = selected_count(sum(len(s) for s in per_gender.values()), fraction)
    order = [sorted(per_gender)[i] for i in rng.permutation(len(per_gender))]
    counts = dict.fromkeys(order, 0)
    while sum(counts.values()) < wanted:
        for gender in order:
            if sum(counts.values()) < wanted and counts[gender] < len(per_gender[gender]):
                counts[gender] += 1
    chosen: list[str] = []
    for gender in sorted(counts):
        chosen.extend(rng.choice(per_gender[gender], size=counts[gender], replace=False).tolist())
    return sorted(chosen)


@dataclass(frozen=True)
class _FoldSplit:
    selected: list[str]
    added: list[str]  # half of each selected speaker's utterances: they train the encoder
    unused: list[str]  # the rest of the selected speakers' utterances
    unselected: list[str]  # every utterance of the other speakers


def _split_fold(fold: pd.DataFrame, rules: Membership, rng: np.random.Generator) -> _FoldSplit:
    selected = _select_speakers(fold, rules.selected_speaker_fraction, rng)
    added, unused = [], []
    for speaker in selected:
        ids = sorted(fold.loc[fold["speaker"] == speaker, "utterance_id"])
        take = set(rng.choice(ids, size=int(round(len(ids) * rules.added_utterance_fraction)), replace=False).tolist())
        added += [u for u in ids if u in take]
        unused += [u for u in ids if u not in take]
    unselected = sorted(fold.loc[~fold["speaker"].isin(selected), "utterance_id"])
    return _FoldSplit(selected, added, unused, unselected)


def _held_out(ids: list[str], speakers: pd.Series, rules: Membership, rng: np.random.Generator) -> tuple[str | None, list[str]]:
    """(the held-out speaker or None, the held-out utterances): one whole speaker when the
    label has several in s4, else a share of the one speaker's utterances."""
    owners = sorted(set(speakers.loc[ids]))
    if len(owners) > 1:
        held = rng.choice(owners).item()
        return held, [u for u in ids if speakers[u] == held]
    share = max(1, int(round(len(ids) * rules.heldout_utterance_fraction)))
    return None, sorted(rng.choice(ids, size=share, replace=False).tolist())


def membership_split(table: pd.DataFrame, folds_from_rotation: list[int], rules: Membership, seed: int,
                     rotation_index: int) -> MembershipSplit:
    """The sets of one membership job; `folds_from_rotation` is [r, r+1, ..., r+4] mod count."""
    rng = np.random.default_rng([seed, rotation_index, 7])
    roles = dict(zip(folds_from_rotation, rules.fold_roles))  # fold -> "train", "attacker" (s4) or "score" (s5)
    training_folds = [fold for fold, role in roles.items() if role == "train"]
    s4_fold, s5_fold = (next(fold for fold, role in roles.items() if role == wanted) for wanted in ("attacker", "score"))
    speakers = table.set_index("utterance_id")["speaker"]
    d1 = sorted(table.loc[table["fold"].isin(training_folds), "utterance_id"])
    s4 = _split_fold(table[table["fold"] == s4_fold], rules, rng)
    s5 = _split_fold(table[table["fold"] == s5_fold], rules, rng)

    training = d1 + s4.added + s5.added
    validation = set(rng.choice(training, size=max(1, int(round(len(training) * rules.encoder_validation_fraction))),
                                replace=False).tolist())
    held_yes_speaker, valid_yes = _held_out(s4.unused, speakers, rules, rng)
    _, valid_no = _held_out(s4.unselected, speakers, rules, rng)
    held = set(valid_yes) | set(valid_no)
    s4_yes = [u for u in s4.added + s4.unused if u not in held and speakers[u] != held_yes_speaker]
    return MembershipSplit(
        encoder_train=[u for u in training if u not in validation], encoder_valid=sorted(validation),
        attacker_yes=d1 + s4_yes, attacker_no=[u for u in s4.unselected if u not in held],
        attacker_valid_yes=valid_yes, attacker_valid_no=valid_no,
        score_yes=s5.unused, score_no=s5.unselected,
        s4_selected=tuple(s4.selected), s5_selected=tuple(s5.selected),
    )
