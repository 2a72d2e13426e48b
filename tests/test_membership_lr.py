"""MI-LR on constructed stored records: chance exactly where nothing differs, full power where training shows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from privbench.data.folds import rotation as fold_rotation
from privbench.data.membership_split import fold_order, membership_split
from privbench.protocol import get_protocol
from privbench.scoring.membership_lr import membership_lr, speaker_scores
from privbench.store.representations import TrainRecord

PROTOCOL = get_protocol()


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    """20 speakers, 2 female and 2 male per fold, 10 utterances each, three activation classes."""
    rows = []
    for fold in range(5):
        for j, gender in enumerate("FFMM"):
            speaker = f"{gender}{fold}{j}"
            rows += [{"utterance_id": f"{speaker}-{k:02d}", "speaker": speaker, "gender": gender, "fold": fold,
                      "activation_class": k % 3} for k in range(10)]
    return pd.DataFrame(rows)


def _record(kind: str, rotation: int, table: pd.DataFrame, trained: set[str], far: float = 10.0,
            confident: bool = False, noise_seed: int | None = None) -> TrainRecord:
    """A stored job whose h puts the speakers it trained on at the origin and everyone else `far` away, and
    whose posteriors are confident on the true class of trained speakers only (when `confident`)."""
    rng = np.random.default_rng([rotation, len(kind)] if noise_seed is None else noise_seed)
    ids = tuple(sorted(table["utterance_id"]))
    speakers = table.set_index("utterance_id").loc[list(ids), "speaker"].to_numpy()
    truth = table.set_index("utterance_id").loc[list(ids), "activation_class"].to_numpy()
    shift = np.where(np.isin(speakers, sorted(trained)), 0.0, far)[:, None]
    h = (rng.normal(size=(len(ids), 6)) + shift).astype(np.float32)
    probabilities = np.full((len(ids), 3), 1 / 3)
    if confident:
        hit = np.isin(speakers, sorted(trained))
        probabilities[hit] = 0.05
        probabilities[hit, truth[hit]] = 0.9
    fit = {"epochs": 1, "best_epoch": 1, "chance_reached": None, "chance_source": None, "gender_uar": None, "history": []}
    spec = {"rotation": rotation, "seed": 0, "config": {}, "kind": kind}
    return TrainRecord(f"{kind}{rotation}".ljust(64, "0"), spec, ids, h, probabilities, fit, {"train_s": 0.0}, {}, "2026-01-01")


def _models(table: pd.DataFrame, far: float = 10.0, confident: bool = False, frozen: bool = False):
    """Main models (trained on their D1's speakers) and membership targets (D1 and the selected speakers of s4, s5)."""
    main, membership = {}, []
    noise = 0 if frozen else None  # frozen: the same h under every model
    for r in range(5):
        place = fold_rotation(r, PROTOCOL.folds)
        d1 = set(table.loc[table["fold"].isin(place.training_folds), "speaker"])
        main[r] = [_record("main", r, table, set() if frozen else d1, far, confident, noise)]
        order = fold_order(r, PROTOCOL.folds)
        split = membership_split(table, order, PROTOCOL.membership, 0, r)
        folds = [fold for fold, role in zip(order, PROTOCOL.membership.fold_roles) if role == "train"]
        trained = set(table.loc[table["fold"].isin(folds), "speaker"]) | set(split.s4_selected) | set(split.s5_selected)
        membership.append(_record("membership", r, table, set() if frozen else trained, far, confident, noise))
    return main, membership


def test_a_representation_no_model_changes_gives_exactly_chance(table):
    main, membership = _models(table, frozen=True)  # one h and one posterior for every model: a frozen front end
    entries, surface = membership_lr(table, "activation", main, membership, PROTOCOL, 5)
    assert entries["membership_lr_auc_h"]["pooled"] == 0.5 and entries["membership_lr_auc_loss"]["pooled"] == 0.5
    assert entries["membership_lr_auc"]["pooled"] == 0.5 and surface == "h"  # a tie goes to the first surface
    assert all(s.score == {"h": 0.0, "loss": 0.0} for s in speaker_scores(table, "activation", main, membership, PROTOCOL))


def test_a_model_that_keeps_its_training_speakers_close_is_found(table):
    main, membership = _models(table)
    entries, surface = membership_lr(table, "activation", main, membership, PROTOCOL, 5)
    assert entries["membership_lr_auc_h"]["pooled"] == 1.0 and surface == "h"
    assert entries["membership_lr_auc"]["rotations"] == [1.0] * 5
    # 10 non-members pooled: TPR at 10% FPR is resolvable (and perfect), at 1% it is not
    assert entries["membership_lr_tpr_at_10fpr"]["pooled"] == 1.0 and entries["membership_lr_tpr_at_1fpr"]["pooled"] is None


def test_the_loss_surface_sees_a_model_confident_on_its_training_speakers(table):
    main, membership = _models(table, far=0.0, confident=True)  # h tells nothing; the posteriors do
    entries, surface = membership_lr(table, "activation", main, membership, PROTOCOL, 5)
    assert entries["membership_lr_auc_loss"]["pooled"] == 1.0 and surface == "loss"
    assert entries["membership_lr_auc"]["pooled"] == 1.0


def test_too_few_rotations_for_out_models_give_no_value(table):
    main, membership = _models(table)
    entries, surface = membership_lr(table, "activation", {0: main[0]}, membership[:1], PROTOCOL, 1)
    assert surface is None and entries["membership_lr_auc"] == {"rotations": [None], "pooled": None}
