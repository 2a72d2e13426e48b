"""Where things live: the privbench clone (protocol, splits, results) and the cache.

privbench is used from a clone. The clone's root is `PRIVBENCH_ROOT` when set,
else the nearest folder above the current directory that holds
`benchmark/protocol.toml`, else the clone this package was installed from.
Caches (generated audio, features, job records) go under `PRIVBENCH_CACHE`,
default `~/.cache/privbench`.
"""

from __future__ import annotations

import os
import functools
from pathlib import Path

from privbench.errors import ProtocolError

_MARKER = Path("benchmark") / "protocol.toml"


def repo_root() -> Path:
    configured = os.environ.get("PRIVBENCH_ROOT")
    if configured:
        root = Path(configured).expanduser().resolve()
        if not (root / _MARKER).is_file():
            raise ProtocolError(f"PRIVBENCH_ROOT={configured} has no {_MARKER}: point it at a privbench clone")
        return root
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / _MARKER).is_file():
            return folder
    installed_from = Path(__file__).resolve().parent.parent
    if (installed_from / _MARKER).is_file():
        return installed_from
    raise ProtocolError(f"no {_MARKER} found above {here}: run privbench inside a privbench clone or set PRIVBENCH_ROOT")


def cache_root() -> Path:
    return Path(os.environ.get("PRIVBENCH_CACHE", "~/.cache/privbench")).expanduser()


def use_scratch_job_cache(prefix: str) -> Path:
    """Point PRIVBENCH_CACHE at a new temporary folder that links this cache's prepared data (corpora,
    features, the synthetic corpus, compiled extensions) and holds no job, so that what runs next runs
    cold (the scripts that re-run committed records). Returns the folder."""
    import tempfile

    scratch = Path(tempfile.mkdtemp(prefix=prefix))
    for shared in ("corpora", "features", "synthetic", "torch_extensions"):
        if (cache_root() / shared).exists():
            (scratch / shared).symlink_to(cache_root() / shared)
    os.environ["PRIVBENCH_CACHE"] = str(scratch)
    return scratch


def splits_dir() -> Path:
    return repo_root() / "benchmark" / "splits"


# The modules each cached artifact depends on (docs/design.md, "Jobs are keyed by what they
# read"). A change to one of them makes that kind of artifact stale; a change elsewhere (the
# CLI, aggregation, reports, docs) does not. Training: what fits an encoder and stores its
# outputs. Scoring: what attacks stored outputs (a change re-scores, never retrains).
# Represent: what computes a frozen front end's h once per corpus (beside the front end's own
# folder, which its sha256 covers). The modules that only describe, write or read an artifact
# (run/jobs.py, run/score_jobs.py, run/represent.py, store/artifacts.py) are in no list.
TRAIN_MODULES = ("data/features.py", "data/folds.py", "data/labels.py", "data/membership_split.py", "measures.py", "encoders/anonymise.py",
                 "encoders/blocks.py", "encoders/csrc/gru_cpu.cpp", "encoders/emotion_head.py", "encoders/frozen.py",
                 "encoders/gru.py", "encoders/interface.py", "encoders/paper_encoder.py", "encoders/recipe.py", "encoders/voice.py",
                 "run/setup_data.py", "run/train.py")
SCORE_MODULES = ("data/folds.py", "data/labels.py", "data/membership_split.py", "measures.py", "scoring/attacks.py",
                 "scoring/identity.py", "scoring/roc.py", "scoring/score.py", "store/representations.py")
REPRESENT_MODULES = ("data/features.py", "encoders/frozen.py", "encoders/interface.py", "encoders/voice.py",
                     "run/setup_data.py")
CODE_MODULES = {"train": TRAIN_MODULES, "score": SCORE_MODULES, "represent": REPRESENT_MODULES}


@functools.cache
def code_sha256(kind: str = "train") -> str:
    """sha256 of the source of one kind's modules (CODE_MODULES): artifacts made by other code are never reused."""
    import hashlib

    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for name in CODE_MODULES[kind]:
        digest.update(name.encode() + b"\0" + (package / name).read_bytes())
    return digest.hexdigest()
