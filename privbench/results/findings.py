"""The paper's seven questions (its section 5), answered from result records, in its order.

docs/protocol.md section 7a gives each question the hypothesis privbench tests.
Every question is tested per setup (corpus, task and, where it applies,
modality); a setup's outcome is

- supported: the hypothesised effect, significant after Benjamini-Hochberg
  over the question's tests (adjusted p < alpha), or for Q3 (and Q4's
  utility) the setup's own (uncorrected) confidence interval above the margin;
- contradicted: a significant effect the other way, or an interval (the
  setup's own, uncorrected) that rules the hypothesis out (Q3's entirely
  below the margin; Q5's within it);
- inconclusive: neither (too few rotations give no test at all: such a setup
  is listed as untestable and does not count).

A question's verdict over its setups (docs/protocol.md section 7a): supported
when more than half of the tested setups support it and none contradicts it;
contradicted when more than half contradict it and none supports it;
inconclusive otherwise; "not tested" when no setup has the records and
rotations it needs. Questions that compare a privacy model (one with a gender
adversary) count a setup only where that model reached chance in more than
half of its rotations (the paper compares models while making sure the
leakage is reduced to chance); the others are listed as "not at chance", with
their numbers, and do not vote. Every detail names how many rotations reached
chance. Comparisons use the ranked values (a value on the privacy side of
chance counts as chance, docs/protocol.md section 6).

Checks that are not the paper's hypotheses (for example "general leaks gender
above chance") are numbered X1, X2, ... in their own list.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.stats import spearmanr

from privbench.measures import rounded
from privbench.scoring.metric_defs import BY_NAME
from privbench.protocol import Significance
from privbench.records import values as record_values
from privbench.scoring.stats import adjust, compare, difference
from privbench.results.tables import TITLES, find_record

Record = Mapping[str, Any]
SUPPORTED, CONTRADICTED, INCONCLUSIVE, UNTESTABLE = "supported", "contradicted", "inconclusive", "untestable"
NOT_AT_CHANCE = "not at chance"  # a setup whose privacy model missed chance in half its rotations or more: no vote
NO_VOTE = (UNTESTABLE, NOT_AT_CHANCE)


@dataclass(frozen=True)
class Test:
    """One setup's evidence: what was compared, the numbers, and its outcome."""

    setup: str
    detail: str  # the compared values, e.g. "priv-c P 0.45 ± 0.02 vs general P 0.38 ± 0.03"
    statistic: str  # the estimate and its test, e.g. "difference +0.07, adjusted p 0.012"
    outcome: str


@dataclass(frozen=True)
class Finding:
    id: str
    question: str  # the paper's question (paraphrased)
    section: str  # where the paper asks it
    hypothesis: str  # the hypothesis as privbench tests it
    tests: tuple[Test, ...]
    verdict: str
    parts: tuple[Finding, ...] = field(default=())  # Q7's sub-hypotheses
    needs: str = "records of the models it compares"  # said when no setup can test it

    def markdown(self) -> str:
        title = f"**{self.id}. {self.question}**" + (f" (paper, section {self.section})" if self.section else "")
        tested = [] if self.hypothesis == self.question else [f"Hypothesis as tested: {self.hypothesis}", ""]
        lines = [title, "", *tested, f"Verdict: **{self.verdict}**{_tally(self.tests)}."]
        for part in self.parts:
            lines += ["", f"- {part.id}: {part.hypothesis} Verdict: **{part.verdict}**{_tally(part.tests)}."]
            lines += [f"  - {test.setup}: {test.detail}; {test.statistic} -> {test.outcome}" for test in part.tests]
        if not self.parts:
            lines += [""] + ([f"- {test.setup}: {test.detail}; {test.statistic} -> {test.outcome}" for test in self.tests]
                             or [f"- no setup of these records can test it: it needs {self.needs}"])
        return "\n".join(lines) + "\n"


