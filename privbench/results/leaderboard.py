"""The leaderboard: result records -> ranked tables, a static HTML site and LEADERBOARD.md.

Records are grouped by protocol (version and sha256), budget, corpus, task and
modality; only records of one group are ever ranked together. Per group, with
stats.compare (paired t-tests over rotations, Benjamini-Hochberg over the
group's table, docs/protocol.md section 7): marks against the reference model
(`general`), and a best value shown in bold only when it is significantly
better than every other row's (with five rotations most differences are not
significant, and the page says so). Rankings, best values and the Pareto front
in (U, P) use ranked values: an inverted attack counts as chance (section 6),
while the shown value stays the measured one, flagged †k.
"""

from __future__ import annotations

import html
import shutil
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from privbench.scoring.metric_defs import BY_NAME
from privbench.results.plots import overview_svg, paper_deltas, paper_points, tradeoff_svg
from privbench.protocol import Significance, get_protocol
from privbench.records import cell, inverted_count, read_records, values
from privbench.scoring.stats import compare
from privbench.storage import atomic_write_text
from privbench.results.tables import TITLES

# Each table shows the primary metrics and, behind a toggle (and always on the encoder pages), the rest,
# so a table fits a laptop screen and, as cards, a phone.
PRIMARY = ("uar", "leakage", "privacy", "privacy_worst", "membership")
SECONDARY = ("uar_male", "uar_female", "gap", "membership_speaker")
COLUMN_METRICS = PRIMARY + SECONDARY
COLUMNS = tuple((BY_NAME[name].header, name, name in PRIMARY) for name in COLUMN_METRICS)


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


# ---------------------------------------------------------------- the overview of a kind of corpus

@dataclass
class Overview:
    """Every encoder on every setup of one kind of corpus (real or synthetic) and budget, against general."""

    kind: str  # "real" or "synthetic"
    budget: str
    groups: list[Group]
    setup_points: dict[str, list[tuple[float, float]]]  # encoder -> (U - U(general), P - P(general)) per setup
    means: dict[str, tuple[float, float]]
    membership: dict[str, float]  # encoder -> mean ranked MI over its setups
    front: set[str]
    names: dict[str, str]

    @property
    def page(self) -> str:
        return f"overview-{self.kind}-{self.budget}.html"

    @property
    def title(self) -> str:
        return f"{'Real speech' if self.kind == 'real' else 'Synthetic speech'}, budget {self.budget}"

    @property
    def corpora(self) -> list[str]:
        return sorted({group.corpus for group in self.groups})

    def rows(self) -> list[tuple[str, int, float, float, float | None, bool]]:
        """(encoder, setups, mean ΔU, mean ΔP, mean MI, on the front), best ΔP first."""
        return sorted(((name, len(self.setup_points.get(name, [])), u, p, self.membership.get(name), name in self.front)
                       for name, (u, p) in self.means.items()), key=lambda row: -row[3])


def corpus_kind(group: Group) -> str:
    return "synthetic" if any(row.record.get("synthetic") for row in group.rows) or group.corpus == "synthetic" else "real"


def overviews(groups: Sequence[Group], reference: str) -> list[Overview]:
    """One overview per kind of corpus and budget, over the groups of the newest protocol."""
    if not groups:
        return []
    newest = max((g.protocol_version, g.protocol_sha256) for g in groups)
    found: dict[tuple[str, str], list[Group]] = defaultdict(list)
    for group in groups:
        if (group.protocol_version, group.protocol_sha256) == newest:
            found[(corpus_kind(group), group.budget)].append(group)
    result = []
    for (kind, budget), members in sorted(found.items()):
        points: dict[str, list[tuple[float, float]]] = defaultdict(list)
        membership: dict[str, list[float]] = defaultdict(list)
        names = {}
        for group in members:
            rows = {row.name: row for row in group.rows}
            general = rows.get(reference)
            for row in group.rows:
                names[row.name] = row.record["encoder"]["display_name"]
                if row.ranked("membership") is not None:
                    membership[row.name].append(row.ranked("membership"))
                if general is None or None in (row.ranked("uar"), row.ranked("privacy"), general.ranked("uar"), general.ranked("privacy")):
                    continue
                points[row.name].append((row.ranked("uar") - general.ranked("uar"), row.ranked("privacy") - general.ranked("privacy")))
        means = {name: (sum(u for u, _ in values) / len(values), sum(p for _, p in values) / len(values))
                 for name, values in points.items()}
        front = pareto_front(means)
        result.append(Overview(kind, budget, members, dict(points), means,
                               {name: sum(v) / len(v) for name, v in membership.items()}, front, names))
    return result


