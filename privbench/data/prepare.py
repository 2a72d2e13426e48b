"""`privbench prepare`: corpus -> utterance table, folds, features, remembered.

Each step is idempotent and cached: preparing again only redoes what changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from privbench.data.corpora.registry import adapter_for
from privbench.data.corpora.store import Corpus, corpus_dir, read_corpus, remember, resolve_root
from privbench.data.feature_cache import (
    build_audio_store, build_text_store, build_waveform_store, corpus_vocabulary, feature_key, load_vocabulary, save_vocabulary,
)
from privbench.data.features import load_word_vectors
from privbench.protocol import Protocol
from privbench.data.synthetic.generate import WORD_VECTORS


@dataclass
class PrepareProgress:
    """Callbacks the CLI uses to draw progress bars; all optional."""

    start: Callable[[str, int], None] = lambda label, total: None
    advance: Callable[[str], None] = lambda label: None


@dataclass(frozen=True)
class Prepared:
    corpus: Corpus
    feature_stores: dict[str, str]
    notes: list[str] = field(default_factory=list)


def _text_vocabulary(corpus: Corpus, protocol: Protocol, word2vec: Path | None, notes: list[str]):
    """The corpus' word vectors: from --word2vec, the synthetic corpus' own file, or an earlier prepare."""
    settings = protocol.features.text
    cached = corpus_dir(corpus.name) / f"vocabulary-{corpus.content_sha256[:16]}.json"
    source = word2vec
    if source is None and adapter_for(corpus.name, protocol).kind == "synthetic":
        source = corpus.root / WORD_VECTORS
    if source is not None:
        vectors = load_word_vectors(source, settings.dim)
        save_vocabulary(cached, vectors, corpus_vocabulary(corpus.table["transcript"], settings), source)
    elif not cached.is_file():
        notes.append(f"no text features: {corpus.name} has transcripts but no word vectors; prepare again with --word2vec FILE")
        return None
    return load_vocabulary(cached)


def ensure_waveforms(corpus: Corpus, protocol: Protocol, note: Callable[[str], None] = lambda text: None,
                     progress: PrepareProgress | None = None) -> Path:
    """The corpus' waveform store, built once when a submission asks for waveforms (or prepare --waveforms)."""
    from privbench.data.corpora.store import add_store, prepared_stores

    known = prepared_stores(corpus.name).get("waveform")
    if known and Path(known, "meta.json").is_file():
        return Path(known)
    progress = progress or PrepareProgress()
    note(f"caching the waveforms of {corpus.name} (once; {len(corpus.table)} utterances, int16 at "
         f"{protocol.features.audio.sample_rate_hz} Hz)")
    progress.start("waveforms", len(corpus.table))
    folder = build_waveform_store(corpus.name, feature_key(corpus.content_sha256, protocol.features.audio, "waveform"),
                                  corpus.table, protocol.features.audio.sample_rate_hz,
                                  on_utterance=lambda: progress.advance("waveforms"))
    add_store(corpus.name, "waveform", folder)
    return folder


def table_notes(corpus: Corpus, protocol: Protocol) -> list[str]:
    """What prepare says about a table it accepts but a user should look at: an empty class (UAR then
    averages over the classes present, so a trivial model can score well), speakers whose utterances
    name both genders (folds use the first utterance's), and transcripts that are mostly empty."""
    table, said = corpus.table, []
    for task in ("activation", "valence"):
        counts = table[f"{task}_class"].value_counts()
        empty = [name for index, name in enumerate(protocol.labels.classes) if counts.get(index, 0) == 0]
        if empty:
            said.append(f"{corpus.name}: no utterance falls in the {' or '.join(empty)} {task} class (edges "
                        f"{list(corpus.rules.edges)}): check the corpus' scale and edges; UAR averages over the classes present")
    genders = table.groupby("speaker")["gender"].nunique()
    mixed = sorted(genders[genders > 1].index)
    if mixed:
        said.append(f"{corpus.name}: {len(mixed)} speaker(s) have utterances of both genders ({', '.join(mixed[:3])}"
                    f"{', ...' if len(mixed) > 3 else ''}): the folds use each one's first utterance's gender")
    if "text" in corpus.modalities and len(table):
        blank = int((table["transcript"].astype(str).str.strip() == "").sum())
        if blank * 2 > len(table):
            said.append(f"{corpus.name}: {blank} of {len(table)} transcripts are empty (each becomes one <unk> word): "
                        "its text setups see little text")
    return said


