"""A pull request's scope, for the submission workflow: result records, or privbench itself, never both at once.

The records of a pull request are checked by the target branch's privbench
(`.github/workflows/submission.yml`), so a pull request cannot pass its own
records by editing the check. One that changes both what checks or defines a
record (privbench/, the record schema, benchmark/: protocol, splits and the
paper's values, the workflows, pyproject.toml) and result records needs a
maintainer to review the code first: this script names both sides and exits 1,
and the workflow labels the pull request "needs review". A submitter can run it
locally too (it counts uncommitted and untracked files):

    python scripts/check_pr_scope.py [--repo .] --base origin/main

It imports nothing of privbench: it only reads `git diff`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

CODE = ("privbench/", "leaderboard/result.schema.json", "benchmark/", ".github/", "pyproject.toml", "scripts/")
RECORDS = ("leaderboard/results/",)


def changed_files(repo: str, base: str) -> list[str]:
    """Files that differ from `base` in `repo` (committed or not), and untracked ones."""
    def git(*args: str) -> list[str]:
        done = subprocess.run(["git", "-C", repo, *args], capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"check_pr_scope: git {' '.join(args[:2])} failed in {repo}: {done.stderr.strip() or done.returncode} "
                     "(is the base revision fetched?)")
        return [line for line in done.stdout.splitlines() if line]

    return sorted(set(git("diff", "--name-only", "--no-renames", base)) | set(git("ls-files", "--others", "--exclude-standard")))


def scope(files: list[str]) -> tuple[list[str], list[str]]:
    """(code or schema files, record files) among `files`."""
    return [f for f in files if f.startswith(CODE)], [f for f in files if f.startswith(RECORDS)]


def _some(paths: list[str]) -> str:
    return ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", default=".", help="The pull request's checkout (default: here).")
    parser.add_argument("--base", required=True, help="The target branch's revision (e.g. origin/main, or a commit).")
    args = parser.parse_args(argv)
    code, records = scope(changed_files(args.repo, args.base))
    if code and records:
        print(f"check_pr_scope: this pull request changes privbench's code or what defines a record ({_some(code)}) and "
              f"result records ({_some(records)}) together: a maintainer reviews the code first (labelled 'needs review'); "
              "to publish results, open the records as a pull request of their own", file=sys.stderr)
        return 1
    what = "result records" if records else "privbench's code or definitions" if code else "neither code nor records"
    print(f"check_pr_scope: {what} only ({len(code) + len(records)} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
