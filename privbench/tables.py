"""The paper's tables: what each needs (the plan) and how it is laid out (the renderer).

A table is data: its tasks, modalities, models and, per model, the metric
columns the paper prints. `plan_table` lists the evaluations a table needs
on a corpus; `render_table` lays measured records out in the paper's rows and
columns, each cell "measured[mark] (published)" with the published value from
benchmark/reference/paper_tables.csv, or a dash where the paper has none.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from privbench.stats import Comparison, compare_table

ALL_MODALITIES = ("audio", "text", "multimodal")
METRIC_HEADERS = {"uar": "U", "uar_male": "U(M)", "uar_female": "U(F)", "leakage": "L", "privacy": "P", "membership": "MI"}
REFERENCE_MODEL = "general"
TABLE_IDS = ("1a", "1b", "2", "3", "lambda")


@dataclass(frozen=True)
class Model:
    """A column group: a baseline folder, optionally with one configuration value changed."""

    baseline: str
    columns: tuple[str, ...]
    lambda_: float | None = None  # the lambda study's variants of priv-c

    @property
    def name(self) -> str:
        return self.baseline if self.lambda_ is None else f"{self.baseline}-lambda-{self.lambda_:g}"

    @property
    def title(self) -> str:
        titles = {"general": "General", "priv-c": "Priv-C", "priv-e": "Priv-E", "priv-speaker": "Priv-SpeakerID",
                  "priv-multi": "Privacy-Multiple"}
        return titles[self.baseline] + ("" if self.lambda_ is None else f" (lambda {self.lambda_:g})")


@dataclass(frozen=True)
class TableSpec:
    id: str
    title: str
    tasks: tuple[str, ...]
    modalities: tuple[str, ...]
    models: tuple[Model, ...]
    rows: tuple[str, ...]  # the row keys, outermost first: "task", "modality", "corpus"


_UTILITY_PRIVACY = ("uar", "uar_male", "uar_female", "privacy", "membership")
_SHORT = ("uar", "privacy", "membership")


def table_specs(lambdas: Sequence[float]) -> dict[str, TableSpec]:
    """Every table; the lambda study's values come from the protocol's grid."""
    return {
        "1a": TableSpec("1a", "Table 1a: activation, general vs privacy-preserving (Priv-C)", ("activation",), ALL_MODALITIES,
                        (Model("general", ("uar", "uar_male", "uar_female", "leakage", "privacy", "membership")),
                         Model("priv-c", _UTILITY_PRIVACY)), ("modality", "corpus")),
        "1b": TableSpec("1b", "Table 1b: valence, general vs privacy-preserving (Priv-C)", ("valence",), ALL_MODALITIES,
                        (Model("general", ("uar", "uar_male", "uar_female", "leakage", "privacy", "membership")),
                         Model("priv-c", _UTILITY_PRIVACY)), ("modality", "corpus")),
        "2": TableSpec("2", "Table 2: unlearning gender per stream (Priv-E) or on the joint representation (Priv-C), multimodal",
                       ("activation", "valence"), ("multimodal",), (Model("priv-e", _SHORT), Model("priv-c", _SHORT)), ("task", "corpus")),
        "3": TableSpec("3", "Table 3: speaker identity (Priv-SpeakerID) and gender + speaker (Privacy-Multiple)",
                       ("activation", "valence"), ALL_MODALITIES,
                       (Model("general", _SHORT), Model("priv-speaker", _SHORT), Model("priv-multi", _SHORT)), ("task", "modality", "corpus")),
        "lambda": TableSpec("lambda", "The lambda study: Priv-C at each reversal strength, audio", ("activation", "valence"), ("audio",),
                            tuple(Model("priv-c", _SHORT, float(value)) for value in lambdas), ("task", "corpus")),
    }


@dataclass(frozen=True)
class Planned:
    """One evaluation a table needs: a model on a corpus, for these modalities and tasks."""

    model: Model
    corpus: str
    modalities: tuple[str, ...]
    tasks: tuple[str, ...]


def plan_table(spec: TableSpec, corpus: str, corpus_modalities: Sequence[str]) -> list[Planned]:
    """The evaluations of one table on one corpus; `general` is always planned (the
    reference of the significance marks), even where the table does not show it."""
    modalities = tuple(m for m in spec.modalities if m in corpus_modalities)
    if not modalities:
        return []
    models = list(spec.models)
    if all(model.name != REFERENCE_MODEL for model in models):
        models.insert(0, Model(REFERENCE_MODEL, ()))
    return [Planned(model, corpus, modalities, spec.tasks) for model in models]


# ---------------------------------------------------------------- published values

def read_paper_values(path: Path) -> dict[tuple[str, str, str, str, str, str], float]:
    """(table, task, modality, corpus, model, metric) -> published value."""
    with open(path, newline="") as stream:
        return {(row["table"], row["task"], row["modality"], row["corpus"], row["model"], row["metric"]): float(row["value"])
                for row in csv.DictReader(stream)}


# ---------------------------------------------------------------- rendering

def find_record(records: Sequence[Mapping[str, Any]], model: str, corpus: str, modality: str, task: str) -> Mapping[str, Any] | None:
    for record in records:
        if (record["encoder"]["name"], record["corpus"]["name"], record["modality"], record["task"]) == (model, corpus, modality, task):
            return record
    return None


def table_comparisons(spec: TableSpec, corpus: str, records: Sequence[Mapping[str, Any]], alpha: float) -> dict[tuple, Comparison]:
    """Each shown cell against `general`'s record, corrected together (one table)."""
    cells = {}
    for task in spec.tasks:
        for modality in spec.modalities:
            reference = find_record(records, REFERENCE_MODEL, corpus, modality, task)
            if reference is None:
                continue
            for model in spec.models:
                record = find_record(records, model.name, corpus, modality, task)
                if record is None or model.name == REFERENCE_MODEL:
                    continue
                for metric in model.columns:
                    if metric in record["metrics"] and metric in reference["metrics"]:
                        cells[(model.name, modality, task, metric)] = (
                            metric, record["metrics"][metric]["rotations"], reference["metrics"][metric]["rotations"])
    return compare_table(cells, alpha)


