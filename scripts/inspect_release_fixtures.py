"""Prepare and inspect every corpus' test fixture tree, as docs/datasets.md shows them.

    python scripts/inspect_release_fixtures.py [CORPUS ...]

Builds the trees of tests/release_fixtures.py in a temporary folder and runs
`privbench prepare CORPUS --root TREE` and `privbench inspect CORPUS` against a
temporary clone and cache, so neither the clone's split files nor your cache change.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from release_fixtures import RELEASE_TREES  # noqa: E402


def main(corpora: list[str]) -> int:
    unknown = [name for name in corpora if name not in RELEASE_TREES]
    if unknown:
        print(f"no fixture tree for {unknown[0]}; choose from {', '.join(RELEASE_TREES)}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch)
        clone = base / "clone"
        (clone / "benchmark" / "splits").mkdir(parents=True)
        shutil.copy(REPO / "benchmark" / "protocol.toml", clone / "benchmark" / "protocol.toml")
        env = {**os.environ, "PRIVBENCH_ROOT": str(clone), "PRIVBENCH_CACHE": str(base / "cache"), "COLUMNS": "120"}
        for name in corpora or list(RELEASE_TREES):
            build, folder = RELEASE_TREES[name]
            tree = build(base / "trees" / name / folder)
            for command in (["prepare", name, "--root", str(tree)], ["inspect", name]):
                print(f"$ privbench {' '.join(command[:2])}{' --root <fixture>/' + folder if len(command) > 2 else ''}", flush=True)
                shown = subprocess.run([sys.executable, "-m", "privbench", *command], env=env, capture_output=True, text=True)
                print((shown.stdout + shown.stderr).replace(str(base), "<tmp>"), flush=True)
                if shown.returncode != 0:
                    return shown.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
