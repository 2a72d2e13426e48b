"""`privbench reproduce`: the table planner, the renderer, the findings, and one smoke run through the CLI."""

from __future__ import annotations

import shutil

from conftest import REPO, invoke
from privbench.results.findings import findings
from privbench.protocol import get_protocol
from privbench.records import summarise
from privbench.results.reproduce import baseline_lambda, specs_for
from privbench.results.tables import plan_table, read_paper_values, render_table, table_comparisons, table_specs

SPECS = table_specs((0.3, 0.5, 0.75, 1.0), 0.5)
PAPER = read_paper_values(REPO / "benchmark" / "reference" / "paper_tables.csv")
SIGNIFICANCE = get_protocol().significance
TOLERANCE = get_protocol().training.gender_chance_tolerance
LAMBDAS = (0.3, 0.5, 0.75, 1.0)


def _record(model: str, corpus: str, modality: str, task: str, **metrics: list[float]) -> dict:
    values = {name: [0.5] * 5 for name in ("uar", "uar_male", "uar_female", "leakage", "privacy", "membership", "membership_speaker")}
    values.update(metrics)
    if "gap" not in metrics:
        values["gap"] = [f - m for f, m in zip(values["uar_female"], values["uar_male"])]
    return {"encoder": {"name": model}, "corpus": {"name": corpus}, "modality": modality, "task": task,
            "metrics": {name: summarise(name, v, 1, 0.05) for name, v in values.items()}, "chance_reached": None}


# ---------------------------------------------------------------- planner

def _planned(table: str, modalities=("audio", "text", "multimodal")):
    reference = SIGNIFICANCE.reference_for(table)
    return {(p.model.name, p.modalities, p.tasks) for p in plan_table(SPECS[table], "c", modalities, reference)}


def test_each_table_plans_exactly_the_evaluations_it_needs():
    every = ("audio", "text", "multimodal")
    assert _planned("1a") == {("general", every, ("activation",)), ("priv-c", every, ("activation",))}
    assert _planned("1b") == {("general", every, ("valence",)), ("priv-c", every, ("valence",))}
    both = ("activation", "valence")
    # table 2's reference is Priv-C, as in the paper: general is not needed there
    assert _planned("2") == {("priv-e", ("multimodal",), both), ("priv-c", ("multimodal",), both)}
    assert _planned("3") == {(m, every, both) for m in ("general", "priv-speaker", "priv-multi")}
    # the lambda study's default lambda (0.5) is priv-c itself: one encoder, one configuration, one record
    assert _planned("lambda") == ({("general", ("audio",), both), ("priv-c", ("audio",), both)}
                                  | {(f"priv-c-lambda-{v:g}", ("audio",), both) for v in (0.3, 0.75, 1.0)})


def test_at_a_budget_that_searches_configurations_every_lambda_point_is_a_variant():
    # At standard and paper, priv-c's own record is the selected configuration, whose lambda may
    # be any of the grid's: the lambda 0.5 point must then be trained with lambda fixed to 0.5.
    protocol = get_protocol()
    assert baseline_lambda(protocol, "quick") == 0.5 and baseline_lambda(protocol, "smoke") == 0.5
    assert baseline_lambda(protocol, "standard") is None and baseline_lambda(protocol, "paper") is None
    searching = specs_for(protocol, "standard")["lambda"]
    assert {p.model.name for p in plan_table(searching, "c", ("audio",), SIGNIFICANCE.reference_for("lambda"))} == (
        {"general"} | {f"priv-c-lambda-{v:g}" for v in LAMBDAS})
    # and Q4 then reads the variant's record, not priv-c's
    general = _record("general", "c", "audio", "activation", uar=[0.60, 0.62, 0.61, 0.63, 0.60])
    rising = [_record(f"priv-c-lambda-{v:g}", "c", "audio", "activation", uar=[0.60, 0.62, 0.61, 0.63, 0.60],
                      privacy=[0.2 + 0.2 * v + 0.01 * i for i in range(5)]) for v in LAMBDAS]
    questions, _ = findings([general] + rising, SIGNIFICANCE, LAMBDAS, None)
    assert questions[3].verdict == "supported"
    questions, _ = findings([general] + rising, SIGNIFICANCE, LAMBDAS, 0.5)  # priv-c's record missing
    assert questions[3].verdict != "supported"


