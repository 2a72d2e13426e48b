"""`privbench reproduce`: the paper's tables, measured on your corpora, beside the published numbers.

It plans the evaluations each table needs (tables.plan_table), runs them
through `evaluate` (so finished jobs and records are reused), renders each
table in the paper's layout, answers Q1-Q7 from the records, and writes the
Markdown to `leaderboard/reports/`. With `from_records` it runs nothing and
needs no corpus: each corpus' setups and content come from the records found
(the records carry corpus, modality, task, budget and protocol), so anyone can
render the committed tables of a corpus they do not hold.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from privbench.data.corpora.store import load_corpus
from privbench.data.prepare import ensure_prepared, needs_generating
from privbench.errors import CorpusError
from privbench.run.evaluate import NotGenerated, Progress, Request, check_request, evaluate, planned_jobs
from privbench.run.executor import Executor, JobOutcome
from privbench.results.findings import findings, findings_markdown
from privbench.run.jobs import JobSpec
from privbench.protocol import Protocol
from privbench.storage import atomic_write_text
from privbench.results.tables import TABLE_IDS, Planned, plan_table, read_paper_values, render_table, table_comparisons, table_specs


@dataclass
class Reproduction:
    tables: dict[tuple[str, str], str] = field(default_factory=dict)  # (table id, corpus) -> Markdown
    findings: dict[str, str] = field(default_factory=dict)  # corpus -> Markdown
    reports: list[Path] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    failed: list[JobOutcome] = field(default_factory=list)  # the failed tasks (cause, log): executor.advice


def table_ids(choice: str) -> list[str]:
    return list(TABLE_IDS) if choice == "all" else [choice]


def baseline_lambda(protocol: Protocol, budget: str) -> float | None:
    """The lambda Priv-C's own record has at `budget`: the default configuration's, unless the
    budget searches configurations (then the lambda study runs its every point as a variant)."""
    return None if protocol.budget(budget).searches_configurations else protocol.training.default_config.lambda_


def specs_for(protocol: Protocol, budget: str):
    return table_specs(protocol.training.grid.lambda_, baseline_lambda(protocol, budget))


def plan(ids: Sequence[str], corpora: Sequence[str], protocol: Protocol, budget: str) -> list[Planned]:
    """Every evaluation the tables need at `budget`, merged per (model, corpus)."""
    specs = specs_for(protocol, budget)
    merged: dict[tuple[str, str], Planned] = {}
    for corpus in corpora:
        corpus_setups = (NotGenerated.from_protocol(corpus, protocol) if needs_generating(corpus, protocol)
                         else load_corpus(corpus, protocol)).setups
        for table_id in ids:
            reference = protocol.significance.reference_for(table_id)
            for planned in plan_table(specs[table_id], corpus, corpus_setups, reference):
                key = (planned.model.name, corpus)
                if key in merged:
                    old = merged[key]
                    planned = Planned(planned.model, corpus, tuple(dict.fromkeys(old.modalities + planned.modalities)),
                                      tuple(dict.fromkeys(old.tasks + planned.tasks)))
                merged[key] = planned
    return list(merged.values())


def owned_jobs(planned: Sequence[Planned], requests: Sequence[Request], checked: Sequence[Any],
               protocol: Protocol) -> list[tuple[str, JobSpec]]:
    """Every job of the command as (evaluation label, job), for one progress account (run.progress)."""
    return [(entry.label, job) for entry, request, ready in zip(planned, requests, checked)
            for job in planned_jobs(ready, request, protocol)]


def request_for(planned: Planned, budget: str, device: str, results: Path, baselines: Path) -> Request:
    variant = {"lambda": planned.model.lambda_} if planned.model.variant else {}
    return Request(baselines / planned.model.baseline, (planned.corpus,), planned.modalities, planned.tasks, budget, device,
                   results, variant_name=planned.model.name if variant else None, variant_config=variant)


def _earlier(results: Path, corpus: str, budget: str, protocol: Protocol) -> list[dict[str, Any]]:
    """The records in `results` of this corpus made under this protocol and budget."""
    from privbench.records import read_records

    return [record for record in read_records(results)[0]
            if record["corpus"]["name"] == corpus and record["protocol"]["budget"] == budget
            and record["protocol"]["sha256"] == protocol.sha256]


def _prepared_content(corpus: str, protocol: Protocol) -> str | None:
    """The prepared corpus' content sha256, or None where it is not prepared (or not usable)."""
    if needs_generating(corpus, protocol):
        return None
    try:
        return load_corpus(corpus, protocol).content_sha256
    except CorpusError:
        return None


def _matching_records(fresh: list[dict[str, Any]], earlier: list[dict[str, Any]], corpus: str,
                      content: str | None) -> list[dict[str, Any]]:
    """This run's records of the corpus, plus earlier ones of the same corpus content (so findings
    can use tables run separately)."""
    mine = {(r["encoder"]["name"], r["modality"], r["task"]): r for r in fresh if r["corpus"]["name"] == corpus}
    for record in earlier:
        key = (record["encoder"]["name"], record["modality"], record["task"])
        if key not in mine and record["corpus"]["content_sha256"] == content:
            mine[key] = record
    return list(mine.values())


