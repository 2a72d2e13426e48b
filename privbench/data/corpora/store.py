"""Prepared corpora: the utterance table and fingerprints, remembered in the cache.

`privbench prepare` writes `<cache>/corpora/<name>/prepared.json` and
`table.csv` (atomically), so later commands need only the corpus name.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from privbench.data.corpora.registry import Adapter, adapter_for
from privbench.data.corpora.table import content_sha256, finish_table
from privbench.errors import CorpusError
from privbench.data.folds import write_split
from privbench.paths import cache_root, splits_dir
from privbench.protocol import CorpusRules, Protocol
from privbench.storage import atomic_write_json, atomic_write_text

PREPARED_SCHEMA = "privbench.prepared/1"


@dataclass(frozen=True)
class Corpus:
    """A corpus ready for the protocol: one row per utterance, with classes and folds."""

    name: str
    root: Path
    rules: CorpusRules
    table: pd.DataFrame
    content_sha256: str
    split_sha256: str
    notes: tuple[str, ...] = ()  # what the adapter found worth saying (spellings found, checks failed)
    feature_streams: tuple[str, ...] | None = None  # streams `prepare` computed features for; None: read afresh

    @property
    def modalities(self) -> tuple[str, ...]:
        """The streams this corpus' data offers: text only when it has transcripts."""
        has_text = "text" in self.rules.modalities and self.table["transcript"].fillna("").str.strip().ne("").any()
        return tuple(m for m in self.rules.modalities if m != "text" or has_text)

    @property
    def streams(self) -> tuple[str, ...]:
        """The streams a model can read: those with features once prepared (a corpus with transcripts
        but no word vectors has audio only), else those the data offers."""
        if self.feature_streams is None:
            return self.modalities
        return tuple(m for m in self.modalities if m in self.feature_streams)

    @property
    def setups(self) -> tuple[str, ...]:
        """The modalities a model can be evaluated on: each stream, and multimodal when it has both."""
        both = {"audio", "text"} <= set(self.streams)
        return self.streams + (("multimodal",) if both else ())

    def missing_streams(self) -> tuple[str, ...]:
        """Streams the data offers that have no features (text without word vectors)."""
        return tuple(m for m in self.modalities if m not in self.streams)

    @property
    def speakers(self) -> int:
        return int(self.table["speaker"].nunique())


def corpus_dir(name: str) -> Path:
    return cache_root() / "corpora" / name


def remembered_root(name: str) -> Path | None:
    record = corpus_dir(name) / "prepared.json"
    if not record.is_file():
        return None
    return Path(json.loads(record.read_text())["root"])


def read_corpus(name: str, root: Path | None, protocol: Protocol) -> Corpus:
    """Read a corpus from its root (no cache involved) and give it folds and classes."""
    adapter = adapter_for(name, protocol)
    root = resolve_root(adapter, root, protocol)
    rules = adapter.rules(protocol, root)
    raw = adapter.read(root, protocol)
    table, split_digest = finish_table(raw, rules, protocol, name, splits_dir())
    if table.empty:
        raise CorpusError(f"no utterance of {name} under {root} passes the protocol's filter")
    return Corpus(name, root, rules, table, content_sha256(table, _hash_base(adapter, root)), split_digest,
                  tuple(raw.attrs.get("notes", ())))


def _hash_base(adapter: Adapter, root: Path) -> Path:
    return root.parent if adapter.kind == "manifest" else root


def resolve_root(adapter: Adapter, root: Path | None, protocol: Protocol) -> Path:
    if root is not None:
        return root.expanduser().resolve()
    remembered = remembered_root(adapter.name)
    if remembered is not None and adapter.is_current(remembered, protocol):
        return remembered
    default = adapter.default_root(protocol)
    if default is not None:
        return default
    hint = "the manifest TOML" if adapter.kind == "manifest" else "the corpus' folder"
    raise CorpusError(f"corpus {adapter.name!r} has not been prepared: run privbench prepare {adapter.name} --root <{hint}>")


def remember(corpus: Corpus, protocol: Protocol, feature_stores: dict[str, str]) -> None:
    """Record a prepared corpus; `feature_stores` maps each modality to its cache folder."""
    speaker_folds = corpus.table.groupby("speaker")["fold"].first()
    write_split(splits_dir(), corpus.name, {str(speaker): int(fold) for speaker, fold in speaker_folds.items()})
    folder = corpus_dir(corpus.name)
    atomic_write_text(folder / "table.csv", corpus.table.to_csv(index=False))
    atomic_write_json(folder / "prepared.json", {
        "schema": PREPARED_SCHEMA, "name": corpus.name, "root": str(corpus.root),
        "content_sha256": corpus.content_sha256, "split_sha256": corpus.split_sha256,
        "protocol_sha256": protocol.sha256, "table_sha256": table_rules_sha256(corpus.name, protocol),
        "utterances": len(corpus.table), "speakers": corpus.speakers,
        "modalities": list(corpus.modalities), "feature_stores": feature_stores,
    })