def test_a_corpus_without_text_plans_audio_only():
    assert {p[1] for p in _planned("3", ("audio",))} == {("audio",)}
    assert _planned("2", ("audio",)) == set()  # table 2 is multimodal only


# ---------------------------------------------------------------- renderer

def _cells(text: str, row_start: str) -> dict[str, str]:
    lines = text.splitlines()
    header_line = next(line for line in lines if line.startswith("| modality") or line.startswith("| task"))
    header = [cell.strip() for cell in header_line.strip("|").split("|")]
    row = next(line for line in lines if line.startswith(row_start))
    return dict(zip(header, (cell.strip() for cell in row.strip("|").split("|"))))


def test_render_follows_the_papers_columns_with_mean_sd_marks_and_published_values():
    better = [0.40, 0.41, 0.42, 0.43, 0.44]
    records = [_record("general", "iemocap", "audio", "activation", privacy=[0.30, 0.31, 0.29, 0.30, 0.32]),
               _record("priv-c", "iemocap", "audio", "activation", privacy=better)]
    spec = SPECS["1a"]
    text = render_table(spec, "iemocap", "quick", records, PAPER, table_comparisons(spec, "iemocap", records, SIGNIFICANCE), SIGNIFICANCE, TOLERANCE)
    header = [cell.strip() for cell in text.splitlines()[2].strip("|").split("|")]
    assert header == ["modality", "corpus", "General L", "General U(M)", "General U(F)", "General U", "General P", "General MI",
                      "General ID-EER", "General MI-LR", "Priv-C U(M)", "Priv-C U(F)", "Priv-C U", "Priv-C P", "Priv-C MI",
                      "Priv-C ID-EER", "Priv-C MI-LR"]  # the paper's order, then protocol 3's identity and MI-LR columns
    by_column = _cells(text, "| audio | iemocap")
    assert by_column["General L"] == f"0.50 ± 0.00 ({PAPER[('1a', 'activation', 'audio', 'iemocap', 'general', 'leakage')]:.2f})"
    assert by_column["Priv-C P"] == f"0.42 ± 0.02+ ({PAPER[('1a', 'activation', 'audio', 'iemocap', 'priv-c', 'privacy')]:.2f})"
    assert "| text | iemocap" not in text  # a modality without any record has no row
    assert "for reference only" not in text  # a paper corpus: no separate block
    n = records[0]["metrics"]["privacy"]["n"]
    assert f"n = {n}, rotations x seeds" in text and f"adjusted p < {SIGNIFICANCE.alpha:g}" in text  # from the records and protocol
    assert f"within {TOLERANCE:g} of 0.5" in text


def test_inverted_attacks_and_chance_shortfalls_are_marked_in_the_cell():
    record = _record("priv-c", "iemocap", "audio", "activation", privacy=[0.40, 0.62, 0.45, 0.41, 0.43])
    record["chance_reached"] = False
    record["selection"] = {"chance_reached": [True, False, True, False, True]}
    text = render_table(SPECS["1a"], "iemocap", "quick", [record], PAPER, {}, SIGNIFICANCE, TOLERANCE)
    assert _cells(text, "| audio | iemocap")["Priv-C P"].startswith("0.46 ± 0.09 †1 ‡2 (")
    assert "†k" in text and "‡k" in text  # the legend explains both


