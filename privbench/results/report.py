"""The terminal summary of an evaluation: one row per corpus x modality x task, marked against the reference.

Marks follow docs/protocol.md section 7 (stats.compare): "+" when the model is
significantly better than the reference model (`general`) on that metric,
"-" when significantly worse; "†k" flags an attack inverted in k rotations
(counted as chance in the comparison).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from privbench.scoring.metric_defs import BY_NAME
from privbench.protocol import Significance
from privbench.records import cell, read_record, record_path
from privbench.scoring.stats import Comparison, compare
from privbench.results.tables import format_value

SUMMARY_METRICS = ("uar", "uar_male", "uar_female", "gap", "leakage", "privacy", "privacy_worst", "identity_eer", "identity_link",
                   "identity_speakers", "identity_tpr_at_1fpr", "membership", "membership_speaker", "membership_lr_auc")
HEADERS = tuple(BY_NAME[name].header for name in SUMMARY_METRICS)


def reference_record(results: Path, record: dict[str, Any], reference: str) -> dict[str, Any] | None:
    """The reference model's record for the same budget, corpus, modality, task and protocol, if any."""
    path = record_path(results, reference, record["protocol"]["budget"], record["corpus"]["name"], record["modality"], record["task"])
    if not path.is_file() or record["encoder"]["name"] == reference:
        return None
    other = read_record(path)
    same = (other["protocol"]["sha256"] == record["protocol"]["sha256"]
            and other["corpus"]["content_sha256"] == record["corpus"]["content_sha256"])
    return other if same else None


def significance(records: list[dict[str, Any]], results: Path, settings: Significance) -> dict[tuple, Comparison]:
    """(record index, metric) -> comparison with the reference, corrected over all these records' cells."""
    cells = {}
    for index, record in enumerate(records):
        other = reference_record(results, record, settings.reference_model)
        if other is None:
            continue
        for metric in SUMMARY_METRICS:
            if metric in record["metrics"] and metric in other["metrics"]:
                cells[(index, metric)] = cell(record, other, metric)
    return compare(cells, settings)


def summary_rows(records: list[dict[str, Any]], comparisons: dict[tuple, Comparison]) -> list[list[str]]:
    rows = []
    for index, record in sorted(enumerate(records), key=lambda item: (item[1]["corpus"]["name"], item[1]["modality"], item[1]["task"])):
        row = [record["corpus"]["name"], record["modality"], record["task"]]
        row += [format_value(record, metric, comparisons.get((index, metric)), digits=3) for metric in SUMMARY_METRICS]
        row.append({True: "yes", False: "NO", None: "n/a"}[record["chance_reached"]])
        rows.append(row)
    return rows
