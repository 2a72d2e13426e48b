"""Submission folders: `submission.toml` checked, code imported by path, contents hashed.

A submission is a folder holding `submission.toml` and either Python code
(`entry`: an `Encoder`, or a `FrozenEncoder` front end) or frozen
representations made elsewhere (`representations = {corpus = "file.npz"}`:
no code at all). The entry module is imported as part of a package private
to privbench (`privbench_submissions.<name>`), so modules of the folder may
import each other relatively (`from .layers import Block`) and nothing is
added to `sys.path`. Its sha256 covers every file of the folder except caches
(`__pycache__`, `*.pyc`), hidden files, and what git ignores there.
"""

from __future__ import annotations

import hashlib
import importlib
import re
import subprocess
import sys
import tomllib
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from privbench.errors import SubmissionError
from privbench.encoders.frozen import FrozenEncoder
from privbench.encoders.interface import DEFAULT_INPUTS, INPUTS, STREAMS, Encoder
from privbench.protocol import ModelConfig, ModelGrid, Protocol

MANIFEST = "submission.toml"
NAME_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
ENTRY_PATTERN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*):([A-Za-z_][A-Za-z0-9_]*)")
FROM_PROTOCOL = {"from": "protocol"}
REQUIRED = ("name", "display_name", "authors", "description", "modalities")
CODE = ("entry",)  # one of these two: code, or representations made elsewhere
FROZEN = ("representations",)
OPTIONAL = ("url", "licence", "config", "search", "inputs")
KINDS = ("encoder", "front end", "representations")  # learns h / a frozen front end / frozen h submitted as files


@dataclass(frozen=True)
class Submission:
    """A checked submission folder."""

    folder: Path
    name: str
    display_name: str
    authors: tuple[str, ...]
    description: str
    entry: str  # "" for frozen representations
    modalities: tuple[str, ...]  # streams it can take: "audio", "text"
    config: dict[str, Any]  # the default configuration
    search: dict[str, list[Any]] = field(default_factory=dict)  # key -> values, for budgets that search
    url: str | None = None
    licence: str | None = None  # the licence of the weights or code it runs, for whoever reuses them
    sha256: str = ""
    inputs: tuple[str, ...] = DEFAULT_INPUTS  # what its batches carry: "filterbank", "text", "waveform"
    representations: dict[str, str] = field(default_factory=dict)  # corpus -> .npz inside the folder (frozen h)

    def setups(self) -> tuple[str, ...]:
        """The modalities (setups) its streams allow: each stream alone, and multimodal with both. Frozen
        representations are one h per utterance: their one setup is the streams it was computed from."""
        found = tuple(m for m in STREAMS if m in self.modalities)
        if self.representations:
            return (found[0] if len(found) == 1 else "multimodal",)
        return found + (("multimodal",) if len(found) == len(STREAMS) else ())

    @property
    def frozen_representations(self) -> bool:
        return bool(self.representations)

    def representation_file(self, corpus: str) -> Path:
        """The file of frozen representations for `corpus`, or one line saying the submission has none."""
        if corpus not in self.representations:
            known = ", ".join(sorted(self.representations))
            raise SubmissionError(f"{self.folder / MANIFEST}: representations has no file for corpus {corpus!r} "
                                  f"(it has {known}): add {corpus} = \"{corpus}.npz\" or drop --corpus {corpus}")
        return self.folder / self.representations[corpus]

    def metadata(self, kind: str = "encoder") -> dict[str, Any]:
        data = {"name": self.name, "display_name": self.display_name, "authors": list(self.authors),
                "description": self.description, "url": self.url, "modalities": list(self.modalities),
                "inputs": list(self.inputs), "sha256": self.sha256, "kind": kind}
        if self.licence:
            data["licence"] = self.licence
        if self.entry:
            data["entry"] = self.entry
        if self.representations:
            data["representations"] = dict(self.representations)
        return data


def _model_config(config: ModelConfig | ModelGrid) -> dict[str, Any]:
    values = {("lambda" if name == "lambda_" else name): getattr(config, name) for name in config.__dataclass_fields__}
    return {key: list(value) if isinstance(value, tuple) else value for key, value in values.items()}


def _fail(path: Path, message: str) -> SubmissionError:
    return SubmissionError(f"{path}: {message}")


