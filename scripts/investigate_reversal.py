"""Does gradient reversal remove gender, or only fool its own head? The diagnostics of the results pages.

Each subcommand prints a Markdown table that docs/results-synthetic.md and
docs/results-ravdess.md quote. Input-level figures (gender probes on pooled
filterbanks, pitch) are scripts/corpus_realism.py's.

  .venv/bin/python scripts/investigate_reversal.py selection priv-c [--corpus synthetic] [--budget quick]
      from the stored main jobs the encoder's records (and its lambda variants') rest on, per setup: how many rotations
      kept a head within the two-sided tolerance; how often version 1's rule
      (gender UAR <= 0.55, fallback the lowest UAR) would have kept a
      confidently wrong head (UAR < 0.45) instead; the kept head's validation
      UAR beside the probe L on the frozen representation (a head near 0.5
      with L far above it: gender is still there, the head is fooled); and P.
  .venv/bin/python scripts/investigate_reversal.py rule-ablation priv-c [--corpus synthetic] [--budget quick]
      re-runs the encoder's audio setups with version 1's one-sided rule (in
      this process, with a scratch job cache, so nothing cached is touched) and
      prints P under both rules: does P move once flipped heads stop counting
      as chance?
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np

from privbench.paths import code_sha256, repo_root, use_scratch_job_cache
from privbench.protocol import get_protocol

V1_TOLERANCE = 0.05  # version 1 kept any epoch with gender UAR <= 0.5 + this


def _gender_uars(epoch: dict) -> list[float]:
    return [value for key, value in epoch.items() if key.startswith("valid_gender") and key.endswith("_uar")]


def v1_kept(history: list[dict]) -> int:
    """The epoch version 1's rule kept: best loss among epochs whose highest head UAR <= 0.55, else the lowest."""
    worst = [max(_gender_uars(epoch)) for epoch in history]
    losses = [epoch["valid_emotion_loss"] for epoch in history]
    qualifying = [i for i, value in enumerate(worst) if value <= 0.5 + V1_TOLERANCE]
    return min(qualifying, key=lambda i: (losses[i], i)) if qualifying else int(np.argmin(worst))


def _main_jobs(encoder: str, corpus: str, budget: str) -> list[dict]:
    """The stored main jobs of the encoder's records (and its lambda variants') at this budget, with their
    fit reports and the current scoring code's scores (run the evaluation first: it stores both)."""
    from privbench.records import read_records
    from privbench.run.score_jobs import score_key
    from privbench.scoring.score import SCORING_SECTIONS
    from privbench.store.artifacts import read_arrays, read_json

    protocol = get_protocol()
    code, scoring = code_sha256("score"), protocol.sections_sha256(SCORING_SECTIONS)
    records, _ = read_records(repo_root() / "leaderboard" / "results")
    mine = [r for r in records if (r.encoder_name == encoder or r.encoder_name.startswith(f"{encoder}-lambda-"))
            and r.corpus_name == corpus and r.budget == budget]
    rows = []
    for record in mine:
        for key in record.get("stored", []):
            found = read_arrays("train", key, with_arrays=False)
            score = read_json("scores", score_key(key, code, scoring))
            if found is None or found[0]["spec"]["kind"] != "main" or score is None:
                continue
            meta = found[0]
            rows.append({"spec": meta["spec"], "history": meta["fit"]["history"], "best_epoch": meta["fit"]["best_epoch"],
                         "chance_reached": meta["fit"]["chance_reached"], "attacks": score["metrics"]})
    if not rows:
        raise SystemExit(f"no stored, scored main jobs of {encoder} on {corpus} at budget {budget}: "
                         f"run privbench evaluate baselines/{encoder} --corpus {corpus} --budget {budget}")
    unique = {json.dumps(row["spec"], sort_keys=True): row for row in rows}  # a job two records share, once
    return list(unique.values())


def _mean(values) -> str:
    numbers = [v for v in values if v is not None and not np.isnan(v)]
    return f"{np.mean(numbers):.3f}" if numbers else "n/a"


