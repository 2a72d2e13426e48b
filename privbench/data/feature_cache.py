"""The feature cache: every utterance's matrix back to back, memory-mapped.

Per corpus and modality, one folder under `<cache>/features/<corpus>/` named
by a key that hashes the corpus' content sha256 and the feature settings (and,
for text, the word vectors), so a changed setting or corpus makes a new entry
and can never be read stale. A folder holds

    values.f32       float32 [rows, dim], raw, C order (all utterances' rows)
    offsets.npy      int64 [utterances + 1]: utterance i is values[offsets[i]:offsets[i+1]]
    utterances.json  utterance ids in store order
    meta.json        shape, settings, key

and appears only when complete (built in a temporary folder, then renamed).
"""

from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from privbench.errors import FeatureError
from privbench.data.features import filterbank_of_file, normalise, word_matrix
from privbench.paths import cache_root
from privbench.protocol import AudioFeatures, TextFeatures
from privbench.storage import atomic_directory, atomic_write_bytes, atomic_write_json, canonical_json, sha256_bytes
from privbench.data.text import tokenize

MODALITIES = ("audio", "text")


@dataclass(frozen=True)
class FeatureStore:
    """One modality's features for a whole corpus; rows are read from disk on demand."""

    values: np.ndarray  # [rows, dim] float32, memory-mapped
    offsets: np.ndarray  # [utterances + 1] int64
    position: Mapping[str, int]  # utterance_id -> index into offsets

    def __getitem__(self, utterance_id: str) -> np.ndarray:
        i = self.position[utterance_id]
        return self.values[self.offsets[i]:self.offsets[i + 1]]  # [frames or words, dim]

    def __len__(self) -> int:
        return len(self.position)

    def length(self, utterance_id: str) -> int:
        i = self.position[utterance_id]
        return int(self.offsets[i + 1] - self.offsets[i])

    @property
    def dim(self) -> int:
        return int(self.values.shape[1])


def feature_key(corpus_sha256: str, settings: AudioFeatures | TextFeatures, extra: str = "") -> str:
    return sha256_bytes(canonical_json({"corpus": corpus_sha256, "settings": dataclasses.asdict(settings), "extra": extra}).encode())[:20]


def store_dir(corpus: str, modality: str, key: str) -> Path:
    return cache_root() / "features" / corpus / f"{modality}-{key}"


VALUE_FILES = {"float32": "values.f32", "int16": "values.i16"}


def _write_store(folder: Path, groups: Iterable[tuple[list[str], list[np.ndarray]]], dim: int, meta: dict,
                 dtype: str = "float32") -> None:
    """Stream groups of (utterance ids, matrices) into a new store folder (values as `dtype`)."""
    with atomic_directory(folder) as building:
        utterances: list[str] = []
        offsets = [0]
        with open(building / VALUE_FILES[dtype], "wb") as stream:
            for ids, matrices in groups:
                for utterance_id, matrix in zip(ids, matrices):
                    if matrix.ndim != 2 or matrix.shape[1] != dim:
                        raise FeatureError(f"utterance {utterance_id}: features of shape {matrix.shape}, expected [rows, {dim}]")
                    stream.write(np.ascontiguousarray(matrix, dtype=dtype).tobytes())
                    utterances.append(utterance_id)
                    offsets.append(offsets[-1] + len(matrix))
        np.save(building / "offsets.npy", np.asarray(offsets, dtype=np.int64))
        atomic_write_json(building / "utterances.json", utterances)
        atomic_write_json(building / "meta.json", {**meta, "rows": offsets[-1], "dim": dim, "utterances": len(utterances),
                                                  "dtype": dtype})


def build_audio_store(corpus: str, key: str, table, settings: AudioFeatures,
                      on_utterance: Callable[[], None] | None = None) -> Path:
    """Filterbanks of every utterance, z-normalised per speaker; skipped when cached."""
    folder = store_dir(corpus, "audio", key)
    if (folder / "meta.json").is_file():
        return folder

    def per_speaker():
        for _, rows in table.groupby("speaker", sort=True):
            matrices = []
            for path in rows["audio_path"]:
                matrices.append(filterbank_of_file(Path(path), settings))
                if on_utterance:
                    on_utterance()
            yield list(rows["utterance_id"]), normalise(matrices, list(rows["speaker"]), settings)

    _write_store(folder, per_speaker(), settings.num_mel_bins, {"modality": "audio", "key": key, "settings": dataclasses.asdict(settings)})
    return folder


