"""The paper's questions Q1-Q7, answered from result records.

Each question is a hypothesis about a difference: between two models on one
metric (paired over rotations), between two modalities of one model, or of one
model against chance. Every setup where both sides have records gives one
test; a question's p-values are corrected together (Benjamini-Hochberg). The
verdict rule is the same for every question:

- "not enough data": no setup has two or more paired rotations;
- "supported": the difference goes the hypothesised way, significantly, in at
  least half of the tested setups, and significantly the other way in none;
- "not supported": otherwise.

Q3 is a non-inferiority question ("utility is kept"): it is supported when no
setup shows the privacy model significantly worse, and otherwise not.
The questions are privbench's reading of the paper's claims (its abstract and
sections 5.1-5.4), written as testable hypotheses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import ttest_1samp
from statsmodels.stats.multitest import multipletests

from privbench.stats import paired_p
from privbench.tables import find_record

Values = Sequence[float | None]


@dataclass(frozen=True)
class Question:
    id: str
    hypothesis: str
    kind: str  # "models", "modalities", "chance", "kept"
    metric: str
    model: str
    other: str = "general"  # the other model ("models", "kept") or modality ("modalities")
    sign: int = 1  # +1: the model's value should be higher than the other's; -1: lower
    modalities: tuple[str, ...] = ("audio", "text", "multimodal")


QUESTIONS = (
    Question("Q1", "Representations trained only for emotion leak gender: general's leakage L is above chance (0.5).",
             "chance", "leakage", "general", sign=1),
    Question("Q2", "Unlearning gender raises the privacy metric: Priv-C's P is higher than general's.",
             "models", "privacy", "priv-c", sign=1),
    Question("Q3", "Unlearning gender keeps emotion recognition: Priv-C's U is not significantly below general's.",
             "kept", "uar", "priv-c"),
    Question("Q4", "Leakage differs by modality: general's acoustic representation leaks more gender (L) than its lexical one.",
             "modalities", "leakage", "general", other="text", sign=1, modalities=("audio",)),
    Question("Q5", "Unlearning gender also hinders membership identification: Priv-C's MI is lower than general's.",
             "models", "membership", "priv-c", sign=-1),
    Question("Q6", "Unlearning gender on each stream (Priv-E) protects better than on the joint representation: "
                   "Priv-E's P is higher than Priv-C's (multimodal).",
             "models", "privacy", "priv-e", other="priv-c", sign=1, modalities=("multimodal",)),
    Question("Q7", "Several concerns can be unlearned together: Privacy-Multiple's P is higher than general's.",
             "models", "privacy", "priv-multi", sign=1),
)


def _values(records: Sequence[Mapping[str, Any]], model: str, corpus: str, modality: str, task: str, metric: str) -> Values | None:
    record = find_record(records, model, corpus, modality, task)
    return None if record is None else record["metrics"].get(metric, {}).get("rotations")


def _mean(values: Values) -> float:
    return float(np.mean([v for v in values if v is not None]))


def _chance_p(values: Values) -> float | None:
    numbers = [v for v in values if v is not None]
    if len(numbers) < 2 or np.allclose(numbers, numbers[0]):
        return None
    return float(ttest_1samp(numbers, 0.5).pvalue)


@dataclass(frozen=True)
class Evidence:
    setup: str
    value: float
    other: float
    p_adjusted: float | None
    direction: int  # +1 / -1: which way the difference went (value - other); 0: none
    significant: bool

    def line(self, question: Question, other_label: str) -> str:
        p = "n/a (fewer than 2 rotations)" if self.p_adjusted is None else f"{self.p_adjusted:.3g}"
        return (f"{self.setup}: {question.model} {self.value:.3f} vs {other_label} {self.other:.3f}, adjusted p {p}"
                + (" (significant)" if self.significant else ""))


@dataclass(frozen=True)
class Finding:
    question: Question
    evidence: tuple[Evidence, ...]
    verdict: str

    def markdown(self) -> str:
        q = self.question
        other_label = {"chance": "chance", "modalities": f"{q.model} on {q.other}"}.get(q.kind, q.other)
        lines = [f"**{q.id}.** {q.hypothesis}", "", f"Verdict: **{self.verdict}**."]
        if self.evidence:
            lines += [""] + [f"- {e.line(q, other_label)}" for e in self.evidence]
        else:
            lines += ["", "- no records to test it (run the tables it needs)"]
        return "\n".join(lines) + "\n"


def answer(question: Question, records: Sequence[Mapping[str, Any]], alpha: float) -> Finding:
    raw: list[tuple[str, float, float, float | None]] = []
    corpora = sorted({r["corpus"]["name"] for r in records})
    tasks = sorted({r["task"] for r in records})
    for corpus in corpora:
        for task in tasks:
            for modality in question.modalities:
                mine = _values(records, question.model, corpus, modality, task, question.metric)
                if mine is None:
                    continue
                if question.kind == "chance":
                    other, p = [0.5] * len(mine), _chance_p(mine)
                elif question.kind == "modalities":
                    other = _values(records, question.model, corpus, question.other, task, question.metric)
                    p = None if other is None else paired_p(mine, other)
                else:
                    other = _values(records, question.other, corpus, modality, task, question.metric)
                    p = None if other is None else paired_p(mine, other)
                if other is None:
                    continue
                where = f"{corpus}/{modality if question.kind != 'modalities' else modality + ' vs ' + question.other}/{task}"
                raw.append((where, _mean(mine), _mean(other), p))
    tested = [i for i, entry in enumerate(raw) if entry[3] is not None]
    adjusted: dict[int, float] = {}
    if tested:
        _, corrected, _, _ = multipletests([raw[i][3] for i in tested], alpha=alpha, method="fdr_bh")
        adjusted = dict(zip(tested, (float(p) for p in corrected)))
    evidence = []
    for i, (where, value, other, _) in enumerate(raw):
        p = adjusted.get(i)
        direction = int(np.sign(round(value - other, 12)))
        evidence.append(Evidence(where, value, other, p, direction, p is not None and p < alpha))
    return Finding(question, tuple(evidence), _verdict(question, evidence))


def _verdict(question: Question, evidence: list[Evidence]) -> str:
    tested = [e for e in evidence if e.p_adjusted is not None]
    if not tested:
        return "not enough data"
    if question.kind == "kept":
        worse = [e for e in tested if e.significant and e.direction < 0]
        return "not supported" if worse else "supported"
    hypothesised = [e for e in tested if e.significant and e.direction == question.sign]
    opposite = [e for e in tested if e.significant and e.direction == -question.sign]
    return "supported" if len(hypothesised) * 2 >= len(tested) and not opposite else "not supported"


def findings(records: Sequence[Mapping[str, Any]], alpha: float, questions: Sequence[Question] = QUESTIONS) -> list[Finding]:
    return [answer(question, records, alpha) for question in questions]


def findings_markdown(found: Sequence[Finding], note: str = "") -> str:
    lines = ["## Findings: the paper's questions", ""]
    if note:
        lines += [note, ""]
    lines.append("Computed from the result records by `privbench/findings.py`: a question is *supported* when the "
                 "hypothesised difference is significant (paired t-test over rotations, Benjamini-Hochberg over the "
                 "question's setups, adjusted p < 0.05) in at least half of the tested setups and significant the "
                 "other way in none; Q3 is supported when no setup shows utility significantly lower.")
    lines.append("")
    for finding in found:
        lines.append(finding.markdown())
    return "\n".join(lines)