def _tally(tests: Sequence[Test]) -> str:
    tested = [t for t in tests if t.outcome not in NO_VOTE]
    excluded = sum(t.outcome == NOT_AT_CHANCE for t in tests)
    if not tested:
        return f" ({excluded} setups not at chance)" if excluded else ""
    counts = {outcome: sum(t.outcome == outcome for t in tested) for outcome in (SUPPORTED, CONTRADICTED, INCONCLUSIVE)}
    return (f" ({', '.join(f'{n} {outcome}' for outcome, n in counts.items() if n)} of {len(tested)} setups"
            + (f"; {excluded} more not at chance" if excluded else "") + ")")


def verdict(tests: Sequence[Test]) -> str:
    """Strict majority over the setups that vote (docs/protocol.md section 7a)."""
    tested = [t for t in tests if t.outcome not in NO_VOTE]
    if not tested:
        return "not tested"
    supported = sum(t.outcome == SUPPORTED for t in tested)
    contradicted = sum(t.outcome == CONTRADICTED for t in tested)
    if supported * 2 > len(tested) and not contradicted:
        return SUPPORTED
    if contradicted * 2 > len(tested) and not supported:
        return CONTRADICTED
    return INCONCLUSIVE


# ---------------------------------------------------------------- shared pieces

class Records:
    """The records one findings run reads, with the lookups the questions need."""

    def __init__(self, records: Sequence[Record]):
        self.records = list(records)
        self.corpora = sorted({r["corpus"]["name"] for r in self.records})
        self.tasks = sorted({r["task"] for r in self.records})

    def find(self, model: str, corpus: str, modality: str, task: str) -> Record | None:
        return find_record(self.records, model, corpus, modality, task)

    def setups(self, modalities: Sequence[str] = ("audio", "text", "multimodal")):
        for corpus in self.corpora:
            for task in self.tasks:
                for modality in modalities:
                    yield corpus, modality, task


def chance_count(record: Record) -> tuple[int, int] | None:
    """(rotations whose kept model reached chance, rotations) of a model with a gender adversary, else None."""
    per_rotation = (record.get("selection") or {}).get("chance_reached")
    if per_rotation is None:
        reached = record.get("chance_reached")
        return None if reached is None else (int(bool(reached)), 1)
    known = [r for r in per_rotation if r is not None]
    return (sum(bool(r) for r in known), len(known)) if known else None


def at_chance(record: Record) -> bool:
    """Whether a setup of this model votes: no gender adversary, or chance in more than half its rotations."""
    count = chance_count(record)
    return count is None or count[0] * 2 > count[1]


def _summary(record: Record, metric: str) -> str:
    entry = record["metrics"].get(metric, {})
    mean, sd = entry.get("mean"), entry.get("sd")
    if mean is None:
        return "-"
    count = chance_count(record)
    return (f"{mean:.3f}" + (f" ± {sd:.3f}" if sd is not None else "")
            + (f" (chance in {count[0]} of {count[1]} rotations)" if count is not None else ""))


def voting(pairs: Sequence[tuple], detail: Callable[[tuple], str]) -> tuple[list[tuple], list[Test]]:
    """The pairs whose models all vote (`at_chance`), and a "not at chance" entry for each other one.
    A pair is (setup, record, other record or None, ...)."""
    votes, excluded = [], []
    for pair in pairs:
        records = [r for r in pair[1:3] if isinstance(r, Mapping)]
        if all(at_chance(r) for r in records):
            votes.append(pair)
        else:
            missed = [f"{TITLES.get(r['encoder']['name'], r['encoder']['name'])} reached chance in "
                      f"{chance_count(r)[0]} of {chance_count(r)[1]} rotations" for r in records if not at_chance(r)]
            excluded.append(Test(pair[0], detail(pair), "; ".join(missed) + ": does not vote", NOT_AT_CHANCE))
    return votes, excluded


def _p(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3g}"


