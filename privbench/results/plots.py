"""The leaderboard's utility-privacy plots, as inline SVG (matplotlib, no text placed on points).

Points are told apart by colour and marker and named in a legend the page
writes in HTML beside the plot (`legend_swatch` draws each entry's marker), so
its text is as large as the page's and labels never overlap however close the
points sit (Priv-C at four lambdas lands on one spot). Each encoder keeps one
colour and marker on every plot of the site (`palette`).

Each point carries its 95% interval (a t interval over rotations) as error
bars, the axes never zoom in on one table's spread (they span at least
`MIN_SPAN` and show chance), and dotted lines mark chance: U at 1/3 (three
classes) and P at 0.5 (the attacker guesses). The paper's published points,
where the page's corpus is one of the paper's, are grey crosses.
"""

from __future__ import annotations

import csv
import html
import io
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path

COLOURS = ("#1f5fa8", "#c2410c", "#15803d", "#7e22ce", "#b91c1c", "#0e7490", "#a16207", "#be185d", "#4d7c0f", "#334155")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h")
PAPER_COLOUR = "#6b7280"
PAPER_MARKERS = ("x", "+", "1", "2", "3", "4")
FRONT_COLOUR = "#64748b"
CHANCE_COLOUR = "#94a3b8"
U_CHANCE = 1 / 3  # emotion UAR of a guess over three classes
P_CHANCE = 0.5  # P of an attacker that guesses gender
MIN_SPAN = 0.3  # the least width of a U or P axis, so that 0.57 against 0.59 looks as close as it is
FONT_PT = 9  # at the size the page shows the plot (about 1:1), 12 px

Point = tuple[float, float]  # (U, P) or (delta U, delta P)
Errors = tuple[float | None, float | None]  # half widths of the 95% intervals of U and P (None: not known)


def style(index: int) -> tuple[str, str]:
    return COLOURS[index % len(COLOURS)], MARKERS[(index // len(COLOURS) + index) % len(MARKERS)]


def palette(names: Sequence[str]) -> dict[str, int]:
    """One style index per encoder for the whole site (sorted names), so an encoder looks the same on every plot."""
    return {name: index for index, name in enumerate(sorted(set(names)))}


_SWATCH = {  # marker -> SVG shape in a 14 x 14 box centred on 0
    "o": '<circle r="5"/>', "s": '<rect x="-4.5" y="-4.5" width="9" height="9"/>',
    "^": '<path d="M0,-5.5 L5.5,4.5 L-5.5,4.5 Z"/>', "v": '<path d="M0,5.5 L5.5,-4.5 L-5.5,-4.5 Z"/>',
    "<": '<path d="M-5.5,0 L4.5,-5.5 L4.5,5.5 Z"/>', ">": '<path d="M5.5,0 L-4.5,-5.5 L-4.5,5.5 Z"/>',
    "D": '<path d="M0,-6 L5,0 L0,6 L-5,0 Z"/>', "P": '<path d="M-2,-6 H2 V-2 H6 V2 H2 V6 H-2 V2 H-6 V-2 H-2 Z"/>',
    "X": '<path d="M-6,-3.5 L-3.5,-6 L0,-2.5 L3.5,-6 L6,-3.5 L2.5,0 L6,3.5 L3.5,6 L0,2.5 L-3.5,6 L-6,3.5 L-2.5,0 Z"/>',
    "h": '<path d="M0,-6 L5.2,-3 L5.2,3 L0,6 L-5.2,3 L-5.2,-3 Z"/>',
}
_STROKED = {"x": "M-5,-5 L5,5 M-5,5 L5,-5", "+": "M-6,0 H6 M0,-6 V6", "1": "M0,0 V6 M0,0 L-5,-3 M0,0 L5,-3",
            "2": "M0,0 V-6 M0,0 L-5,3 M0,0 L5,3", "3": "M0,0 H-6 M0,0 L3,-5 M0,0 L3,5", "4": "M0,0 H6 M0,0 L-3,-5 M0,0 L-3,5"}


def legend_swatch(index: int | None = None, paper: int | None = None, line: str | None = None) -> str:
    """A legend entry's marker as a small inline SVG (the page's HTML legend): an encoder's (`index`),
    a paper point's (`paper`), or a line ("front": dashed, "chance": dotted)."""
    if line is not None:
        dash = "4 3" if line == "front" else "1.5 2.5"
        colour = FRONT_COLOUR if line == "front" else CHANCE_COLOUR
        shape = f'<path d="M-7,0 H7" stroke="{colour}" stroke-width="1.6" stroke-dasharray="{dash}" fill="none"/>'
    elif paper is not None:
        shape = (f'<path d="{_STROKED[PAPER_MARKERS[paper % len(PAPER_MARKERS)]]}" stroke="{PAPER_COLOUR}" '
                 'stroke-width="1.6" fill="none"/>')
    else:
        colour, marker = style(index or 0)
        shape = _SWATCH[marker].replace("/>", f' fill="{colour}"/>', 1)
    return f'<svg class="swatch" width="14" height="14" viewBox="-7 -7 14 14" aria-hidden="true">{shape}</svg>'


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


def _svg(figure, title: str) -> str:
    import matplotlib
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):  # text as <text>, in the page's fonts: legible and selectable
        figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    plt.close(figure)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]  # drop the XML prologue and doctype: the SVG is inlined in HTML
    return svg.replace("<svg ", f'<svg role="img" aria-label="{html.escape(title)}" ', 1)


def _axes(width: float, height: float):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(width, height), dpi=100)
    axes.tick_params(labelsize=FONT_PT - 0.5)
    return figure, axes