def table_rules_sha256(name: str, protocol: Protocol) -> str:
    """sha256 of the protocol rules an utterance table is made with: labels, folds and the corpus' own table
    (a manifest corpus' rules live in its TOML, which the content hash covers)."""
    from privbench.storage import canonical_json, sha256_bytes

    rules = dataclasses.asdict(protocol.corpora[name]) if name in protocol.corpora else None
    return sha256_bytes(canonical_json({"labels": dataclasses.asdict(protocol.labels), "folds": dataclasses.asdict(protocol.folds),
                                        "corpus": rules}).encode())


def feature_store_folder(corpus: Corpus, stream: str) -> Path:
    """The cache folder of one stream's features ("audio", "text" or "waveform"), as `privbench prepare`
    recorded it."""
    needs = "audio" if stream == "waveform" else stream
    if needs not in corpus.modalities:
        reason = "has no transcripts" if needs == "text" else f"offers only {', '.join(corpus.modalities)}"
        raise CorpusError(f"corpus {corpus.name} {reason}, so it has no {stream} features: choose another modality")
    stores = prepared_stores(corpus.name)
    if stream not in stores:
        hint = {"text": " --word2vec FILE", "waveform": " --waveforms"}.get(stream, "")
        raise CorpusError(f"corpus {corpus.name} has no {stream} features yet: run privbench prepare {corpus.name}{hint}")
    return Path(stores[stream])


def prepared_stores(name: str) -> dict[str, str]:
    """stream -> feature cache folder, as the last `prepare` recorded them."""
    record_path = corpus_dir(name) / "prepared.json"
    return json.loads(record_path.read_text()).get("feature_stores", {}) if record_path.is_file() else {}


def add_store(name: str, stream: str, folder: Path) -> None:
    """Record one more stream's feature folder for a prepared corpus (the waveforms, on request)."""
    record_path = corpus_dir(name) / "prepared.json"
    record = json.loads(record_path.read_text())
    record["feature_stores"] = {**record.get("feature_stores", {}), stream: str(folder)}
    atomic_write_json(record_path, record)


def load_corpus(name: str, protocol: Protocol, root: Path | None = None) -> Corpus:
    """The prepared corpus by name; with `root`, read afresh from there instead."""
    if root is not None:
        return read_corpus(name, root, protocol)
    record_path = corpus_dir(name) / "prepared.json"
    adapter = adapter_for(name, protocol)
    if not record_path.is_file():
        if adapter.kind == "manifest":  # not built in and never prepared: most often a misspelt name
            from privbench.data.corpora.registry import unknown_corpus
            from privbench.errors import CorpusNameError

            raise CorpusNameError(unknown_corpus(name, protocol, prepared_names()))
        raise CorpusError(f"corpus {name!r} is not prepared: run privbench prepare {name}"
                          + ("" if adapter.kind == "synthetic" else " --root DIR"))
    record = json.loads(record_path.read_text())
    if not adapter.is_current(Path(record["root"]), protocol):
        raise CorpusError(f"the prepared {name} corpus was generated with an older design: run privbench prepare {name}")
    if record.get("table_sha256") != table_rules_sha256(name, protocol):
        # the protocol's rules for this table changed since prepare (bins, filters, folds): never serve a stale
        # table. (A change elsewhere in protocol.toml, an attack's settings or the version, leaves it as it is.)
        fresh = read_corpus(name, Path(record["root"]), protocol)
        return dataclasses.replace(fresh, feature_streams=tuple(record.get("feature_stores", {})))
    return Corpus(name, Path(record["root"]), adapter.rules(protocol, Path(record["root"])), _read_table(corpus_dir(name) / "table.csv"),
                  record["content_sha256"], record["split_sha256"], feature_streams=tuple(record.get("feature_stores", {})))


_TABLES: dict[tuple[Path, int, int], pd.DataFrame] = {}  # (path, size, mtime) -> the table, read once per process


def _read_table(path: Path) -> pd.DataFrame:
    """A prepared corpus' utterance table; a command that loads the corpus many times reads it once
    (a new prepare rewrites the file, which changes its size or time)."""
    stat = path.stat()
    key = (path, stat.st_size, stat.st_mtime_ns)
    if key not in _TABLES:
        _TABLES[key] = pd.read_csv(path, keep_default_na=False, dtype={"utterance_id": str, "speaker": str})
    return _TABLES[key].copy()  # callers may add columns


def prepared_names() -> list[str]:
    folder = cache_root() / "corpora"
    return sorted(path.parent.name for path in folder.glob("*/prepared.json")) if folder.is_dir() else []