def _table(document: dict, key: str, path: Path, protocol: Protocol, lists: bool) -> dict[str, Any]:
    value = document.get(key, {})
    if not isinstance(value, dict):
        raise _fail(path, f"[{key}] must be a table")
    if value == FROM_PROTOCOL:
        return _model_config(protocol.training.grid if lists else protocol.training.default_config)
    if "from" in value:
        raise _fail(path, f"[{key}] from = {value['from']!r}: the only source is \"protocol\"")
    if lists:
        for name, values in value.items():
            if not isinstance(values, list) or not values:
                raise _fail(path, f"[search] {name} must be a non-empty list of values")
    return dict(value)


def read_submission(folder: Path, protocol: Protocol) -> Submission:
    """Check `folder/submission.toml` and the entry module's file; hash the folder."""
    folder = folder.expanduser().resolve()
    path = folder / MANIFEST
    if not folder.is_dir():
        raise SubmissionError(f"{folder} is not a folder: give the submission's folder (the one holding {MANIFEST})")
    if not path.is_file():
        raise SubmissionError(f"{folder} has no {MANIFEST}: copy submissions/my_encoder/ to start one")
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise _fail(path, f"not valid TOML ({error})") from None

    unknown = sorted(set(document) - set(REQUIRED) - set(CODE) - set(FROZEN) - set(OPTIONAL))
    if unknown:
        raise _fail(path, f"unknown field {unknown[0]!r}; the fields are {', '.join(REQUIRED + CODE + FROZEN + OPTIONAL)}")
    missing = [key for key in REQUIRED if key not in document]
    if missing:
        raise _fail(path, f"missing field {missing[0]!r}")
    if ("entry" in document) == ("representations" in document):
        raise _fail(path, "give either entry (an encoder's module:Class) or representations (corpus = \"file.npz\"), "
                          "not " + ("both" if "entry" in document else "neither"))
    for key in ("name", "display_name", "description", *(k for k in CODE + ("licence",) if k in document)):
        if not isinstance(document[key], str) or not document[key].strip():
            raise _fail(path, f"{key} must be a non-empty string")
    if not NAME_PATTERN.fullmatch(document["name"]):
        raise _fail(path, f"name {document['name']!r} must be lower-case letters and digits with single hyphens inside ([a-z0-9]+(-[a-z0-9]+)*)")
    authors = document["authors"]
    if not isinstance(authors, list) or not authors or not all(isinstance(a, str) and a.strip() for a in authors):
        raise _fail(path, "authors must be a non-empty list of names")
    url = document.get("url")
    if url is not None and (not isinstance(url, str) or not re.match(r"https?://", url)):
        raise _fail(path, f"url {url!r} must start with http:// or https://")
    modalities = document["modalities"]
    if not isinstance(modalities, list) or not modalities or any(m not in STREAMS for m in modalities):
        raise _fail(path, f"modalities {modalities!r} must be a non-empty list of {', '.join(map(repr, STREAMS))}")
    inputs = document.get("inputs", list(DEFAULT_INPUTS))
    if not isinstance(inputs, list) or not inputs or any(i not in INPUTS for i in inputs):
        raise _fail(path, f"inputs {inputs!r} must be a non-empty list of {', '.join(map(repr, INPUTS))}")
    if "audio" in modalities and not {"filterbank", "waveform"} & set(inputs):
        raise _fail(path, 'modalities include "audio": inputs must include "filterbank" or "waveform"')
    if "text" in modalities and "text" not in inputs:
        raise _fail(path, 'modalities include "text": inputs must include "text"')
    representations = _representations(document.get("representations"), folder, path)
    if "entry" in document:
        match = ENTRY_PATTERN.fullmatch(document["entry"])
        if not match:
            raise _fail(path, f"entry {document['entry']!r} must be module:Class, for example encoder:MyEncoder")
        module_file = folder / (match.group(1).replace(".", "/") + ".py")
        if not module_file.is_file():
            raise _fail(path, f"entry {document['entry']!r} names {module_file.name}, which is not in {folder}")

    return Submission(
        folder=folder, name=document["name"], display_name=document["display_name"].strip(), authors=tuple(authors),
        description=document["description"].strip(), entry=document.get("entry", ""),
        modalities=tuple(dict.fromkeys(modalities)), config=_table(document, "config", path, protocol, lists=False),
        search=_table(document, "search", path, protocol, lists=True), url=url, licence=_licence(document),
        sha256=folder_sha256(folder),
        inputs=tuple(dict.fromkeys(inputs)), representations=representations,
    )


