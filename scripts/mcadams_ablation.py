"""The McAdams baseline with the anonymisation ablated: coefficient 1.0 keeps the voice.

mcadams differs from general in two ways: the audio is anonymised, and the
filterbanks are z-normalised per utterance (an encoder on a device sees no
other utterance of its speaker). This evaluates the same encoder with
`mcadams_coefficient = 1.0` (LPC analysis and resynthesis, no warping), as the
variant `mcadams-coefficient-1`, so the two effects can be told apart:
general -> mcadams-coefficient-1 is the normalisation (and resynthesis),
mcadams-coefficient-1 -> mcadams is the anonymisation.

    python scripts/mcadams_ablation.py [--corpus synthetic]... [--budget quick]
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", action="append")
    parser.add_argument("--budget", default="quick")
    args = parser.parse_args(argv)

    from privbench.paths import repo_root
    from privbench.protocol import get_protocol
    from privbench.run.evaluate import Request, evaluate
    from privbench.run.executor import LocalExecutor

    root = repo_root()
    executor = LocalExecutor()
    try:
        evaluation = evaluate(Request(root / "baselines" / "mcadams", tuple(args.corpus or ["synthetic"]), ("audio",),
                                      ("activation", "valence"), args.budget, "cpu", root / "leaderboard" / "results",
                                      variant_name="mcadams-coefficient-1", variant_config={"mcadams_coefficient": 1.0}),
                              get_protocol(), executor)
    finally:
        executor.close()
    for path in evaluation.written:
        print(f"wrote {path}")
    for failure in evaluation.failures:
        print(failure, file=sys.stderr)
    return 1 if evaluation.failures else 0


if __name__ == "__main__":
    sys.exit(main())
