"""The McAdams baseline with the anonymisation ablated: coefficient 1.0 keeps the voice.

mcadams differs from general in two ways: the audio is anonymised, and the
filterbanks are z-normalised per utterance (an encoder on a device sees no
other utterance of its speaker). This evaluates the same encoder with
`mcadams_coefficient = 1.0` (LPC analysis and resynthesis, no warping), as the
variant `mcadams-coefficient-1`, so the two effects can be told apart:
general -> mcadams-coefficient-1 is the normalisation (and resynthesis),
mcadams-coefficient-1 -> mcadams is the anonymisation.

It then prints, per corpus and task, general -> coefficient 1.0 -> mcadams
(0.8) from the records: mean ± sd over rotations of U, P, L, ID-EER and ID-link, and
the paired test's p (privbench.scoring.stats.paired_p, not adjusted: an
ablation, not a leaderboard comparison; - where too few rotations pair). With --from-records it only prints.

    python scripts/mcadams_ablation.py [--corpus synthetic]... [--budget quick] [--from-records]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

VARIANT = "mcadams-coefficient-1"
MODELS = ("general", VARIANT, "mcadams")
METRICS = (("uar", "U"), ("privacy", "P"), ("leakage", "L"), ("identity_eer", "ID-EER"), ("identity_link", "ID-link"))


def ablation_table(results: Path, corpora: list[str], budget: str) -> list[str]:
    """The Markdown table of docs/results-ravdess.md and docs/results-ased.md, from the three models' audio records."""
    from privbench.protocol import get_protocol
    from privbench.scoring.stats import paired_p

    significance = get_protocol().significance
    lines = ["| corpus | task | metric | general | coefficient 1.0 | mcadams (0.8) | p, general vs 1.0 | p, 1.0 vs 0.8 |",
             "|---|---|---|---|---|---|---|---|"]
    for corpus in corpora:
        for task in ("activation", "valence"):
            paths = {model: results / model / budget / corpus / f"audio-{task}.json" for model in MODELS}
            missing = [str(path) for path in paths.values() if not path.is_file()]
            if missing:
                raise SystemExit(f"mcadams_ablation: {missing[0]} is missing: evaluate that model on {corpus} at the "
                                 f"{budget} budget first")
            metrics = {model: json.loads(path.read_text())["metrics"] for model, path in paths.items()}
            for key, label in METRICS:
                general, kept, warped = (metrics[model][key] for model in MODELS)
                cells = " | ".join(f"{entry['mean']:.3f} ± {entry['sd']:.3f}" for entry in (general, kept, warped))
                p_kept = paired_p(kept["rotations"], general["rotations"], significance)
                p_warped = paired_p(warped["rotations"], kept["rotations"], significance)
                tests = " | ".join("-" if p is None else f"{p:.2g}" for p in (p_kept, p_warped))  # None: too few pairs
                lines.append(f"| {corpus} | {task} | {label} | {cells} | {tests} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", action="append")
    parser.add_argument("--budget", default="quick")
    parser.add_argument("--from-records", action="store_true", help="print the table from the records; evaluate nothing")
    args = parser.parse_args(argv)
    corpora = args.corpus or ["synthetic"]

    from privbench.paths import repo_root
    from privbench.protocol import get_protocol
    from privbench.run.evaluate import Request, evaluate
    from privbench.run.executor import LocalExecutor

    root = repo_root()
    results = root / "leaderboard" / "results"
    if args.from_records:
        print("\n".join(ablation_table(results, corpora, args.budget)))
        return 0
    executor = LocalExecutor()
    try:
        evaluation = evaluate(Request(root / "baselines" / "mcadams", tuple(corpora), ("audio",),
                                      ("activation", "valence"), args.budget, "cpu", results,
                                      variant_name=VARIANT, variant_config={"mcadams_coefficient": 1.0}),
                              get_protocol(), executor)
    finally:
        executor.close()
    for path in evaluation.written:
        print(f"wrote {path}")
    for failure in evaluation.failures:
        print(failure, file=sys.stderr)
    if evaluation.failures:
        return 1
    print("\n".join(ablation_table(results, corpora, args.budget)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
