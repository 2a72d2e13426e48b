"""`privbench inspect`: what privbench will train on, fold by fold (plain data, no printing)."""

from __future__ import annotations

import pandas as pd

from privbench.data.corpora.table import EXPORT_COLUMNS, TASKS


def fold_summary(table: pd.DataFrame, classes: tuple[str, ...], genders: tuple[str, ...]) -> pd.DataFrame:
    """One row per fold (and a total): speakers, utterances by gender, class counts per task."""

    def summarise(rows: pd.DataFrame) -> dict:
        summary = {"speakers": int(rows["speaker"].nunique()), "utterances": len(rows)}
        for gender in genders:
            summary[gender] = int((rows["gender"] == gender).sum())
        for task in TASKS:
            counts = rows[f"{task}_class"].value_counts()
            for index, name in enumerate(classes):
                summary[f"{task}_{name}"] = int(counts.get(index, 0))
        return summary

    summaries = [{"fold": str(fold), **summarise(rows)} for fold, rows in table.groupby("fold", sort=True)]
    summaries.append({"fold": "all", **summarise(table)})
    return pd.DataFrame(summaries)


def fold_speakers(table: pd.DataFrame) -> dict[int, list[str]]:
    return {int(fold): sorted(rows["speaker"].unique()) for fold, rows in table.groupby("fold", sort=True)}


def export_table(table: pd.DataFrame) -> pd.DataFrame:
    return table[list(EXPORT_COLUMNS)]
