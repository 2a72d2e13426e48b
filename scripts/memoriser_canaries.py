"""Forms of control-memoriser's membership canary, compared on stored representations without retraining.

control-memoriser's h is the utterance's 80 voice statistics (z-scored by each
model) and a canary repeated in `canary_copies` columns. This reads the stored
jobs of `privbench evaluate controls/control-memoriser --corpus C --modality
audio` (run that first: it fills the store), keeps h's first 80 columns,
re-fits each model's discriminant space on the recordings that model trained
on (as the encoder's `fit` does, from the float32 columns of h rather than its float64 z), rebuilds h with each canary form and
scores it with MI-LR as a record does (`privbench.scoring.membership_lr`,
unchanged). It prints the pooled MI-LR-AUC on the h surface and its value per
rotation. h does not depend on the task, so one task is read.

Forms (docs/protocol.md section 6 says which one the control uses, and why):

- `centroid`: minus the distance to the nearest training speaker's centroid
  (the first canary);
- `recordings-K`: minus the mean distance to the K nearest training recordings
  other than the utterance itself (the canary since 2026-12-06, K = 5);
- `recordings-with-self-K`: the same, the utterance itself counted (a training
  recording's canary is then its distance to itself, 0, for K = 1).

    python scripts/memoriser_canaries.py --corpus ased [--form centroid --form recordings-5 ...]
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import sys
import tempfile
from pathlib import Path

import numpy as np

VOICE_COLUMNS = 80
DEFAULT_FORMS = ("centroid", "recordings-1", "recordings-3", "recordings-5", "recordings-10", "recordings-with-self-5")


@functools.cache
def control_canary():
    """control-memoriser's own `recordings_canary`, imported from the control's folder, so the recordings-K forms are
    computed by the code the records were made with."""
    from privbench.encoders.submission import load_encoder_class, read_submission
    from privbench.paths import repo_root
    from privbench.protocol import get_protocol

    control = load_encoder_class(read_submission(repo_root() / "controls" / "control-memoriser", get_protocol()))
    return sys.modules[control.__module__].recordings_canary


def canary(form: str, projected: np.ndarray, trained: np.ndarray, speakers: np.ndarray) -> np.ndarray:
    """The canary of every row of `projected` [N, C], given the projected training recordings and their speakers."""
    if form == "centroid":
        centroids = np.stack([trained[speakers == s].mean(axis=0) for s in np.unique(speakers)])
        distance = np.sqrt(((projected[:, None, :] - centroids[None]) ** 2).sum(axis=2)).min(axis=1)
        return -distance / np.sqrt(projected.shape[1])
    name, _, k = form.rpartition("-")
    if name not in ("recordings", "recordings-with-self") or not k.isdigit():
        raise SystemExit(f"--form {form!r}: the forms are centroid, recordings-K, recordings-with-self-K")
    return control_canary()(projected, trained, int(k), count_itself=name == "recordings-with-self")


def _groups(table, target, protocol) -> dict[str, list[str]]:
    """A membership model's reference h(D1) (its training folds; a small share of them, for early stopping, was not
    fitted on), its s5 members' unseen recordings, its s5 non-members'."""
    from privbench.data.membership_split import fold_order, membership_split

    order = fold_order(target.rotation, protocol.folds)
    split = membership_split(table, order, protocol.membership, target.seed, target.rotation)
    roles = dict(zip(order, protocol.membership.fold_roles))
    scored = table[table["fold"] == next(fold for fold, role in roles.items() if role == "score")]
    trained = set(split.encoder_train) | set(split.encoder_valid)
    members = scored["speaker"].isin(split.s5_selected)
    return {"reference h(D1)": sorted(table.loc[table["fold"].isin([f for f, role in roles.items() if role == "train"]), "utterance_id"]),
            "members' unseen": sorted(u for u in scored.loc[members, "utterance_id"] if u not in trained),
            "non-members": sorted(scored.loc[~members, "utterance_id"])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="synthetic")
    parser.add_argument("--form", action="append", help=f"default: {', '.join(DEFAULT_FORMS)}")
    parser.add_argument("--copies", type=int, default=16, help="columns of h that repeat the canary")
    parser.add_argument("--medians", action="store_true",
                        help="also print, per membership model, the median canary of the attacker's reference h(D1) (the "
                             "model's training folds), of the members' unseen recordings and of the non-members'")
    args = parser.parse_args(argv)

    import privbench.scoring.membership_lr as membership_lr
    from privbench.data.folds import rotation as fold_rotation
    from privbench.data.membership_split import fold_order, membership_split
    from privbench.measures import lda_projection
    from privbench.paths import repo_root
    from privbench.protocol import get_protocol
    from privbench.run.evaluate import Request, evaluate
    from privbench.run.executor import LocalExecutor
    from privbench.scoring.roc import roc_auc

    protocol = get_protocol()
    seen: dict = {}
    score = membership_lr.speaker_scores

    def keep_inputs(table, task, main, membership, protocol):  # the records MI-LR reads, as a record assembles them
        seen.update(table=table, task=task, main=main, membership=membership)
        return score(table, task, main, membership, protocol)

    membership_lr.speaker_scores = keep_inputs
    executor = LocalExecutor(1)
    try:
        with tempfile.TemporaryDirectory() as results:
            evaluation = evaluate(Request(repo_root() / "controls" / "control-memoriser", (args.corpus,), ("audio",), ("valence",),
                                          "quick", "cpu", Path(results)), protocol, executor)
    finally:
        executor.close()
        membership_lr.speaker_scores = score
    if not seen or not evaluation.records:
        print(f"memoriser_canaries: no stored control-memoriser jobs on {args.corpus}: run "
              f"`privbench evaluate controls/control-memoriser --corpus {args.corpus} --modality audio` first", file=sys.stderr)
        return 1
    table = seen["table"]
    speaker_of = table.set_index("utterance_id")["speaker"]

    def trained_on(record) -> list[str]:
        if record.kind == "membership":
            return membership_split(table, fold_order(record.rotation, protocol.folds), protocol.membership,
                                    record.seed, record.rotation).encoder_train
        place = fold_rotation(record.rotation, protocol.folds)
        return sorted(table.loc[table["fold"].isin(place.training_folds), "utterance_id"])

    def rebuilt(record, form: str):
        voice = record.h[:, :VOICE_COLUMNS].astype(np.float64)
        row = {uid: i for i, uid in enumerate(record.ids)}
        ids = trained_on(record)
        trained = voice[[row[u] for u in ids]]
        projection = lda_projection(trained, speaker_of.loc[ids].to_numpy())
        value = canary(form, voice @ projection, trained @ projection, speaker_of.loc[ids].to_numpy())
        h = np.concatenate([voice, np.repeat(value[:, None], args.copies, axis=1)], axis=1).astype(np.float32)
        return dataclasses.replace(record, h=h)

    print(f"{args.corpus}: MI-LR-AUC on h, pooled over rotations [per rotation]")
    for form in args.form or DEFAULT_FORMS:
        main = {rotation: [rebuilt(r, form) for r in records] for rotation, records in seen["main"].items()}
        targets = [rebuilt(r, form) for r in seen["membership"]]
        scores = [s for s in score(table, seen["task"], main, targets, protocol) if s.group == "s5"]
        truth, values = np.array([s.member for s in scores]), np.array([s.score["h"] for s in scores])
        rotations = sorted({s.rotation for s in scores})
        per_rotation = [roc_auc(truth[[s.rotation == r for s in scores]], values[[s.rotation == r for s in scores]]) for r in rotations]
        print(f"  {form:<24} {roc_auc(truth, values):.3f}  [{', '.join(f'{v:.3f}' for v in per_rotation)}]", flush=True)
        if args.medians:
            for target in targets:
                print(f"    rotation {target.rotation}: median canary " + ", ".join(
                    f"{name} {np.median(target.rows(target.h, ids)[:, -1]):.3f}" for name, ids in _groups(table, target, protocol).items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