def _records_content(earlier: list[dict[str, Any]], prepared: str | None, corpus: str,
                     note: Callable[[str], None]) -> str | None:
    """Which corpus content the rendered records are of: the prepared copy's when records of it exist,
    else the newest record's (a corpus you do not hold: its committed records)."""
    contents = {record["corpus"]["content_sha256"] for record in earlier}
    if prepared in contents or not contents:
        return prepared
    newest = max(earlier, key=lambda record: record["created"])["corpus"]["content_sha256"]
    if len(contents) > 1 or prepared is not None:
        note(f"records of {len(contents)} versions of {corpus} found"
             + (" (none of your prepared copy)" if prepared is not None else "")
             + f": rendering the newest, content sha256 {newest[:12]}")
    return newest


_MODALITY_ORDER = ("audio", "text", "multimodal")


def reproduce(ids: Sequence[str], corpora: Sequence[str], budget: str, protocol: Protocol, executor: Executor,
              results: Path, reports: Path, baselines: Path, device: str = "cpu",
              progress_for: Callable[[str, str], Progress] | None = None, note: Callable[[str], None] = lambda text: None,
              on_plan: Callable[[list[tuple[str, JobSpec]]], None] = lambda jobs: None, from_records: bool = False) -> Reproduction:
    """Run what the tables need and write their reports; `on_plan` receives every job of the command
    before the first runs (for one progress account of the whole command). `from_records`: run
    nothing, render the reports from the records already in `results`."""
    protocol.budget(budget)
    outcome = Reproduction()
    records: list[dict[str, Any]] = []
    if not from_records:
        for corpus in corpora:
            ensure_prepared(corpus, protocol, note)
        planned = plan(ids, corpora, protocol, budget)
        requests = [request_for(p, budget, device, results, baselines) for p in planned]
        checked = [check_request(request, protocol, note) for request in requests]  # refuse before training anything
        on_plan(owned_jobs(planned, requests, checked, protocol))
        for request, ready, entry in zip(requests, checked, planned):
            progress = progress_for(entry.label, ready.submission.name) if progress_for else Progress()
            evaluation = evaluate(request, protocol, executor, progress, ready)
            records.extend(evaluation.records)
            outcome.failures.extend(evaluation.failures)
            outcome.failed.extend(evaluation.failed)

    paper = read_paper_values(protocol.path.parent / "reference" / "paper_tables.csv")
    specs = specs_for(protocol, budget)
    significance = protocol.significance
    for corpus in corpora:
        earlier = _earlier(results, corpus, budget, protocol)
        if from_records:  # no corpus needed: what the records hold is what the tables show
            content = _records_content(earlier, _prepared_content(corpus, protocol), corpus, note)
            mine = _matching_records([], earlier, corpus, content)
            setups = tuple(m for m in _MODALITY_ORDER if any(record["modality"] == m for record in mine))
            if not mine:
                note(f"no records of {corpus} at budget {budget} under protocol {protocol.version} "
                     f"({protocol.sha256[:12]}) in {results}: no report")
                continue
        else:
            prepared = load_corpus(corpus, protocol)
            mine = _matching_records(records, earlier, corpus, prepared.content_sha256)
            setups = prepared.setups
        for table_id in ids:
            spec = specs[table_id]
            if not any(modality in setups for modality in spec.modalities):
                note(f"{spec.title.split(':')[0]} needs {' or '.join(spec.modalities)}; "
                     f"{corpus} {'records hold' if from_records else 'has'} {', '.join(setups)}: no report")
                continue
            comparisons = table_comparisons(spec, corpus, mine, significance)
            text = render_table(spec, corpus, budget, mine, paper, comparisons, significance,
                                protocol.training.gender_chance_tolerance)
            outcome.tables[(table_id, corpus)] = text
            path = reports / f"table-{table_id}-{corpus}-{budget}.md"
            atomic_write_text(path, text)
            outcome.reports.append(path)
        note_text = ("The synthetic corpus is eSpeak NG speech made by privbench: these verdicts test the tool, "
                     "not the paper's claims about real emotional speech." if corpus == "synthetic" else "")
        questions, extra = findings(mine, significance, protocol.training.grid.lambda_, baseline_lambda(protocol, budget))
        text = (f"# Findings on {corpus}, budget {budget}\n\nThe questions are those of {protocol.protocol.reference} "
                f"(section 5), tested under privbench protocol {protocol.version}.\n\n" + findings_markdown(questions, extra, significance.alpha, note_text))
        outcome.findings[corpus] = text
        path = reports / f"findings-{corpus}-{budget}.md"
        atomic_write_text(path, text)
        outcome.reports.append(path)
    return outcome