def test_a_non_paper_corpus_gets_the_papers_rows_in_a_separate_labelled_block():
    records = [_record("general", "synthetic", "audio", "activation"), _record("priv-c", "synthetic", "audio", "activation")]
    text = render_table(SPECS["1a"], "synthetic", "smoke", records, PAPER, {}, SIGNIFICANCE, TOLERANCE)
    measured, published = text.split("Published in the paper")
    rows = [line for line in measured.splitlines() if line.startswith("| audio")]
    assert rows and rows[0].startswith("| audio | synthetic | 0.50 ± 0.00 |")
    assert not any("(0." in row for row in rows)  # no published value beside a measured one
    assert "eSpeak NG" in measured and "for reference only" in published
    muse = _cells("Published in the paper" + published, "| audio | muse")
    assert muse["General L"] == f"{PAPER[('1a', 'activation', 'audio', 'muse', 'general', 'leakage')]:.2f}"


def test_missing_cells_are_marked_not_available():
    records = [_record("general", "muse", "audio", "valence")]
    text = render_table(SPECS["1b"], "muse", "quick", records, PAPER, {}, SIGNIFICANCE, TOLERANCE)
    cells = _cells(text, "| audio | muse")
    priv_c = [column for column in cells if column.startswith("Priv-C")]
    assert len(priv_c) == 7 and all(cells[column] == "n/a" for column in priv_c)  # no Priv-C record: every column n/a
    assert not any(value == "n/a" for column, value in cells.items() if column.startswith("General"))


def test_table_2_marks_priv_e_against_priv_c():
    records = [_record("priv-c", "muse", "multimodal", t, privacy=[0.30, 0.31, 0.29, 0.30, 0.32]) for t in ("activation", "valence")]
    records += [_record("priv-e", "muse", "multimodal", t, privacy=[0.40, 0.41, 0.42, 0.43, 0.44]) for t in ("activation", "valence")]
    records += [_record("general", "muse", "multimodal", t, privacy=[0.45, 0.46, 0.47, 0.48, 0.49]) for t in ("activation", "valence")]
    comparisons = table_comparisons(SPECS["2"], "muse", records, SIGNIFICANCE)
    assert comparisons[("priv-e", "multimodal", "activation", "privacy")].mark == "+"  # better than Priv-C, not worse than general
    assert not any(key[0] == "priv-c" for key in comparisons)


# ---------------------------------------------------------------- findings

def _answer(records):
    questions, extra = findings(records, SIGNIFICANCE, LAMBDAS, 0.5)
    return {f.id: f for f in questions + extra}


RISING = [0.30, 0.31, 0.29, 0.30, 0.32]


def test_the_questions_are_the_papers_in_its_order():
    questions, extra = findings([], SIGNIFICANCE, LAMBDAS, 0.5)
    assert [q.id for q in questions] == ["Q1", "Q2", "Q3", "Q4", "Q5", "Q6", "Q7"]
    assert "unimodal and multimodal" in questions[0].question and "lambda" in questions[3].question
    assert "membership" in questions[6].question
    assert all(f.id.startswith("X") for f in extra)
    assert {f.verdict for f in questions + extra} == {"not tested"}


def test_q1_tests_multimodal_leakage_against_the_larger_unimodal_one():
    leak = {"audio": [0.70, 0.71, 0.69, 0.72, 0.70], "text": [0.55, 0.56, 0.54, 0.55, 0.57], "multimodal": [0.80, 0.82, 0.79, 0.83, 0.81]}
    records = [_record("general", "c", m, t, leakage=v) for m, v in leak.items() for t in ("activation", "valence")]
    q1 = _answer(records)["Q1"]
    assert q1.verdict == "supported" and all("(audio)" in test.detail for test in q1.tests)  # audio is the larger one
    leak["multimodal"] = [0.60, 0.61, 0.59, 0.60, 0.62]
    records = [_record("general", "c", m, t, leakage=v) for m, v in leak.items() for t in ("activation", "valence")]
    assert _answer(records)["Q1"].verdict == "contradicted"


