"""MI-LR, speaker membership with power (docs/protocol.md section 6).

The paper's MI asks an attacker trained on s4 to transfer to s5; with 10-24
speakers per corpus it decides on one or two speakers and has no power.
MI-LR asks each s5 speaker the same question, "was this person in the
training data?", as an offline likelihood-ratio attack in the manner of LiRA
(Carlini et al., S&P 2022) with RMIA's population correction (Zarifzadeh et
al., ICML 2024), using only models the protocol trains anyway:

- target: the rotation's membership model (its s5 selected speakers trained
  on half their utterances, the members; the unselected ones did not);
- out models: for a speaker in fold f, every main model in which f was the
  test or the validation fold (two rotations, every seed), which never trained
  on that speaker;
- per utterance, a statistic of the model on it (a surface):
  - "h": minus the mean Euclidean distance of its h to its
    `membership_lr.neighbours` nearest representations of R = h(D1), the
    target's training folds the attacker already holds ('yes' in the paper's
    attack), after standardising with R's statistics (a nearest-neighbour
    density: how close the model put the utterance to its training data; a
    cosine would miss a deviation along R's own directions). R is the same
    utterances under every model, so a representation that does not depend on
    training (a frozen front end) has exactly the same statistic under the
    target and its out models;
  - "loss": the emotion model's logit-scaled confidence in the true class,
    log(p_y / (1 - p_y)) (LiRA's statistic; an attacker with query access);
- a speaker's statistic is the mean over its scored utterances (members: the
  unused half; non-members: all, as the paper's MI scores them), and its score
  is target minus the out models' mean (LiRA offline, one variance shared by
  every speaker: the ranking is that of the difference), minus the mean of
  the same difference over s4's unselected speakers, non-members the attacker
  knows (RMIA's population: it removes what makes one target model differ
  from the out models as a whole);
- reported at speaker level: the ROC AUC over every rotation's s5 speakers
  pooled (the headline), per rotation, and the true-positive rate at 10% and
  1% false positives where there are at least 1/FPR non-members.

Both surfaces are kept (`..._h`, `..._loss`); the headline is the one with the
higher AUC on s4's speakers (the attacker's own data), never chosen on s5.
Seeds: each seed's target is scored against every seed's out models, and the
seeds' values are averaged.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from privbench.data.folds import rotation as fold_rotation
from privbench.data.membership_split import MembershipSplit, fold_order, membership_split
from privbench.protocol import Protocol
from privbench.scoring.roc import resolvable, roc_auc, tpr_at_fpr
from privbench.store.representations import TrainRecord

CONFIDENCE_CLIP = 1e-7  # keeps log(p / (1 - p)) finite for a posterior of exactly 0 or 1
SCALE_FLOOR = 1e-8


def fpr_key(fpr: float) -> str:
    """0.1 -> "10fpr", 0.01 -> "1fpr" (the record keys)."""
    return f"{round(fpr * 100):g}fpr"


def metric_names(protocol: Protocol) -> list[str]:
    """Every record key MI-LR writes under this protocol."""
    settings = protocol.membership_lr
    names = ["membership_lr_auc"] + [f"membership_lr_tpr_at_{fpr_key(f)}" for f in settings.tpr_at_fpr]
    for surface in settings.surfaces:
        names += [f"membership_lr_auc_{surface}", f"membership_lr_tpr_at_{fpr_key(settings.tpr_at_fpr[0])}_{surface}"]
    return names


@dataclass(frozen=True)
class SpeakerScore:
    rotation: int
    seed: int
    group: str  # "s4" (the attacker's, for calibration and the choice of surface) or "s5" (scored)
    speaker: str
    member: bool
    score: dict[str, float]  # surface -> target minus out minus s4 offset


def _h_statistic(record: TrainRecord, queries: Sequence[str], reference: Sequence[str], neighbours: int) -> np.ndarray:
    """Per query: minus the mean Euclidean distance to its k nearest reference representations, all
    standardised with the reference's statistics, per dimension of h (higher: closer to training data)."""
    ref = record.rows(record.h, reference).astype(np.float64)
    mean, scale = ref.mean(axis=0), ref.std(axis=0)
    scale[scale < SCALE_FLOOR] = 1.0
    z_ref = (ref - mean) / scale
    z = (record.rows(record.h, queries).astype(np.float64) - mean) / scale
    squared = (z ** 2).sum(axis=1)[:, None] + (z_ref ** 2).sum(axis=1)[None, :] - 2.0 * z @ z_ref.T  # [queries, reference]
    k = min(neighbours, squared.shape[1])
    nearest = np.sqrt(np.maximum(np.sort(squared, axis=1)[:, :k], 0.0))
    return -nearest.mean(axis=1) / np.sqrt(z.shape[1])


