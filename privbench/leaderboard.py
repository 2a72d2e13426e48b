"""The leaderboard: result records -> ranked tables, a static HTML site and LEADERBOARD.md.

Records are grouped by protocol (version and sha256), budget, corpus, task and
modality; only records of one group are ever ranked together. Per group, with
stats.compare (paired t-tests over rotations, Benjamini-Hochberg over the
group's table, PROTOCOL.md section 7): marks against the reference model
(`general`), and a best value shown in bold only when it is significantly
better than every other row's (with five rotations most differences are not
significant, and the page says so). Rankings, best values and the Pareto front
in (U, P) use ranked values: an inverted attack counts as chance (section 6),
while the shown value stays the measured one, flagged †k.
"""

from __future__ import annotations

import csv
import html
import io
import shutil
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from privbench.metric_defs import BY_NAME
from privbench.protocol import Significance, get_protocol
from privbench.records import cell, inverted_count, read_records, values
from privbench.stats import compare
from privbench.storage import atomic_write_text

COLUMN_METRICS = ("uar", "uar_male", "uar_female", "gap", "leakage", "privacy", "privacy_worst", "membership",
                  "membership_speaker")
COLUMNS = tuple((BY_NAME[name].header, name) for name in COLUMN_METRICS)


@dataclass
class Row:
    record: Mapping[str, Any]
    marks: dict[str, str] = field(default_factory=dict)  # metric -> "+" / "-" against the reference model
    clear_best: set[str] = field(default_factory=set)  # metrics where it is significantly better than every other row
    pareto: bool = False

    @property
    def name(self) -> str:
        return self.record["encoder"]["name"]

    def value(self, metric: str) -> float | None:
        """The measured mean (what is shown)."""
        return self.record["metrics"].get(metric, {}).get("mean")

    def sd(self, metric: str) -> float | None:
        return self.record["metrics"].get(metric, {}).get("sd")

    def inverted(self, metric: str) -> int:
        return inverted_count(self.record, metric)

    def ranked(self, metric: str) -> float | None:
        """The mean the rankings use: inverted rotations count as chance."""
        numbers = [v for v in values(self.record, metric) or [] if v is not None]
        return sum(numbers) / len(numbers) if numbers else None


@dataclass
class Group:
    protocol_version: str
    protocol_sha256: str
    budget: str
    corpus: str
    task: str
    modality: str
    rows: list[Row]
    any_significant: bool = False  # whether any comparison of the group's table is significant

    @property
    def key(self) -> str:
        return f"p{self.protocol_version}-{self.protocol_sha256[:8]}-{self.budget}-{self.corpus}-{self.task}-{self.modality}"

    @property
    def title(self) -> str:
        return f"{self.corpus} / {self.task} / {self.modality} (budget {self.budget}, protocol {self.protocol_version} {self.protocol_sha256[:8]})"


def group_records(records: Sequence[Mapping[str, Any]], significance: Significance | None = None) -> list[Group]:
    significance = significance or get_protocol().significance
    groups: dict[tuple, list[Row]] = defaultdict(list)
    for record in records:
        key = (record["protocol"]["version"], record["protocol"]["sha256"], record["protocol"]["budget"],
               record["corpus"]["name"], record["task"], record["modality"])
        groups[key].append(Row(record))
    result = [Group(*key, rows=sorted(rows, key=lambda r: r.name)) for key, rows in sorted(groups.items())]
    for group in result:
        annotate(group, significance)
    return result


def pareto_front(points: Mapping[str, tuple[float, float]]) -> set[str]:
    """Names whose (U, P) no other point dominates (>= on both, > on one); both are higher-is-better."""
    front = set()
    for name, (u, p) in points.items():
        dominated = any(ou >= u and op >= p and (ou > u or op > p) for other, (ou, op) in points.items() if other != name)
        if not dominated:
            front.add(name)
    return front


def annotate(group: Group, significance: Significance) -> None:
    """Marks against the reference, clearly best values per column, and the Pareto front, in place."""
    rows = {row.name: row for row in group.rows}
    cells = {}
    reference = rows.get(significance.reference_model)
    for row in group.rows:
        for metric in COLUMN_METRICS:
            if reference is not None and row is not reference and metric in row.record["metrics"] and metric in reference.record["metrics"]:
                cells[("vs-reference", row.name, metric)] = cell(row.record, reference.record, metric)
    best: dict[str, Row] = {}
    for metric in COLUMN_METRICS:
        higher = BY_NAME[metric].higher_is_better
        candidates = [row for row in group.rows if row.ranked(metric) is not None]
        if higher is None or len(candidates) < 2:
            continue
        best[metric] = max(candidates, key=lambda row: row.ranked(metric) if higher else -row.ranked(metric))
        for row in candidates:
            if row is not best[metric]:
                cells[("vs-best", row.name, metric)] = cell(row.record, best[metric].record, metric)
    comparisons = compare(cells, significance)
    group.any_significant = any(c.significant for c in comparisons.values())
    for (kind, name, metric), comparison in comparisons.items():
        if kind == "vs-reference" and comparison.mark:
            rows[name].marks[metric] = comparison.mark
    for metric, row in best.items():
        others = [comparisons[key] for key in comparisons if key[0] == "vs-best" and key[2] == metric]
        if others and all(c.significant for c in others):
            row.clear_best.add(metric)
    points = {row.name: (row.ranked("uar"), row.ranked("privacy")) for row in group.rows
              if row.ranked("uar") is not None and row.ranked("privacy") is not None}
    for name in pareto_front(points):
        rows[name].pareto = True


# ---------------------------------------------------------------- plots