def test_q2_and_q6_are_directional_and_can_be_contradicted():
    records = [_record("general", "c", "audio", "activation", privacy=[0.45, 0.47, 0.44, 0.46, 0.48]),
               _record("priv-c", "c", "audio", "activation", privacy=RISING)]
    assert _answer(records)["Q2"].verdict == "contradicted"
    records[1] = _record("priv-c", "c", "audio", "activation", privacy=[0.46, 0.45, 0.46, 0.47, 0.45])
    assert _answer(records)["Q2"].verdict == "inconclusive"
    two = [_record("priv-c", "c", "multimodal", "valence", privacy=RISING),
           _record("priv-e", "c", "multimodal", "valence", privacy=[v + 0.1 for v in RISING])]
    assert _answer(two)["Q6"].verdict == "supported"


def test_q2_counts_an_inverted_attack_as_chance():
    # priv-c's P looks higher only through rotations where the attacker flipped (P > 0.55)
    records = [_record("general", "c", "audio", "activation", privacy=[0.49, 0.51, 0.50, 0.52, 0.48]),
               _record("priv-c", "c", "audio", "activation", privacy=[0.70, 0.72, 0.69, 0.71, 0.73])]
    q2 = _answer(records)["Q2"]
    assert q2.verdict == "inconclusive" and "0.710" in q2.tests[0].detail  # measured value shown, chance (0.5) compared


def test_q3_uses_the_equivalence_margin():
    general = _record("general", "c", "audio", "activation", uar=[0.60, 0.62, 0.61, 0.63, 0.60])
    kept = _record("priv-c", "c", "audio", "activation", uar=[0.60, 0.61, 0.61, 0.62, 0.60])  # drop ~0.004
    dropped = _record("priv-c", "c", "audio", "activation", uar=[0.50, 0.51, 0.52, 0.50, 0.51])  # drop ~0.10
    noisy = _record("priv-c", "c", "audio", "activation", uar=[0.40, 0.70, 0.55, 0.75, 0.45])
    assert _answer([general, kept])["Q3"].verdict == "supported"
    assert _answer([general, dropped])["Q3"].verdict == "contradicted"
    assert _answer([general, noisy])["Q3"].verdict == "inconclusive"


def test_q3_decides_each_setup_by_its_own_uncorrected_interval():
    # Section 7a: the equivalence interval is the uncorrected 90% CI the table states. Activation's
    # interval lies above -0.03 (one-sided p 0.029), but Benjamini-Hochberg over the two setups would
    # make that p 0.059: a corrected rule would call it inconclusive.
    general = [_record("general", "c", "audio", task, uar=[0.60] * 5) for task in ("activation", "valence")]
    priv_c = [_record("priv-c", "c", "audio", "activation", uar=[0.5665, 0.6115, 0.5915, 0.6065, 0.5815]),
              _record("priv-c", "c", "audio", "valence", uar=[0.40, 0.70, 0.55, 0.75, 0.45])]
    outcomes = {test.setup: test.outcome for test in _answer(general + priv_c)["Q3"].tests}
    assert outcomes == {"c/audio/activation": "supported", "c/audio/valence": "inconclusive"}


def test_q5_decides_equivalence_by_each_setups_own_uncorrected_interval():
    # Activation's change of the gap has a 90% CI inside +/-0.03 (its larger one-sided p 0.031; 0.06
    # after correcting over the two setups): contradicted, as section 7a says.
    gap = [0.00, 0.01, -0.01, 0.00, 0.01]
    records = [_record("general", "c", "audio", task, gap=gap) for task in ("activation", "valence")]
    records += [_record("priv-c", "c", "audio", "activation", gap=[-0.035, 0.04, -0.01, 0.02, -0.005]),
                _record("priv-c", "c", "audio", "valence", gap=[0.10, -0.09, 0.04, -0.08, 0.04])]
    q5 = _answer(records)["Q5"]
    outcomes = {test.setup: test.outcome for test in q5.tests}
    assert outcomes == {"c/audio/activation": "contradicted", "c/audio/valence": "inconclusive"}
    assert "] within ±0.03" in q5.tests[0].statistic and "] not within ±0.03" in q5.tests[1].statistic


