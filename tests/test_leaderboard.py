"""The leaderboard: grouping, ties, Pareto, security of submission fields, and the site in a real browser."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest

from conftest import REPO, invoke
from privbench.results.leaderboard import group_records, pareto_front, safe_url
from privbench.records import summarise


def _record(name: str, corpus="synthetic", task="activation", modality="audio", budget="quick", protocol_sha="cd" * 32,
            **metrics) -> dict:
    values = {n: [0.5, 0.5, 0.5, 0.5, 0.5] for n in ("uar", "uar_male", "uar_female", "leakage", "privacy", "membership",
                                                     "membership_speaker")}
    values.update(metrics)
    return {
        "schema": "privbench.result/1",
        "encoder": {"name": name, "sha256": "ab" * 32, "display_name": name.title()},
        "protocol": {"version": "2", "sha256": protocol_sha, "budget": budget},
        "corpus": {"name": corpus, "content_sha256": "ef" * 32, "split_sha256": "01" * 32},
        "modality": modality, "task": task,
        "metrics": {n: summarise(n, v, 1, 0.05) for n, v in values.items()},
        "chance_reached": None, "config": {}, "runtime_s": 1.0,
        "environment": {"privbench": "0.1.0", "torch": "2", "device": "cpu", "git": "x"}, "created": "2026-01-01T00:00:00+00:00",
    }


def test_groups_never_mix_budgets_protocols_corpora_tasks_or_modalities():
    records = [_record("a"), _record("b"), _record("a", budget="smoke"), _record("a", protocol_sha="99" * 32),
               _record("a", task="valence"), _record("a", modality="text"), _record("a", corpus="other")]
    groups = group_records(records)
    assert len(groups) == 6
    assert sorted(len(g.rows) for g in groups) == [1, 1, 1, 1, 1, 2]


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


def test_no_significant_differences_is_said_and_inverted_attacks_rank_as_chance():
    noisy = [0.40, 0.60, 0.45, 0.55, 0.50]
    a = _record("general", privacy=[0.20, 0.21, 0.19, 0.20, 0.22], uar=noisy)
    flipped = _record("flipped", privacy=[0.70, 0.71, 0.72, 0.70, 0.69], uar=noisy[::-1])
    flipped["metrics"]["privacy"]["inverted"] = [True] * 5
    [group] = group_records([a, flipped])
    rows = {row.name: row for row in group.rows}
    assert rows["flipped"].value("privacy") == pytest.approx(0.704) and rows["flipped"].ranked("privacy") == 0.5
    assert rows["flipped"].inverted("privacy") == 5
    quiet = [_record("general", uar=noisy), _record("other", uar=noisy[1:] + noisy[:1])]
    [group] = group_records(quiet)
    assert not group.any_significant


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
               _record("beta", uar=[0.30, 0.31, 0.29, 0.30, 0.32])]
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
            assert names() == ["Alpha", "Beta", "General"]
            page.locator("section.group thead th", has_text="U").first.click()  # ascending U
            assert names() == ["Beta", "General", "Alpha"]
            page.locator("section.group thead th", has_text="U").first.click()  # descending
            assert names() == ["Alpha", "General", "Beta"]
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
                page.close()
            browser.close()
    finally:
        server.shutdown()
    assert problems == []
    assert all((shots / f"{shot}-{label}.png").stat().st_size > 0 for shot in ("index", "overview", "encoder") for label in ("1280", "390"))
