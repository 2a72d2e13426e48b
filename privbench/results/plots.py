"""The leaderboard's utility-privacy plots, as inline SVG (matplotlib, no text placed on points).

Points are told apart by colour and marker and named in a legend below the
axes, so labels never overlap however close the points sit (Priv-C at four
lambdas lands on one spot). The paper's published points are crosses.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path

COLOURS = ("#1f5fa8", "#c2410c", "#15803d", "#7e22ce", "#b91c1c", "#0e7490", "#a16207", "#be185d", "#4d7c0f", "#334155")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h")
PAPER_COLOUR = "#6b7280"
PAPER_MARKERS = ("x", "+", "1", "2", "3", "4")


def style(index: int) -> tuple[str, str]:
    return COLOURS[index % len(COLOURS)], MARKERS[(index // len(COLOURS) + index) % len(MARKERS)]


def paper_points(paper_csv: Path, corpus: str, task: str, modality: str) -> dict[str, tuple[float, float]]:
    """The paper's published (U, P) per model for one corpus, task and modality (tables 1-3)."""
    values: dict[str, dict[str, float]] = defaultdict(dict)
    for row in _rows(paper_csv):
        if (row["corpus"], row["task"], row["modality"]) == (corpus, task, modality) and row["metric"] in ("uar", "privacy"):
            values[row["model"]][row["metric"]] = float(row["value"])
    return {model: (v["uar"], v["privacy"]) for model, v in values.items() if {"uar", "privacy"} <= set(v)}


def paper_deltas(paper_csv: Path) -> dict[str, tuple[float, float, int]]:
    """Per model, the paper's mean (U - U(general), P - P(general)) over its setups, and their count."""
    by_setup: dict[tuple, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    for row in _rows(paper_csv):
        if row["metric"] in ("uar", "privacy"):
            by_setup[(row["table"], row["task"], row["modality"], row["corpus"])][row["model"]][row["metric"]] = float(row["value"])
    sums: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for models in by_setup.values():
        general = models.get("general")
        if not general or {"uar", "privacy"} - set(general):
            continue
        for model, values in models.items():
            if model != "general" and {"uar", "privacy"} <= set(values):
                sums[model].append((values["uar"] - general["uar"], values["privacy"] - general["privacy"]))
    return {model: (sum(u for u, _ in pairs) / len(pairs), sum(p for _, p in pairs) / len(pairs), len(pairs))
            for model, pairs in sums.items()}


def _rows(paper_csv: Path):
    if not paper_csv.is_file():
        return []
    with open(paper_csv, newline="") as stream:
        return list(csv.DictReader(stream))


def _svg(figure) -> str:
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    plt.close(figure)
    svg = buffer.getvalue()
    return svg[svg.index("<svg"):]  # drop the XML prologue and doctype: the SVG is inlined in HTML


def _axes(width: float, height: float):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height), dpi=100)


def _front_line(axes, points: Sequence[tuple[float, float]]) -> None:
    """points: (x, y) on the Pareto front, both higher-is-better."""
    front = sorted(points)
    if len(front) > 1:
        axes.plot([x for x, _ in front], [y for _, y in front], color="#64748b", linestyle="--", linewidth=1,
                  label="Pareto front", zorder=1)


def _finish(figure, axes, paper: Mapping[str, tuple[float, float, str]], xlabel: str, ylabel: str, encoders: int,
            fontsize: int) -> str:
    """The paper's points (grey, one marker each), labels, grid, and the legend below the axes."""
    for index, (model, (u, p, label)) in enumerate(sorted(paper.items())):
        axes.scatter([p], [u], marker=PAPER_MARKERS[index % len(PAPER_MARKERS)], s=50, color=PAPER_COLOUR, zorder=2, label=label)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.grid(alpha=0.3)
    figure.legend(loc="lower center", bbox_to_anchor=(0.5, -0.02), ncol=2, fontsize=fontsize, frameon=False)
    figure.subplots_adjust(bottom=0.2 + 0.055 * ((encoders + len(paper) + 1) // 2))
    return _svg(figure)


def tradeoff_svg(points: Mapping[str, tuple[float, float]], front: set[str], names: Mapping[str, str],
                 paper: Mapping[str, tuple[float, float]]) -> str:
    """One table's U against P: a point per encoder (legend), the Pareto front, the paper's points."""
    figure, axes = _axes(4.4, 3.0)
    for index, name in enumerate(sorted(points)):
        u, p = points[name]
        colour, marker = style(index)
        axes.scatter([p], [u], color=colour, marker=marker, s=36, zorder=3, label=names.get(name, name))
    _front_line(axes, [(points[name][1], points[name][0]) for name in front])
    paper_entries = {model: (u, p, f"paper: {names.get(model, model)}") for model, (u, p) in paper.items()}
    return _finish(figure, axes, paper_entries, "P (privacy, higher is better)", "U (emotion UAR)", len(points), 7)


def overview_svg(setup_points: Mapping[str, Sequence[tuple[float, float]]], means: Mapping[str, tuple[float, float]],
                 front: set[str], names: Mapping[str, str], paper: Mapping[str, tuple[float, float, int]]) -> str:
    """Every encoder on every setup: (P - P(general), U - U(general)) per setup (small), each encoder's
    mean (large), the Pareto front of the means, and the paper's mean deltas (crosses)."""
    figure, axes = _axes(6.4, 4.2)
    axes.axhline(0, color="#94a3b8", linewidth=0.8)
    axes.axvline(0, color="#94a3b8", linewidth=0.8)
    for index, name in enumerate(sorted(means)):
        colour, marker = style(index)
        xs = [p for _, p in setup_points.get(name, [])]
        ys = [u for u, _ in setup_points.get(name, [])]
        axes.scatter(xs, ys, color=colour, marker=marker, s=14, alpha=0.35, zorder=2)
        u, p = means[name]
        axes.scatter([p], [u], color=colour, marker=marker, s=90, edgecolor="white", linewidth=0.8, zorder=4,
                     label=f"{names.get(name, name)} (mean of {len(xs)})")
    _front_line(axes, [(means[name][1], means[name][0]) for name in front])
    paper_entries = {model: (u, p, f"paper: {names.get(model, model)} (its {count} setups, its corpora)")
                     for model, (u, p, count) in paper.items()}
    return _finish(figure, axes, paper_entries, "P - P(general): privacy gained", "U - U(general): utility kept", len(means), 8)
