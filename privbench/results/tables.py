"""The paper's tables: what each needs (the plan) and how it is laid out (the renderer).

A table is data: its tasks, modalities, row keys and, per model, the metric
columns in the paper's order (Table 1: General L, U(M), U(F), U, P, MI and the
privacy model U(M), U(F), U, P, MI; Tables 2 and 3: U, P, MI per model),
followed by protocol 3's two columns the paper does not have: ID-EER
(identity linkability) and MI-LR (speaker membership with power, pooled over
rotations).
`plan_table` lists the evaluations a table needs on a corpus; `render_table`
lays measured records out in those rows and columns, each cell "mean ± sd"
with its significance mark against the table's reference model, inverted
attacks and chance shortfalls flagged, and the published value of
benchmark/reference/paper_tables.csv beside it where the paper has the corpus.
On any other corpus the paper's rows follow in a separate, labelled block.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from privbench.scoring.metric_defs import BY_NAME
from privbench.protocol import Significance
from privbench.records import cell, headline, inverted_count
from privbench.scoring.stats import Comparison, compare

ALL_MODALITIES = ("audio", "text", "multimodal")
TABLE_IDS = ("1a", "1b", "2", "3", "lambda")
TITLES = {"general": "General", "priv-c": "Priv-C", "priv-e": "Priv-E", "priv-speaker": "Priv-SpeakerID",
          "priv-multi": "Privacy-Multiple"}


@dataclass(frozen=True)
class Model:
    """A column group: a baseline folder, or a variant of it with another lambda (the lambda study)."""

    baseline: str
    columns: tuple[str, ...]
    lambda_: float | None = None  # shown in the title (the lambda study)
    variant: bool = False  # records under "<baseline>-lambda-<value>"; False when lambda_ is the baseline's own

    @property
    def name(self) -> str:
        return f"{self.baseline}-lambda-{self.lambda_:g}" if self.variant else self.baseline

    @property
    def title(self) -> str:
        return TITLES[self.baseline] + ("" if self.lambda_ is None else f" (lambda {self.lambda_:g})")


@dataclass(frozen=True)
class TableSpec:
    id: str
    title: str
    tasks: tuple[str, ...]
    modalities: tuple[str, ...]
    models: tuple[Model, ...]
    rows: tuple[str, ...]  # the row keys, outermost first: "task", "modality", "corpus"


_BEYOND_THE_PAPER = ("identity_eer", "membership_lr_auc")  # protocol 3's attacks, after the paper's columns
_GENERAL = ("leakage", "uar_male", "uar_female", "uar", "privacy", "membership") + _BEYOND_THE_PAPER
_PRIVACY = ("uar_male", "uar_female", "uar", "privacy", "membership") + _BEYOND_THE_PAPER
_SHORT = ("uar", "privacy", "membership") + _BEYOND_THE_PAPER


def table_specs(lambdas: Sequence[float], baseline_lambda: float | None) -> dict[str, TableSpec]:
    """Every table; the lambda study's values come from the protocol's grid. `baseline_lambda`:
    the lambda Priv-C's own record is fixed to (the default configuration's, at budgets that do
    not search), whose point is then that record (one encoder, one configuration, one record);
    None at budgets that search configurations, where every point is a variant of its own."""
    return {
        "1a": TableSpec("1a", "Table 1a: activation, general vs privacy-preserving (Priv-C)", ("activation",), ALL_MODALITIES,
                        (Model("general", _GENERAL), Model("priv-c", _PRIVACY)), ("modality", "corpus")),
        "1b": TableSpec("1b", "Table 1b: valence, general vs privacy-preserving (Priv-C)", ("valence",), ALL_MODALITIES,
                        (Model("general", _GENERAL), Model("priv-c", _PRIVACY)), ("modality", "corpus")),
        "2": TableSpec("2", "Table 2: unlearning gender per stream (Priv-E) or on the joint representation (Priv-C), multimodal",
                       ("activation", "valence"), ("multimodal",), (Model("priv-e", _SHORT), Model("priv-c", _SHORT)), ("task", "corpus")),
        "3": TableSpec("3", "Table 3: speaker identity (Priv-SpeakerID) and gender + speaker (Privacy-Multiple)",
                       ("activation", "valence"), ALL_MODALITIES,
                       (Model("general", _SHORT), Model("priv-speaker", _SHORT), Model("priv-multi", _SHORT)), ("task", "modality", "corpus")),
        "lambda": TableSpec("lambda", "The lambda study: Priv-C at each reversal strength, audio", ("activation", "valence"), ("audio",),
                            tuple(Model("priv-c", _SHORT, float(value), variant=baseline_lambda is None or float(value) != float(baseline_lambda))
                                  for value in lambdas), ("task", "corpus")),
    }


@dataclass(frozen=True)
class Planned:
    """One evaluation a table needs: a model on a corpus, for these modalities and tasks."""

    model: Model
    corpus: str
    modalities: tuple[str, ...]
    tasks: tuple[str, ...]

    @property
    def label(self) -> str:
        """How progress names this evaluation (and tells its jobs from a sibling variant's)."""
        return f"{self.model.name} on {self.corpus}"


def plan_table(spec: TableSpec, corpus: str, corpus_modalities: Sequence[str], reference: str) -> list[Planned]:
    """The evaluations of one table on one corpus; the table's reference model (of the
    significance marks) is always planned, even where the table does not show it."""
    modalities = tuple(m for m in spec.modalities if m in corpus_modalities)
    if not modalities:
        return []
    models = list(spec.models)
    if all(model.name != reference for model in models):
        models.insert(0, Model(reference, ()))
    return [Planned(model, corpus, modalities, spec.tasks) for model in models]


# ---------------------------------------------------------------- published values

def read_paper_values(path: Path) -> dict[tuple[str, str, str, str, str, str], float]:
    """(table, task, modality, corpus, model, metric) -> published value."""
    with open(path, newline="") as stream:
        return {(row["table"], row["task"], row["modality"], row["corpus"], row["model"], row["metric"]): float(row["value"])
                for row in csv.DictReader(stream)}


def paper_corpora(paper: Mapping[tuple, float]) -> list[str]:
    """The corpora the paper reports, in the order its tables list them."""
    return list(dict.fromkeys(corpus for (_, _, _, corpus, _, _) in paper))


# ---------------------------------------------------------------- rendering

def find_record(records: Sequence[Mapping[str, Any]], model: str, corpus: str, modality: str, task: str) -> Mapping[str, Any] | None:
    for record in records:
        if (record["encoder"]["name"], record["corpus"]["name"], record["modality"], record["task"]) == (model, corpus, modality, task):
            return record
    return None


def table_comparisons(spec: TableSpec, corpus: str, records: Sequence[Mapping[str, Any]],
                      significance: Significance) -> dict[tuple, Comparison]:
    """Each shown cell against the table's reference model's record, corrected together (one table)."""
    reference_model = significance.reference_for(spec.id)
    cells = {}
    for task in spec.tasks:
        for modality in spec.modalities:
            reference = find_record(records, reference_model, corpus, modality, task)
            if reference is None:
                continue
            for model in spec.models:
                record = find_record(records, model.name, corpus, modality, task)
                if record is None or model.name == reference_model:
                    continue
                for metric in model.columns:
                    if metric in record["metrics"] and metric in reference["metrics"]:
                        cells[(model.name, modality, task, metric)] = cell(record, reference, metric)
    return compare(cells, significance)


def format_value(record: Mapping[str, Any] | None, metric: str, comparison: Comparison | None = None, digits: int = 2) -> str:
    """"mean ± sd" (a pooled metric: its pooled value) with its mark (+/-), inverted rotations (†k) and,
    on P, chance shortfalls (‡k)."""
    if record is None:
        return "n/a"
    entry = record["metrics"].get(metric)
    shown = headline(record, metric) if entry is not None else None
    if shown is None:
        return "-"
    pooled = BY_NAME[metric].pooled and "pooled" in entry
    text = f"{shown:.{digits}f}" + (f" ± {entry['sd']:.{digits}f}" if entry.get("sd") is not None and not pooled else "")
    text += comparison.mark if comparison else ""
    inverted = inverted_count(record, metric)
    if inverted:
        text += f" †{inverted}"
    if metric == "privacy":
        missed = chance_shortfalls(record)
        if missed:
            text += f" ‡{missed}"
    return text


def chance_shortfalls(record: Mapping[str, Any]) -> int:
    """Rotations in which the privacy model's kept epoch did not reach chance on validation."""
    per_rotation = (record.get("selection") or {}).get("chance_reached")
    if per_rotation is not None:
        return sum(1 for reached in per_rotation if reached is False)
    return 1 if record.get("chance_reached") is False else 0


def _header(spec: TableSpec) -> list[str]:
    return list(spec.rows) + [f"{model.title} {BY_NAME[metric].header}" for model in spec.models for metric in model.columns]


def _row_keys(spec: TableSpec, corpora: Sequence[str]):
    for task in spec.tasks:
        for modality in spec.modalities:
            for corpus in corpora:
                yield task, modality, corpus


def render_table(spec: TableSpec, corpus: str, budget: str, records: Sequence[Mapping[str, Any]],
                 paper: Mapping[tuple, float], comparisons: Mapping[tuple, Comparison], significance: Significance,
                 chance_tolerance: float) -> str:
    """The table as GitHub-flavoured Markdown, in the paper's layout; the legend states the protocol's
    alpha and chance tolerance, and each cell's n."""
    reference_model = significance.reference_for(spec.id)
    published_corpora = paper_corpora(paper)
    on_paper_corpus = corpus in published_corpora
    paper_table = spec.id if spec.id != "lambda" else None
    header = _header(spec)
    lines = [f"### {spec.title}: {corpus}, budget {budget}", ""]
    if not on_paper_corpus:
        lines += [f"Measured on {corpus}, which the paper does not have; its published rows for its own corpora follow "
                  "in a separate block below, for reference only." + (" The synthetic corpus is eSpeak NG speech made by "
                                                                      "privbench: its numbers say nothing about real "
                                                                      "emotional speech." if corpus == "synthetic" else ""), ""]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    counts: set[int] = set()  # the n of every shown value, for the legend
    for task, modality, _ in _row_keys(spec, [corpus]):
        cells = []
        for model in spec.models:
            record = find_record(records, model.name, corpus, modality, task)
            for metric in model.columns:
                if record is not None and record["metrics"].get(metric, {}).get("n") is not None:
                    counts.add(record["metrics"][metric]["n"])
                text = format_value(record, metric, comparisons.get((model.name, modality, task, metric)))
                published = paper.get((paper_table, task, modality, corpus, model.baseline, metric)) if paper_table else None
                cells.append(f"{text} ({published:.2f})" if published is not None and record is not None else text)
        if all(text == "n/a" for text in cells):
            continue  # a modality the corpus does not have
        keys = {"task": task, "modality": modality, "corpus": corpus}
        lines.append("| " + " | ".join([keys[key] for key in spec.rows] + cells) + " |")
    lines += ["", _legend(reference_model, on_paper_corpus, significance.alpha, chance_tolerance, sorted(counts))]
    if not on_paper_corpus and paper_table:
        lines += ["", *_published_block(spec, paper, published_corpora)]
    return "\n".join(lines) + "\n"


def _legend(reference_model: str, on_paper_corpus: bool, alpha: float, chance_tolerance: float,
            counts: Sequence[int]) -> str:
    n = (f"n = {counts[0]}" if len(counts) == 1 else f"n from {counts[0]} to {counts[-1]}") if counts else "n as in the records"
    return (f"Each cell: mean ± sample sd over rotations (each rotation the mean of its seeds; {n}, rotations x seeds)"
            + ("; the paper's published value in parentheses" if on_paper_corpus else "")
            + ". ID-EER and MI-LR are protocol 3's attacks, not the paper's: ID-EER is the identity attacker's equal error "
            "rate (0.5 chance, higher is more private); MI-LR the likelihood-ratio membership attack's speaker-level AUC, "
            "pooled over every rotation's speakers (0.5 chance, lower is more private; its mark tests the per-rotation AUCs)"
            + f". +/-: significantly better/worse than {TITLES.get(reference_model, reference_model)} on that metric "
            f"(paired t-test over rotations, Benjamini-Hochberg over this table, adjusted p < {alpha:g}). "
            "†k: the attack landed on the wrong side of chance (inverted) in k rotations, counted as chance in comparisons. "
            f"‡k: in k rotations no epoch of the privacy model had its validation gender UAR within {chance_tolerance:g} of 0.5. "
            "n/a: no record; -: no value.")


def _published_block(spec: TableSpec, paper: Mapping[tuple, float], corpora: Sequence[str]) -> list[str]:
    """The paper's published rows of this table, labelled as such (a corpus the paper does not have)."""
    header = _header(spec)
    lines = [f"Published in the paper (Jaiswal & Mower Provost, AAAI 2020, {spec.title.split(':')[0]}), "
             "on its corpora, for reference only: not measured by privbench.", "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for task, modality, corpus in _row_keys(spec, corpora):
        values = [paper.get((spec.id, task, modality, corpus, model.baseline, metric))
                  for model in spec.models for metric in model.columns]
        if all(value is None for value in values):
            continue
        keys = {"task": task, "modality": modality, "corpus": corpus}
        lines.append("| " + " | ".join([keys[key] for key in spec.rows]
                                       + ["-" if value is None else f"{value:.2f}" for value in values]) + " |")
    return lines