def paper_points(paper_csv: Path, corpus: str, task: str, modality: str) -> dict[str, tuple[float, float]]:
    """The paper's published (U, P) per model for one corpus, task and modality (tables 1-3)."""
    values: dict[str, dict[str, float]] = defaultdict(dict)
    if not paper_csv.is_file():
        return {}
    with open(paper_csv, newline="") as stream:
        for row in csv.DictReader(stream):
            if (row["corpus"], row["task"], row["modality"]) == (corpus, task, modality) and row["metric"] in ("uar", "privacy"):
                values[row["model"]][row["metric"]] = float(row["value"])
    return {model: (v["uar"], v["privacy"]) for model, v in values.items() if {"uar", "privacy"} <= set(v)}


def tradeoff_svg(group: Group, paper: Mapping[str, tuple[float, float]]) -> str:
    """U against P, the Pareto front drawn, the paper's points as reference markers; SVG text."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = {row.name: (row.ranked("uar"), row.ranked("privacy")) for row in group.rows
              if row.ranked("uar") is not None and row.ranked("privacy") is not None}
    figure, axes = plt.subplots(figsize=(4.2, 3.2), dpi=100)
    for name, (u, p) in points.items():
        axes.scatter([p], [u], color="#1f5fa8", zorder=3)
        axes.annotate(name, (p, u), textcoords="offset points", xytext=(4, 4), fontsize=7)
    front = sorted((points[name][1], points[name][0]) for name in pareto_front(points))
    if len(front) > 1:
        axes.plot([p for p, _ in front], [u for _, u in front], color="#1f5fa8", linestyle="--", linewidth=1, label="Pareto front")
    for model, (u, p) in paper.items():
        axes.scatter([p], [u], marker="x", color="#b04a00", zorder=2)
        axes.annotate(f"paper {model}", (p, u), textcoords="offset points", xytext=(4, -9), fontsize=6, color="#b04a00")
    axes.set_xlabel("P (privacy, higher is better)")
    axes.set_ylabel("U (emotion UAR)")
    axes.grid(alpha=0.3)
    figure.tight_layout()
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    plt.close(figure)
    svg = buffer.getvalue()
    return svg[svg.index("<svg"):]  # drop the XML prologue and doctype: the SVG is inlined in HTML


# ---------------------------------------------------------------- rendering

def safe_url(url: Any) -> str | None:
    """A URL to link, only when it is http or https."""
    return url if isinstance(url, str) and url.lower().startswith(("http://", "https://")) else None


def _environment(templates: Path):
    import jinja2

    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(templates), autoescape=jinja2.select_autoescape(["html"]),
                                     undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    environment.filters["num"] = lambda value: "-" if value is None else f"{value:.3f}"
    environment.filters["meansd"] = mean_sd
    environment.globals["safe_url"] = safe_url
    environment.globals["columns"] = COLUMNS
    return environment


def _markdown_environment(templates: Path):
    import jinja2

    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(templates), autoescape=False,
                                     undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    # Markdown is not HTML: escape what would break a table cell or become markup.
    environment.filters["cell"] = lambda value: html.escape(str(value)).replace("|", "\\|").replace("\n", " ")
    environment.filters["num"] = lambda value: "-" if value is None else f"{value:.3f}"
    environment.filters["meansd"] = mean_sd
    environment.globals["columns"] = COLUMNS
    return environment


def mean_sd(row: Row, metric: str) -> str:
    value, sd = row.value(metric), row.sd(metric)
    if value is None:
        return "-"
    return f"{value:.3f}" + ("" if sd is None else f" ± {sd:.3f}")


def encoder_page(name: str) -> str:
    return f"encoder-{name}.html"


@dataclass
class Site:
    pages: list[Path]
    markdown: Path | None
    refused: list[str]
    records: int


def build(results: Path, out: Path, templates: Path, paper_csv: Path, citation: Path | None,
          markdown_path: Path | None) -> Site:
    """Render the site into `out` (replaced as a whole) and LEADERBOARD.md."""
    records, refused = read_records(results)
    groups = group_records(records)
    html_env = _environment(templates)
    plots = {group.key: tradeoff_svg(group, paper_points(paper_csv, group.corpus, group.task, group.modality)) for group in groups}
    encoders: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for record in records:
        encoders[record["encoder"]["name"]].append(record)
    context = {"groups": groups, "plots": plots, "encoders": sorted(encoders), "encoder_page": encoder_page,
               "corpora": sorted({g.corpus for g in groups}), "tasks": sorted({g.task for g in groups}),
               "modalities": sorted({g.modality for g in groups}), "refused": len(refused),
               "synthetic": any(g.corpus == "synthetic" for g in groups)}
    staging = out.with_name(out.name + ".building")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    pages = {"index.html": html_env.get_template("index.html").render(**context),
             "about.html": html_env.get_template("about.html").render(citation=citation.read_text() if citation and citation.is_file() else "",
                                                                     **context)}
    for name, own in encoders.items():
        pages[encoder_page(name)] = html_env.get_template("encoder.html").render(
            name=name, records=sorted(own, key=lambda r: (r["protocol"]["budget"], r["corpus"]["name"], r["task"], r["modality"])),
            submission=next((r.get("submission") for r in own if r.get("submission")), {}), **context)
    for name, text in pages.items():
        (staging / name).write_text(text)
    for asset in ("site.css", "site.js"):
        shutil.copy(templates / asset, staging / asset)
    if out.exists():
        shutil.rmtree(out)
    staging.rename(out)
    markdown = None
    if markdown_path is not None:
        text = _markdown_environment(templates).get_template("LEADERBOARD.md.j2").render(groups=groups, refused=len(refused))
        atomic_write_text(markdown_path, text)
        markdown = markdown_path
    return Site([out / name for name in pages], markdown, refused, len(records))