@dataclass(frozen=True)
class Side:
    """One side of a directional comparison: a model's metric in one modality, or chance."""

    model: str
    metric: str
    modality: str | None = None  # None: the setup's own modality

    def label(self, modality: str) -> str:
        name = TITLES.get(self.model, self.model)
        shown = self.modality or modality
        return f"{name} {BY_NAME[self.metric].header}" + (f" ({shown})" if self.modality else "")


def directional(pairs: Sequence[tuple[str, Record, Record | None, str, Side, Side]], sign: int,
                significance: Significance) -> list[Test]:
    """pairs: (setup, record, other record or None for chance, metric, side, other side).
    Tests "record's metric is above the other's" (sign +1) or below (-1), paired over rotations,
    corrected together."""
    cells = {}
    for index, (_, record, other, metric, _, _) in enumerate(pairs):
        mine = record_values(record, metric) or []
        theirs = record_values(other, metric) if other is not None else [BY_NAME[metric].chance] * len(mine)
        cells[index] = (metric, mine, theirs or [])
    comparisons = compare(cells, significance)
    tests = []
    for index, (setup, record, other, metric, side, other_side) in enumerate(pairs):
        c = comparisons[index]
        other_text = (f"{other_side.label('')} {_summary(other, metric)}" if other is not None
                      else f"chance {BY_NAME[metric].chance:g}")
        detail = f"{side.label('')} {_summary(record, metric)} vs {other_text}"
        if c.p is None:
            tests.append(Test(setup, detail, f"{c.pairs} paired rotations, no test", UNTESTABLE))
            continue
        outcome = INCONCLUSIVE
        if c.significant and c.difference:
            outcome = SUPPORTED if np.sign(c.difference) == sign else CONTRADICTED
        tests.append(Test(setup, detail, f"difference {c.difference:+.3f} over {c.pairs} rotations, adjusted p {_p(c.p_adjusted)}",
                          outcome))
    return tests


def _model_pairs(data: Records, model: str, other: str, metric: str, modalities: Sequence[str]):
    """(setup, record, other record, metric, sides) for every setup where both models have a record."""
    pairs = []
    for corpus, modality, task in data.setups(modalities):
        mine, theirs = data.find(model, corpus, modality, task), data.find(other, corpus, modality, task)
        if mine is not None and theirs is not None:
            pairs.append((f"{corpus}/{modality}/{task}", mine, theirs, metric, Side(model, metric), Side(other, metric)))
    return pairs


def non_inferiority(pairs: Sequence[tuple[str, Record, Record]], metric: str, significance: Significance) -> list[Test]:
    """Q3's test per setup: is the drop of `metric` at most the margin? Decided by the setup's own
    (uncorrected) confidence interval, the one the report prints for it (section 7a): entirely above -margin:
    supported; entirely below it: contradicted. A 90% interval is the two one-sided 5% tests (TOST)."""
    margin, confidence = significance.equivalence_margin, significance.equivalence_confidence
    summaries = [difference(record_values(r, metric) or [], record_values(o, metric) or [], significance) for _, r, o in pairs]
    tests = []
    for i, (setup, record, other) in enumerate(pairs):
        detail = (f"{TITLES.get(record['encoder']['name'], record['encoder']['name'])} U {_summary(record, metric)} vs "
                  f"{TITLES.get(other['encoder']['name'], other['encoder']['name'])} U {_summary(other, metric)}")
        d = summaries[i]
        if d is None:
            tests.append(Test(setup, detail, "too few paired rotations, no test", UNTESTABLE))
            continue
        low, high = d.interval(confidence)
        outcome = SUPPORTED if rounded(low) > -margin else CONTRADICTED if rounded(high) < -margin else INCONCLUSIVE
        tests.append(Test(setup, detail, f"difference {d.mean:+.3f}, {confidence:.0%} CI [{low:+.3f}, {high:+.3f}] against "
                                         f"margin -{margin:g}; one-sided p (above) {_p(d.p_above(-margin))}, "
                                         f"(below) {_p(d.p_below(-margin))}", outcome))
    return tests