def test_q4_needs_a_rising_privacy_trend_and_kept_utility():
    general = _record("general", "c", "audio", "activation", uar=[0.60, 0.62, 0.61, 0.63, 0.60])
    names = {0.3: "priv-c-lambda-0.3", 0.5: "priv-c", 0.75: "priv-c-lambda-0.75", 1.0: "priv-c-lambda-1"}
    rising = [_record(names[v], "c", "audio", "activation", uar=[0.60, 0.62, 0.61, 0.63, 0.60],
                      privacy=[0.2 + 0.2 * v + 0.01 * i for i in range(5)]) for v in LAMBDAS]
    assert _answer([general] + rising)["Q4"].verdict == "supported"
    falling = [_record(names[v], "c", "audio", "activation", uar=[0.60, 0.62, 0.61, 0.63, 0.60],
                       privacy=[0.45 - 0.2 * v + 0.01 * i for i in range(5)]) for v in LAMBDAS]
    assert _answer([general] + falling)["Q4"].verdict == "contradicted"


def test_q5_tests_the_change_of_the_gender_gap_both_ways():
    def pair(gap_priv):
        general = _record("general", "c", "audio", "activation", uar_female=[0.60] * 5, uar_male=[0.60] * 5,
                          gap=[0.00, 0.01, -0.01, 0.00, 0.01])
        return [general, _record("priv-c", "c", "audio", "activation", gap=gap_priv)]
    assert _answer(pair([0.10, 0.12, 0.09, 0.11, 0.10]))["Q5"].verdict == "supported"  # imbalanced change
    assert _answer(pair([0.00, 0.012, -0.008, 0.001, 0.009]))["Q5"].verdict == "contradicted"  # the same gap


def test_q7_needs_every_part():
    mi_low = [0.52, 0.53, 0.51, 0.52, 0.54]
    mi_high = [0.70, 0.72, 0.71, 0.73, 0.70]
    records = [_record("general", "c", "audio", "activation", membership=mi_high, privacy=RISING),
               _record("priv-c", "c", "audio", "activation", membership=mi_high),
               _record("priv-speaker", "c", "audio", "activation", membership=mi_low),
               _record("priv-multi", "c", "audio", "activation", membership=mi_low, privacy=[v + 0.15 for v in RISING])]
    q7 = _answer(records)["Q7"]
    assert q7.verdict == "supported" and [p.id for p in q7.parts] == ["Q7a", "Q7b", "Q7c", "Q7d"]
    records[3] = _record("priv-multi", "c", "audio", "activation", membership=mi_low, privacy=RISING)
    q7 = _answer(records)["Q7"]
    assert q7.verdict == "inconclusive" and q7.parts[2].verdict == "inconclusive"


def test_one_rotation_gives_no_test():
    one_rotation = [_record("general", "c", "audio", "activation", privacy=[0.3]), _record("priv-c", "c", "audio", "activation", privacy=[0.5])]
    assert _answer(one_rotation)["Q2"].verdict == "not tested"


def test_extra_checks_include_leakage_above_chance():
    records = [_record("general", "c", "audio", "activation", leakage=[0.80, 0.82, 0.79, 0.85, 0.81])]
    assert _answer(records)["X1"].verdict == "supported"


# ---------------------------------------------------------------- one smoke reproduce through the CLI