def selection(encoder: str, corpus: str, budget: str) -> None:
    tolerance = get_protocol().training.gender_chance_tolerance
    by_setup = defaultdict(list)
    for record in _main_jobs(encoder, corpus, budget):
        by_setup[(record["spec"]["modality"], record["spec"]["task"], record["spec"]["config"].get("lambda"))].append(record)
    print("| setup | rotations at chance (two-sided) | v1 rule would keep a confidently wrong head (< 0.45) | "
          "kept head's validation UAR (farthest head) | probe L on frozen h (test) | P | P-worst |\n|---|---|---|---|---|---|---|")
    for (modality, task, strength), rows in sorted(by_setup.items(), key=lambda item: (item[0][0], item[0][1], item[0][2] or 0)):
        rows.sort(key=lambda r: (r["spec"]["rotation"], r["spec"]["seed"]))
        at_chance, v1_wrong, heads = 0, 0, []
        for row in rows:
            history = row["history"]
            kept = history[row["best_epoch"] - 1]
            farthest = max(_gender_uars(kept), key=lambda v: abs(v - 0.5))
            heads.append(farthest)
            at_chance += bool(row["chance_reached"])  # the job's own verdict, not a second comparison
            v1_wrong += min(_gender_uars(history[v1_kept(history)])) < 0.5 - tolerance
        attacks = [row["attacks"] for row in rows]
        label = f"{modality}/{task}" + (f", lambda {strength:g}" if strength is not None else "")
        print(f"| {label} | {at_chance}/{len(rows)} | {v1_wrong}/{len(rows)} | "
              f"{_mean(heads)} ({', '.join(f'{h:.2f}' for h in heads)}) | "
              f"{_mean([a['leakage'] for a in attacks])} ({', '.join(format(a['leakage'], '.2f') for a in attacks)}) | "
              f"{_mean([a['privacy'] for a in attacks])} | {_mean([a['privacy_worst'] for a in attacks])} |")


def rule_ablation(encoder: str, corpus: str, budget: str) -> None:
    """Version 1's one-sided rule against this protocol's, on the encoder's audio setups."""
    import privbench.encoders.recipe as recipe
    from privbench.run.evaluate import Request, evaluate
    from privbench.run.executor import LocalExecutor
    from privbench.records import read_record, record_path

    protocol = get_protocol()
    results = repo_root() / "leaderboard" / "results"
    current = {task: read_record(record_path(results, encoder, budget, corpus, "audio", task)) for task in protocol.setups.tasks}

    def v1_select(history, gender_heads, tolerance):
        if not gender_heads:
            return int(np.argmin([epoch["valid_emotion_loss"] for epoch in history])), None
        keep = v1_kept(history)
        return keep, max(_gender_uars(history[keep])) <= 0.5 + V1_TOLERANCE

    scratch = use_scratch_job_cache("privbench-v1-rule-")
    recipe._select = v1_select  # jobs run in this process (one worker), so the patch holds
    evaluation = evaluate(Request(repo_root() / "baselines" / encoder, (corpus,), ("audio",), protocol.setups.tasks, budget,
                                  "cpu", scratch / "results"), protocol, LocalExecutor(workers=1))
    print("| setup | P, version 2 rule | P, version 1 rule | chance reached v2 / v1 (rotations) |\n|---|---|---|---|")
    for record in sorted(evaluation.records, key=lambda r: r["task"]):
        now = current[record["task"]]
        reached = lambda r: sum(bool(x) for x in r["selection"]["chance_reached"])  # noqa: E731
        print(f"| audio/{record['task']} | {now['metrics']['privacy']['mean']:.3f} ± {now['metrics']['privacy']['sd']:.3f} | "
              f"{record['metrics']['privacy']['mean']:.3f} ± {record['metrics']['privacy']['sd']:.3f} | "
              f"{reached(now)} / {reached(record)} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("selection", "rule-ablation"):
        command = sub.add_parser(name)
        command.add_argument("encoder")
        command.add_argument("--corpus", default="synthetic")
        command.add_argument("--budget", default="quick")
    args = parser.parse_args()
    {"selection": selection, "rule-ablation": rule_ablation}[args.command](args.encoder, args.corpus, args.budget)


if __name__ == "__main__":
    main()
