"""The leaderboard: grouping, ties, Pareto, security of submission fields, and the site in a real browser."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest

from conftest import REPO, invoke
from privbench.results.leaderboard import FRONT_ENDS_LABEL, TRAINED_LABEL, group_records, pareto_front, safe_url
from privbench.protocol import get_protocol
from privbench.records import summarise


def _record(name: str, corpus="synthetic", task="activation", modality="audio", budget="quick", protocol_sha="cd" * 32,
            **metrics) -> dict:
    values = {n: [0.5, 0.5, 0.5, 0.5, 0.5] for n in ("uar", "uar_male", "uar_female", "leakage", "privacy", "membership",
                                                     "membership_speaker")}
    values.update(metrics)
    return {
        "schema": "privbench.result/1",
        "encoder": {"name": name, "sha256": "ab" * 32, "display_name": name.title()},
        "protocol": {"version": "3", "sha256": protocol_sha, "budget": budget},
        "corpus": {"name": corpus, "content_sha256": "ef" * 32, "split_sha256": "01" * 32},
        "modality": modality, "task": task,
        "metrics": {n: summarise(n, v, 1, 0.05) for n, v in values.items()},
        "chance_reached": None, "config": {}, "runtime_s": 1.0,
        "environment": {"privbench": "0.1.0", "torch": "2", "device": "cpu", "git": "x"}, "created": "2026-01-01T00:00:00+00:00",
    }


def _front_end(record: dict, licence: str | None = None) -> dict:
    record["submission"] = {"kind": "front end", **({"licence": licence} if licence else {})}
    return record


def test_pretrained_front_ends_are_their_own_group_with_their_licence_and_ranked_with_the_rest(isolated, runner):
    general = _record("general", privacy=[0.20, 0.21, 0.19, 0.20, 0.22])
    verifier = _front_end(_record("verifier", privacy=[0.05, 0.04, 0.06, 0.05, 0.04]), "Apache-2.0 <b>")
    features = _front_end(_record("features", privacy=[0.30, 0.31, 0.29, 0.30, 0.32]))
    [group] = group_records([verifier, general, features])
    assert [(label, [row.name for row in rows]) for label, rows in group.sections] == [
        (TRAINED_LABEL, ["general"]), (FRONT_ENDS_LABEL, ["features", "verifier"])]
    rows = {row.name: row for row in group.rows}
    assert rows["verifier"].marks["privacy"] == "-" and rows["features"].marks["privacy"] == "+"  # tested against general
    assert [label for label, _ in group_records([general])[0].sections] == [TRAINED_LABEL]
    clone = _clone_with_records(isolated, [general, verifier, features])
    assert invoke(runner, "leaderboard", "build").exit_code == 0
    index = (clone / "leaderboard" / "site" / "index.html").read_text()
    assert index.count('<tr class="section">') == 2 and "licence: Apache-2.0 &lt;b&gt;" in index
    assert "<dt>licence</dt><dd>Apache-2.0 &lt;b&gt;</dd>" in (clone / "leaderboard" / "site" / "encoder-verifier.html").read_text()
    board = (clone / "leaderboard" / "LEADERBOARD.md").read_text()
    assert f"| ***{FRONT_ENDS_LABEL}*** |" in board and "Verifier (front end; licence: Apache-2.0" in board
    assert board.index(f"***{FRONT_ENDS_LABEL}***") < board.index("Features (front end)") < board.index("Verifier (front end")


def test_groups_never_mix_budgets_protocols_corpora_tasks_or_modalities():
    records = [_record("a"), _record("b"), _record("a", budget="smoke"), _record("a", protocol_sha="99" * 32),
               _record("a", task="valence"), _record("a", modality="text"), _record("a", corpus="other")]
    groups = group_records(records)
    assert len(groups) == 6
    assert sorted(len(g.rows) for g in groups) == [1, 1, 1, 1, 1, 2]


def test_the_newest_protocol_s_tables_come_first():
    older = _record("a", corpus="alpha", protocol_sha="12" * 32)
    older["protocol"]["version"] = "2"
    groups = group_records([older, _record("a", corpus="zulu"), _record("a", corpus="beta")])
    assert [(g.protocol_version, g.corpus) for g in groups] == [("3", "beta"), ("3", "zulu"), ("2", "alpha")]


def test_pareto_front_on_known_points():
    points = {"a": (0.7, 0.2), "b": (0.6, 0.4), "c": (0.5, 0.3), "d": (0.7, 0.1), "e": (0.6, 0.4)}
    assert pareto_front(points) == {"a", "b", "e"}  # c is dominated by b, d by a; b and e tie


def test_bold_only_for_a_best_value_significantly_better_than_every_other_row():
    general = _record("general", uar=[0.60, 0.61, 0.62, 0.60, 0.61], privacy=[0.20, 0.21, 0.19, 0.20, 0.22])
    close = _record("close", uar=[0.61, 0.60, 0.62, 0.61, 0.60], privacy=[0.30, 0.31, 0.32, 0.33, 0.31])
    poor = _record("poor", uar=[0.40, 0.41, 0.42, 0.40, 0.41], privacy=[0.45, 0.46, 0.47, 0.46, 0.45])
    [group] = group_records([general, close, poor])
    rows = {row.name: row for row in group.rows}
    assert not any("uar" in row.clear_best for row in rows.values())  # general and close are indistinguishable
    assert "privacy" in rows["poor"].clear_best and group.any_significant
    assert rows["close"].marks["privacy"] == "+" and rows["poor"].marks["uar"] == "-"
    assert {name for name, row in rows.items() if row.pareto} == {"close", "poor"}


def test_no_significant_differences_is_said_and_the_privacy_side_of_chance_ranks_as_chance():
    noisy = [0.40, 0.60, 0.45, 0.55, 0.50]
    a = _record("general", privacy=[0.20, 0.21, 0.19, 0.20, 0.22], uar=noisy)
    flipped = _record("flipped", privacy=[0.70, 0.71, 0.72, 0.70, 0.69], uar=noisy[::-1])  # flags made by summarise
    near = _record("near", privacy=[0.54, 0.53, 0.54, 0.52, 0.53], uar=noisy[2:] + noisy[:2])  # past chance, within the margin
    [group] = group_records([a, flipped, near])
    rows = {row.name: row for row in group.rows}
    assert rows["flipped"].value("privacy") == pytest.approx(0.704) and rows["flipped"].ranked("privacy") == 0.5
    assert rows["flipped"].inverted("privacy") == 5 and rows["near"].inverted("privacy") == 0
    assert rows["near"].value("privacy") == pytest.approx(0.532) and rows["near"].ranked("privacy") == 0.5  # monotone
    assert group.any_significant  # P 0.20 against chance: the same machinery can say "significant"
    quiet = [_record("general", uar=noisy), _record("other", uar=noisy[1:] + noisy[:1])]
    [group] = group_records(quiet)
    assert not group.any_significant


def test_the_inverted_flag_compares_at_nine_decimals():
    flags = summarise("membership", [0.44999999999999996, 0.4499, 0.45, 0.55], 1, 0.05)["inverted"]
    assert flags == [False, True, False, False]  # 0.44999999999999996 is 0.45: on the edge, not beyond it


def test_only_http_and_https_urls_are_linked():
    assert safe_url("https://example.org/x") == "https://example.org/x"
    assert safe_url("HTTP://example.org") == "HTTP://example.org"
    for bad in ("javascript:alert(1)", "data:text/html,<script>", " javascript:x", "//evil.org", None, 3):
        assert safe_url(bad) is None


# ---------------------------------------------------------------- building the site

def _clone_with_records(isolated: Path, records: list[dict]) -> Path:
    shutil.copytree(REPO / "leaderboard" / "templates", isolated / "leaderboard" / "templates")
    (isolated / "benchmark" / "reference").mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "benchmark" / "reference" / "paper_tables.csv", isolated / "benchmark" / "reference")
    shutil.copy(REPO / "CITATION.cff", isolated / "CITATION.cff")
    for record in records:
        path = (isolated / "leaderboard" / "results" / record["encoder"]["name"] / record["protocol"]["budget"]
                / record["corpus"]["name"] / f"{record['modality']}-{record['task']}.json")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record))
    return isolated


HOSTILE = '<script>alert("x")</script>"\'><img src=x onerror=alert(1)>'


def test_hostile_submission_fields_are_escaped_and_hostile_records_refused(isolated, runner):
    evil = _record("evil")
    evil["encoder"]["display_name"] = HOSTILE[:200]
    evil["submission"] = {"display_name": HOSTILE, "authors": [HOSTILE], "description": HOSTILE,
                          "url": "https://example.org/x", "entry": "encoder:X"}
    linked = _record("linked")
    linked["submission"] = {"url": "javascript:alert(document.cookie)"}
    broken = _record("general")
    broken["metrics"]["uar"]["mean"] = 0.99  # tampered: no longer the mean of its rotations
    named = _record("x")
    named["encoder"]["name"] = '"><script>alert(1)</script>'
    climbing = _record("y")
    climbing["encoder"]["name"] = "x/../../y"
    clone = _clone_with_records(isolated, [evil, _record("fine"), broken, linked])
    for record, folder in ((named, "named"), (climbing, "climbing")):  # their names cannot even be a folder
        path = clone / "leaderboard" / "results" / folder / "quick" / "synthetic" / "audio-activation.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(record))
    result = invoke(runner, "leaderboard", "build")
    assert result.exit_code == 0, result.output
    refused = [line for line in result.stderr.splitlines() if line.startswith("privbench: refused record:")]
    assert len(refused) == 4  # one line each, naming its file; the rest of the site builds
    assert any("general" in line and "metrics.uar.mean" in line for line in refused)
    assert any("linked" in line and "submission.url must be an http:// or https:// address" in line for line in refused)
    assert any("named" in line and "encoder.name" in line for line in refused)
    assert any("climbing" in line and "encoder.name 'x/../../y'" in line for line in refused)
    site = clone / "leaderboard" / "site"
    assert sorted(p.name for p in site.glob("encoder-*.html")) == ["encoder-evil.html", "encoder-fine.html"]
    for page in site.glob("*.html"):
        text = page.read_text()
        assert "<script>alert" not in text and "onerror=alert(1)>" not in text and 'href="javascript:' not in text
        assert "Content-Security-Policy" in text and "script-src 'self'" in text
        assert text.count("<script") == 1  # the site's own site.js, nothing inline
    evil_page = (site / "encoder-evil.html").read_text()
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in evil_page
    assert "encoder-general.html" not in (site / "index.html").read_text()  # the refused record is never shown
    markdown = (clone / "leaderboard" / "LEADERBOARD.md").read_text()
    assert "<script>" not in markdown and "&lt;script&gt;" in markdown


def test_the_site_references_nothing_outside_itself(isolated, runner):
    clone = _clone_with_records(isolated, [_record("general"), _record("other")])
    assert invoke(runner, "leaderboard", "build").exit_code == 0
    for page in (clone / "leaderboard" / "site").glob("*.html"):
        text = page.read_text()
        for attribute in ("src=\"http", "href=\"//", "src=\"//", "@import", "url(http"):
            assert attribute not in text, (page.name, attribute)


# ---------------------------------------------------------------- in a real browser

def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _serve(folder: Path):
    import functools
    import http.server

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const wide = Array.from(document.querySelectorAll("table")).filter((t) => t.getBoundingClientRect().right > width + 1);
  return {page: document.documentElement.scrollWidth > width + 1, tables: wide.length};
}"""