def _loss_statistic(record: TrainRecord, queries: Sequence[str], truth: np.ndarray) -> np.ndarray:
    p = np.clip(record.rows(record.probabilities, queries)[np.arange(len(queries)), truth], CONFIDENCE_CLIP, 1 - CONFIDENCE_CLIP)
    return np.log(p) - np.log1p(-p)


def _scored_utterances(table: pd.DataFrame, split: MembershipSplit, s4_fold: int, s5_fold: int) -> list[tuple[str, str, bool, list[str]]]:
    """(group, speaker, member, utterances scored) for every s4 and s5 speaker of one membership split."""
    trained = set(split.encoder_train) | set(split.encoder_valid)
    rows = []
    for group, fold, selected in (("s4", s4_fold, split.s4_selected), ("s5", s5_fold, split.s5_selected)):
        in_fold = table[table["fold"] == fold]
        for speaker in sorted(in_fold["speaker"].unique()):
            ids = sorted(in_fold.loc[in_fold["speaker"] == speaker, "utterance_id"])
            member = speaker in selected
            scored = [u for u in ids if u not in trained] if member else ids
            if scored:
                rows.append((group, speaker, member, scored))
    return rows


def speaker_scores(table: pd.DataFrame, task: str, main: Mapping[int, Sequence[TrainRecord]],
                   membership: Sequence[TrainRecord], protocol: Protocol) -> list[SpeakerScore] | None:
    """Every s4 and s5 speaker's score per surface, per target; None when a speaker has no out model
    (a budget with fewer rotations than folds)."""
    settings, folds = protocol.membership_lr, protocol.folds
    truth_of = table.set_index("utterance_id")[f"{task}_class"]
    fold_of_speaker = table.groupby("speaker")["fold"].first()
    out_models: dict[int, list[TrainRecord]] = defaultdict(list)  # fold -> main models that never trained on it
    for rotation_index, records in main.items():
        place = fold_rotation(rotation_index, folds)
        for fold in (place.test_fold, place.validation_fold):
            out_models[fold].extend(records)
    scores: list[SpeakerScore] = []
    for target in membership:
        order = fold_order(target.rotation, folds)
        split = membership_split(table, order, protocol.membership, target.seed, target.rotation)
        roles = dict(zip(order, protocol.membership.fold_roles))
        s4_fold = next(fold for fold, role in roles.items() if role == "attacker")
        s5_fold = next(fold for fold, role in roles.items() if role == "score")
        reference = sorted(table.loc[table["fold"].isin([f for f, role in roles.items() if role == "train"]), "utterance_id"])
        speakers = _scored_utterances(table, split, s4_fold, s5_fold)
        queries = sorted({u for *_, ids in speakers for u in ids})
        truth = truth_of.loc[queries].to_numpy(np.int64)
        involved = {id(r): r for fold in (s4_fold, s5_fold) for r in out_models.get(fold, [])}
        if any(not out_models.get(fold_of_speaker[speaker]) for _, speaker, _, _ in speakers):
            return None

        def statistics(record: TrainRecord) -> dict[str, dict[str, float]]:
            values = {}
            for surface in settings.surfaces:
                if surface == "h":
                    per_utterance = _h_statistic(record, queries, reference, settings.neighbours)
                elif surface == "loss":
                    per_utterance = _loss_statistic(record, queries, truth)
                else:
                    from privbench.errors import ProtocolError

                    raise ProtocolError(f"protocol.toml: membership_lr.surfaces names {surface!r}; the surfaces are h, loss")
                values[surface] = dict(zip(queries, per_utterance))
            return values

        under_target = statistics(target)
        under_out = {key: statistics(record) for key, record in involved.items()}
        differences = []
        for group, speaker, member, ids in speakers:
            outs = [under_out[id(r)] for r in out_models[fold_of_speaker[speaker]]]
            difference = {surface: float(np.mean([under_target[surface][u] for u in ids])
                                         - np.mean([np.mean([o[surface][u] for u in ids]) for o in outs]))
                          for surface in settings.surfaces}
            differences.append((group, speaker, member, difference))
        population = [d for group, _, member, d in differences if group == "s4" and not member]
        offset = {surface: float(np.mean([d[surface] for d in population])) if population else 0.0
                  for surface in settings.surfaces}
        scores += [SpeakerScore(target.rotation, target.seed, group, speaker, member,
                                {surface: d[surface] - offset[surface] for surface in settings.surfaces})
                   for group, speaker, member, d in differences]
    return scores


