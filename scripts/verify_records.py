"""Regenerate committed records from an empty job cache and compare their metrics exactly.

A refactor must not change a result: this re-evaluates one setup per encoder
(default: every built-in baseline on synthetic audio/activation at the quick
budget) with a scratch job cache and a scratch results folder, and compares
every metric's per-rotation values, sds and inverted flags with the committed
record under leaderboard/results/. Exit 1 on any difference.

    python scripts/verify_records.py [--encoder general]... [--corpus synthetic] [--modality audio] [--task activation]
"""

from __future__ import annotations

import argparse
import sys
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", action="append", help="a folder name under baselines/ (repeat; default: all)")
    parser.add_argument("--corpus", default="synthetic")
    parser.add_argument("--modality", default="audio")
    parser.add_argument("--task", default="activation")
    parser.add_argument("--budget", default="quick")
    args = parser.parse_args(argv)

    from privbench.paths import use_scratch_job_cache

    scratch = use_scratch_job_cache("privbench-verify-")

    from privbench.run.evaluate import Request, evaluate
    from privbench.run.executor import LocalExecutor
    from privbench.paths import repo_root
    from privbench.protocol import get_protocol
    from privbench.records import read_record, record_path

    protocol, root = get_protocol(), repo_root()
    names = args.encoder or [p.name for p in sorted((root / "baselines").iterdir()) if (p / "submission.toml").is_file()]
    executor = LocalExecutor()
    different = 0
    for name in names:
        modality = "multimodal" if name == "priv-e" and args.modality != "multimodal" else args.modality  # priv-e needs both streams
        committed_path = record_path(root / "leaderboard" / "results", name, args.budget, args.corpus, modality, args.task)
        if not committed_path.is_file():
            print(f"{name}: no committed record at {committed_path}; skipped")
            continue
        committed = read_record(committed_path)
        started = time.perf_counter()
        evaluation = evaluate(Request(root / "baselines" / name, (args.corpus,), (modality,), (args.task,), args.budget,
                                      "cpu", scratch / "results"), protocol, executor)
        fresh = evaluation.records[0]
        keys = ("rotations", "sd", "n", "inverted")
        changed = [metric for metric, entry in committed["metrics"].items()
                   if any(entry.get(k) != fresh["metrics"].get(metric, {}).get(k) for k in keys)]
        same_identity = all(committed[k] == fresh[k] for k in ("encoder", "protocol", "corpus", "chance_reached"))
        status = "identical" if not changed and same_identity else f"DIFFERENT: {', '.join(changed) or 'identity'}"
        different += status != "identical"
        print(f"{name} {args.corpus}/{modality}/{args.task}: {len(committed['metrics'])} metrics {status} "
              f"({time.perf_counter() - started:.0f} s, jobs cold)", flush=True)
    executor.close()
    return 1 if different else 0


if __name__ == "__main__":
    sys.exit(main())
