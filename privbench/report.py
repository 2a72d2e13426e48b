"""The terminal summary of an evaluation: one row per corpus x modality x task, marked against `general`.

Marks follow PROTOCOL.md section 7: "+" when the model is significantly better
than `general` on that metric (paired t-test over rotations, Benjamini-Hochberg
over the whole table), "-" when significantly worse.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from privbench.records import read_record, record_path
from privbench.stats import Comparison, compare_table

COLUMNS = (("U", "uar"), ("U(M)", "uar_male"), ("U(F)", "uar_female"), ("gap", "gap"), ("L", "leakage"),
           ("P", "privacy"), ("P-worst", "privacy_worst"), ("MI", "membership"), ("MI-spk", "membership_speaker"))


def reference_record(results: Path, record: dict[str, Any], reference: str) -> dict[str, Any] | None:
    """The reference model's record for the same budget, corpus, modality, task and protocol, if any."""
    path = record_path(results, reference, record["protocol"]["budget"], record["corpus"]["name"], record["modality"], record["task"])
    if not path.is_file() or record["encoder"]["name"] == reference:
        return None
    other = read_record(path)
    same = (other["protocol"]["sha256"] == record["protocol"]["sha256"]
            and other["corpus"]["content_sha256"] == record["corpus"]["content_sha256"])
    return other if same else None


def significance(records: list[dict[str, Any]], results: Path, reference: str, alpha: float) -> dict[tuple, Comparison]:
    """(record index, metric) -> comparison with the reference, corrected over all these records' cells."""
    cells = {}
    for index, record in enumerate(records):
        other = reference_record(results, record, reference)
        if other is None:
            continue
        for _, metric in COLUMNS:
            if metric in record["metrics"] and metric in other["metrics"]:
                cells[(index, metric)] = (metric, record["metrics"][metric]["rotations"], other["metrics"][metric]["rotations"])
    return compare_table(cells, alpha)


def summary_rows(records: list[dict[str, Any]], comparisons: dict[tuple, Comparison]) -> list[list[str]]:
    rows = []
    for index, record in sorted(enumerate(records), key=lambda item: (item[1]["corpus"]["name"], item[1]["modality"], item[1]["task"])):
        row = [record["corpus"]["name"], record["modality"], record["task"]]
        for _, metric in COLUMNS:
            value = record["metrics"].get(metric, {}).get("mean")
            mark = comparisons[(index, metric)].mark if (index, metric) in comparisons else ""
            row.append("-" if value is None else f"{value:.3f}{mark}")
        row.append({True: "yes", False: "NO", None: "n/a"}[record["chance_reached"]])
        rows.append(row)
    return rows