@pytest.mark.skipif(_chromium() is None, reason="Debian's chromium is not installed (.ci/run installs it)")
def test_the_site_in_headless_chromium(isolated, runner, tmp_path):
    playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')")
    records = [_record("general", uar=[0.60, 0.61, 0.62, 0.60, 0.61]), _record("alpha", uar=[0.70, 0.71, 0.69, 0.70, 0.72]),
               _record("beta", uar=[0.30, 0.31, 0.29, 0.30, 0.32]),
               _front_end(_record("verifier", uar=[0.90, 0.91, 0.89, 0.90, 0.92]), "MIT")]
    clone = _clone_with_records(isolated, records)
    assert invoke(runner, "leaderboard", "build").exit_code == 0
    server, url = _serve(clone / "leaderboard" / "site")
    problems: list[str] = []
    try:
        with playwright_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.goto(url + "index.html")
            names = lambda: page.locator("section.group tbody tr td:first-child a").all_inner_texts()  # noqa: E731
            assert names() == ["Alpha", "Beta", "General", "Verifier"]
            assert page.locator("section.group tr.section th").all_inner_texts() == [TRAINED_LABEL, FRONT_ENDS_LABEL]
            page.locator("section.group thead th", has_text="U").first.click()  # ascending U: each group on its own
            assert names() == ["Beta", "General", "Alpha", "Verifier"]
            page.locator("section.group thead th", has_text="U").first.click()  # descending
            assert names() == ["Alpha", "General", "Beta", "Verifier"]
            assert page.locator("section.group tbody tr").first.inner_text().strip() == TRAINED_LABEL  # headings stay on top
            assert not page.locator("section.group th.secondary").first.is_visible()  # U(M) etc. behind the toggle
            page.locator("button.toggle").first.click()
            assert page.locator("section.group th.secondary").first.is_visible()
            page.locator("a", has_text="Overview").count()  # the nav exists on every page
            page.locator("a", has_text="Alpha").first.click()
            page.wait_for_url("**/encoder-alpha.html")
            assert page.locator("h1").inner_text() == "alpha"
            browser.close()
    finally:
        server.shutdown()
    assert problems == []