def render_table(spec: TableSpec, corpus: str, budget: str, records: Sequence[Mapping[str, Any]],
                 paper: Mapping[tuple, float], comparisons: Mapping[tuple, Comparison], paper_corpora: Sequence[str]) -> str:
    """The table as GitHub-flavoured Markdown, in the paper's layout."""
    header = [key for key in spec.rows]
    columns = [(model, metric) for model in spec.models for metric in model.columns]
    lines = [f"### {spec.title}: {corpus}, budget {budget}", ""]
    if corpus not in paper_corpora:
        lines += [f"The paper's numbers are for other data (IEMOCAP, MSP-Improv, MSP-Podcast, MuSE); {corpus} has none, "
                  "so the published column shows a dash." + (" The synthetic corpus is eSpeak NG speech made by privbench: "
                                                              "its numbers say nothing about real emotional speech."
                                                              if corpus == "synthetic" else ""), ""]
    lines.append("| " + " | ".join(header + [f"{model.title} {METRIC_HEADERS[metric]}" for model, metric in columns]) + " |")
    lines.append("|" + "---|" * (len(header) + len(columns)))
    paper_table = spec.id if spec.id != "lambda" else None
    for task in spec.tasks:
        for modality in spec.modalities:
            row = {"task": task, "modality": modality, "corpus": corpus}
            cells = []
            for model, metric in columns:
                record = find_record(records, model.name, corpus, modality, task)
                published = paper.get((paper_table, task, modality, corpus, model.baseline, metric)) if paper_table else None
                measured = record["metrics"].get(metric, {}).get("mean") if record else None
                if record is None:
                    text = "n/a"
                else:
                    comparison = comparisons.get((model.name, modality, task, metric))
                    text = "-" if measured is None else f"{measured:.2f}{comparison.mark if comparison else ''}"
                cells.append(f"{text} ({published:.2f})" if published is not None else f"{text} (-)")
            if all(cell.startswith("n/a") for cell in cells):
                continue  # a modality the corpus does not have
            lines.append("| " + " | ".join([row[key] for key in header] + cells) + " |")
    lines += ["", "Each cell: measured mean over rotations, then the paper's published value in parentheses. "
              "+/-: significantly better/worse than General on that metric (paired t-test over rotations, "
              "Benjamini-Hochberg over this table, adjusted p < 0.05); n/a: no record."]
    return "\n".join(lines) + "\n"
