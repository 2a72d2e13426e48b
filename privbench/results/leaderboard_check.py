"""`privbench leaderboard check`: is a set of result records acceptable on the leaderboard?

What a pull request's check runs (.github/workflows/submission.yml), and what a
submitter runs first. One line per problem, naming the file:

- every record passes the schema (privbench/records.py, leaderboard/result.schema.json)
  and sits at the path its content names;
- its metrics keep the invariants that tie them together (`invariant_problems`: what holds
  by construction, so a record that breaks one was edited or made by other code);
- its budget is one the leaderboard shows (quick or above: smoke checks that the tool runs,
  one rotation of two epochs, and says nothing about an encoder);
- its card is not the template's (`submissions/my_encoder/submission.toml`): a url,
  description, display name or author still holding the placeholder is refused;
- it was made under this clone's protocol (version and the sha256 of
  benchmark/protocol.toml) and on the corpus split committed in
  benchmark/splits/<corpus>.json (the same sha256);
- an encoder name belongs to one encoder: all records of a name share one
  encoder sha256 (the one most of its records carry; ties: the earliest record's);
- with `base` (a git revision, the pull request's target): no record that
  exists there is changed or deleted, and a new record of an encoder name the
  base already has carries that encoder's sha256.
"""

from __future__ import annotations

import math
import subprocess
import tomllib
from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from privbench.errors import PrivbenchError
from privbench.data.folds import read_split, split_path, split_sha256
from privbench.protocol import Protocol
from privbench.records import iter_records
from privbench.scoring.metric_defs import BY_NAME

# The least budget the leaderboard shows: below it (smoke) a run checks the tool, not an encoder.
LEADERBOARD_BUDGET = "quick"
TOLERANCE = 1e-9  # values computed from the same numbers agree to float precision
TEMPLATE_CARD = Path("submissions") / "my_encoder" / "submission.toml"
PLACEHOLDER_URL = "https://github.com/your/repo"  # the template's, also when the clone has no template


def below_leaderboard(budget: str, protocol: Protocol) -> bool:
    """Whether a budget is below the leaderboard's least one (in protocol.toml's order of budgets)."""
    names = list(protocol.budgets)
    return budget in names and names.index(budget) < names.index(LEADERBOARD_BUDGET)


def budget_problem(record: Mapping[str, Any], protocol: Protocol) -> str | None:
    budget = record["protocol"]["budget"]
    if not below_leaderboard(budget, protocol):
        return None
    least = protocol.budget(budget)
    return (f"budget {budget} is below {LEADERBOARD_BUDGET}: it checks that the tool runs ({least.rotations} rotation, "
            f"{least.max_epochs} epochs) and says nothing about an encoder; evaluate with --budget {LEADERBOARD_BUDGET} or more")


def _rotations(record: Mapping[str, Any], name: str) -> list[float | None] | None:
    entry = record["metrics"].get(name)
    return None if entry is None else list(entry["rotations"])


def _same(a: float | None, b: float | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and abs(a - b) <= TOLERANCE)