@pytest.mark.skipif(_chromium() is None, reason="Debian's chromium is not installed (.ci/run installs it)")
def test_the_committed_leaderboard_fits_a_laptop_and_a_phone(tmp_path, monkeypatch):
    """The site of the committed records: no page is wider than a 1280 px or a 390 px screen, no
    table overflows, and screenshots of the index, an overview and an encoder page at both widths.
    PRIVBENCH_SCREENSHOTS=docs/screenshots keeps them (how the ones in docs/leaderboard.md were made)."""
    import os

    from privbench.results.leaderboard import build

    playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')")
    site = build(REPO / "leaderboard" / "results", tmp_path / "site", REPO / "leaderboard" / "templates",
                 REPO / "benchmark" / "reference" / "paper_tables.csv", REPO / "CITATION.cff", None)
    assert site.records > 0 and not site.refused
    overview = next(p.name for p in site.pages if p.name.startswith("overview-real") or p.name.startswith("overview-"))
    shots = Path(os.environ.get("PRIVBENCH_SCREENSHOTS", tmp_path / "shots"))
    shots.mkdir(parents=True, exist_ok=True)
    server, url = _serve(tmp_path / "site")
    problems: list[str] = []
    try:
        with playwright_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
            for width, height, label in ((1280, 900, "1280"), (390, 844, "390")):
                page = browser.new_page(viewport={"width": width, "height": height})
                page.on("pageerror", lambda error: problems.append(str(error)))
                for name, shot in (("index.html", "index"), (overview, "overview"), ("encoder-priv-c.html", "encoder")):
                    page.goto(url + name)
                    fits = page.evaluate(OVERFLOW)
                    assert fits == {"page": False, "tables": 0}, (name, width, fits)
                    if shot == "index":  # the top and the first table (the whole index is long)
                        page.locator("section.group").first.scroll_into_view_if_needed()
                    page.screenshot(path=str(shots / f"{shot}-{label}.png"), full_page=shot == "overview")  # the others: the first screen
                    if shot == "index":  # every metric shown: still no wider than the screen, and never under the plot
                        section = page.locator("section.group").first
                        section.locator("button.toggle").click()
                        assert page.evaluate(OVERFLOW) == {"page": False, "tables": 0}, (width, "all metrics")
                        table, figure = section.locator("table").bounding_box(), section.locator("figure.plot").bounding_box()
                        assert table["x"] + table["width"] <= figure["x"] + 1 or table["y"] + table["height"] <= figure["y"] + 1
                        section.scroll_into_view_if_needed()
                        page.screenshot(path=str(shots / f"index-allmetrics-{label}.png"))
                page.close()
            browser.close()
    finally:
        server.shutdown()
    assert problems == []
    assert all((shots / f"{shot}-{label}.png").stat().st_size > 0 for shot in ("index", "index-allmetrics", "overview", "encoder")
               for label in ("1280", "390"))