# ---------------------------------------------------------------- the paper's questions

def q1(data: Records, significance: Significance) -> Finding:
    pairs = []
    for corpus in data.corpora:
        for task in data.tasks:
            found = {m: data.find("general", corpus, m, task) for m in ("audio", "text", "multimodal")}
            if any(record is None for record in found.values()):
                continue
            larger = max(("audio", "text"), key=lambda m: found[m]["metrics"]["leakage"]["mean"] or 0.0)
            pairs.append((f"{corpus}/{task}", found["multimodal"], found[larger], "leakage",
                          Side("general", "leakage", "multimodal"), Side("general", "leakage", larger)))
    tests = directional(pairs, +1, significance)
    return Finding("Q1", "Does demographic leakage differ between unimodal and multimodal models?", "5.1",
                   "the general model's multimodal leakage L is higher than its larger unimodal L (per corpus and task "
                   "with both streams).", tuple(tests), verdict(tests),
                   needs="general's audio, text and multimodal records of one corpus (a corpus with transcripts and word vectors)")


def _pair_detail(pair: tuple) -> str:
    setup, record, other, metric, side, other_side = pair
    return f"{side.label('')} {_summary(record, metric)} vs {other_side.label('')} {_summary(other, metric)}"


def _voting_directional(pairs, sign: int, significance: Significance) -> list[Test]:
    votes, excluded = voting(pairs, _pair_detail)
    return directional(votes, sign, significance) + excluded


def q2(data: Records, significance: Significance) -> Finding:
    tests = _voting_directional(_model_pairs(data, "priv-c", "general", "privacy", ALL), +1, significance)
    return Finding("Q2", "How does the privacy metric change when a network is trained to preserve privacy?", "5.2",
                   "P(Priv-C) > P(general).", tuple(tests), verdict(tests))


def q3(data: Records, significance: Significance) -> Finding:
    pairs, excluded = voting([(setup, r, o) for setup, r, o, *_ in _model_pairs(data, "priv-c", "general", "uar", ALL)],
                             lambda pair: f"Priv-C U {_summary(pair[1], 'uar')} vs General U {_summary(pair[2], 'uar')}")
    tests = non_inferiority(pairs, "uar", significance) + excluded
    return Finding("Q3", "How does emotion recognition performance change when networks are trained to preserve privacy?",
                   "5.3", f"a minor drop at most: the {significance.equivalence_confidence:.0%} CI of U(Priv-C) - U(general) "
                          f"lies above -{significance.equivalence_margin:g} (the setup's own interval, uncorrected: two one-sided "
                          "tests, TOST); entirely below it: contradicted.", tuple(tests), verdict(tests))


