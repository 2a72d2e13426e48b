"""Which corpora privbench knows, and the adapter that reads each.

Built-in names come from `[corpora.*]` in protocol.toml. Any other name is a
manifest corpus, read from the TOML that `--root` points at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from privbench.data.corpora.manifest import read_manifest_csv, read_manifest_toml
from privbench.errors import CorpusError, CorpusNameError
from privbench.data.labels import derive_ratings
from privbench.paths import cache_root
from privbench.protocol import CorpusRules, Protocol
from privbench.data.synthetic.generate import (MANIFEST, SyntheticSize, default_location, generate_synthetic_corpus, is_generated,
                                         matches_design)

NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]*")


@dataclass(frozen=True)
class Adapter:
    """How one corpus becomes raw utterance rows."""

    name: str
    kind: str  # "synthetic", "manifest" or "release" (an official release layout, read from --root)

    def rules(self, protocol: Protocol, root: Path | None) -> CorpusRules:
        if self.kind == "manifest":
            if root is None:
                raise CorpusError(f"corpus {self.name!r} is a manifest corpus: give --root pointing at its TOML")
            return read_manifest_toml(root)[0]
        return protocol.corpus(self.name)

    def default_root(self, protocol: Protocol) -> Path | None:
        if self.kind == "synthetic":
            return default_location(cache_root(), protocol, SyntheticSize.from_protocol(protocol.synthetic))
        return None

    def is_current(self, root: Path, protocol: Protocol) -> bool:
        """Whether a remembered root still holds what this protocol asks for: a synthetic corpus
        of an older design (settings or generator) is not, and is made anew."""
        return self.kind != "synthetic" or matches_design(root, protocol)

    def is_present(self, root: Path) -> bool:
        if self.kind == "synthetic":
            return is_generated(root)
        if self.kind == "release":
            try:
                release_reader(self.name).check_root(root)
            except CorpusError:
                return False
            return True
        return root.exists()

    def read(self, root: Path, protocol: Protocol) -> pd.DataFrame:
        """Raw rows: utterance_id, speaker, gender, audio_path (absolute), transcript, ratings, duration_s."""
        if self.kind == "synthetic":
            if not is_generated(root):
                raise CorpusError(f"{root} holds no generated synthetic corpus: run privbench prepare synthetic")
            return read_manifest_csv(root / MANIFEST, root, protocol.corpus(self.name))
        if self.kind == "manifest":
            rules, csv_path, audio_root = read_manifest_toml(root)
            return read_manifest_csv(csv_path, audio_root, rules)
        if not root.is_dir():
            raise CorpusError(f"{root} is not a folder: give --root the folder of your {self.name} copy")
        raw = release_reader(self.name).read(root)
        derived = protocol.corpus(self.name).derived_labels
        return raw if derived is None else derive_ratings(raw, derived, protocol.labels.classes, self.name)

    def generate(self, root: Path, protocol: Protocol, on_speaker_done=None) -> None:
        if self.kind == "synthetic" and not is_generated(root):
            generate_synthetic_corpus(root, protocol=protocol, on_speaker_done=on_speaker_done)


def release_reader(name: str):
    """The module that reads a corpus' official release layout (check_root, read)."""
    from privbench.data.corpora import ased, crema_d, iemocap, msp_improv, msp_podcast, muse, ravdess

    readers = {"iemocap": iemocap, "msp-improv": msp_improv, "msp-podcast": msp_podcast, "muse": muse,
               "crema-d": crema_d, "ravdess": ravdess, "ased": ased}
    if name not in readers:
        raise CorpusError(f"privbench cannot read {name} yet: its adapter is not written (see docs/datasets.md); "
                          "meanwhile, describe your copy with a manifest CSV and TOML and prepare it under another name")
    return readers[name]


def builtin_names(protocol: Protocol) -> list[str]:
    return list(protocol.corpora)


def adapter_for(name: str, protocol: Protocol) -> Adapter:
    if name == "synthetic":
        return Adapter(name, "synthetic")
    if name in protocol.corpora:
        return Adapter(name, "release")
    if not NAME_PATTERN.fullmatch(name):
        raise CorpusNameError(f"corpus name {name!r} is not valid: use lower-case letters, digits and dashes")
    return Adapter(name, "manifest")


def closest(name: str, known: list[str]) -> str | None:
    """The known name `name` most likely misspells, if any is close."""
    import difflib

    found = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return found[0] if found else None


def unknown_corpus(name: str, protocol: Protocol, prepared: list[str]) -> str:
    """The one line for a corpus name that is neither built in nor prepared: the closest known name,
    every known one, and how a corpus of one's own is prepared."""
    builtin = builtin_names(protocol)
    manifests = [other for other in prepared if other not in builtin]
    close = closest(name, builtin + manifests)
    return (f"unknown corpus {name!r}{f' (did you mean {close}?)' if close else ''}: privbench knows "
            f"{', '.join(builtin)}" + (f" and your prepared {', '.join(manifests)}" if manifests else "")
            + f"; a corpus of your own is prepared first: privbench prepare {name} --root ITS.toml (docs/datasets.md)")


def check_corpus_name(name: str, protocol: Protocol) -> None:
    """A corpus a command may name: built in (prepared or not), or a manifest corpus prepared before;
    anything else is a usage error (exit 2), typically a misspelt built-in name."""
    from privbench.data.corpora.store import prepared_names

    adapter_for(name, protocol)  # an invalid name says so
    prepared = prepared_names()
    if name not in protocol.corpora and name not in prepared:
        raise CorpusNameError(unknown_corpus(name, protocol, prepared))
