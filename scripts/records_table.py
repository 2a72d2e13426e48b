"""The measured values of a corpus' records as a Markdown table: the tables of docs/results-*.md.

    python scripts/records_table.py --corpus ravdess [--budget quick] [--results leaderboard/results] [--encoder NAME]...

One row per record (setup x encoder): U, U(M), U(F), L, P, P-worst, the
identity attack (ID-EER of the family chosen on validation, the informed
family's, ID-link against its chance 1/N), the paper's MI and MI-spk, MI-LR
(pooled AUC, headline surface, both surfaces' AUCs), and how many rotations
of a privacy model reached chance. Means over rotations; MI-LR pooled over
every rotation's speakers.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

COLUMNS = ("uar", "uar_male", "uar_female", "leakage", "privacy", "privacy_worst", "identity_eer", "identity_eer_informed")


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def rows(records) -> list[str]:
    from privbench.records import headline

    lines = ["| setup | encoder | U | U(M) | U(F) | L | P | P-worst | ID-EER | ID-EER inf | ID-link (1/N) | MI | MI-spk | "
             "MI-LR | surface | MI-LR h | MI-LR loss | chance |", "|" + "---|" * 18]
    for record in sorted(records, key=lambda r: (r["modality"], r["task"], r["encoder"]["name"])):
        metrics = record["metrics"]
        link = metrics.get("identity_link", {}).get("mean")
        speakers = [n for n in metrics.get("identity_speakers", {}).get("rotations", []) if n]
        chance = f"1/{sum(speakers) / len(speakers):.1f}" if speakers else "-"
        reached = (record.get("selection") or {}).get("chance_reached") or []
        known = [r for r in reached if r is not None]
        cells = [f"{record['modality']} / {record['task']}", record["encoder"]["name"]]
        cells += [_fmt(headline(record, name)) for name in COLUMNS]
        cells += [f"{_fmt(link)} ({chance})", _fmt(headline(record, "membership")), _fmt(headline(record, "membership_speaker")),
                  _fmt(headline(record, "membership_lr_auc")), (record.get("selection") or {}).get("membership_lr_surface") or "-",
                  _fmt(headline(record, "membership_lr_auc_h")), _fmt(headline(record, "membership_lr_auc_loss")),
                  f"{sum(known)}/{len(known)}" if known else "n/a"]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--budget", default="quick")
    parser.add_argument("--results", type=Path, default=None)
    parser.add_argument("--encoder", action="append", help="Only these encoders (repeat); default: all.")
    args = parser.parse_args(argv)

    from privbench.paths import repo_root
    from privbench.records import read_records

    results = args.results or repo_root() / "leaderboard" / "results"
    records, refused = read_records(results)
    chosen = [r for r in records if r["corpus"]["name"] == args.corpus and r["protocol"]["budget"] == args.budget
              and (not args.encoder or r["encoder"]["name"] in args.encoder)]
    for line in refused:
        print(f"refused: {line}", file=sys.stderr)
    if not chosen:
        print(f"no {args.budget} record of {args.corpus} under {results}", file=sys.stderr)
        return 1
    print("\n".join(rows(chosen)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