def q4(data: Records, significance: Significance, lambdas: Sequence[float], baseline_lambda: float | None) -> Finding:
    def model(value: float) -> str:  # the point that is priv-c's own record, as in the lambda table
        fixed = baseline_lambda is not None and float(value) == float(baseline_lambda)
        return "priv-c" if fixed else f"priv-c-lambda-{value:g}"

    trend_rows, utility_pairs = [], []
    for corpus, modality, task in data.setups(("audio",)):
        found = {value: data.find(model(value), corpus, modality, task) for value in lambdas}
        general = data.find("general", corpus, modality, task)
        if any(record is None for record in found.values()):
            continue
        x, y = [], []
        for value, record in found.items():
            for p in record_values(record, "privacy") or []:
                if p is not None:
                    x.append(float(value))
                    y.append(p)
        trend_rows.append((f"{corpus}/{modality}/{task}", x, y, found))
        if general is not None:
            utility_pairs += [(f"{corpus}/{modality}/{task} lambda {value:g}", record, general) for value, record in found.items()]
    rhos = [spearmanr(x, y) if len(set(x)) > 1 and len(set(y)) > 1 else None for _, x, y, _ in trend_rows]
    tested = [i for i, r in enumerate(rhos) if r is not None]
    adjusted = dict(zip(tested, adjust([float(rhos[i].pvalue) for i in tested], significance)))
    utility = {test.setup: test for test in non_inferiority(utility_pairs, "uar", significance)}
    tests = []
    for i, (setup, x, y, found) in enumerate(trend_rows):
        means = ", ".join(f"{v:g}: {_summary(r, 'privacy')}" for v, r in found.items())
        kept = [utility[key] for key in utility if key.startswith(setup + " ")]
        u_text = ", ".join(f"{t.setup.rsplit(' ', 1)[1]} {t.outcome}" for t in kept) or "no general record"
        if rhos[i] is None:
            tests.append(Test(setup, f"P by lambda {means}", "no variation to rank, no test", UNTESTABLE))
            continue
        rho, p = float(rhos[i].statistic), adjusted[i]
        rising = p < significance.alpha and rho > 0
        falling = p < significance.alpha and rho < 0
        if falling or any(t.outcome == CONTRADICTED for t in kept):
            outcome = CONTRADICTED
        elif rising and kept and all(t.outcome == SUPPORTED for t in kept):
            outcome = SUPPORTED
        else:
            outcome = INCONCLUSIVE
        tests.append(Test(setup, f"P by lambda {means}",
                          f"Spearman rho {rho:+.2f} over {len(x)} (lambda, rotation) points, adjusted p {_p(p)}; "
                          f"U kept against general per lambda: {u_text}", outcome))
    return Finding("Q4", "How does the adversary's strength (lambda) affect emotion recognition and the privacy metric?", "5.4",
                   "P rises with lambda (Spearman over the grid's lambdas, rotations pooled) and U is unchanged "
                   "(Q3's test for each lambda).", tuple(tests), verdict(tests))


def q5(data: Records, significance: Significance) -> Finding:
    margin, confidence = significance.equivalence_margin, significance.equivalence_confidence
    pairs, excluded = voting(_model_pairs(data, "priv-c", "general", "gap", ALL), _pair_detail)
    cells = {i: ("gap", record_values(r, "gap") or [], record_values(o, "gap") or []) for i, (_, r, o, *_) in enumerate(pairs)}
    changed = compare(cells, significance)
    summaries = [difference(*cells[i][1:], significance) for i in range(len(pairs))]
    tests = []
    for i, (setup, record, other, *_) in enumerate(pairs):
        detail = f"gap U(F) - U(M): Priv-C {_summary(record, 'gap')} vs general {_summary(other, 'gap')}"
        d = summaries[i]
        if d is None or changed[i].p is None:
            tests.append(Test(setup, detail, "too few paired rotations, no test", UNTESTABLE))
            continue
        low, high = d.interval(confidence)
        within = rounded(low) > -margin and rounded(high) < margin  # the setup's own (uncorrected) interval: section 7a
        outcome = SUPPORTED if changed[i].significant else CONTRADICTED if within else INCONCLUSIVE
        tests.append(Test(setup, detail, f"change of the gap {d.mean:+.3f}, adjusted p {_p(changed[i].p_adjusted)}; "
                                         f"{confidence:.0%} CI [{low:+.3f}, {high:+.3f}] "
                                         f"{'within' if within else 'not within'} ±{margin:g}", outcome))
    tests += excluded
    return Finding("Q5", "Focusing on gender, how does emotion recognition change when a network is trained to preserve privacy?",
                   "5.5", f"the change is imbalanced across genders: the gap U(F) - U(M) of Priv-C differs from general's "
                          f"(paired test); contradicted when the difference's {confidence:.0%} CI lies within ±{margin:g}.",
                   tuple(tests), verdict(tests))


