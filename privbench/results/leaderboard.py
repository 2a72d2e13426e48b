"""The leaderboard: result records -> ranked tables, a static HTML site and LEADERBOARD.md.

Records are grouped by protocol (version and sha256), budget, corpus, task and
modality; only records of one group are ever ranked together. Records below
the quick budget (smoke) are left out with a note, and a record that breaks an
invariant between its metrics (results.leaderboard_check.invariant_problems) is
refused like an invalid one. Per group, with stats.compare (paired t-tests over
rotations, Benjamini-Hochberg over the group's table, docs/protocol.md section
7): marks against the reference model (`general`), and a best value shown in
bold only when it is significantly better than every other row's (with five
rotations most differences are not significant, and the page says so).
Rankings, best values and the Pareto front in (U, P) use ranked values: an
inverted attack counts as chance (section 6), while the shown value stays the
measured one, flagged †k. The Pareto front is the one the tests support: a row
leaves it only when another is at least as good on both means and
significantly better on one (its own family of pairwise tests per table); a
front of every row says nothing and is not drawn.

The overview of a kind of corpus compares encoders on the setups they share:
against `general`, per rotation the change in U and P is averaged over the
setups both have, and the mean over rotations gets a 95% t interval (the
rotation is what the protocol replicates); every pair of encoders is tested the
same way on the setups both have (U and P, all pairs corrected together), an
encoder's rank is 1 + the encoders significantly more private than it (a tie
group shares a rank), and the front is the tested one, over shared setups.
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
from privbench.records import cell, headline, inverted_count, values
from privbench.results.controls import Expectation, expectations
from privbench.results.corpus_notes import corpus_notes
from privbench.scoring.stats import compare
from privbench.storage import atomic_write_text
from privbench.results.tables import TITLES

# Each table shows the primary metrics and, behind a toggle (and always on the encoder pages), the rest,
# so a table fits a laptop screen and, as cards, a phone.
PRIMARY = ("uar", "leakage", "privacy", "privacy_worst", "identity_eer", "membership", "membership_lr_auc")
SECONDARY = ("uar_male", "uar_female", "gap", "identity_eer_informed", "identity_link", "identity_speakers",
             "identity_tpr_at_1fpr", "membership_speaker", "membership_lr_auc_h", "membership_lr_auc_loss",
             "membership_lr_tpr_at_10fpr")
COLUMN_METRICS = PRIMARY + SECONDARY
COLUMNS = tuple((BY_NAME[name].header, name, name in PRIMARY) for name in COLUMN_METRICS)


CONFIDENCE = 0.95  # the intervals the site shows: a two-sided t interval of a mean over rotations


@dataclass(frozen=True)
class Interval:
    """A mean over n rotations and its two-sided t interval (low/high None with fewer than 2 values)."""

    mean: float
    low: float | None
    high: float | None
    n: int

    @property
    def half(self) -> float | None:
        return None if self.low is None or self.high is None else (self.high - self.low) / 2

    def text(self, digits: int = 3, signed: bool = True) -> str:
        number = f"{{:{'+' if signed else ''}.{digits}f}}"
        if self.half is None:
            return number.format(self.mean)
        return f"{number.format(self.mean)} [{number.format(self.low)}, {number.format(self.high)}]"


def interval(values: Sequence[float | None]) -> Interval | None:
    """The mean of the finite values and its 95% t interval (None without any value)."""
    import math

    from scipy import stats as scipy_stats

    finite = [float(v) for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return None
    mean = sum(finite) / len(finite)
    if len(finite) < 2:
        return Interval(mean, None, None, len(finite))
    sd = math.sqrt(sum((v - mean) ** 2 for v in finite) / (len(finite) - 1))
    half = float(scipy_stats.t.ppf(0.5 + CONFIDENCE / 2, len(finite) - 1)) * sd / math.sqrt(len(finite))
    return Interval(mean, mean - half, mean + half, len(finite))


TRAINED_LABEL = "Encoders trained for emotion (the paper's baselines and submissions)"
FRONT_ENDS_LABEL = "Pretrained front ends (frozen; only the emotion head is trained)"


@dataclass
class Row:
    record: Mapping[str, Any]
    marks: dict[str, str] = field(default_factory=dict)  # metric -> "+" / "-" against the reference model
    clear_best: set[str] = field(default_factory=set)  # metrics where it is significantly better than every other row
    pareto: bool = False  # on the Pareto front of (U, P), shown only where the tests separate some row

    @property
    def name(self) -> str:
        return self.record["encoder"]["name"]

    @property
    def _submission(self) -> Mapping[str, Any]:
        return self.record.get("submission") or {}

    @property
    def front_end(self) -> bool:
        """A pretrained front end nobody here trained (a FrozenEncoder submission): shown as its own group."""
        return self._submission.get("kind") == "front end"

    @property
    def licence(self) -> str | None:
        return self._submission.get("licence")

    def value(self, metric: str) -> float | None:
        """The measured value that is shown: the mean over rotations (a pooled metric's pooled value)."""
        return headline(self.record, metric)

    def pooled(self, metric: str) -> bool:
        return BY_NAME[metric].pooled and "pooled" in self.record["metrics"].get(metric, {})

    def sd(self, metric: str) -> float | None:
        if self.pooled(metric):
            return None  # one value over every rotation's speakers
        return self.record["metrics"].get(metric, {}).get("sd")

    def interval(self, metric: str, ranked: bool = False) -> Interval | None:
        """The 95% interval of the mean over rotations (of ranked values: as rankings count them);
        None for a pooled metric (one value over every rotation's speakers) or a missing one."""
        if metric not in self.record["metrics"] or self.pooled(metric):
            return None
        return interval(values(self.record, metric, ranked=ranked) or [])

    def inverted(self, metric: str) -> int:
        return inverted_count(self.record, metric)

    def ranked(self, metric: str) -> float | None:
        """The value the rankings use: values on the privacy side of chance count as chance."""
        return headline(self.record, metric, ranked=True)


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
    controls: list[Row] = field(default_factory=list)  # sanity rows: shown with their checks, never ranked
    corpus_display: str = ""  # the protocol's display name of the corpus (a manifest corpus: its name)
    checks: dict[str, list[Expectation]] = field(default_factory=dict)  # control name -> its checks here
    front: set[str] = field(default_factory=set)  # the Pareto front when the tests separate some row, else empty
    rotations: int = 0  # the most rotations a row holds (what the tests could pair)
    testable: bool = False  # whether any pair of rows had enough rotations for a test

    @property
    def key(self) -> str:
        return f"p{self.protocol_version}-{self.protocol_sha256[:8]}-{self.budget}-{self.corpus}-{self.task}-{self.modality}"

    @property
    def sections(self) -> list[tuple[str, list[Row]]]:
        """The ranked rows as the table shows them: encoders trained here first, then pretrained front ends
        (ranked with them: one table, one set of tests), each section only where it has rows."""
        trained = [row for row in self.rows if not row.front_end]
        pretrained = [row for row in self.rows if row.front_end]
        return [(label, rows) for label, rows in ((TRAINED_LABEL, trained), (FRONT_ENDS_LABEL, pretrained)) if rows]

    @property
    def title(self) -> str:
        return (f"{self.corpus_display or self.corpus} / {self.task} / {self.modality} (budget {self.budget}, "
                f"protocol {self.protocol_version} {self.protocol_sha256[:8]})")


def _newest_protocol_first(item: tuple[tuple, Any]) -> tuple:
    """Tables of the newest protocol lead; an older protocol's (kept until they are re-run) follow."""
    version = item[0][0]
    return (-int(version) if str(version).isdigit() else 0, item[0])


def group_records(records: Sequence[Mapping[str, Any]], significance: Significance | None = None,
                  controls=None) -> list[Group]:
    protocol = get_protocol()
    significance = significance or protocol.significance
    controls = controls or protocol.controls
    groups: dict[tuple, list[Row]] = defaultdict(list)
    for record in records:
        key = (record["protocol"]["version"], record["protocol"]["sha256"], record["protocol"]["budget"],
               record["corpus"]["name"], record["task"], record["modality"])
        groups[key].append(Row(record))
    result = []
    for key, rows in sorted(groups.items(), key=_newest_protocol_first):
        ranked = sorted((row for row in rows if row.name not in controls.names), key=lambda r: r.name)
        sanity = sorted((row for row in rows if row.name in controls.names), key=lambda r: controls.names.index(r.name))
        corpus = key[3]
        shown = protocol.corpora[corpus].display_name if corpus in protocol.corpora else corpus
        group = Group(*key, rows=ranked, controls=sanity, checks={row.name: expectations(row.record, controls) for row in sanity},
                      corpus_display=shown)
        annotate(group, significance)
        result.append(group)
    return result


def pareto_front(points: Mapping[str, tuple[float, float]]) -> set[str]:
    """Names whose (U, P) no other point dominates (>= on both, > on one); both are higher-is-better."""
    front = set()
    for name, (u, p) in points.items():
        dominated = any(ou >= u and op >= p and (ou > u or op > p) for other, (ou, op) in points.items() if other != name)
        if not dominated:
            front.add(name)
    return front


def tested_front(means: Mapping[str, tuple[float, float]], separated: Mapping[tuple[str, str], bool]) -> set[str]:
    """The Pareto front the statistics support: a name is off it only when another is at least as good on
    both means (U, P; over the setups they share) and significantly better on one of them
    (`separated[(other, name)]`). Where nothing is separated, every name is on it."""
    front = set()
    for name, (u, p) in means.items():
        dominated = any(ou >= u and op >= p and separated.get((other, name), False)
                        for other, (ou, op) in means.items() if other != name)
        if not dominated:
            front.add(name)
    return front


def annotate(group: Group, significance: Significance) -> None:
    """Marks against the reference, clearly best values per column, and the Pareto front, in place.
    The front's own pairwise tests (every pair of rows on U and on P) are corrected together, apart
    from the marks' family, so the marks are what they would be without it."""
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
    group.rotations = max((len(row.record["metrics"]["uar"]["rotations"]) for row in group.rows + group.controls), default=0)
    points = {row.name: (row.ranked("uar"), row.ranked("privacy")) for row in group.rows
              if row.ranked("uar") is not None and row.ranked("privacy") is not None}
    pairs = {(a, b, metric): cell(rows[a].record, rows[b].record, metric)
             for a in points for b in points if a != b for metric in ("uar", "privacy")}
    tests = compare(pairs, significance)
    group.testable = any(c.p is not None for c in comparisons.values()) or any(c.p is not None for c in tests.values())
    separated = {(a, b): any(tests[(a, b, m)].direction == "better" for m in ("uar", "privacy")) for a in points for b in points
                 if a != b}
    front = tested_front(points, separated)
    group.front = front if len(front) < len(points) else set()  # a front of everyone says nothing: not drawn
    for name in group.front:
        rows[name].pareto = True


# ---------------------------------------------------------------- the overview of a kind of corpus

@dataclass
class Standing:
    """One encoder on an overview: its change against the reference over the setups both have."""

    name: str
    display: str
    setups: int  # setups shared with the reference
    utility: Interval | None  # U - U(reference): per rotation the mean over the shared setups, then over rotations
    privacy: Interval | None  # P - P(reference), likewise
    membership: float | None  # mean ranked MI-LR AUC over the shared setups (pooled per setup: no interval)
    points: list[tuple[float, float]]  # (delta U, delta P) per shared setup
    rank: int = 1  # 1 + the encoders significantly more private on the setups both have
    tied: int = 1  # how many share this rank
    front: bool = False
    utility_lost: bool = False  # U significantly below the reference's (paired test over rotations)
    privacy_gained: bool = False  # P significantly above the reference's
    front_end: bool = False  # a pretrained front end (Row.front_end)


@dataclass
class Overview:
    """Every encoder on every setup of one kind of corpus (real or synthetic) and budget, against general."""

    kind: str  # "real" or "synthetic"
    budget: str
    groups: list[Group]
    reference: str
    standings: list[Standing]  # best rank first, then the larger mean privacy gain
    testable: bool  # whether the rotations allowed any test at all

    @property
    def page(self) -> str:
        return f"overview-{self.kind}-{self.budget}.html"

    @property
    def title(self) -> str:
        return f"{'Real speech' if self.kind == 'real' else 'Synthetic speech'}, budget {self.budget}"

    @property
    def corpora(self) -> list[str]:
        return sorted({group.corpus for group in self.groups})

    @property
    def front(self) -> list[Standing]:
        return [standing for standing in self.standings if standing.front]

    @property
    def rotations(self) -> int:
        return max((group.rotations for group in self.groups), default=0)


def corpus_kind(group: Group) -> str:
    return "synthetic" if any(row.record.get("synthetic") for row in group.rows) or group.corpus == "synthetic" else "real"


def _per_rotation_mean(rows: Sequence[Row], metric: str) -> list[float | None]:
    """Per rotation, the mean of the rows' ranked values (rows: one encoder's records of several setups)."""
    columns = [values(row.record, metric) or [] for row in rows]
    result = []
    for r in range(max((len(c) for c in columns), default=0)):
        found = [c[r] for c in columns if r < len(c) and c[r] is not None]
        result.append(sum(found) / len(found) if found else None)
    return result


def _difference(rows: Sequence[Row], others: Sequence[Row], metric: str) -> list[float | None]:
    mine, theirs = _per_rotation_mean(rows, metric), _per_rotation_mean(others, metric)
    return [None if a is None or b is None else a - b for a, b in zip(mine, theirs)]


def _overview(kind: str, budget: str, members: list[Group], reference: str, significance: Significance) -> Overview:
    """Shared setups, intervals, tie groups and the tested front of one overview (see the module's docs)."""
    by_name: dict[str, dict[str, Row]] = defaultdict(dict)  # encoder -> group key -> row
    names = {}
    for group in members:
        for row in group.rows:
            by_name[row.name][group.key] = row
            names[row.name] = row.record["encoder"]["display_name"]
    general = by_name.get(reference, {})

    def shared(a: str, b: str) -> list[str]:
        return sorted(set(by_name[a]) & set(by_name[b]))

    standings = {}
    for name, rows in by_name.items():
        keys = shared(name, reference) if general else []
        mine, theirs = [rows[k] for k in keys], [general[k] for k in keys]
        points = [(row.ranked("uar") - other.ranked("uar"), row.ranked("privacy") - other.ranked("privacy"))
                  for row, other in zip(mine, theirs) if None not in (row.ranked("uar"), row.ranked("privacy"),
                                                                      other.ranked("uar"), other.ranked("privacy"))]
        lr = [row.ranked("membership_lr_auc") for row in mine if row.ranked("membership_lr_auc") is not None]
        standings[name] = Standing(name, names[name], len(keys), interval(_difference(mine, theirs, "uar")) if keys else None,
                                   interval(_difference(mine, theirs, "privacy")) if keys else None,
                                   sum(lr) / len(lr) if lr else None, points,
                                   front_end=any(row.front_end for row in rows.values()))
    # Every pair on the setups both have: paired tests over rotations of the per-rotation means, corrected together.
    pairs = {}
    for a in by_name:
        for b in by_name:
            keys = shared(a, b)
            if a < b and keys:
                for metric in ("uar", "privacy"):
                    mine = _per_rotation_mean([by_name[a][k] for k in keys], metric)
                    theirs = _per_rotation_mean([by_name[b][k] for k in keys], metric)
                    pairs[(a, b, metric)] = (metric, mine, theirs)
    tests = compare(pairs, significance)

    def better(a: str, b: str, metric: str) -> bool:
        """Whether a is significantly better than b on the setups both have."""
        if (a, b, metric) in tests:
            return tests[(a, b, metric)].direction == "better"
        return (b, a, metric) in tests and tests[(b, a, metric)].direction == "worse"

    means = {}
    for a in by_name:
        for b in by_name:
            keys = shared(a, b)
            if a != b and keys:
                means[(a, b)] = tuple(sum(by_name[x][k].ranked(m) or 0.0 for k in keys) / len(keys) for x in (a, b)
                                      for m in ("uar", "privacy"))
    for name, standing in standings.items():
        standing.rank = 1 + sum(better(other, name, "privacy") for other in by_name if other != name)
        dominated = False
        for other in by_name:
            if other == name or (other, name) not in means:
                continue
            ou, op, u, p = means[(other, name)]
            if ou >= u and op >= p and (better(other, name, "uar") or better(other, name, "privacy")):
                dominated = True
        standing.front = not dominated
        if name != reference and general:
            standing.utility_lost = better(reference, name, "uar")
            standing.privacy_gained = better(name, reference, "privacy")
    if all(standing.front for standing in standings.values()):
        for standing in standings.values():
            standing.front = False  # a front of everyone says nothing: none is drawn
    for standing in standings.values():
        standing.tied = sum(other.rank == standing.rank for other in standings.values())
    ordered = sorted(standings.values(), key=lambda s: (s.rank, -(s.privacy.mean if s.privacy else -1.0), s.name))
    return Overview(kind, budget, members, reference, ordered, any(t.p is not None for t in tests.values()))


def overviews(groups: Sequence[Group], reference: str, significance: Significance | None = None) -> list[Overview]:
    """One overview per kind of corpus and budget, over the groups of the newest protocol (controls left out)."""
    if not groups:
        return []
    significance = significance or get_protocol().significance
    newest = max((g.protocol_version, g.protocol_sha256) for g in groups)
    found: dict[tuple[str, str], list[Group]] = defaultdict(list)
    for group in groups:
        if (group.protocol_version, group.protocol_sha256) == newest and group.rows:
            found[(corpus_kind(group), group.budget)].append(group)
    return [_overview(kind, budget, members, reference, significance) for (kind, budget), members in sorted(found.items())]


# ---------------------------------------------------------------- rendering

def safe_url(url: Any) -> str | None:
    """A URL to link, only when it is http or https."""
    return url if isinstance(url, str) and url.lower().startswith(("http://", "https://")) else None


def repository_url(root: Path) -> str | None:
    """The repository's web address, for the pages' links: GitHub Actions' GITHUB_SERVER_URL and
    GITHUB_REPOSITORY, else CITATION.cff's repository-code, else the clone's origin remote when it names
    a web host (git@host:owner/name.git becomes https://host/owner/name); None when none is known."""
    import os
    import re
    import subprocess

    if os.environ.get("GITHUB_REPOSITORY"):
        return f"{os.environ.get('GITHUB_SERVER_URL', 'https://github.com').rstrip('/')}/{os.environ['GITHUB_REPOSITORY']}"
    cited = (read_citation(root / "CITATION.cff") or {}).get("repository-code")
    if safe_url(cited):
        return cited.rstrip("/")
    try:
        remote = subprocess.run(["git", "-C", str(root), "remote", "get-url", "origin"], capture_output=True, text=True,
                                timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    ssh = re.fullmatch(r"(?:ssh://)?git@([^:/]+)[:/](.+?)(?:\.git)?", remote)
    if ssh:
        return f"https://{ssh.group(1)}/{ssh.group(2)}"
    return safe_url(remote.removesuffix(".git")) if remote else None


def read_citation(path: Path | None) -> dict[str, Any] | None:
    """CITATION.cff as data (None when absent or not readable YAML)."""
    if path is None or not path.is_file():
        return None
    try:
        import yaml

        data = yaml.safe_load(path.read_text())
    except Exception:  # a broken file, or no YAML reader: the About page then shows the file as it is
        return None
    return data if isinstance(data, dict) else None


def _person(author: Mapping[str, Any], initials: bool = True) -> str:
    if "family-names" not in author:
        return str(author.get("name", ""))
    given = str(author.get("given-names", ""))
    short = " ".join(f"{part[0]}." for part in given.split()) if initials else given
    return f"{author['family-names']}, {short}".strip(", ")


def _names(authors: Sequence[Mapping[str, Any]]) -> str:
    people = [_person(author) for author in authors]
    return people[0] if len(people) == 1 else ", ".join(people[:-1]) + ", & " + people[-1] if people else ""


def citations(citation: Mapping[str, Any]) -> list[dict[str, str]]:
    """How to cite, from CITATION.cff: privbench itself and each reference, as a sentence and BibTeX."""
    entries = []
    year = str(citation.get("date-released", ""))[:4]
    entries.append({
        "what": "privbench",
        "text": f"{_names(citation.get('authors', []))} ({year}). {citation.get('title', '')} (Version {citation.get('version', '')}) "
                "[Computer software].",
        "bibtex": "@software{privbench,\n"
                  f"  author = {{{' and '.join(_person(a, initials=False) for a in citation.get('authors', []))}}},\n"
                  f"  title = {{{citation.get('title', '')}}},\n  version = {{{citation.get('version', '')}}},\n"
                  f"  year = {{{year}}}" + (f",\n  url = {{{citation['repository-code']}}}" if citation.get("repository-code") else "")
                  + "\n}",
    })
    for reference in citation.get("references", []) or []:
        doi = reference.get("doi")
        pages = f"{reference.get('start')}–{reference.get('end')}" if reference.get("start") else ""
        venue = reference.get("collection-title", "")
        entries.append({
            "what": "the study privbench reproduces",
            "text": f"{_names(reference.get('authors', []))} ({reference.get('year', '')}). {reference.get('title', '')}. "
                    f"In {venue}" + (f", {reference['volume']}" if reference.get("volume") else "")
                    + (f"({reference['issue']})" if reference.get("issue") else "") + (f", {pages}" if pages else "") + "."
                    + (f" https://doi.org/{doi}" if doi else ""),
            "bibtex": "@inproceedings{jaiswal2020privacy,\n"
                      f"  author = {{{' and '.join(_person(a, initials=False) for a in reference.get('authors', []))}}},\n"
                      f"  title = {{{reference.get('title', '')}}},\n  booktitle = {{{venue}}},\n"
                      + (f"  volume = {{{reference['volume']}}},\n  number = {{{reference.get('issue', '')}}},\n" if reference.get("volume") else "")
                      + (f"  pages = {{{reference['start']}--{reference['end']}}},\n" if reference.get("start") else "")
                      + f"  year = {{{reference.get('year', '')}}}" + (f",\n  doi = {{{doi}}}" if doi else "") + "\n}",
        })
    return entries


def plain(value: Any) -> str:
    """A value as a page shows it: no Python reprs (None, True, dicts)."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(plain(v) for v in value)
    if isinstance(value, Mapping):
        return "; ".join(f"{k} = {plain(v)}" for k, v in value.items())
    return str(value)


def _notes(corpora) -> list[str]:
    """The templates' `corpus_notes(corpora)`: what to know about these corpora before reading their numbers."""
    return corpus_notes(corpora, get_protocol())


def _environment(templates: Path):
    import jinja2

    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(templates), autoescape=jinja2.select_autoescape(["html"]),
                                     undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    environment.filters["num"] = lambda value: "-" if value is None else f"{value:.3f}"
    environment.filters["signed"] = lambda value: "-" if value is None else f"{value:+.3f}"
    environment.filters["meansd"] = mean_sd
    environment.filters["plain"] = plain
    environment.filters["ci"] = lambda row, metric: interval_title(row, metric)
    environment.globals["safe_url"] = safe_url
    environment.globals["columns"] = COLUMNS
    environment.globals["metric"] = BY_NAME
    environment.globals["corpus_notes"] = _notes
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
    environment.globals["corpus_notes"] = _notes
    return environment


def mean_sd(row: Row, metric: str, digits: int = 2) -> str:
    value, sd = row.value(metric), row.sd(metric)
    if value is None:
        return "-"
    return f"{value:.{digits}f}" + ("" if sd is None else f" ± {sd:.{digits}f}")


def interval_title(row: Row, metric: str) -> str:
    """A cell's tooltip: the 95% interval of its mean, or why there is none."""
    if row.pooled(metric):
        return "pooled over every rotation's speakers: one value, no interval"
    found = row.interval(metric)
    if found is None or found.half is None:
        return "one rotation: no interval"
    return f"95% interval of the mean: [{found.low:.3f}, {found.high:.3f}] (t, {found.n} rotations)"


def encoder_page(name: str) -> str:
    return f"encoder-{name}.html"


@dataclass
class Site:
    pages: list[Path]
    markdown: Path | None
    refused: list[str]
    records: int
    notes: list[str] = field(default_factory=list)  # what was left out on purpose (budgets below quick)


def _plot_errors(row: Row) -> tuple[float | None, float | None]:
    """The half widths of a row's 95% intervals of ranked U and P (the plot's error bars)."""
    return tuple(getattr(row.interval(metric, ranked=True), "half", None) for metric in ("uar", "privacy"))


def _group_plot(group: Group, paper_csv: Path, styles: Mapping[str, int]) -> tuple[str, list[str]]:
    """The group's plot, and the paper's models it shows (none on a corpus the paper does not have)."""
    points = {row.name: (row.ranked("uar"), row.ranked("privacy")) for row in group.rows
              if row.ranked("uar") is not None and row.ranked("privacy") is not None}
    paper = paper_points(paper_csv, group.corpus, group.task, group.modality)
    svg = tradeoff_svg(points, {row.name: _plot_errors(row) for row in group.rows}, group.front, styles, paper,
                       f"U against P, {group.title}")
    return svg, sorted(paper)


# The order an encoder page lists a record's metrics in: the tables' columns, then the rest as defined.
def page_metrics(record: Mapping[str, Any]) -> list[str]:
    from privbench.scoring.metric_defs import METRICS

    order = list(COLUMN_METRICS) + [m.name for m in METRICS if m.name not in COLUMN_METRICS]
    return [name for name in order if name in record["metrics"]]


def _paper_values(paper_csv: Path) -> dict[tuple[str, str, str, str, str], float]:
    """(task, modality, corpus, model, metric) -> the paper's value (its first table that has it)."""
    from privbench.results.tables import read_paper_values

    if not paper_csv.is_file():
        return {}
    found: dict[tuple[str, str, str, str, str], float] = {}
    for (_, task, modality, corpus, model, metric), value in read_paper_values(paper_csv).items():
        found.setdefault((task, modality, corpus, model, metric), value)
    return found


def _records(results: Path, protocol) -> tuple[list[Any], list[str], list[str]]:
    """Every record the board shows, one line per refused file (invalid, or breaking an invariant), and
    notes on what is left out on purpose (budgets below quick)."""
    from privbench.records import iter_records
    from privbench.results.leaderboard_check import LEADERBOARD_BUDGET, below_leaderboard, invariant_problems

    found, refused = iter_records(results)
    records, below = [], defaultdict(int)
    for path, record in found:
        problems = invariant_problems(record)
        if problems:
            refused.append(f"{path}: {problems[0]}")
        elif below_leaderboard(record["protocol"]["budget"], protocol):
            below[record["protocol"]["budget"]] += 1
        else:
            records.append(record)
    notes = [f"{count} record(s) of the {budget} budget left out: below {LEADERBOARD_BUDGET} a run checks that the tool "
             "works, not how an encoder does" for budget, count in sorted(below.items())]
    return records, refused, notes


def build(results: Path, out: Path, templates: Path, paper_csv: Path, citation: Path | None,
          markdown_path: Path | None, repository: str | None = None) -> Site:
    """Render the site into `out` (replaced as a whole) and, when `markdown_path` is given, LEADERBOARD.md."""
    from privbench.results.plots import legend_swatch, palette

    protocol = get_protocol()
    significance = protocol.significance
    records, refused, notes = _records(results, protocol)
    groups = group_records(records, significance, protocol.controls)
    html_env = _environment(templates)
    styles = palette([record["encoder"]["name"] for record in records])
    plots, paper_models = {}, {}
    for group in groups:
        plots[group.key], paper_models[group.key] = _group_plot(group, paper_csv, styles)
    views = overviews(groups, significance.reference_model, significance)
    paper = paper_deltas(paper_csv)
    view_plots = {view.page: overview_svg({s.name: s.points for s in view.standings},
                                          {s.name: (s.utility.mean, s.privacy.mean) for s in view.standings
                                           if s.utility and s.privacy},
                                          {s.name: (s.utility.half, s.privacy.half) for s in view.standings
                                           if s.utility and s.privacy},
                                          {s.name for s in view.front}, styles, paper, f"{view.title}: U and P against general")
                  for view in views}
    encoders: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for record in records:
        encoders[record["encoder"]["name"]].append(record)
    rows_of = {(group.key, row.name): (group, row) for group in groups for row in group.rows + group.controls}
    repository = safe_url(repository.rstrip("/")) if repository else None
    context = {"groups": groups, "plots": plots, "paper_models": paper_models, "overviews": views, "encoders": sorted(encoders),
               "current_protocol": get_protocol().version,
               "encoder_page": encoder_page, "styles": styles, "swatch": legend_swatch, "titles": TITLES,
               "corpora": sorted({g.corpus for g in groups}), "tasks": sorted({g.task for g in groups}),
               "modalities": sorted({g.modality for g in groups}), "refused": len(refused), "left_out": notes,
               "kind_of": corpus_kind, "confidence": CONFIDENCE, "min_pairs": significance.min_pairs,
               "synthetic": any(g.corpus == "synthetic" for g in groups), "reference": significance.reference_model,
               "derived": sorted({g.corpus for g in groups if getattr(protocol.corpora.get(g.corpus), "derived_labels", None)}),
               "baselines": protocol.setups.baselines, "repository": repository}
    staging = out.with_name(out.name + ".building")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    cited = read_citation(citation)
    pages = {"index.html": html_env.get_template("index.html").render(**context),
             "about.html": html_env.get_template("about.html").render(
                 citation=citation.read_text() if citation and citation.is_file() else "",
                 citations=citations(cited) if cited else [], **context)}
    for view in views:
        pages[view.page] = html_env.get_template("overview.html").render(view=view, plot=view_plots[view.page], paper=paper,
                                                                         **context)
    papers = _paper_values(paper_csv)
    for name, own in encoders.items():
        entries = []
        for record in sorted(own, key=lambda r: (r["protocol"]["budget"], r["corpus"]["name"], r["task"], r["modality"])):
            key = Group(record["protocol"]["version"], record["protocol"]["sha256"], record["protocol"]["budget"],
                        record["corpus"]["name"], record["task"], record["modality"], []).key
            group, row = rows_of[(key, name)]
            general = next((other for other in group.rows if other.name == significance.reference_model and other.name != name), None)
            paper_model = name if any(k[3] == name for k in papers) else None
            entries.append({"record": record, "row": row, "group": group, "general": general, "metrics": page_metrics(record),
                            "paper": {metric: papers.get((record["task"], record["modality"], record["corpus"]["name"],
                                                          paper_model, metric)) for metric in record["metrics"]}
                            if paper_model else {}, "paper_corpus": any(k[2] == record["corpus"]["name"] for k in papers)})
        pages[encoder_page(name)] = html_env.get_template("encoder.html").render(
            name=name, entries=entries, paper_model=name if any(k[3] == name for k in papers) else None,
            paper_corpora=sorted({k[2] for k in papers}),
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
        text = _markdown_environment(templates).get_template("LEADERBOARD.md.j2").render(
            groups=groups, refused=len(refused), current_protocol=get_protocol().version, overviews=views, left_out=notes)
        atomic_write_text(markdown_path, text)
        markdown = markdown_path
    return Site([out / name for name in pages], markdown, refused, len(records), notes)