def build_text_store(corpus: str, key: str, table, vocabulary: Mapping[str, np.ndarray], settings: TextFeatures) -> Path:
    folder = store_dir(corpus, "text", key)
    if (folder / "meta.json").is_file():
        return folder
    ids = list(table["utterance_id"])
    matrices = [word_matrix(tokenize(str(text), settings), vocabulary, settings) for text in table["transcript"]]
    _write_store(folder, [(ids, matrices)], settings.dim, {"modality": "text", "key": key, "settings": dataclasses.asdict(settings)})
    return folder


def build_waveform_store(corpus: str, key: str, table, sample_rate_hz: int, dtype: str = "int16",
                         on_utterance: Callable[[], None] | None = None) -> Path:
    """Every utterance's waveform at the protocol's rate, mono, unnormalised; skipped when cached.

    int16 (the default) halves the disk of float32 and loses nothing a 16-bit
    recording had (docs/performance.md measures both); it is read back as
    float32 in [-1, 1)."""
    folder = store_dir(corpus, f"waveform-{dtype}", key)
    if (folder / "meta.json").is_file():
        return folder
    from privbench.data.features import read_audio, to_mono_16k

    def waveforms():
        for utterance_id, path in zip(table["utterance_id"], table["audio_path"]):
            waveform, rate = read_audio(Path(path))
            samples = to_mono_16k(waveform, rate, sample_rate_hz)
            if dtype == "int16":
                samples = np.clip(np.round(samples * 32768.0), -32768, 32767)
            if on_utterance:
                on_utterance()
            yield [utterance_id], [samples.reshape(-1, 1)]

    _write_store(folder, waveforms(), 1, {"modality": "waveform", "key": key, "sample_rate_hz": sample_rate_hz}, dtype)
    return folder


@dataclass(frozen=True)
class WaveformStore(FeatureStore):
    """A waveform store: an utterance is a float32 vector [samples] (int16 values scaled to [-1, 1))."""

    scale: float = 1.0

    def __getitem__(self, utterance_id: str) -> np.ndarray:
        i = self.position[utterance_id]
        return self.values[self.offsets[i]:self.offsets[i + 1], 0].astype(np.float32) * np.float32(self.scale)


def open_store(folder: Path) -> FeatureStore:
    """Open a store memory-mapped (no feature is read until it is used)."""
    try:
        meta = json.loads((folder / "meta.json").read_text())
        utterances = json.loads((folder / "utterances.json").read_text())
        offsets = np.load(folder / "offsets.npy")
    except (OSError, ValueError) as error:
        raise FeatureError(f"feature cache {folder} is unreadable ({error}): delete it and run privbench prepare again") from None
    dtype = meta.get("dtype", "float32")
    values = np.memmap(folder / VALUE_FILES[dtype], dtype=dtype, mode="r", shape=(meta["rows"], meta["dim"]))
    position = {utterance_id: i for i, utterance_id in enumerate(utterances)}
    if meta.get("modality") == "waveform":
        return WaveformStore(values, offsets, position, 1 / 32768.0 if dtype == "int16" else 1.0)
    return FeatureStore(values, offsets, position)


# ---------------------------------------------------------------- the corpus' vocabulary

def corpus_vocabulary(transcripts: Iterable[str], settings: TextFeatures) -> set[str]:
    """Every spelling the lookup may try for the corpus' tokens."""
    from privbench.data.text import lookup_candidates

    wanted: set[str] = set()
    for transcript in transcripts:
        for token in tokenize(str(transcript), settings):
            wanted.update(lookup_candidates(token, settings))
    return wanted


def save_vocabulary(path: Path, vectors, wanted: set[str], source: Path) -> None:
    """Keep only the corpus' words of a (possibly huge) word2vec file."""
    words = sorted(word for word in wanted if word in vectors.key_to_index)
    matrix = np.stack([vectors[word] for word in words]).astype(np.float32) if words else np.zeros((0, vectors.vector_size), np.float32)
    buffer = io.BytesIO()
    np.save(buffer, matrix)
    atomic_write_bytes(path.with_suffix(".npy"), buffer.getvalue())
    # The JSON is written last: its presence says the pair is complete.
    atomic_write_json(path, {"source": str(source), "words": words, "dim": int(vectors.vector_size),
                             "sha256": sha256_bytes(canonical_json(words).encode() + matrix.tobytes())})


def load_vocabulary(path: Path) -> tuple[dict[str, np.ndarray], str]:
    """The cached corpus vocabulary and its sha256."""
    document = json.loads(path.read_text())
    matrix = np.load(path.with_suffix(".npy"))
    return dict(zip(document["words"], matrix)), document["sha256"]