def q6(data: Records, significance: Significance) -> Finding:
    tests = _voting_directional(_model_pairs(data, "priv-e", "priv-c", "privacy", ("multimodal",)), +1, significance)
    return Finding("Q6", "Does the location of the adversarial component within a network affect the privacy metric and "
                         "emotion recognition?", "5.6",
                   "P(Priv-E) > P(Priv-C), multimodal.", tuple(tests), verdict(tests),
                   needs="Priv-E's and Priv-C's multimodal records (a corpus with transcripts and word vectors)")


def q7(data: Records, significance: Significance) -> Finding:
    specs = (("Q7a", "MI(Priv-SpeakerID) < MI(general).", "priv-speaker", "general", "membership", -1),
             ("Q7b", "MI(Priv-SpeakerID) < MI(Priv-C).", "priv-speaker", "priv-c", "membership", -1),
             ("Q7c", "P(Privacy-Multiple) > P(general).", "priv-multi", "general", "privacy", +1),
             ("Q7d", "MI(Privacy-Multiple) < MI(general).", "priv-multi", "general", "membership", -1))
    # One correction over the question's tests: collect every pair, test together, split by part.
    pairs, owners, excluded = [], [], []
    for part, _, model, other, metric, sign in specs:
        votes, missed = voting(_model_pairs(data, model, other, metric, ALL), _pair_detail)
        for pair in votes:
            pairs.append((pair, sign))
            owners.append(part)
        excluded += [(part, test) for test in missed]
    tests = _directional_signed(pairs, significance)
    parts = []
    for part, hypothesis, *_ in specs:
        own = tuple(t for t, owner in zip(tests, owners) if owner == part) + tuple(t for owner, t in excluded if owner == part)
        parts.append(Finding(part, "", "", hypothesis, own, verdict(own)))
    tests = tests + [t for _, t in excluded]
    verdicts = [p.verdict for p in parts]
    overall = ("not tested" if all(v == "not tested" for v in verdicts) else CONTRADICTED if CONTRADICTED in verdicts
               else SUPPORTED if all(v == SUPPORTED for v in verdicts) else INCONCLUSIVE)
    return Finding("Q7", "Does the privacy-preserving paradigm help defend against membership identification?", "5.7",
                   "speaker-invariant training lowers MI below general's and Priv-C's, and Privacy-Multiple keeps both "
                   "defences (P above general's, MI below general's). Supported when every part is; contradicted when "
                   "any part is.", tuple(tests), overall, tuple(parts))


def _directional_signed(pairs: Sequence[tuple[tuple, int]], significance: Significance) -> list[Test]:
    """`directional` over pairs with their own hypothesised signs, corrected together."""
    unsigned = directional([pair for pair, _ in pairs], +1, significance)
    flipped = {SUPPORTED: CONTRADICTED, CONTRADICTED: SUPPORTED}
    return [test if sign > 0 else Test(test.setup, test.detail, test.statistic, flipped.get(test.outcome, test.outcome))
            for test, (_, sign) in zip(unsigned, pairs)]


# ---------------------------------------------------------------- checks beyond the paper's hypotheses

def _chance_pairs(data: Records, model: str, metric: str):
    return [(f"{corpus}/{modality}/{task}", record, None, metric, Side(model, metric), Side(model, metric))
            for corpus, modality, task in data.setups(ALL) if (record := data.find(model, corpus, modality, task)) is not None]