def test_corpus_notes_name_each_caveat_once_and_the_derived_labels_of_the_corpora_that_have_them():
    from privbench.protocol import get_protocol
    from privbench.results.corpus_notes import NOTES, corpus_notes

    protocol = get_protocol()
    assert corpus_notes(["synthetic"], protocol) == [NOTES["synthetic"]]  # its labels come from its design, not derived
    assert corpus_notes(["iemocap"], protocol) == []  # the paper's corpora are rated by listeners: nothing to add
    lines = corpus_notes(["ravdess", "synthetic", "ased", "ravdess"], protocol)
    assert lines[:3] == [NOTES["synthetic"], NOTES["ravdess"], NOTES["ased"]]
    names = f"{protocol.corpora['ased'].display_name} and {protocol.corpora['ravdess'].display_name}"
    assert lines[3].startswith(f"The activation and valence of {names} are derived") and len(lines) == 4


def test_every_page_and_leaderboard_md_say_what_the_committed_corpora_need_said(tmp_path):
    """One source (privbench/results/corpus_notes.py) for the banner, the overview, the About page and
    LEADERBOARD.md: ASED's emotion-specific sentences reach all four."""
    import html

    from privbench.results.corpus_notes import NOTES
    from privbench.results.leaderboard import build

    site = build(REPO / "leaderboard" / "results", tmp_path / "site", REPO / "leaderboard" / "templates",
                 REPO / "benchmark" / "reference" / "paper_tables.csv", REPO / "CITATION.cff", tmp_path / "LEADERBOARD.md")
    pages = {page.name: html.unescape(page.read_text()) for page in site.pages}
    real = next(name for name in pages if name.startswith("overview-real"))
    for name in ("index.html", real, "about.html", "encoder-general.html"):
        assert NOTES["ased"] in pages[name], name
    assert NOTES["ased"] in (tmp_path / "LEADERBOARD.md").read_text()


