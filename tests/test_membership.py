"""docs/protocol.md section 6's membership sets, as properties over many seeds and corpus shapes.

The property that matters most: no utterance of any s5 speaker reaches the
attacker before it is scored (version 1 trained its 'yes' class on s5's added
utterances, so the attacker had seen the very speakers it was scored on).
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from privbench.data.folds import greedy_gender_balanced_folds
from privbench.data.membership_split import membership_split, selected_count
from privbench.protocol import get_protocol


def _corpus(speakers_per_fold: list[tuple[int, int]], utterances: int = 10) -> pd.DataFrame:
    """Folds with the given (female, male) speaker counts, `utterances` each."""
    rows = []
    for fold, (female, male) in enumerate(speakers_per_fold):
        for gender, count in (("F", female), ("M", male)):
            for k in range(count):
                speaker = f"{gender}{fold}{k}"
                rows += [{"utterance_id": f"{speaker}_{i:02d}", "speaker": speaker, "gender": gender, "fold": fold}
                         for i in range(utterances)]
    return pd.DataFrame(rows)


def _synthetic_like() -> pd.DataFrame:
    """24 speakers (12 F, 12 M), 40 utterances each, in the protocol's greedy folds (5, 5, 5, 5, 4 speakers)."""
    rows = [{"utterance_id": f"{g}{s:02d}_u{i:03d}", "speaker": f"{g}{s:02d}", "gender": g}
            for g in "FM" for s in range(1, 13) for i in range(40)]
    table = pd.DataFrame(rows)
    folds = greedy_gender_balanced_folds(table, 5)
    return table.assign(fold=table["speaker"].map(folds))


SHAPES = {
    "iemocap-like (1 F + 1 M per fold)": _corpus([(1, 1)] * 5, utterances=30),
    "synthetic (24 speakers, greedy folds)": _synthetic_like(),
    "uneven (a one-gender fold, odd sizes)": _corpus([(2, 1), (3, 0), (1, 2), (2, 3), (0, 3)], utterances=8),
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_the_attacker_never_sees_an_s5_speaker_and_half_the_speakers_are_selected_rounding_down(shape):
    table = SHAPES[shape]
    rules = get_protocol().membership
    speaker = dict(zip(table["utterance_id"], table["speaker"]))
    gender = dict(zip(table["speaker"], table["gender"]))
    fold_of = dict(zip(table["utterance_id"], table["fold"]))
    for rotation in range(5):
        order = [(rotation + i) % 5 for i in range(5)]
        s4, s5 = order[3], order[4]
        fold_speakers = {f: set(table.loc[table["fold"] == f, "speaker"]) for f in range(5)}
        for seed in range(12):
            split = membership_split(table, order, rules, seed, rotation)
            attacker_speakers = {speaker[u] for u in split.attacker_yes + split.attacker_no
                                 + split.attacker_valid_yes + split.attacker_valid_no}
            assert attacker_speakers.isdisjoint(fold_speakers[s5]), (shape, rotation, seed)

            for fold, selected in ((s4, split.s4_selected), (s5, split.s5_selected)):
                n = len(fold_speakers[fold])
                assert len(selected) == max(1, math.floor(n / 2)) == selected_count(n, 0.5)
                assert set(selected) <= fold_speakers[fold]
                females = sum(gender[s] == "F" for s in selected)
                available = {g: sum(gender[s] == g for s in fold_speakers[fold]) for g in "FM"}
                # as even as the fold allows: the genders differ by at most one unless one runs out
                if min(available.values()) >= len(selected) // 2 + len(selected) % 2:
                    assert abs(females - (len(selected) - females)) <= 1

            trained = set(split.encoder_train) | set(split.encoder_valid)
            assert not set(split.encoder_train) & set(split.encoder_valid)
            # s5's added utterances train the encoder; its unused ones and unselected speakers are scored
            assert {speaker[u] for u in trained if fold_of[u] == s5} == set(split.s5_selected)
            assert all(speaker[u] in split.s5_selected and u not in trained for u in split.score_yes)
            assert {speaker[u] for u in split.score_no} == fold_speakers[s5] - set(split.s5_selected)
            # the attacker's 'yes': D1, s4's added and unused utterances of selected speakers; 'no': s4's unselected
            assert {fold_of[u] for u in split.attacker_yes} <= set(order[:3]) | {s4}
            assert all(speaker[u] in split.s4_selected for u in split.attacker_yes + split.attacker_valid_yes if fold_of[u] == s4)
            assert all(speaker[u] not in split.s4_selected and fold_of[u] == s4 for u in split.attacker_no + split.attacker_valid_no)
            assert split == membership_split(table, order, rules, seed, rotation)


def test_validation_speakers_are_held_out_of_the_attackers_training_where_a_label_has_several():
    table = SHAPES["synthetic (24 speakers, greedy folds)"]
    speaker = dict(zip(table["utterance_id"], table["speaker"]))
    split = membership_split(table, [0, 1, 2, 3, 4], get_protocol().membership, seed=3, rotation_index=0)
    assert len(split.s4_selected) == 2  # fold 3 holds 5 speakers: 2 selected, 3 not
    valid = {speaker[u] for u in split.attacker_valid_yes + split.attacker_valid_no}
    train = {speaker[u] for u in split.attacker_yes + split.attacker_no}
    assert len(valid) == 2 and valid.isdisjoint(train)


def test_a_label_with_one_s4_speaker_holds_out_a_share_of_its_utterances():
    table = SHAPES["iemocap-like (1 F + 1 M per fold)"]
    speaker = dict(zip(table["utterance_id"], table["speaker"]))
    split = membership_split(table, [0, 1, 2, 3, 4], get_protocol().membership, seed=0, rotation_index=0)
    [selected] = split.s4_selected
    assert len(split.attacker_valid_yes) == round(0.2 * 15)  # 20% of the selected speaker's 15 unused utterances
    assert {speaker[u] for u in split.attacker_valid_yes} == {selected}
    assert not set(split.attacker_valid_yes) & set(split.attacker_yes)