def _front_line(axes, points: Sequence[tuple[float, float]]) -> None:
    """points: (x, y) on the Pareto front, both higher-is-better."""
    front = sorted(points)
    if len(front) > 1:
        axes.plot([x for x, _ in front], [y for _, y in front], color=FRONT_COLOUR, linestyle="--", linewidth=1, zorder=1)


def _span(values: Sequence[float], low: float, high: float, step: float = 0.05) -> tuple[float, float]:
    """An axis range holding `values` and [low, high], at least MIN_SPAN wide, on multiples of `step`."""
    lo, hi = min([low, *values]), max([high, *values])
    if hi - lo < MIN_SPAN:
        middle = (hi + lo) / 2
        lo, hi = middle - MIN_SPAN / 2, middle + MIN_SPAN / 2
    return math.floor(lo / step + 1e-9) * step, math.ceil(hi / step - 1e-9) * step


def _point(axes, name: str, x: float, y: float, errors: Errors, colour: str, marker: str, size: float, zorder: int) -> None:
    """One encoder's point and its 95% intervals; the SVG names them (ids point-NAME, interval-NAME-u/-p)."""
    du, dp = errors
    if dp is not None:
        bars = axes.errorbar([x], [y], xerr=[[dp], [dp]], fmt="none", ecolor=colour, elinewidth=1, capsize=2.5, alpha=0.8,
                             zorder=zorder - 1)
        bars.lines[2][0].set_gid(f"interval-{name}-p")
    if du is not None:
        bars = axes.errorbar([x], [y], yerr=[[du], [du]], fmt="none", ecolor=colour, elinewidth=1, capsize=2.5, alpha=0.8,
                             zorder=zorder - 1)
        bars.lines[2][0].set_gid(f"interval-{name}-u")
    axes.scatter([x], [y], color=colour, marker=marker, s=size, edgecolor="white", linewidth=0.6, zorder=zorder,
                 gid=f"point-{name}")


def tradeoff_svg(points: Mapping[str, Point], errors: Mapping[str, Errors], front: set[str], styles: Mapping[str, int],
                 paper: Mapping[str, Point], title: str) -> str:
    """One table's U against P: a point per encoder with its 95% intervals, the Pareto front (when
    the tests separate anyone), chance, and the paper's points; the legend is the page's."""
    figure, axes = _axes(3.6, 3.0)
    xs = [p for _, p in points.values()] + [p for _, p in paper.values()]
    ys = [u for u, _ in points.values()] + [u for u, _ in paper.values()]
    for name, (u, p) in points.items():
        du, dp = errors.get(name, (None, None))
        xs += [p - dp, p + dp] if dp is not None else []
        ys += [u - du, u + du] if du is not None else []
    axes.set_xlim(*_span(xs, 0.3, 0.52))
    axes.set_ylim(*_span(ys, 0.3, 0.6))
    axes.axhline(U_CHANCE, color=CHANCE_COLOUR, linestyle=":", linewidth=1.2, zorder=0, gid="chance-u")
    axes.axvline(P_CHANCE, color=CHANCE_COLOUR, linestyle=":", linewidth=1.2, zorder=0, gid="chance-p")
    for name in sorted(points):
        u, p = points[name]
        colour, marker = style(styles.get(name, 0))
        _point(axes, name, p, u, errors.get(name, (None, None)), colour, marker, 40, 3)
    _front_line(axes, [(points[name][1], points[name][0]) for name in front if name in points])
    for index, model in enumerate(sorted(paper)):
        u, p = paper[model]
        axes.scatter([p], [u], marker=PAPER_MARKERS[index % len(PAPER_MARKERS)], s=45, color=PAPER_COLOUR, zorder=2,
                     gid=f"paper-{model}")
    axes.set_xlabel("P (privacy, higher is better)", fontsize=FONT_PT)
    axes.set_ylabel("U (emotion UAR)", fontsize=FONT_PT)
    axes.grid(alpha=0.3)
    return _svg(figure, title)


def overview_svg(setup_points: Mapping[str, Sequence[Point]], means: Mapping[str, Point], errors: Mapping[str, Errors],
                 front: set[str], styles: Mapping[str, int], paper: Mapping[str, tuple[float, float, int]], title: str) -> str:
    """Every encoder on every setup: (P - P(general), U - U(general)) per setup (small), each encoder's
    mean (large) with its 95% intervals, the Pareto front of the means when the tests separate anyone,
    and the paper's mean deltas (crosses); the legend is the page's."""
    figure, axes = _axes(5.2, 4.0)
    axes.axhline(0, color=CHANCE_COLOUR, linewidth=0.8)
    axes.axvline(0, color=CHANCE_COLOUR, linewidth=0.8)
    for name in sorted(means):
        colour, marker = style(styles.get(name, 0))
        xs = [p for _, p in setup_points.get(name, [])]
        ys = [u for u, _ in setup_points.get(name, [])]
        axes.scatter(xs, ys, color=colour, marker=marker, s=16, alpha=0.35, zorder=2)
        u, p = means[name]
        _point(axes, name, p, u, errors.get(name, (None, None)), colour, marker, 95, 4)
    _front_line(axes, [(means[name][1], means[name][0]) for name in front if name in means])
    for index, model in enumerate(sorted(paper)):
        u, p, _ = paper[model]
        axes.scatter([p], [u], marker=PAPER_MARKERS[index % len(PAPER_MARKERS)], s=55, color=PAPER_COLOUR, zorder=3,
                     gid=f"paper-{model}")
    axes.set_xlabel("P - P(general): privacy gained", fontsize=FONT_PT + 1)
    axes.set_ylabel("U - U(general): utility kept", fontsize=FONT_PT + 1)
    axes.tick_params(labelsize=FONT_PT + 0.5)
    axes.grid(alpha=0.3)
    return _svg(figure, title)