def _summary(scores: Sequence[SpeakerScore], surface: str, fprs: Sequence[float]) -> dict[str, float | None]:
    """AUC and TPR at each resolvable FPR of one surface over these speakers."""
    truth = np.array([s.member for s in scores])
    values = np.array([s.score[surface] for s in scores])
    auc = roc_auc(truth, values) if len(scores) else float("nan")
    result: dict[str, float | None] = {"auc": None if np.isnan(auc) else auc}
    for fpr in fprs:
        tpr = tpr_at_fpr(truth, values, fpr) if resolvable(int((~truth).sum()), fpr) else float("nan")
        result[fpr_key(fpr)] = None if np.isnan(tpr) else tpr
    return result


def _seed_mean(values: list[float | None]) -> float | None:
    finite = [v for v in values if v is not None]
    return float(np.mean(finite)) if finite else None


def membership_lr(table: pd.DataFrame, task: str, main: Mapping[int, Sequence[TrainRecord]],
                  membership: Sequence[TrainRecord], protocol: Protocol, rotations: int) -> tuple[dict[str, dict], str | None]:
    """Record entries {metric: {"rotations": [...], "pooled": value}} and the headline surface;
    all None (and no surface) when the budget trains too few rotations for out models."""
    settings = protocol.membership_lr
    names = metric_names(protocol)
    scores = speaker_scores(table, task, main, membership, protocol)
    if scores is None:
        return {name: {"rotations": [None] * rotations, "pooled": None} for name in names}, None
    seeds = sorted({s.seed for s in scores})
    fprs = settings.tpr_at_fpr

    def averaged(group: str, surface: str, rotation: int | None = None) -> dict[str, float | None]:
        per_seed = [_summary([s for s in scores if s.seed == seed and s.group == group
                              and (rotation is None or s.rotation == rotation)], surface, fprs) for seed in seeds]
        return {key: _seed_mean([summary[key] for summary in per_seed]) for key in per_seed[0]}

    judged = {surface: averaged("s4", surface)["auc"] for surface in settings.surfaces}
    headline = max(settings.surfaces, key=lambda surface: (judged[surface] if judged[surface] is not None else -1.0,
                                                           -settings.surfaces.index(surface)))
    entries: dict[str, dict] = {}
    for surface in settings.surfaces:
        pooled = averaged("s5", surface)
        per_rotation = [averaged("s5", surface, r) for r in range(rotations)]
        for key, suffix in (("auc", f"_{surface}"), (fpr_key(fprs[0]), f"_{surface}")):
            name = "membership_lr_auc" + suffix if key == "auc" else f"membership_lr_tpr_at_{key}{suffix}"
            entries[name] = {"rotations": [r[key] for r in per_rotation], "pooled": pooled[key]}
        if surface == headline:
            entries["membership_lr_auc"] = {"rotations": [r["auc"] for r in per_rotation], "pooled": pooled["auc"]}
            for fpr in fprs:
                entries[f"membership_lr_tpr_at_{fpr_key(fpr)}"] = {"rotations": [r[fpr_key(fpr)] for r in per_rotation],
                                                                   "pooled": pooled[fpr_key(fpr)]}
    return {name: entries[name] for name in names}, headline