def prepare_corpus(name: str, protocol: Protocol, root: Path | None = None, word2vec: Path | None = None,
                   progress: PrepareProgress | None = None, waveforms: bool = False) -> Prepared:
    progress = progress or PrepareProgress()
    adapter = adapter_for(name, protocol)
    root = resolve_root(adapter, root, protocol)
    if adapter.kind == "synthetic" and not adapter.is_present(root):
        size = protocol.synthetic
        progress.start("generating speakers", size.speakers_female + size.speakers_male)
        adapter.generate(root, protocol, on_speaker_done=lambda speaker: progress.advance("generating speakers"))
    corpus = read_corpus(name, root, protocol)
    notes: list[str] = list(corpus.notes) + table_notes(corpus, protocol)
    stores: dict[str, str] = {}

    audio = protocol.features.audio
    progress.start("filterbanks", len(corpus.table))
    stores["audio"] = str(build_audio_store(name, feature_key(corpus.content_sha256, audio), corpus.table, audio,
                                            on_utterance=lambda: progress.advance("filterbanks")))
    if "text" in corpus.modalities:
        vocabulary = _text_vocabulary(corpus, protocol, word2vec, notes)
        if vocabulary is not None:
            words, vocabulary_sha = vocabulary
            text = protocol.features.text
            stores["text"] = str(build_text_store(name, feature_key(corpus.content_sha256, text, vocabulary_sha),
                                                  corpus.table, words, text))
    elif word2vec is not None:
        notes.append(f"--word2vec ignored: {name} has no transcripts")
    waveform_key = feature_key(corpus.content_sha256, audio, "waveform")
    if waveforms:
        progress.start("waveforms", len(corpus.table))
        stores["waveform"] = str(build_waveform_store(name, waveform_key, corpus.table, audio.sample_rate_hz,
                                                      on_utterance=lambda: progress.advance("waveforms")))
    else:  # keep waveforms cached earlier for this very content and these settings
        from privbench.data.corpora.store import prepared_stores

        known = prepared_stores(name).get("waveform")
        if known and Path(known).name.endswith(waveform_key) and Path(known, "meta.json").is_file():
            stores["waveform"] = known
    remember(corpus, protocol, stores)
    return Prepared(corpus, stores, notes)


def needs_generating(name: str, protocol: Protocol) -> bool:
    """Whether `name` is the embedded synthetic corpus and has not been prepared yet in this
    protocol's design (a corpus of an older design is made anew)."""
    from privbench.data.corpora.store import remembered_root

    adapter = adapter_for(name, protocol)
    if adapter.kind != "synthetic":
        return False
    remembered = remembered_root(name)
    return remembered is None or not adapter.is_current(remembered, protocol)


def ensure_prepared(name: str, protocol: Protocol, note: Callable[[str], None] = lambda text: None,
                    progress: PrepareProgress | None = None) -> None:
    """The synthetic corpus is generated and prepared on first use; others must be prepared by the user
    (load_corpus says how, in one line)."""
    if needs_generating(name, protocol):
        note(f"generating and preparing the synthetic corpus first ({generation_size(protocol)}); later runs reuse it")
        prepare_corpus(name, protocol, progress=progress)


def generation_size(protocol: Protocol) -> str:
    size = protocol.synthetic
    speakers = size.speakers_female + size.speakers_male
    # The time is what `privbench prepare synthetic` measured on a 2-core machine (docs/performance.md).
    return f"{speakers} speakers, {speakers * size.utterances_per_speaker} utterances, about a minute on 2 cores"
