"""`privbench check`: does an encoder keep the promises of the interface?

Like scikit-learn's `check_estimator`, each check names the promise, the
input and what came back. The checks train the encoder at the smoke budget on
a tiny synthetic corpus (6 speakers, 36 utterances, generated once into the
cache), then query it with batches it cannot have seen: a batch of one, a
1-step utterance, a minute-long one, an utterance padded far beyond its end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from privbench.errors import SetupRefused, describe_exception
from privbench.encoders.interface import Batch, Encoder, EncoderSpec, FitReport, LabelAccessError, make_batch
from privbench.data.labels import bin_ratings
from privbench.paths import cache_root
from privbench.protocol import Protocol
from privbench.run.setup_data import labelled_set
from privbench.run.train import are_probabilities
from privbench.encoders.submission import Submission, load_encoder_class

CHECK_TASK = "activation"
CHECK_SEED = 1234
LONG_AUDIO_FRAMES = 6000  # a minute of speech
LONG_TEXT_WORDS = 200
LONG_WAVEFORM_SAMPLES = 60 * 16000
PADDING_TOLERANCE = 1e-4  # the same utterance alone and padded in a batch


@dataclass(frozen=True)
class CheckResult:
    promise: str
    setup: str
    passed: bool
    detail: str = ""

    def line(self) -> str:
        status = "PASS" if self.passed else ("SKIP" if self.detail.startswith("skipped") else "FAIL")
        return f"{status} [{self.setup}] {self.promise}" + (f": {self.detail}" if self.detail else "")


@dataclass(frozen=True)
class CheckCorpus:
    table: pd.DataFrame
    stores: dict[str, dict[str, np.ndarray]]
    train_ids: list[str]
    valid_ids: list[str]
    query_ids: list[str]
    training_speakers: list[str]


def check_corpus(protocol: Protocol) -> CheckCorpus:
    """The tiny synthetic corpus, generated once; features computed in memory."""
    from privbench.data.feature_cache import corpus_vocabulary
    from privbench.data.features import filterbank_of_file, load_word_vectors, normalise, read_audio, to_mono_16k, word_matrix
    from privbench.data.synthetic.generate import MANIFEST, WORD_VECTORS, SyntheticSize, default_location, generate_synthetic_corpus
    from privbench.data.text import tokenize

    size = SyntheticSize(speakers_female=3, speakers_male=3, utterances_per_speaker=6)
    folder = default_location(cache_root() / "check", protocol, size)  # a changed design gets a new folder
    folder = generate_synthetic_corpus(folder, size, protocol=protocol)
    table = pd.read_csv(folder / MANIFEST, keep_default_na=False)
    rules = protocol.corpus("synthetic")
    table[f"{CHECK_TASK}_class"] = bin_ratings(table[CHECK_TASK], rules.edges)
    audio = protocol.features.audio
    matrices = normalise([filterbank_of_file(folder / path, audio) for path in table["audio_path"]],
                         list(table["speaker"]), audio)
    text = protocol.features.text
    vectors = load_word_vectors(folder / WORD_VECTORS, text.dim)
    vocabulary = {word: vectors[word] for word in corpus_vocabulary(table["transcript"], text) if word in vectors.key_to_index}
    ids = list(table["utterance_id"])
    waveforms = {uid: to_mono_16k(*read_audio(folder / path), audio.sample_rate_hz) for uid, path in zip(ids, table["audio_path"])}
    stores = {"audio": dict(zip(ids, matrices)), "waveform": waveforms,
              "text": {uid: word_matrix(tokenize(t, text), vocabulary, text) for uid, t in zip(ids, table["transcript"])}}
    # Speakers F01, M01 validate; F02, M02 are queried; the rest train.
    speakers = sorted(table["speaker"].unique())
    valid_speakers = {s for s in speakers if s.endswith("01")}
    query_speakers = {s for s in speakers if s.endswith("02")}
    training = [s for s in speakers if s not in valid_speakers | query_speakers]
    pick = lambda chosen: list(table.loc[table["speaker"].isin(chosen), "utterance_id"])  # noqa: E731
    return CheckCorpus(table, stores, pick(training), pick(valid_speakers), pick(query_speakers), training)


def _raised(error: BaseException) -> str:
    return f"raised {describe_exception(error)}"


class _SetupChecks:
    """The checks of one setup (modality); results accumulate in `results`."""

    def __init__(self, cls: type[Encoder], spec: EncoderSpec, corpus: CheckCorpus):
        self.cls, self.spec, self.corpus = cls, spec, corpus
        self.results: list[CheckResult] = []
        self.dim: int | None = None

    def record(self, promise: str, problem: str | None) -> bool:
        self.results.append(CheckResult(promise, self.spec.modality, problem is None, problem or ""))
        return problem is None

    def batch(self, ids: list[str], extra_padding: int = 0) -> Batch:
        features = {stream: [self.corpus.stores[stream][uid] for uid in ids] for stream in self.spec.batch_streams}
        batch = make_batch(features)
        if extra_padding:
            padded = {}
            for stream in self.spec.batch_streams:
                values = getattr(batch, stream)  # [B, T, D], or [B, S] for waveforms
                zeros = np.zeros((values.shape[0], extra_padding * (160 if stream == "waveform" else 1), *values.shape[2:]), np.float32)
                padded[stream] = np.concatenate([values, zeros], axis=1)
                padded[f"{stream}_lengths"] = getattr(batch, f"{stream}_lengths")
            batch = Batch(**padded)
        return batch

    def trained(self, record_success: bool = True) -> Encoder | None:
        """Build and fit an encoder; records construction and fit failures (and successes when asked)."""
        corpus = self.corpus
        try:
            encoder = self.cls(self.spec)
        except SetupRefused:
            raise
        except Exception as error:
            self.record("constructs from its spec", f"{self.cls.__name__}(spec) {_raised(error)}")
            return None
        make = lambda ids: labelled_set(corpus.table, ids, corpus.stores, self.spec.batch_streams, CHECK_TASK,  # noqa: E731
                                        corpus.training_speakers, self.spec.seed, self.spec.training.batch_size)
        train, valid = make(corpus.train_ids), make(corpus.valid_ids)
        try:
            report = encoder.fit(train, valid)
        except Exception as error:
            self.record("fit trains on a labelled set", f"fit {_raised(error)}")
            return None
        finally:
            train.close()
            valid.close()
        if not isinstance(report, FitReport):
            self.record("fit trains on a labelled set", f"fit returned {type(report).__name__}, expected privbench.FitReport")
            return None
        if record_success:
            self.record("constructs from its spec", None)
            self.record("fit trains on a labelled set", None)
        return encoder

    def output(self, method: str, encoder: Encoder, batch: Batch, what: str, columns: int | None,
               promise: str | None = None) -> np.ndarray | None:
        """Call embed/predict_proba and check type, dtype, shape and finiteness.

        A failure is recorded under `promise` (default: the method's own promise)."""
        promise = promise or (f"{method} returns float32 [B, D]" if method == "embed" else f"{method} returns [B, {columns}] probabilities")
        try:
            value = getattr(encoder, method)(batch)
        except LabelAccessError as error:
            self.record("no label access outside fit", f"{method} on {what}: {error}")
            return None
        except Exception as error:
            self.record(promise, f"{method} on {what} {_raised(error)}")
            return None
        if not isinstance(value, np.ndarray):
            self.record(promise, f"{method} on {what} returned {type(value).__name__}, expected a numpy array")
            return None
        if method == "embed" and value.dtype != np.float32:
            self.record(promise, f"embed on {what} returned dtype {value.dtype}, expected float32")
            return None
        if method == "predict_proba" and not np.issubdtype(value.dtype, np.floating):
            self.record(promise, f"predict_proba on {what} returned dtype {value.dtype}, expected floating point")
            return None
        expected = f"[{batch.size}, {columns if columns else 'D'}]"
        if value.ndim != 2 or value.shape[0] != batch.size or (columns is not None and value.shape[1] != columns):
            self.record(promise, f"{method} on {what} returned shape {list(value.shape)}, expected {expected}")
            return None
        bad = int((~np.isfinite(value)).sum())
        if bad:
            self.record("finite values", f"{method} on {what} returned {bad} non-finite values (NaN or inf)")
            return None
        return value

    def run(self) -> None:
        corpus, spec = self.corpus, self.spec
        encoder = self.trained()
        if encoder is None:
            return
        query = corpus.query_ids[:8]
        what = f"a batch of {len(query)} utterances"
        embedded = self.output("embed", encoder, self.batch(query), what, None)
        if embedded is None:
            return
        self.dim = embedded.shape[1]
        self.record("embed returns float32 [B, D]", None)
        self.record("finite values", None)
        probabilities = self.output("predict_proba", encoder, self.batch(query), what, spec.n_classes)
        if probabilities is not None:
            sums = probabilities.sum(axis=1)
            worst = int(np.argmax(np.abs(sums - 1)))
            if not are_probabilities(probabilities):
                self.record("predict_proba rows are probabilities", f"row {worst} of {what} sums to {sums[worst]:.6f}"
                            + (f" and holds {probabilities.min():.4g} < 0" if probabilities.min() < 0 else ""))
            else:
                self.record("predict_proba rows are probabilities", None)
        self._edge_inputs(encoder, embedded, query)
        self._determinism(embedded, query)
        if not any(r.promise == "no label access outside fit" for r in self.results):
            self.record("no label access outside fit", None)

    def _edge_inputs(self, encoder: Encoder, embedded: np.ndarray, query: list[str]) -> None:
        first = query[0]
        alone = self._same_width(encoder, self.batch([first]), "a batch of one", "handles a batch of one")
        if alone is not None:
            gap = float(np.max(np.abs(alone[0] - embedded[0])))
            self.record("padding does not change a representation",
                        None if gap <= PADDING_TOLERANCE else
                        f"utterance {first} alone and in a batch of {len(query)} differ by up to {gap:.3g} (tolerance {PADDING_TOLERANCE})")
        padded = self._same_width(encoder, self.batch([first], extra_padding=500), "one utterance padded by 500 extra steps",
                                  "handles padding longer than every utterance")
        if padded is not None and alone is not None:
            gap = float(np.max(np.abs(padded[0] - alone[0])))
            if gap > PADDING_TOLERANCE:
                self.record("padding does not change a representation",
                            f"utterance {first} with 500 extra padded steps differs from it alone by up to {gap:.3g}")
        short = {stream: [self.corpus.stores[stream][first][:1]] for stream in self.spec.batch_streams}
        self._same_width(encoder, make_batch(short), "a 1-step utterance (one frame, one word, one sample)",
                         "handles very short inputs")
        stores = self.corpus.stores
        long = {"audio": np.resize(stores["audio"][first], (LONG_AUDIO_FRAMES, 40)),
                "text": np.resize(stores["text"][first], (LONG_TEXT_WORDS, stores["text"][first].shape[1])),
                "waveform": np.resize(stores["waveform"][first], (LONG_WAVEFORM_SAMPLES,))}
        self._same_width(encoder, make_batch({s: [long[s]] for s in self.spec.batch_streams}),
                         f"a minute-long utterance ({LONG_AUDIO_FRAMES} frames, {LONG_TEXT_WORDS} words, "
                         f"{LONG_WAVEFORM_SAMPLES} samples)", "handles very long inputs")

    def _same_width(self, encoder: Encoder, batch: Batch, what: str, promise: str) -> np.ndarray | None:
        value = self.output("embed", encoder, batch, what, self.dim, promise)
        if value is None:
            return None
        if self.output("predict_proba", encoder, batch, what, self.spec.n_classes, promise) is not None:
            self.record(promise, None)
        return value

    def _determinism(self, embedded: np.ndarray, query: list[str]) -> None:
        again = self.trained(record_success=False)
        if again is None:
            self.record("the same seed gives the same outputs", "a second fit with the same seed failed (see above)")
            return
        second = self.output("embed", again, self.batch(query), f"a batch of {len(query)} utterances", self.dim)
        if second is None:
            return
        gap = float(np.max(np.abs(second - embedded)))
        self.record("the same seed gives the same outputs",
                    None if gap == 0 else f"two encoders fitted with seed {self.spec.seed} embed the same batch "
                                          f"differently (up to {gap:.3g}): seed torch, numpy and random from spec.seed")


def check_representations(submission: Submission, protocol: Protocol,
                          on_result: Callable[[CheckResult], None] | None = None) -> list[CheckResult]:
    """A frozen-representation submission: each corpus' file checked as `evaluate` will check it, against
    the prepared corpus where there is one here (else its format alone)."""
    from privbench.data.corpora.store import load_corpus
    from privbench.errors import PrivbenchError
    from privbench.store.submitted import read_submitted

    results = []
    for corpus_name in sorted(submission.representations):
        path = submission.representation_file(corpus_name)
        try:
            corpus_ids = sorted(load_corpus(corpus_name, protocol).table["utterance_id"])
        except PrivbenchError:
            corpus_ids = None
        try:
            if corpus_ids is None:
                ids, _ = read_submitted(path, None)
                result = CheckResult("its file is well formed", corpus_name, True,
                                     f"skipped against the corpus: {corpus_name} is not prepared here ({len(ids)} ids, format checked)")
            else:
                read_submitted(path, corpus_ids)
                result = CheckResult("covers every utterance of the corpus with finite float32 h", corpus_name, True)
        except PrivbenchError as error:
            result = CheckResult("covers every utterance of the corpus with finite float32 h", corpus_name, False, str(error))
        results.append(result)
        if on_result:
            on_result(result)
    return results


def run_checks(submission: Submission, protocol: Protocol, device: str = "cpu",
               on_result: Callable[[CheckResult], None] | None = None) -> list[CheckResult]:
    """Every check on every setup the submission declares (read it with
    `read_submission`); a frozen front end is checked with the protocol's emotion head on it, frozen
    representations file by file. Raises SubmissionError when its entry cannot be imported."""
    from privbench.encoders.emotion_head import as_encoder
    from privbench.encoders.frozen import FrozenEncoder

    if submission.frozen_representations:
        return check_representations(submission, protocol, on_result)
    cls = load_encoder_class(submission)
    if issubclass(cls, FrozenEncoder):
        cls = as_encoder(cls)
    corpus = check_corpus(protocol)
    budget = protocol.budget("smoke")
    results: list[CheckResult] = []
    accepted = 0
    for modality in submission.setups():
        spec = EncoderSpec(modality=modality, task=CHECK_TASK, n_speakers=len(corpus.training_speakers),
                           config=dict(submission.config), device=device, seed=CHECK_SEED,
                           max_epochs=budget.max_epochs, training=protocol.training, inputs=submission.inputs)
        checks = _SetupChecks(cls, spec, corpus)
        try:
            checks.run()
        except SetupRefused as refusal:
            checks.results = [CheckResult("takes this setup", modality, True, f"skipped: the encoder refuses it ({refusal})")]
        else:
            accepted += 1
        for result in checks.results:
            if on_result:
                on_result(result)
        results.extend(checks.results)
    if not accepted:
        refused = CheckResult("takes at least one setup", "all", False,
                              f"the encoder refused every setup its modalities allow ({', '.join(submission.setups())})")
        results.append(refused)
        if on_result:
            on_result(refused)
    return results


# Every promise `run_checks` reports on, in the order it checks them.
PROMISES = ("constructs from its spec", "fit trains on a labelled set", "embed returns float32 [B, D]", "finite values",
            "predict_proba rows are probabilities", "handles a batch of one", "padding does not change a representation",
            "handles padding longer than every utterance", "handles very short inputs", "handles very long inputs",
            "the same seed gives the same outputs", "no label access outside fit")


def parametrize_with_checks(encoder_dir, device: str = "cpu"):
    """`privbench check` inside a submitter's own pytest suite, one test per setup and promise
    (as scikit-learn's `parametrize_with_checks`):

        from privbench import parametrize_with_checks

        @parametrize_with_checks("submissions/my_encoder")
        def test_my_encoder_keeps_the_promises(check):
            check()

    The checks run once (on the first test) and every test reports its own promise; a setup the
    encoder refuses (SetupRefused) is skipped.
    """
    from pathlib import Path

    import pytest

    from privbench.encoders.submission import read_submission
    from privbench.protocol import get_protocol

    submission = read_submission(Path(encoder_dir), get_protocol())
    results: list[CheckResult] = []

    def make(setup: str, promise: str):
        def check() -> None:
            if not results:
                results.extend(run_checks(submission, get_protocol(), device))
            if any(r.setup == setup and r.detail.startswith("skipped") for r in results):
                pytest.skip(f"{submission.name} refuses the {setup} setup")
            failed = [r for r in results if r.setup == setup and r.promise == promise and not r.passed]
            assert not failed, failed[0].line()
            assert any(r.setup == setup and r.promise == promise for r in results), f"[{setup}] {promise}: not checked"
        return check

    cases = [(setup, promise) for setup in submission.setups() for promise in PROMISES]
    return pytest.mark.parametrize("check", [make(*case) for case in cases], ids=[f"{s}: {p}" for s, p in cases])
