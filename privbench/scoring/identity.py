"""ID, identity linkability (docs/protocol.md section 6): can the holder of h tell who spoke?

The VoicePrivacy Challenge scores anonymisation with a speaker-verification
attacker's equal error rate; privbench asks the same of the representation
that leaves the device, per rotation, on speakers no model trained on:

- each test speaker's utterances are split, seeded, into enrolment (a share
  `identity.enrolment_fraction`, at least one) and trials (the rest);
- a speaker's model is the mean of its length-normalised enrolment vectors;
  every trial is scored against every enrolled test speaker by cosine;
- attacker families: "ignorant" standardises h with h(D1)'s mean and sd;
  "informed" fits linear discriminant analysis on h(D1) with speaker labels
  (min(D1 speakers - 1, dim h) components) and scores in that space;
- ID-EER: the equal error rate of target (own speaker) against non-target
  scores; ID-link: the share of trials whose own speaker scores highest
  (chance 1/N, N the test speakers); ID-TPR@1%FPR: targets accepted when at
  most 1% of non-targets are.

The strongest family (lowest EER) is chosen per rotation on the validation
fold's speakers, split and scored the same way, and its test values are the
headline (`identity_eer`, `identity_link`, `identity_tpr_at_1fpr`); both
families' test EERs are kept. A fold with fewer than `identity.min_speakers`
speakers gives no value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from privbench.measures import SCALE_FLOOR, lda_projection
from privbench.protocol import Identity
from privbench.scoring.roc import equal_error_rate, tpr_at_fpr


@dataclass(frozen=True)
class Linkage:
    eer: float
    link: float
    tpr_at_fpr: float
    speakers: int


def _unit(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms < SCALE_FLOOR, 1.0, norms)


def standardiser(h_d1: np.ndarray):
    mean = h_d1.mean(axis=0)
    scale = h_d1.std(axis=0)
    scale[scale < SCALE_FLOOR] = 1.0
    return lambda h: (np.asarray(h, np.float64) - mean) / scale


def enrolment_split(speakers: np.ndarray, fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks (enrolment, trial) over the rows: per speaker, a seeded share enrols (at least one)."""
    enrol = np.zeros(len(speakers), dtype=bool)
    for speaker in sorted(set(speakers.tolist())):
        rows = np.flatnonzero(speakers == speaker)
        take = max(1, int(round(len(rows) * fraction)))
        enrol[rng.choice(rows, size=min(take, len(rows)), replace=False)] = True
    return enrol, ~enrol


def link(vectors: np.ndarray, speakers: np.ndarray, enrol: np.ndarray, trial: np.ndarray, fpr: float) -> Linkage | None:
    """Cosine scoring of every trial against every enrolled speaker's mean unit vector."""
    names = sorted(set(speakers[enrol].tolist()))
    if len(names) < 2 or not trial.any():
        return None
    unit = _unit(vectors)
    models = _unit(np.stack([unit[enrol & (speakers == name)].mean(axis=0) for name in names]))  # [N, d]
    scores = unit[trial] @ models.T  # [trials, N]
    own = np.array([names.index(s) for s in speakers[trial]])
    target = np.zeros_like(scores, dtype=bool)
    target[np.arange(len(own)), own] = True
    return Linkage(equal_error_rate(target.ravel(), scores.ravel()), float(np.mean(scores.argmax(axis=1) == own)),
                   tpr_at_fpr(target.ravel(), scores.ravel(), fpr), len(names))


def identity(h_d1: np.ndarray, speakers_d1: np.ndarray, h_valid: np.ndarray, speakers_valid: np.ndarray,
             h_test: np.ndarray, speakers_test: np.ndarray, settings: Identity, seed: int,
             rotation: int = 0) -> dict[str, float | None]:
    """The ID metrics of one rotation (see the module docstring); None where a fold has too few speakers."""
    empty = {"identity_eer": None, "identity_link": None, "identity_tpr_at_1fpr": None, "identity_speakers": None,
             **{f"identity_eer_{family}": None for family in settings.families}}
    if len(set(speakers_test.tolist())) < settings.min_speakers:
        return empty
    standardise = standardiser(h_d1)
    transforms = {"ignorant": lambda h: standardise(h)}
    if "informed" in settings.families:
        projection = lda_projection(standardise(h_d1), np.asarray(speakers_d1))
        transforms["informed"] = lambda h: standardise(h) @ projection
    unknown = [family for family in settings.families if family not in transforms]
    if unknown:
        from privbench.errors import ProtocolError

        raise ProtocolError(f"protocol.toml: identity.families names {unknown[0]!r}; the families are {', '.join(transforms)}")
    rng = np.random.default_rng([seed, rotation, 11])  # the enrolment split: seeded per job
    splits = {name: enrolment_split(np.asarray(speakers), settings.enrolment_fraction, rng)
              for name, speakers in (("valid", speakers_valid), ("test", speakers_test))}
    results = {}
    for family in settings.families:
        transform = transforms[family]
        results[family] = {part: link(transform(h), np.asarray(speakers), *splits[part], settings.tpr_at_fpr)
                           for part, h, speakers in (("valid", h_valid, speakers_valid), ("test", h_test, speakers_test))}
    # The strongest family on validation (first in protocol order on ties); test decides nothing.
    judged = [family for family in settings.families if results[family]["valid"] is not None]
    chosen = min(judged, key=lambda family: results[family]["valid"].eer) if judged else settings.families[0]
    headline = results[chosen]["test"]
    if headline is None:  # no test speaker has a trial (one utterance each)
        return empty
    return {"identity_eer": headline.eer, "identity_link": headline.link, "identity_tpr_at_1fpr": headline.tpr_at_fpr,
            "identity_speakers": float(headline.speakers),
            **{f"identity_eer_{family}": results[family]["test"].eer if results[family]["test"] else None
               for family in settings.families}}