# ---------------------------------------------------------------- what a build writes, and what it leaves out

def test_a_missing_results_folder_is_a_usage_error_and_the_committed_board_is_left_alone(isolated, runner, tmp_path):
    clone = _clone_with_records(isolated, [_record("general"), _record("other")])
    board = clone / "leaderboard" / "LEADERBOARD.md"
    board.write_text("the committed board\n")
    missing = invoke(runner, "leaderboard", "build", "--results", str(tmp_path / "no-such-dir"), "--out", str(tmp_path / "site"))
    assert missing.exit_code == 2
    assert missing.stderr == (f"privbench: error: --results {tmp_path / 'no-such-dir'} is not a folder of result records: give "
                              "--results DIR (the clone's own are in leaderboard/results)\n")
    assert board.read_text() == "the committed board\n" and not (tmp_path / "site").exists()
    mine = tmp_path / "mine"
    shutil.copytree(clone / "leaderboard" / "results", mine)
    elsewhere = invoke(runner, "leaderboard", "build", "--results", str(mine), "--out", str(tmp_path / "site"))
    assert elsewhere.exit_code == 0, elsewhere.output
    assert board.read_text() == "the committed board\n" and "leaderboard/LEADERBOARD.md left as it is" in elsewhere.stdout
    asked = invoke(runner, "leaderboard", "build", "--results", str(mine), "--out", str(tmp_path / "site"),
                   "--markdown", str(tmp_path / "mine.md"))
    assert asked.exit_code == 0 and (tmp_path / "mine.md").read_text().startswith("# privbench leaderboard")
    assert board.read_text() == "the committed board\n"
    committed = invoke(runner, "leaderboard", "build", "--out", str(tmp_path / "site"))  # the clone's own records: its board
    assert committed.exit_code == 0 and f"wrote {board}" in committed.stdout
    assert board.read_text().startswith("# privbench leaderboard")


def test_smoke_records_and_impossible_records_stay_off_the_board(isolated, runner):
    impossible = _record("impossible", uar=[0.91] * 5, uar_male=[0.33] * 5, uar_female=[0.33] * 5)
    records = [_record("general"), _record("other"), _record("general", budget="smoke"), _record("other", budget="smoke"),
               impossible]
    clone = _clone_with_records(isolated, records)
    result = invoke(runner, "leaderboard", "build")
    assert result.exit_code == 0, result.output
    assert ("privbench: note: 2 record(s) of the smoke budget left out: below quick a run checks that the tool works, not how "
            "an encoder does") in result.stderr
    assert any(line.startswith("privbench: refused record: ") and "impossible" in line
               and "U 0.9100 exceeds U(M) + U(F) = 0.6600, which no prediction can give" in line for line in result.stderr.splitlines())
    site = clone / "leaderboard" / "site"
    index = (site / "index.html").read_text()
    assert "budget smoke" not in index and "2 record(s) of the smoke budget left out" in index
    assert not (site / "overview-synthetic-smoke.html").exists() and not (site / "encoder-impossible.html").exists()
    assert "budget smoke" not in (clone / "leaderboard" / "LEADERBOARD.md").read_text()