def _representations(value: Any, folder: Path, path: Path) -> dict[str, str]:
    """`representations = {corpus = "file.npz"}`: each a file inside the folder (checked when evaluated)."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not value:
        raise _fail(path, 'representations must be a table of corpus = "file.npz", e.g. { synthetic = "synthetic.npz" }')
    for corpus, file in value.items():
        if not isinstance(file, str) or not file.endswith(".npz"):
            raise _fail(path, f"representations.{corpus} must name an .npz file inside the folder, not {file!r}")
        resolved = (folder / file).resolve()
        if folder not in resolved.parents:
            raise _fail(path, f"representations.{corpus} = {file!r} points outside the submission's folder")
    return dict(value)


def _git_ignored(folder: Path, files: list[Path]) -> set[Path]:
    """The files git ignores, when the folder is inside a git work tree (else none)."""
    if not files:
        return set()
    try:
        result = subprocess.run(["git", "check-ignore", "--stdin", "-z"], cwd=folder, capture_output=True,
                                input=b"\0".join(str(f.relative_to(folder)).encode() for f in files), timeout=30)
    except (OSError, subprocess.SubprocessError):
        return set()
    if result.returncode not in (0, 1):  # 128: not a git work tree
        return set()
    return {folder / name.decode() for name in result.stdout.split(b"\0") if name}


def submission_files(folder: Path) -> list[Path]:
    """The files that make up a submission, sorted."""
    candidates = sorted(
        path for path in folder.rglob("*")
        if path.is_file() and not any(part.startswith(".") or part == "__pycache__" for part in path.relative_to(folder).parts)
        and path.suffix != ".pyc"
    )
    ignored = _git_ignored(folder, candidates)
    return [path for path in candidates if path not in ignored]


def folder_sha256(folder: Path) -> str:
    """sha256 over each file's relative path and contents, in sorted order."""
    digest = hashlib.sha256()
    for path in submission_files(folder):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def load_encoder_class(submission: Submission) -> type[Encoder] | type[FrozenEncoder]:
    """Import the entry class by path, inside a package private to this submission: an `Encoder`
    or a `FrozenEncoder` (a front end)."""
    if submission.frozen_representations:
        raise SubmissionError(f"{submission.folder / MANIFEST}: frozen representations have no entry class")
    module_name, class_name = submission.entry.split(":")
    package = f"privbench_submissions.{submission.name.replace('-', '_')}_{submission.sha256[:12]}"
    if "privbench_submissions" not in sys.modules:
        root = types.ModuleType("privbench_submissions")
        root.__path__ = []
        sys.modules["privbench_submissions"] = root
    if package not in sys.modules:
        holder = types.ModuleType(package)
        holder.__path__ = [str(submission.folder)]
        sys.modules[package] = holder
    try:
        module = importlib.import_module(f"{package}.{module_name}")
    except Exception as error:  # the submission's own code failed to import
        raise SubmissionError(f"{submission.folder / (module_name.replace('.', '/') + '.py')}: importing it raised "
                              f"{type(error).__name__}: {error}") from None
    cls = getattr(module, class_name, None)
    if cls is None:
        raise SubmissionError(f"{submission.folder / MANIFEST}: entry {submission.entry!r}: {module_name} has no {class_name}")
    if not (isinstance(cls, type) and issubclass(cls, (Encoder, FrozenEncoder))):
        raise SubmissionError(f"{submission.folder / MANIFEST}: entry {submission.entry!r} is not a subclass of "
                              "privbench.Encoder or privbench.FrozenEncoder")
    return cls


def _licence(document: dict[str, Any]) -> str | None:
    licence = document.get("licence")
    return " ".join(licence.split()) if licence else None


def submission_kind(submission: Submission) -> str:
    """"encoder" (learns h), "front end" (a FrozenEncoder: h computed once per corpus) or
    "representations" (frozen h submitted as files)."""
    if submission.frozen_representations:
        return "representations"
    return "front end" if issubclass(load_encoder_class(submission), FrozenEncoder) else "encoder"
