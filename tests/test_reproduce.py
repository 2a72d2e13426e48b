"""`privbench reproduce`: the table planner, the renderer, the findings, and one smoke run through the CLI."""

from __future__ import annotations

import shutil



from conftest import REPO, invoke
from privbench.findings import QUESTIONS, answer, findings
from privbench.tables import plan_table, read_paper_values, render_table, table_comparisons, table_specs

SPECS = table_specs((0.3, 0.5, 0.75, 1.0))
PAPER = read_paper_values(REPO / "benchmark" / "reference" / "paper_tables.csv")
PAPER_CORPORA = ("iemocap", "msp-improv", "msp-podcast", "muse")


def _record(model: str, corpus: str, modality: str, task: str, **metrics: list[float]) -> dict:
    values = {name: [0.5] * 5 for name in ("uar", "uar_male", "uar_female", "leakage", "privacy", "membership", "membership_speaker")}
    values.update(metrics)
    return {"encoder": {"name": model}, "corpus": {"name": corpus}, "modality": modality, "task": task,
            "metrics": {name: {"mean": sum(v) / len(v), "rotations": v} for name, v in values.items()}}


# ---------------------------------------------------------------- planner

def _planned(table: str, modalities=("audio", "text", "multimodal")):
    return {(p.model.name, p.modalities, p.tasks) for p in plan_table(SPECS[table], "c", modalities)}


def test_each_table_plans_exactly_the_evaluations_it_needs():
    every = ("audio", "text", "multimodal")
    assert _planned("1a") == {("general", every, ("activation",)), ("priv-c", every, ("activation",))}
    assert _planned("1b") == {("general", every, ("valence",)), ("priv-c", every, ("valence",))}
    both = ("activation", "valence")
    # general is planned as the reference of the significance marks, though table 2 does not show it
    assert _planned("2") == {("general", ("multimodal",), both), ("priv-e", ("multimodal",), both), ("priv-c", ("multimodal",), both)}
    assert _planned("3") == {(m, every, both) for m in ("general", "priv-speaker", "priv-multi")}
    assert _planned("lambda") == {("general", ("audio",), both)} | {(f"priv-c-lambda-{v:g}", ("audio",), both) for v in (0.3, 0.5, 0.75, 1.0)}


def test_a_corpus_without_text_plans_audio_only():
    assert {p[1] for p in _planned("3", ("audio",))} == {("audio",)}
    assert _planned("2", ("audio",)) == set()  # table 2 is multimodal only


# ---------------------------------------------------------------- renderer

def test_render_puts_published_values_beside_measured_ones_and_marks_significance():
    better = [0.40, 0.41, 0.42, 0.43, 0.44]
    records = [_record("general", "iemocap", "audio", "activation", privacy=[0.30, 0.31, 0.29, 0.30, 0.32]),
               _record("priv-c", "iemocap", "audio", "activation", privacy=better)]
    spec = SPECS["1a"]
    comparisons = table_comparisons(spec, "iemocap", records, 0.05)
    text = render_table(spec, "iemocap", "quick", records, PAPER, comparisons, PAPER_CORPORA)
    audio_row = next(line for line in text.splitlines() if line.startswith("| audio | iemocap"))
    cells = [cell.strip() for cell in audio_row.strip("|").split("|")]
    header = [cell.strip() for cell in text.splitlines()[2].strip("|").split("|")]
    by_column = dict(zip(header, cells))
    assert by_column["General L"] == f"0.50 ({PAPER[('1a', 'activation', 'audio', 'iemocap', 'general', 'leakage')]:.2f})"
    assert by_column["Priv-C P"] == f"0.42+ ({PAPER[('1a', 'activation', 'audio', 'iemocap', 'priv-c', 'privacy')]:.2f})"
    # a missing record is a visible n/a, and a modality without any record has no row
    assert "| text | iemocap" not in text
    assert "other data" not in text


