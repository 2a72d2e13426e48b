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


# The modules a job's numbers depend on. A change to any of them makes every
# cached job stale; a change elsewhere (the CLI, reports, docs) does not.
JOB_MODULES = ("data/features.py", "data/labels.py", "encoders/anonymise.py", "encoders/blocks.py", "encoders/csrc/gru_cpu.cpp",
               "encoders/gru.py", "encoders/interface.py", "encoders/paper_encoder.py", "encoders/recipe.py", "run/jobs.py",
               "run/setup_data.py", "scoring/attacks.py", "scoring/membership.py", "scoring/metrics.py")


@functools.cache
def code_sha256() -> str:
    """sha256 of the source of JOB_MODULES: job records made by other code are never reused."""
    import hashlib

    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for name in JOB_MODULES:
        digest.update(name.encode() + b"\0" + (package / name).read_bytes())
    return digest.hexdigest()
