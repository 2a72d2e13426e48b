"""Shared fixtures: an isolated privbench root and cache per test, small synthetic corpora.

Tests never touch the clone's committed split files or the user's cache:
`isolated` points PRIVBENCH_ROOT at a temporary copy of benchmark/protocol.toml
and PRIVBENCH_CACHE at a temporary folder.
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from privbench.protocol import get_protocol
from privbench.data.synthetic.generate import SyntheticSize, generate_synthetic_corpus

REPO = Path(__file__).resolve().parent.parent
SMALL = SyntheticSize(speakers_female=3, speakers_male=3, utterances_per_speaker=6)


def load_script(name: str):
    """scripts/<name>.py as a fresh module (the scripts are not a package), so its functions can be tested."""
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The compiled GRU (privbench/encoders/gru.py) builds once per machine for every test: each isolated cache
# links to this folder (its build key covers the source, so a changed source builds anew).
SHARED_EXTENSIONS = Path(tempfile.gettempdir()) / "privbench-tests-torch-extensions"


def isolate(base: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point privbench at a fresh clone (protocol only, no splits) and cache under `base`."""
    root = base / "clone"
    (root / "benchmark" / "splits").mkdir(parents=True)
    shutil.copy(REPO / "benchmark" / "protocol.toml", root / "benchmark" / "protocol.toml")
    SHARED_EXTENSIONS.mkdir(exist_ok=True)
    (base / "cache").mkdir(parents=True, exist_ok=True)
    if not (base / "cache" / "torch_extensions").exists():  # a cache kept between runs has it already
        (base / "cache" / "torch_extensions").symlink_to(SHARED_EXTENSIONS, target_is_directory=True)
    monkeypatch.setenv("PRIVBENCH_ROOT", str(root))
    monkeypatch.setenv("PRIVBENCH_CACHE", str(base / "cache"))
    return root


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolate(tmp_path, monkeypatch)


@pytest.fixture(scope="session")
def small_synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 6-speaker, 36-utterance synthetic corpus, generated once per test session."""
    folder = tmp_path_factory.mktemp("synthetic") / "corpus"
    return generate_synthetic_corpus(folder, SMALL, workers=2, protocol=get_protocol())


EVALUABLE = SyntheticSize(speakers_female=5, speakers_male=5, utterances_per_speaker=4)


@pytest.fixture(scope="session")
def evaluable_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ten speakers (one of each gender per fold, so every fold and membership set is
    populated), four utterances each: the smallest corpus an evaluation can run on."""
    folder = tmp_path_factory.mktemp("evaluable") / "corpus"
    return generate_synthetic_corpus(folder, EVALUABLE, workers=2, protocol=get_protocol())


def benchmarking(config: pytest.Config) -> bool:
    """True under --benchmark-enable (pyproject's addopts disable benchmarks in the default run)."""
    return bool(config.getoption("benchmark_enable")) or not config.getoption("benchmark_disable")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def invoke(runner: CliRunner, *args: str):
    from privbench.cli import cli

    return runner.invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture(scope="session")
def benchmark_corpus(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest):
    """The synthetic corpus the benchmarks measure, prepared in an isolated clone and cache: the full
    one (960 utterances) under --benchmark-enable; in the default test run, where each benchmark's body
    runs once to prove it works, the smallest evaluable one (40 utterances), so that costs seconds."""
    from privbench.data.prepare import prepare_corpus

    with pytest.MonkeyPatch.context() as monkeypatch:
        base = tmp_path_factory.mktemp("bench")
        isolate(base, monkeypatch)
        protocol = get_protocol()
        root = None if benchmarking(request.config) else generate_synthetic_corpus(base / "corpus", EVALUABLE, workers=2,
                                                                                      protocol=protocol)
        yield prepare_corpus("synthetic", protocol, root=root).corpus.name, protocol


@pytest.fixture
def threads(request):
    """torch's thread count for one benchmark (parametrise indirectly), restored afterwards."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(request.param)
    yield request.param
    torch.set_num_threads(before)