def extra_checks(data: Records, significance: Significance) -> list[Finding]:
    def check(id_: str, hypothesis: str, pairs, sign: int, needs: str = "records of the models it compares") -> Finding:
        tests = directional(pairs, sign, significance)
        return Finding(id_, hypothesis, "", hypothesis, tuple(tests), verdict(tests), needs=needs)

    audio_text = []
    for corpus in data.corpora:
        for task in data.tasks:
            audio, text = data.find("general", corpus, "audio", task), data.find("general", corpus, "text", task)
            if audio is not None and text is not None:
                audio_text.append((f"{corpus}/{task}", audio, text, "leakage", Side("general", "leakage", "audio"),
                                   Side("general", "leakage", "text")))
    return [
        check("X1", "A model trained only for emotion leaks gender: general's L is above chance (0.5).",
              _chance_pairs(data, "general", "leakage"), +1),
        check("X2", "Audio leaks more gender than text: general's audio L is above its text L.", audio_text, +1,
              "general's audio and text records of one corpus"),
        check("X3", "Unlearning gender lowers membership identification: MI(Priv-C) < MI(general).",
              _model_pairs(data, "priv-c", "general", "membership", ALL), -1),
        check("X4", "An attacker still recovers gender after unlearning: P(Priv-C) is below chance (0.5).",
              _chance_pairs(data, "priv-c", "privacy"), -1),
        check("X5", "Priv-C's privacy gain survives the strongest attacker family: P-worst(Priv-C) > P-worst(general).",
              _model_pairs(data, "priv-c", "general", "privacy_worst", ALL), +1),
        check("X6", "Q7 asked of identity: speaker-invariant training raises ID-EER above general's: "
                    "ID-EER(Priv-SpeakerID) > ID-EER(general).",
              _model_pairs(data, "priv-speaker", "general", "identity_eer", ALL), +1,
              "Priv-SpeakerID's and general's records with identity metrics (protocol 3)"),
        check("X7", "Q7 asked of a membership attack with power: speaker-invariant training lowers MI-LR below "
                    "general's: MI-LR-AUC(Priv-SpeakerID) < MI-LR-AUC(general) (per rotation).",
              _model_pairs(data, "priv-speaker", "general", "membership_lr_auc", ALL), -1,
              "Priv-SpeakerID's and general's records with MI-LR (protocol 3, a budget with every rotation)"),
    ]


ALL = ("audio", "text", "multimodal")


def findings(records: Sequence[Record], significance: Significance, lambdas: Sequence[float],
             baseline_lambda: float | None) -> tuple[list[Finding], list[Finding]]:
    """The paper's questions Q1-Q7, in its order, and the extra checks X1, X2, ...
    `baseline_lambda` as in `tables.table_specs`."""
    data = Records(records)
    questions: list[Callable[[], Finding]] = [
        lambda: q1(data, significance), lambda: q2(data, significance), lambda: q3(data, significance),
        lambda: q4(data, significance, lambdas, baseline_lambda), lambda: q5(data, significance),
        lambda: q6(data, significance), lambda: q7(data, significance),
    ]
    return [question() for question in questions], extra_checks(data, significance)


def findings_markdown(questions: Sequence[Finding], extra: Sequence[Finding], alpha: float, note: str = "") -> str:
    lines = ["## Findings: the paper's seven questions", ""]
    if note:
        lines += [note, ""]
    lines += ["| question | verdict |", "|---|---|"]
    lines += [f"| {f.id}: {f.question} | {f.verdict} |" for f in questions]
    lines += ["", "Computed from the result records by `privbench/results/findings.py` (docs/protocol.md section 7a). Per setup, a test "
              "supports the hypothesis when its effect is significant after Benjamini-Hochberg over the question's tests "
              f"(adjusted p < {alpha:g}), or, for the equivalence questions (Q3, Q4's utility, Q5), when the setup's own 90% "
              "interval (uncorrected) falls on the hypothesis' side of the margin; it contradicts it when the effect or interval goes the other "
              "way; otherwise it is inconclusive. A question is supported when more than half of its tested setups support "
              "it and none contradicts it, contradicted in the mirror case, inconclusive otherwise. A setup whose privacy "
              "model reached chance in half its rotations or fewer is listed as not at chance and does not vote (Q2, Q3, "
              "Q5, Q6, Q7). Values on the privacy side of chance count as chance.", ""]
    lines += [finding.markdown() for finding in questions]
    lines += ["## Extra checks (not the paper's hypotheses)", ""]
    lines += [finding.markdown() for finding in extra]
    return "\n".join(lines)
