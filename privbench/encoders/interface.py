"""The submission interface (docs/submitting.md): what an encoder gets and what it must give back.

An encoder sees features only through these types. Training data comes as a
`LabelledSet` (features with emotion, gender and speaker labels); everything
else (validation for the attacker, test, membership data) comes as plain
`Batch`es without labels. After `fit` returns, the evaluator closes both
labelled sets: an encoder that kept them and reads them later fails
`privbench check` ("no label access").
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from privbench.errors import SubmissionError

STREAMS = ("audio", "text")  # the data a corpus offers, which modalities are made of
BATCH_STREAMS = ("audio", "text", "waveform")  # what a Batch may carry
INPUTS = ("filterbank", "text", "waveform")  # what a submission may ask for (submission.toml's `inputs`)
DEFAULT_INPUTS = ("filterbank", "text")


def modality_streams(modality: str) -> tuple[str, ...]:
    """The data streams of a modality (protocol.toml's [setups.modalities]): audio, text or both."""
    from privbench.protocol import get_protocol

    return get_protocol().setups.modalities[modality]


def batch_streams(modality: str, inputs: Sequence[str] = DEFAULT_INPUTS) -> tuple[str, ...]:
    """The Batch fields an encoder taking `inputs` gets in a setup: the audio stream as filterbanks
    ("audio") and/or the waveform ("waveform"), the text stream as word vectors ("text")."""
    fields = []
    for stream in modality_streams(modality):
        if stream == "audio":
            fields += [field for field, source in (("audio", "filterbank"), ("waveform", "waveform")) if source in inputs]
        elif "text" in inputs:
            fields.append("text")
    return tuple(fields)


class LabelAccessError(SubmissionError):
    """An encoder read a labelled set after `fit` returned."""


@dataclass(frozen=True)
class Batch:
    """A batch of utterances' features, padded, with their true lengths.

    - `audio`: float32 [B, T, 40], speaker-z-normalised log mel filterbanks,
      zero after each utterance's `audio_lengths[i]` frames; None when the
      setup has no audio.
    - `text`: float32 [B, W, 300], word vectors (unknown words all zero),
      zero after `text_lengths[i]` words; None when the setup has no text.
    - `waveform`: float32 [B, S], the 16 kHz mono audio itself, as recorded
      (not normalised; values roughly in [-1, 1]), zero after
      `waveform_lengths[i]` samples; only for a submission whose
      submission.toml asks for `inputs = [..., "waveform"]`, else None.
    - `audio_lengths`, `text_lengths`, `waveform_lengths`: int64 [B], every length >= 1.

    What may be assumed: B >= 1; the streams the setup's modality names are
    present, the others are None; rows are utterances in a fixed order, and an
    output row must describe the same utterance. What may not: any particular
    B, T or W (a batch of one, a 1-frame utterance and a minute-long one all
    occur), that T is the longest length (padding may be longer), sorted
    lengths, or that utterances of one speaker arrive together.
    """

    audio: np.ndarray | None = None
    audio_lengths: np.ndarray | None = None
    text: np.ndarray | None = None
    text_lengths: np.ndarray | None = None
    waveform: np.ndarray | None = None
    waveform_lengths: np.ndarray | None = None

    @property
    def size(self) -> int:
        for stream in BATCH_STREAMS:
            lengths = getattr(self, f"{stream}_lengths")
            if lengths is not None:
                return len(lengths)
        return 0

    @property
    def streams(self) -> tuple[str, ...]:
        return tuple(name for name in BATCH_STREAMS if getattr(self, name) is not None)


def pad(matrices: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Stack [T_i, D] matrices into float32 [B, max T, D] (or [T_i] vectors into [B, max T]), zeros
    after each end, and int64 lengths [B]."""
    lengths = np.fromiter((len(m) for m in matrices), dtype=np.int64, count=len(matrices))
    padded = np.zeros((len(matrices), int(lengths.max()), *np.shape(matrices[0])[1:]), dtype=np.float32)
    for i, matrix in enumerate(matrices):
        padded[i, : len(matrix)] = matrix
    return padded, lengths


def make_batch(features: Mapping[str, Sequence[np.ndarray]]) -> Batch:
    """A `Batch` from per-stream lists of per-utterance matrices (stream -> [matrix per utterance])."""
    fields: dict[str, np.ndarray] = {}
    for stream, matrices in features.items():
        fields[stream], fields[f"{stream}_lengths"] = pad(matrices)
    return Batch(**fields)


@dataclass(frozen=True)
class LabelledBatch:
    """A training batch: the features and, per row, its labels (int64 [B] each).

    `emotion` is the task's class (0 low, 1 mid, 2 high), `gender` 0 = F and
    1 = M, `speaker` an index 0..n_speakers-1 among the training set's
    speakers, or -1 for a speaker the training set does not hold (every
    validation speaker: folds are speaker-independent).
    """

    batch: Batch
    emotion: np.ndarray
    gender: np.ndarray
    speaker: np.ndarray


class LabelledSet:
    """Labelled utterances that yield shuffled, length-bucketed batches.

    Each call of `batches()` is one epoch: the utterances are shuffled with
    the set's seed and the epoch number, cut into pools of `bucket_batches`
    batches, sorted by length within a pool (so a batch pads little), and the
    batches are shuffled again. The same seed gives the same epochs.
    `bucket_batches=0` turns bucketing off (random batches padded to their
    longest item), for comparison.
    """

    def __init__(self, utterance_ids: Sequence[str], streams: Mapping[str, Any], emotion: np.ndarray,
                 gender: np.ndarray, speaker: np.ndarray, n_speakers: int, seed: int,
                 batch_size: int = 32, bucket_batches: int = 16):
        self._ids = list(utterance_ids)
        self._streams = dict(streams)  # stream -> anything indexable by utterance id ([T, D] matrices)
        self._labels = {"emotion": np.asarray(emotion, np.int64), "gender": np.asarray(gender, np.int64),
                        "speaker": np.asarray(speaker, np.int64)}
        self.n_speakers = int(n_speakers)
        self.batch_size = int(batch_size)
        self.bucket_batches = int(bucket_batches)
        self._seed = int(seed)
        self._epoch = 0
        self._closed = False
        self._sort_key = np.array([self._length(uid) for uid in self._ids], dtype=np.int64)

    def _length(self, utterance_id: str) -> int:
        stream = "audio" if "audio" in self._streams else next(iter(self._streams))
        store = self._streams[stream]
        return store.length(utterance_id) if hasattr(store, "length") else len(store[utterance_id])

    def _check_open(self) -> None:
        if self._closed:
            raise LabelAccessError("the encoder read a labelled set after fit returned: labels are only for fit")

    def close(self) -> None:
        """Called by the evaluator when `fit` returns; any later use raises LabelAccessError."""
        self._closed = True

    def __len__(self) -> int:
        return len(self._ids)

    @property
    def streams(self) -> tuple[str, ...]:
        return tuple(name for name in BATCH_STREAMS if name in self._streams)

    def labels(self, head: str) -> np.ndarray:
        """All labels of one kind ("emotion", "gender" or "speaker"), int64 [N], in set order."""
        self._check_open()
        return self._labels[head]

    def batch_order(self, epoch: int) -> list[np.ndarray]:
        """The row indices of each batch of one epoch (what `batches()` yields, without features)."""
        rng = np.random.default_rng([self._seed, epoch])
        order = rng.permutation(len(self._ids))
        if self.bucket_batches <= 0:
            return [order[i:i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        pool = self.batch_size * self.bucket_batches
        batches = []
        for start in range(0, len(order), pool):
            members = order[start:start + pool]
            members = members[np.argsort(self._sort_key[members], kind="stable")]
            batches.extend(members[i:i + self.batch_size] for i in range(0, len(members), self.batch_size))
        return [batches[i] for i in rng.permutation(len(batches))]

    def batches(self, shuffle: bool = True) -> Iterator[LabelledBatch]:
        """One epoch of batches; `shuffle=False` gives a fixed order (for validation
        passes): length order when bucketing, else set order."""
        self._check_open()
        if shuffle:
            self._epoch += 1
            groups = self.batch_order(self._epoch)
        else:
            # A pass in fixed order; sorted by length when bucketing, so it pads little too.
            order = np.argsort(self._sort_key, kind="stable") if self.bucket_batches > 0 else np.arange(len(self._ids))
            groups = [order[i:i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        for rows in groups:
            self._check_open()
            ids = [self._ids[i] for i in rows]
            batch = make_batch({name: [self._streams[name][uid] for uid in ids] for name in self.streams})
            yield LabelledBatch(batch, *(self._labels[head][rows] for head in ("emotion", "gender", "speaker")))

    def mapped(self, convert: Callable[[Batch], Batch]) -> MappedSet:
        """This set with every batch passed through `convert` (labels, epochs and closing unchanged):
        for encoders that turn their inputs into other features first (waveforms into anonymised
        filterbanks, or into a frozen upstream's hidden states)."""
        return MappedSet(self, convert)

    def unlabelled(self) -> Iterator[Batch]:
        """The set's features in set order, without labels."""
        for labelled in self.batches(shuffle=False):
            yield labelled.batch


class MappedSet:
    """A LabelledSet seen through a batch conversion (LabelledSet.mapped); what the recipe needs of a set."""

    def __init__(self, inner: LabelledSet, convert: Callable[[Batch], Batch]):
        self.inner, self.convert = inner, convert
        self.n_speakers, self.batch_size = inner.n_speakers, inner.batch_size

    def __len__(self) -> int:
        return len(self.inner)

    @property
    def streams(self) -> tuple[str, ...]:
        return self.inner.streams

    def labels(self, head: str) -> np.ndarray:
        return self.inner.labels(head)

    def batches(self, shuffle: bool = True) -> Iterator[LabelledBatch]:
        for labelled in self.inner.batches(shuffle):
            yield LabelledBatch(self.convert(labelled.batch), labelled.emotion, labelled.gender, labelled.speaker)


@dataclass(frozen=True)
class EncoderSpec:
    """What an encoder is built for; given to `Encoder.__init__`.

    - `modality`: "audio", "text" or "multimodal" (batches then carry both streams).
    - `task`: "activation" or "valence"; the emotion classes are 0 low, 1 mid, 2 high.
    - `n_speakers`: how many speakers the training set holds (speaker labels 0..n-1).
    - `config`: the hyperparameters chosen for this job (from submission.toml's
      `[config]`, or a draw from its `[search]`), plain TOML values.
    - `device`: "cpu" or "cuda" (already resolved from --device auto).
    - `seed`: seed everything random with it; the same spec must give the same outputs.
    - `max_epochs`: the budget's limit on training epochs.
    - `training`: the protocol's recipe (privbench.protocol.Training) for encoders that follow it.
    - `inputs`: what the submission asked for (submission.toml's `inputs`); `batch_streams`
      names the Batch fields it gets.
    """

    modality: str
    task: str
    n_speakers: int
    config: Mapping[str, Any]
    device: str
    seed: int
    max_epochs: int
    training: Any = None
    n_classes: int = 3
    inputs: tuple[str, ...] = DEFAULT_INPUTS

    @property
    def streams(self) -> tuple[str, ...]:
        """The modality's data streams: ("audio",), ("text",) or ("audio", "text")."""
        return modality_streams(self.modality)

    @property
    def batch_streams(self) -> tuple[str, ...]:
        """The Batch fields this encoder gets: "audio" (filterbanks), "waveform", "text"."""
        return batch_streams(self.modality, self.inputs)


@dataclass
class FitReport:
    """What `fit` tells the evaluator.

    - `epochs`: epochs trained; `best_epoch`: the epoch whose weights were kept (1-based).
    - `chance_reached`: for an encoder with a gender adversary, whether the kept
      epoch's validation gender UAR is within the protocol's tolerance of 0.5;
      None for an encoder that makes no such claim.
    - `history`: one dict per epoch (losses, validation metrics), for the record.
    - `validation`: the kept epoch's validation metrics (at least "emotion_uar" if known).
    - `chance_check`: who decided `chance_reached`: "privbench" when privbench's recipe
      (`train_network`) made this report, else "self_reported" (the record says so).
    """

    epochs: int
    best_epoch: int
    chance_reached: bool | None = None
    history: list[dict[str, float]] = field(default_factory=list)
    validation: dict[str, float] = field(default_factory=dict)
    chance_check: str = "self_reported"


class Encoder(abc.ABC):
    """A submission's encoder: trained on labelled data, then frozen and queried.

    The evaluator builds one encoder per job (`Encoder(spec)`), calls `fit`
    once, then `embed` and `predict_proba` on unlabelled batches as often as
    it likes, in any batch sizes. The representation from `embed` is what
    "leaves the device": the privacy attacks see only it.
    """

    def __init__(self, spec: EncoderSpec):
        self.spec = spec

    @abc.abstractmethod
    def fit(self, train: LabelledSet, valid: LabelledSet) -> FitReport:
        """Train on `train`, select (early stopping) on `valid`. Both sets are
        closed when this returns. Must be deterministic for a given spec.seed."""

    @abc.abstractmethod
    def embed(self, batch: Batch) -> np.ndarray:
        """The representation h: float32 [B, D], finite, D the same for every batch,
        row i depending only on utterance i (not on padding or batch-mates)."""

    @abc.abstractmethod
    def predict_proba(self, batch: Batch) -> np.ndarray:
        """Emotion class probabilities [B, spec.n_classes], finite, each row summing to 1."""