def test_reproduce_table_2_at_the_smoke_budget(isolated, runner, evaluable_corpus, tmp_path):
    assert invoke(runner, "prepare", "synthetic", "--root", str(evaluable_corpus)).exit_code == 0
    for folder in ("baselines", "leaderboard"):
        (isolated / folder).mkdir(exist_ok=True)
    for name in ("priv-c", "priv-e"):
        shutil.copytree(REPO / "baselines" / name, isolated / "baselines" / name)
    (isolated / "benchmark" / "reference").mkdir()
    shutil.copy(REPO / "benchmark" / "reference" / "paper_tables.csv", isolated / "benchmark" / "reference")

    plan = invoke(runner, "reproduce", "--table", "2", "--budget", "smoke", "--plan")
    assert plan.exit_code == 0 and "2 evaluations, 16 jobs, 0 cached" in plan.stdout  # 8 training jobs, 8 score steps
    # a fresh machine has no job times to estimate from: said, not silently left out
    assert "; no time estimate yet: it is made from the times of jobs this machine has finished" in plan.stdout

    result = invoke(runner, "reproduce", "--table", "2", "--budget", "smoke", "--workers", "1")
    assert result.exit_code == 0, result.output
    assert "### Table 2" in result.stdout and "| activation | synthetic |" in result.stdout
    assert "Published in the paper" in result.stdout
    assert "**Q6." in result.stdout and "Verdict: **not tested**" in result.stdout  # one rotation: no test
    report = isolated / "leaderboard" / "reports" / "table-2-synthetic-smoke.md"
    assert report.read_text() in result.stdout
    first = report.read_text()
    planned = invoke(runner, "reproduce", "--table", "2", "--budget", "smoke", "--plan")
    assert "16 jobs, 16 cached; nothing left to run" in planned.stdout
    shutil.rmtree(isolated.parent / "cache" / "store")  # nothing to reuse: --from-records must run nothing
    again = invoke(runner, "reproduce", "--table", "2", "--budget", "smoke", "--from-records")
    assert again.exit_code == 0, again.output
    assert report.read_text() == first and not (isolated.parent / "cache" / "store").exists()
    assert (isolated / "leaderboard" / "results" / "priv-e" / "smoke" / "synthetic" / "multimodal-valence.json").is_file()


def _stored_record(model: str, corpus: str, modality: str, task: str, uar: list[float], privacy: list[float]) -> dict:
    """A record as evaluate writes it (valid, under this clone's protocol), for a corpus nobody here holds."""
    protocol = get_protocol()
    values = {name: [0.5] * 5 for name in ("uar_male", "uar_female", "leakage", "membership", "membership_speaker")}
    values.update(uar=uar, privacy=privacy)
    return {"schema": "privbench.result/1", "encoder": {"name": model, "sha256": "ab" * 32, "display_name": model},
            "protocol": {"version": protocol.version, "sha256": protocol.sha256, "budget": "quick"},
            "corpus": {"name": corpus, "content_sha256": "ef" * 32, "split_sha256": "01" * 32}, "modality": modality, "task": task,
            "metrics": {name: summarise(name, v, 1, 0.05) for name, v in values.items()}, "chance_reached": None, "config": {},
            "runtime_s": 1.0, "environment": {"privbench": "0.1.0"}, "created": "2026-01-01T00:00:00+00:00"}