def invariant_problems(record: Mapping[str, Any]) -> list[str]:
    """What the protocol's definitions tie together in one record, checked per rotation (each a mathematical
    consequence of how the metrics are made, not a plausibility bound):

    - every value lies in [0, 1] (the gap in [-1, 1]; ID speakers is a count);
    - gap = U(F) - U(M);
    - U <= U(M) + U(F): each class's recall over both genders is a weighted mean of the two genders' recalls,
      so at most their sum, and U is the mean over classes (a lower bound would need every class in both
      genders' test utterances, so none is checked);
    - P is the MLP family's P (`privacy` = `privacy_mlp`);
    - with one seed per rotation, P-worst is one family's P and ID-EER one identity family's EER (with more
      seeds each is a mean of per-seed choices, which no per-rotation value pins down);
    - MI-LR (and its TPR) is one surface's, per rotation and pooled, the one `selection.membership_lr_surface`
      names."""
    problems: list[str] = []
    metrics = record["metrics"]
    for name, entry in metrics.items():
        low, high = (-1.0, 1.0) if name == "gap" else (0.0, math.inf) if name == "identity_speakers" else (0.0, 1.0)
        values = [v for v in entry["rotations"] if v is not None] + ([entry["pooled"]] if entry.get("pooled") is not None else [])
        outside = [v for v in values if not low - TOLERANCE <= v <= high + TOLERANCE]
        if outside:
            problems.append(f"metrics.{name} holds {outside[0]:.4g}, outside [{low:g}, {high:g}]")
    uar, male, female, gap = (_rotations(record, name) for name in ("uar", "uar_male", "uar_female", "gap"))
    for r, (u, m, f) in enumerate(zip(uar or [], male or [], female or [])):
        if None not in (u, m, f) and u > m + f + TOLERANCE:
            problems.append(f"rotation {r}: U {u:.4f} exceeds U(M) + U(F) = {m + f:.4f}, which no prediction can give")
        if gap is not None and None not in (m, f, gap[r]) and abs(gap[r] - (f - m)) > TOLERANCE:
            problems.append(f"rotation {r}: the gap {gap[r]:.4f} is not U(F) - U(M) = {f - m:.4f}")
    privacy, mlp = _rotations(record, "privacy"), _rotations(record, "privacy_mlp")
    if mlp is not None:
        for r, (p, q) in enumerate(zip(privacy, mlp)):
            if not _same(p, q):
                problems.append(f"rotation {r}: P {p} differs from privacy_mlp {q}, and P is the MLP family's P")
    finite = [v for v in uar or [] if v is not None]
    seeds = metrics["uar"]["n"] / len(finite) if finite else None
    if seeds == 1:
        for headline, families in (("privacy_worst", ("privacy_mlp", "privacy_logistic", "privacy_knn")),
                                   ("identity_eer", ("identity_eer_ignorant", "identity_eer_informed"))):
            values, options = _rotations(record, headline), [_rotations(record, name) for name in families]
            if values is None or any(option is None for option in options):
                continue
            for r, value in enumerate(values):
                if value is not None and not any(_same(value, option[r]) for option in options):
                    problems.append(f"rotation {r}: {headline} {value:.4f} is none of {', '.join(families)}, and it is the "
                                    "value of the family chosen on validation")
    surface = (record.get("selection") or {}).get("membership_lr_surface")
    for headline in ("membership_lr_auc", "membership_lr_tpr_at_10fpr"):
        entry = metrics.get(headline)
        options = {s: metrics.get(f"{headline}_{s}") for s in ("h", "loss")}
        if entry is None or any(option is None for option in options.values()):
            continue
        matching = [s for s, option in options.items() if _same(entry.get("pooled"), option.get("pooled"))
                    and all(_same(a, b) for a, b in zip(entry["rotations"], option["rotations"]))]
        if (surface is not None and surface not in matching) or (surface is None and not matching
                                                                 and entry.get("pooled") is not None):
            problems.append(f"{headline} is not the {surface or 'h or loss'} surface's ({headline}_{surface or 'h/_loss'}), "
                            "and the headline is one surface's, pooled and per rotation")
    return problems


def _template_card(repo: Path | None) -> dict[str, Any]:
    path = (repo / TEMPLATE_CARD) if repo is not None else None
    try:
        card = tomllib.loads(path.read_text()) if path is not None and path.is_file() else {}
    except (OSError, tomllib.TOMLDecodeError):
        card = {}
    return {"url": card.get("url", PLACEHOLDER_URL), **{key: card[key] for key in ("description", "display_name", "authors")
                                                         if key in card}}


def placeholder_problems(record: Mapping[str, Any], template: Mapping[str, Any]) -> list[str]:
    """The card fields that still hold the template's placeholder."""
    submission = record.get("submission") or {}
    return [f"submission.{key} is still the template's ({str(submission[key])[:60]!r}): edit the card in "
            f"submission.toml (every field: name, display_name, authors, description, url), then evaluate again"
            for key, value in template.items() if key in submission and submission[key] == value]


def _seconds(created: str) -> float:
    return datetime.fromisoformat(created).timestamp()


def _split_digests(splits: Path, corpora: set[str]) -> dict[str, str | None]:
    digests: dict[str, str | None] = {}
    for corpus in corpora:
        path = split_path(splits, corpus)
        try:
            digests[corpus] = split_sha256(read_split(path)) if path.is_file() else None
        except PrivbenchError:
            digests[corpus] = None
    return digests