# ---------------------------------------------------------------- rendering

def safe_url(url: Any) -> str | None:
    """A URL to link, only when it is http or https."""
    return url if isinstance(url, str) and url.lower().startswith(("http://", "https://")) else None


def _environment(templates: Path):
    import jinja2

    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(templates), autoescape=jinja2.select_autoescape(["html"]),
                                     undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    environment.filters["num"] = lambda value: "-" if value is None else f"{value:.3f}"
    environment.filters["signed"] = lambda value: "-" if value is None else f"{value:+.3f}"
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
    environment.filters["signed"] = lambda value: "-" if value is None else f"{value:+.3f}"
    environment.filters["meansd"] = mean_sd
    environment.globals["columns"] = COLUMNS
    return environment


def mean_sd(row: Row, metric: str, digits: int = 2) -> str:
    value, sd = row.value(metric), row.sd(metric)
    if value is None:
        return "-"
    return f"{value:.{digits}f}" + ("" if sd is None else f" ± {sd:.{digits}f}")


def encoder_page(name: str) -> str:
    return f"encoder-{name}.html"


@dataclass
class Site:
    pages: list[Path]
    markdown: Path | None
    refused: list[str]
    records: int


def _group_plot(group: Group, paper_csv: Path) -> str:
    points = {row.name: (row.ranked("uar"), row.ranked("privacy")) for row in group.rows
              if row.ranked("uar") is not None and row.ranked("privacy") is not None}
    names = {row.name: row.record["encoder"]["display_name"] for row in group.rows}
    return tradeoff_svg(points, {row.name for row in group.rows if row.pareto}, names,
                        paper_points(paper_csv, group.corpus, group.task, group.modality))


def build(results: Path, out: Path, templates: Path, paper_csv: Path, citation: Path | None,
          markdown_path: Path | None) -> Site:
    """Render the site into `out` (replaced as a whole) and LEADERBOARD.md."""
    protocol = get_protocol()
    significance = protocol.significance
    records, refused = read_records(results)
    groups = group_records(records, significance)
    html_env = _environment(templates)
    plots = {group.key: _group_plot(group, paper_csv) for group in groups}
    views = overviews(groups, significance.reference_model)
    paper = paper_deltas(paper_csv)
    view_plots = {view.page: overview_svg(view.setup_points, view.means, view.front, {**TITLES, **view.names}, paper)
                  for view in views}
    encoders: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for record in records:
        encoders[record["encoder"]["name"]].append(record)
    context = {"groups": groups, "plots": plots, "overviews": views, "encoders": sorted(encoders), "encoder_page": encoder_page,
               "corpora": sorted({g.corpus for g in groups}), "tasks": sorted({g.task for g in groups}),
               "modalities": sorted({g.modality for g in groups}), "refused": len(refused), "kind_of": corpus_kind,
               "synthetic": any(g.corpus == "synthetic" for g in groups), "reference": significance.reference_model,
               "derived": sorted({g.corpus for g in groups if getattr(protocol.corpora.get(g.corpus), "derived_labels", None)}),
               "baselines": protocol.setups.baselines}
    staging = out.with_name(out.name + ".building")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    pages = {"index.html": html_env.get_template("index.html").render(**context),
             "about.html": html_env.get_template("about.html").render(citation=citation.read_text() if citation and citation.is_file() else "",
                                                                     **context)}
    for view in views:
        pages[view.page] = html_env.get_template("overview.html").render(view=view, plot=view_plots[view.page], paper=paper,
                                                                         **context)
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
        text = _markdown_environment(templates).get_template("LEADERBOARD.md.j2").render(groups=groups, refused=len(refused),
                                                                                        overviews=views)
        atomic_write_text(markdown_path, text)
        markdown = markdown_path
    return Site([out / name for name in pages], markdown, refused, len(records))