def test_render_on_a_non_paper_corpus_says_so_and_shows_dashes():
    records = [_record("general", "synthetic", "audio", "activation"), _record("priv-c", "synthetic", "audio", "activation")]
    text = render_table(SPECS["1a"], "synthetic", "smoke", records, PAPER, {}, PAPER_CORPORA)
    assert "The paper's numbers are for other data" in text and "eSpeak NG" in text
    assert "| audio | synthetic | 0.50 (-) |" in text


def test_missing_cells_are_marked_not_available():
    records = [_record("general", "muse", "audio", "valence")]
    text = render_table(SPECS["1b"], "muse", "quick", records, PAPER, {}, PAPER_CORPORA)
    row = next(line for line in text.splitlines() if line.startswith("| audio | muse"))
    assert row.count("n/a") == 5  # the five Priv-C columns


# ---------------------------------------------------------------- findings

def _question(qid):
    return next(q for q in QUESTIONS if q.id == qid)


def test_findings_support_a_hypothesis_the_records_show():
    records = [_record("general", "c", "audio", t, privacy=[0.30, 0.31, 0.29, 0.30, 0.32], leakage=[0.80, 0.82, 0.79, 0.85, 0.81])
               for t in ("activation", "valence")]
    records += [_record("priv-c", "c", "audio", t, privacy=[0.45, 0.47, 0.44, 0.46, 0.48]) for t in ("activation", "valence")]
    assert answer(_question("Q1"), records, 0.05).verdict == "supported"
    assert answer(_question("Q2"), records, 0.05).verdict == "supported"
    assert answer(_question("Q3"), records, 0.05).verdict == "supported"  # U identical: not significantly lower


def test_findings_reject_a_hypothesis_the_records_contradict():
    records = [_record("general", "c", "audio", "activation", privacy=[0.45, 0.47, 0.44, 0.46, 0.48], uar=[0.7, 0.72, 0.69, 0.71, 0.70]),
               _record("priv-c", "c", "audio", "activation", privacy=[0.30, 0.31, 0.29, 0.30, 0.32], uar=[0.5, 0.52, 0.49, 0.51, 0.50])]
    assert answer(_question("Q2"), records, 0.05).verdict == "not supported"
    assert answer(_question("Q3"), records, 0.05).verdict == "not supported"


def test_findings_without_rotations_or_records_say_not_enough_data():
    one_rotation = [_record("general", "c", "audio", "activation", privacy=[0.3]), _record("priv-c", "c", "audio", "activation", privacy=[0.5])]
    assert answer(_question("Q2"), one_rotation, 0.05).verdict == "not enough data"
    assert {f.verdict for f in findings([], 0.05)} == {"not enough data"}


# ---------------------------------------------------------------- one smoke reproduce through the CLI

def test_reproduce_table_2_at_the_smoke_budget(isolated, runner, evaluable_corpus, tmp_path):
    assert invoke(runner, "prepare", "synthetic", "--root", str(evaluable_corpus)).exit_code == 0
    for folder in ("baselines", "leaderboard"):
        (isolated / folder).mkdir(exist_ok=True)
    for name in ("general", "priv-c", "priv-e"):
        shutil.copytree(REPO / "baselines" / name, isolated / "baselines" / name)
    (isolated / "benchmark" / "reference").mkdir()
    shutil.copy(REPO / "benchmark" / "reference" / "paper_tables.csv", isolated / "benchmark" / "reference")

    plan = invoke(runner, "reproduce", "--table", "2", "--budget", "smoke", "--plan")
    assert plan.exit_code == 0 and "3 evaluations, 12 jobs, 0 cached" in plan.stdout

    result = invoke(runner, "reproduce", "--table", "2", "--budget", "smoke", "--workers", "1")
    assert result.exit_code == 0, result.output
    assert "### Table 2" in result.stdout and "| activation | synthetic |" in result.stdout
    assert "The paper's numbers are for other data" in result.stdout
    assert "**Q6.**" in result.stdout and "Verdict: **not enough data**" in result.stdout  # one rotation: no test
    report = isolated / "leaderboard" / "reports" / "table-2-synthetic-smoke.md"
    assert report.read_text() in result.stdout
    assert (isolated / "leaderboard" / "results" / "priv-e" / "smoke" / "synthetic" / "multimodal-valence.json").is_file()