def _git(repo: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as error:
        raise PrivbenchError(f"git is needed to compare with the base revision: {error}") from None
    if done.returncode != 0:
        raise PrivbenchError(f"git {' '.join(args[:2])} failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode}"
                             ": is the base revision fetched (git fetch origin main)?")
    return done.stdout


def _base_records(repo: Path, base: str, results: Path) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """(path relative to the repository -> status A/M/D against base, encoder name -> a base record's encoder)."""
    import json

    folder = results.resolve().relative_to(repo.resolve()).as_posix()
    changes = {}
    for line in _git(repo, "diff", "--name-status", "--no-renames", base, "--", folder).splitlines():
        status, _, path = line.partition("\t")
        changes[path] = status[:1]
    for line in _git(repo, "ls-files", "--others", "--exclude-standard", "--", folder).splitlines():
        changes[line] = "A"
    owners: dict[str, dict[str, Any]] = {}
    for path in _git(repo, "ls-tree", "-r", "--name-only", base, "--", folder).splitlines():
        if not path.endswith(".json"):
            continue
        try:
            encoder = json.loads(_git(repo, "show", f"{base}:{path}"))["encoder"]
            owners.setdefault(encoder["name"], {"sha256": encoder["sha256"], "path": path})
        except (ValueError, KeyError, TypeError, PrivbenchError):
            continue
    return changes, owners


def check_results(results: Path, protocol: Protocol, splits: Path, base: str | None = None,
                  repo: Path | None = None) -> tuple[int, list[str]]:
    """(records read, one line per problem)."""
    found, problems = iter_records(results)
    corpora = {record["corpus"]["name"] for _, record in found}
    digests = _split_digests(splits, corpora)
    shas: dict[str, dict[str, list[Path]]] = defaultdict(lambda: defaultdict(list))
    created: dict[Path, str] = {}
    template = _template_card(repo)
    for path, record in found:
        run, corpus = record["protocol"], record["corpus"]
        lines = [budget_problem(record, protocol)] + invariant_problems(record) + placeholder_problems(record, template)
        problems += [f"{path}: {line}" for line in lines if line]
        margin = protocol.metrics.inversion_margin
        for name, entry in record["metrics"].items():
            flags = entry.get("inverted")
            if flags is not None and flags != [BY_NAME[name].is_inverted(v, margin) for v in entry["rotations"]]:
                problems.append(f"{path}: metrics.{name}.inverted does not match its rotations at this protocol's "
                                f"margin ({margin:g} past chance)")
        if run["version"] != protocol.version or run["sha256"] != protocol.sha256:
            problems.append(f"{path}: made under protocol {run['version']} {run['sha256'][:12]}, not this clone's "
                            f"{protocol.version} {protocol.sha256[:12]} (benchmark/protocol.toml): evaluate again with it")
        expected = digests.get(corpus["name"])
        if expected is None:
            problems.append(f"{path}: no split file {split_path(splits, corpus['name'])}: add the split the records were made on")
        elif corpus["split_sha256"] != expected:
            problems.append(f"{path}: split sha256 {corpus['split_sha256'][:12]} differs from {split_path(splits, corpus['name'])} "
                            f"({expected[:12]}): evaluate on the committed split")
        shas[record["encoder"]["name"]][record["encoder"]["sha256"]].append(path)
        created[path] = record["created"]
    for name, by_sha in sorted(shas.items()):
        if len(by_sha) > 1:
            majority = max(by_sha, key=lambda sha: (len(by_sha[sha]), -min(_seconds(created[p]) for p in by_sha[sha]), sha))
            for sha, paths in sorted(by_sha.items()):
                if sha != majority:
                    problems += [f"{path}: encoder name {name!r} already belongs to sha256 {majority[:12]}; this record's "
                                 f"encoder is {sha[:12]}: give your submission its own name" for path in paths]
    if base is not None:
        # The repository that holds the records (a pull request's checkout, which may not be the one whose
        # privbench runs this check: the workflow runs the target branch's code over the pull request's records).
        top = Path(_git(results, "rev-parse", "--show-toplevel").strip())
        changes, owners = _base_records(top, base, results)
        for path, status in sorted(changes.items()):
            if status in ("M", "D"):
                problems.append(f"{top / path}: {'changes' if status == 'M' else 'deletes'} a record already on the "
                                f"leaderboard ({base}): leave others' records as they are")
        for file, record in found:
            relative = file.resolve().relative_to(top.resolve()).as_posix()
            owner = owners.get(record["encoder"]["name"])
            if changes.get(relative) == "A" and owner and owner["sha256"] != record["encoder"]["sha256"]:
                problems.append(f"{file}: encoder name {record['encoder']['name']!r} is taken on the leaderboard by sha256 "
                                f"{owner['sha256'][:12]} ({owner['path']}): give your submission its own name")
    return len(found), problems