def _spread(base: float, turn: int = 0) -> list[float]:
    offsets = [0.0, 0.012, -0.01, 0.006, -0.008]
    return [round(base + offsets[(i + turn) % 5], 4) for i in range(5)]


def _nine(config=None) -> list[dict]:
    """Ten encoders on two setups (one of them only on one), three clearly apart in P, seven that no test separates."""
    records = []
    for task in ("activation", "valence"):
        records.append(_record("general", task=task, uar=_spread(0.60), privacy=_spread(0.30)))
        for k in range(7):
            records.append(_record(f"close-{k}", task=task, uar=_spread(0.60 + 0.004 * (k - 3), k + 1), privacy=_spread(0.30 + 0.003 * k, k)))
        records.append(_record("leaky", task=task, uar=_spread(0.61, 2), privacy=_spread(0.10, 3)))
        records.append(_record("private", task=task, uar=_spread(0.55, 4), privacy=_spread(0.48, 1)))
    records.append(_record("partial", task="activation", uar=_spread(0.59, 1), privacy=_spread(0.42, 2)))
    records[0]["config"] = config or {}
    for record in records:
        record["submission"] = {"name": record["encoder"]["name"], "display_name": record["encoder"]["display_name"],
                                "url": "https://example.org/x", "authors": ["A. Person"], "description": "d", "entry": "e:E"}
    return records