def test_reproduce_from_records_needs_no_corpus(isolated, runner):
    """The committed RAVDESS tables render on a machine without the RAVDESS audio: the records carry what the
    tables need (corpus, modality, task, budget, protocol); nothing is prepared, generated or trained."""
    from privbench.records import ResultRecord, write_record

    (isolated / "benchmark" / "reference").mkdir()
    shutil.copy(REPO / "benchmark" / "reference" / "paper_tables.csv", isolated / "benchmark" / "reference")
    results = isolated / "leaderboard" / "results"
    for task in ("activation", "valence"):
        write_record(results, ResultRecord(_stored_record("general", "ravdess", "audio", task, [0.60, 0.61, 0.62, 0.60, 0.61],
                                                          [0.30, 0.31, 0.29, 0.30, 0.32])))
        write_record(results, ResultRecord(_stored_record("priv-c", "ravdess", "audio", task, [0.58, 0.60, 0.61, 0.59, 0.60],
                                                          [0.40, 0.41, 0.42, 0.43, 0.44])))
    result = invoke(runner, "reproduce", "--table", "all", "--corpus", "ravdess", "--from-records")
    assert result.exit_code == 0, result.output
    assert "| audio | ravdess | 0.50 ± 0.00" in result.stdout and "Priv-C P" in result.stdout  # table 1a, from the records
    assert "0.42 ± 0.02+" in result.stdout  # Priv-C's P, marked against general
    assert "privbench: note: Table 2 needs multimodal; ravdess records hold audio: no report" in result.stderr
    reports = isolated / "leaderboard" / "reports"
    assert (reports / "table-1a-ravdess-quick.md").is_file() and (reports / "findings-ravdess-quick.md").is_file()
    cache = isolated.parent / "cache"
    assert not (cache / "corpora").exists() and not (cache / "synthetic").exists() and not (cache / "store").exists()
    assert not (isolated / "benchmark" / "splits" / "ravdess.json").exists()  # no split was fixed: no corpus was read
    nothing = invoke(runner, "reproduce", "--table", "1a", "--corpus", "crema-d", "--from-records")
    assert nothing.exit_code == 1 and "nothing to render" in nothing.stderr
    assert "no records of crema-d at budget quick" in nothing.stderr


# ---------------------------------------------------------------- findings: how setups vote

def test_a_question_needs_a_strict_majority_of_its_setups():
    from privbench.results.findings import CONTRADICTED, INCONCLUSIVE, SUPPORTED, Test, verdict

    def tests(*outcomes):
        return [Test(f"setup {i}", "", "", outcome) for i, outcome in enumerate(outcomes)]

    assert verdict(tests(SUPPORTED, INCONCLUSIVE)) == INCONCLUSIVE  # version 2's "at least half" said supported
    assert verdict(tests(SUPPORTED, SUPPORTED, INCONCLUSIVE)) == SUPPORTED
    assert verdict(tests(CONTRADICTED, INCONCLUSIVE)) == INCONCLUSIVE
    assert verdict(tests(CONTRADICTED, CONTRADICTED, INCONCLUSIVE)) == CONTRADICTED
    assert verdict(tests(SUPPORTED, SUPPORTED, CONTRADICTED)) == INCONCLUSIVE  # none may contradict


def test_a_setup_whose_privacy_model_missed_chance_does_not_vote_and_is_named():
    # Q2 (P rises under privacy training) on two setups, both with a clear rise; in one, priv-c reached
    # chance in 2 of 5 rotations only: that setup is listed as not at chance and the other decides alone.
    general = [_record("general", "c", modality, "activation", privacy=[0.30, 0.31, 0.29, 0.30, 0.32])
               for modality in ("audio", "text")]
    priv_c = [_record("priv-c", "c", modality, "activation", privacy=[0.45, 0.46, 0.44, 0.47, 0.45])
              for modality in ("audio", "text")]
    priv_c[1]["selection"] = {"chance_reached": [True, False, True, False, False]}
    questions, _ = findings(general + priv_c, SIGNIFICANCE, LAMBDAS, 0.5)
    q2 = questions[1]
    assert q2.id == "Q2"
    outcomes = {test.setup: test.outcome for test in q2.tests}
    assert sorted(outcomes.values()) == ["not at chance", "supported"]
    [excluded] = [test for test in q2.tests if test.outcome == "not at chance"]
    assert "reached chance in 2 of 5 rotations" in excluded.statistic
    assert q2.verdict == "supported"
    priv_c[0]["selection"] = {"chance_reached": [False, False, False, True, True]}  # now neither votes
    questions, _ = findings(general + priv_c, SIGNIFICANCE, LAMBDAS, 0.5)
    assert questions[1].verdict not in ("supported", "contradicted")
