"""Why does gradient reversal not raise P on the synthetic corpus? The evidence of docs/results-synthetic.md.

Each subcommand prints a Markdown table; docs/results-synthetic.md quotes them.

  .venv/bin/python scripts/investigate_reversal.py inputs
      gender probes on the protocol's input features themselves (no encoder):
      mean-pooled speaker-z-normalised filterbanks, and mean-pooled word vectors.
  .venv/bin/python scripts/investigate_reversal.py jobs priv-c [--budget quick]
      from the cached job records of an evaluation: per setup and rotation, the
      adversary head's validation gender UAR at the kept epoch, chance_reached,
      L and P; and what plain best-loss checkpointing would have kept instead.
  .venv/bin/python scripts/investigate_reversal.py lambda [--budget quick]
      priv-c on audio/activation at each lambda of the grid (other settings fixed),
      evaluated through privbench's own evaluate into a scratch results folder.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np

from privbench.attacks import leakage, privacy
from privbench.corpora.store import feature_store_folder, load_corpus
from privbench.feature_cache import open_store
from privbench.folds import rotation
from privbench.paths import cache_root, repo_root
from privbench.protocol import get_protocol
from privbench.setup_data import GENDER_CODES


def inputs() -> None:
    protocol = get_protocol()
    corpus = load_corpus("synthetic", protocol)
    table = corpus.table
    pooled = {}
    for stream in corpus.modalities:
        store = open_store(feature_store_folder(corpus, stream))
        pooled[f"{stream} mean"] = np.stack([store[u].mean(axis=0) for u in table["utterance_id"]])
        if stream == "audio":
            pooled["audio mean+std"] = np.stack([np.r_[store[u].mean(axis=0), store[u].std(axis=0)] for u in table["utterance_id"]])
    gender = table["gender"].map(GENDER_CODES).to_numpy()
    print("| input features | L (probe: D1 -> test) | P (attacker: test -> D1) |\n|---|---|---|")
    for name, x in pooled.items():
        ls, ps = [], []
        for r in range(protocol.folds.count):
            folds = rotation(r, protocol.folds)
            part = {"train": table["fold"].isin(folds.training_folds).to_numpy(), "valid": (table["fold"] == folds.validation_fold).to_numpy(),
                    "test": (table["fold"] == folds.test_fold).to_numpy()}
            h = {k: x[m] for k, m in part.items()}
            g = {k: gender[m] for k, m in part.items()}
            ls.append(leakage(h["train"], g["train"], h["valid"], g["valid"], h["test"], g["test"], protocol.attacker, 0))
            ps.append(privacy(h["test"], g["test"], h["valid"], g["valid"], h["train"], g["train"], protocol.attacker, 0)["privacy"])
        print(f"| {name} | {np.mean(ls):.3f} ({', '.join(f'{v:.2f}' for v in ls)}) | {np.mean(ps):.3f} ({', '.join(f'{v:.2f}' for v in ps)}) |")


def _job_records(encoder: str, max_epochs: int) -> list[dict]:
    records = []
    for path in (cache_root() / "jobs").rglob("*.json"):
        record = json.loads(path.read_text())
        spec = record["spec"]
        if Path(spec["encoder_dir"]).name == encoder and spec["kind"] == "main" and spec["max_epochs"] == max_epochs:
            records.append(record)
    return records


def jobs(encoder: str, budget: str) -> None:
    protocol = get_protocol()
    records = _job_records(encoder, protocol.budget(budget).max_epochs)
    if not records:
        raise SystemExit(f"no cached main jobs of {encoder} at budget {budget}: run privbench evaluate baselines/{encoder} --budget {budget}")
    by_setup = defaultdict(list)
    for record in records:
        by_setup[(record["spec"]["modality"], record["spec"]["task"])].append(record)
    print("| setup | chance_reached (rotations) | adversary gender UAR, valid, kept epoch | L | P | kept epoch / epochs | "
          "best-loss epoch: adversary gender UAR | adversary gender UAR, highest of any epoch |\n|---|---|---|---|---|---|---|---|")
    for (modality, task), rows in sorted(by_setup.items()):
        rows.sort(key=lambda r: r["spec"]["rotation"])
        reached = "n/a" if all(r["chance_reached"] is None for r in rows) else f"{sum(bool(r['chance_reached']) for r in rows)}/{len(rows)}"
        adversary = [r["validation"]["gender_uar"] for r in rows]
        best_loss, highest = [], []
        for r in rows:
            history = r["history"]
            i = int(np.argmin([e["valid_emotion_loss"] for e in history]))
            uars = [v for k, v in history[i].items() if k.startswith("valid_gender") and k.endswith("_uar")]
            best_loss.append(max(uars) if uars else float("nan"))
            per_epoch = [max(v for k, v in e.items() if k.startswith("valid_gender") and k.endswith("_uar"))
                         for e in history if any(k.startswith("valid_gender") for k in e)]
            highest.append(max(per_epoch) if per_epoch else float("nan"))
        def mean(values):
            numbers = [v for v in values if v is not None and not np.isnan(v)]
            return f"{np.mean(numbers):.3f}" if numbers else "n/a"

        print(f"| {modality}/{task} | {reached} | {mean([a if a is not None else np.nan for a in adversary])} | "
              f"{mean([r['attacks']['leakage'] for r in rows])} | {mean([r['attacks']['privacy'] for r in rows])} | "
              f"{np.mean([r['best_epoch'] for r in rows]):.1f} / {np.mean([r['epochs'] for r in rows]):.1f} | {mean(best_loss)} | "
              f"{mean(highest)} |")


def lambdas(budget: str) -> None:
    from privbench.evaluate import Request, evaluate
    from privbench.executor import LocalExecutor

    protocol = get_protocol()
    scratch = Path(tempfile.mkdtemp(prefix="privbench-lambda-"))
    base = repo_root() / "baselines" / "priv-c"
    default = {("lambda" if k == "lambda_" else k): getattr(protocol.training.default_config, k)
               for k in protocol.training.default_config.__dataclass_fields__}
    print("| lambda | U | L | P | P-worst | chance_reached |\n|---|---|---|---|---|---|")
    for value in protocol.training.grid.lambda_:
        folder = scratch / f"priv-c-lambda-{str(value).replace('.', '')}"
        shutil.copytree(base, folder)
        config = "\n".join(f"{k} = {v}" for k, v in {**default, "lambda": value}.items())
        text = (folder / "submission.toml").read_text().split("[config]")[0]
        text = text.replace('name = "priv-c"', f'name = "priv-c-lambda-{str(value).replace(".", "")}"')
        (folder / "submission.toml").write_text(text + "[config]\n" + config + "\n")
        evaluation = evaluate(Request(folder, ("synthetic",), ("audio",), ("activation",), budget, "cpu", scratch / "results"),
                              protocol, LocalExecutor())
        record = evaluation.records[0]
        m = record["metrics"]
        print(f"| {value} | {m['uar']['mean']:.3f} | {m['leakage']['mean']:.3f} | {m['privacy']['mean']:.3f} | "
              f"{m['privacy_worst']['mean']:.3f} | {record['chance_reached']} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("inputs")
    jobs_parser = sub.add_parser("jobs")
    jobs_parser.add_argument("encoder")
    jobs_parser.add_argument("--budget", default="quick")
    lambda_parser = sub.add_parser("lambda")
    lambda_parser.add_argument("--budget", default="quick")
    args = parser.parse_args()
    if args.command == "inputs":
        inputs()
    elif args.command == "jobs":
        jobs(args.encoder, args.budget)
    else:
        lambdas(args.budget)


if __name__ == "__main__":
    main()