@pytest.mark.skipif(_chromium() is None, reason="Debian's chromium is not installed (.ci/run installs it)")
def test_plots_tables_and_pages_read_well_with_ten_encoders(isolated, runner, tmp_path):
    """Items of issue 29 in the browser: 'all metrics' never runs under the plot, legends are page text, the
    overview's plot keeps its height, per-table plots show chance and intervals on honest axes, the overview
    ranks by tests over shared setups with intervals and tie groups, the encoder pages speak the tables'
    language, and every page links the repository."""
    import os

    playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')")
    clone = _clone_with_records(isolated, _nine({"lambda_": 0.5, "gru_width": 32, "adversary": True}))
    built = invoke(runner, "leaderboard", "build", "--repository", "https://example.org/privbench")
    assert built.exit_code == 0, built.output
    shots = Path(os.environ.get("PRIVBENCH_SCREENSHOTS", tmp_path / "shots"))
    shots.mkdir(parents=True, exist_ok=True)
    server, url = _serve(clone / "leaderboard" / "site")
    problems: list[str] = []
    try:
        with playwright_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
            for width, height in ((1280, 900), (390, 844)):
                page = browser.new_page(viewport={"width": width, "height": height})
                page.on("pageerror", lambda error: problems.append(str(error)))
                page.goto(url + "index.html")
                section = page.locator("section.group").first
                section.locator("button.toggle").click()
                assert section.locator("button.toggle").get_attribute("aria-pressed") == "true"
                assert section.locator("th.secondary").first.is_visible() if width == 1280 else True
                fits = page.evaluate(OVERFLOW)
                assert fits == {"page": False, "tables": 0}, (width, fits)
                table, figure = section.locator("table").bounding_box(), section.locator("figure.plot").bounding_box()
                # the plot is beside the table or below it, never over it
                assert table["x"] + table["width"] <= figure["x"] + 1 or table["y"] + table["height"] <= figure["y"] + 1, (table, figure)
                section.scroll_into_view_if_needed()
                page.screenshot(path=str(shots / f"ten-index-allmetrics-{width}.png"))
                legend = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('figure.plot ul.legend li')).fontSize)")
                assert legend >= 12, legend
                tick = page.evaluate("() => document.querySelector('figure.plot svg text').getBoundingClientRect().height")
                assert tick >= (8 if width == 390 else 10), tick  # tick labels at about the page's size, not 5 px
                plot = section.locator("figure.plot > svg")
                assert plot.locator("[id='chance-u']").count() == 1 and plot.locator("[id='chance-p']").count() == 1
                assert plot.locator("[id^='interval-'][id$='-p']").count() == 11  # every encoder's 95% interval
                ticks = [float(t) for t in plot.locator("[id='matplotlib.axis_2'] text").all_text_contents() if t.strip()[:1].isdigit()]
                assert max(ticks) - min(ticks) >= 0.3 - 1e-9, ticks  # 0.57 against 0.59 is not blown up to fill the plot
                caption = section.locator("figcaption").inner_text()
                assert "grey crosses" not in caption and "95% intervals" in caption  # no promise of points that are not there

                page.goto(url + "overview-synthetic-quick.html")
                assert page.evaluate(OVERFLOW) == {"page": False, "tables": 0}
                box = page.locator("figure.overview-plot > svg").bounding_box()
                assert box["height"] >= (250 if width == 390 else 380), box  # not squashed by its legend
                rows = {name: page.locator("table.overview tr", has=page.locator(f"a[href='encoder-{name}.html']"))
                        for name in ("private", "leaky", "partial", "close-3", "general")}
                rank = {name: int(row.locator("td[data-label='rank']").get_attribute("data-value")) for name, row in rows.items()}
                assert rank["private"] == 1 and rank["close-3"] > 1 and rank["leaky"] > rank["close-3"]
                assert "tied" in rows["close-3"].locator("td[data-label='rank']").inner_text()  # what no test separates
                assert rows["partial"].locator("td[data-label='setups']").inner_text() == "1"  # only the setup it has
                delta = rows["partial"].locator("td[data-label='ΔP [interval]']").inner_text()
                assert delta.startswith("+0.120 [") and "]" in delta  # on activation alone: 0.42 - 0.30, with its interval
                page.screenshot(path=str(shots / f"ten-overview-{width}.png"), full_page=True)

                page.goto(url + "encoder-general.html")
                assert page.evaluate(OVERFLOW) == {"page": False, "tables": 0}
                headers = page.locator("section.record").first.locator("tbody td:first-child abbr").all_inner_texts()
                assert headers == ["U", "L", "P", "MI", "U(M)", "U(F)", "MI-spk"]  # the tables' labels, in their order
                text = page.locator("main").inner_text()
                for repr_ in ("None", "True", "False", "{", "lambda_\":"):
                    assert repr_ not in text, repr_
                assert "adversary = yes" in text and "gru_width = 32" in text and "lambda_ = 0.5" in text
                other = page.goto(url + "encoder-leaky.html")
                assert other.ok and "(Δ -0.200)" in page.locator("section.record").first.inner_text()  # P against general
                page.screenshot(path=str(shots / f"ten-encoder-{width}.png"))
                page.goto(url + "about.html")
                cite = page.locator("blockquote.citation").all_inner_texts()
                assert any(c.startswith("Jaiswal, M., & Mower Provost, E. (2020). Privacy Enhanced Multimodal") for c in cite)
                assert "cff-version" not in page.locator("main").inner_text()
                for name in ("index.html", "about.html", "overview-synthetic-quick.html", "encoder-leaky.html"):
                    page.goto(url + name)
                    assert page.locator("nav a", has_text="Repository").get_attribute("href") == "https://example.org/privbench"
                page.close()
            browser.close()
    finally:
        server.shutdown()
    assert problems == []


def test_an_older_protocol_s_table_says_so_on_the_site_and_the_board(isolated, runner):
    older = _record("a", protocol_sha="12" * 32)
    older["protocol"]["version"] = "2"
    _clone_with_records(isolated, [older])
    result = invoke(runner, "leaderboard", "build", "--out", str(isolated / "site"), "--markdown", str(isolated / "board.md"))
    assert result.exit_code == 0, result.output
    current = get_protocol().version
    note = f"Made under protocol 2, not this site's protocol {current}"
    assert note in (isolated / "site" / "index.html").read_text()
    assert f"Made under protocol 2, not this board's protocol {current}" in (isolated / "board.md").read_text()
