"""Training throughput of the multimodal priv-c baseline: length bucketing against random batches.

Run: .venv/bin/python -m pytest tests/perf/test_perf_training.py --benchmark-enable --benchmark-columns=min,mean,rounds
(the GRU itself: tests/perf/test_perf_gru.py)
Both variants train the same network (default configuration, seed 0) for
`EPOCHS` epochs on rotation 0's training folds of the full synthetic corpus;
only the batch composition differs. Throughput = training utterances x epochs
/ seconds (the validation pass after each epoch is included in both).
"""

from pathlib import Path

import pytest

from privbench.data.corpora.store import feature_store_folder, load_corpus
from privbench.data.feature_cache import open_store
from privbench.data.folds import rotation
from privbench.encoders.interface import EncoderSpec
from privbench.run.setup_data import labelled_set
from privbench.encoders.submission import load_encoder_class, read_submission

REPO = Path(__file__).resolve().parents[2]
EPOCHS = 3


@pytest.fixture(scope="module")
def priv_c_setup(benchmark_corpus):
    name, protocol = benchmark_corpus
    corpus = load_corpus(name, protocol)
    stores = {stream: open_store(feature_store_folder(corpus, stream)) for stream in ("audio", "text")}
    folds = rotation(0, protocol.folds)
    table = corpus.table
    train_ids = list(table.loc[table["fold"].isin(folds.training_folds), "utterance_id"])
    valid_ids = list(table.loc[table["fold"] == folds.validation_fold, "utterance_id"])
    speakers = sorted(table.loc[table["fold"].isin(folds.training_folds), "speaker"].unique())
    submission = read_submission(REPO / "baselines" / "priv-c", protocol)
    return protocol, table, stores, train_ids, valid_ids, speakers, submission


@pytest.mark.parametrize("threads", [2], indirect=True)
@pytest.mark.parametrize("bucket_batches", [16, 0], ids=["bucketed", "random-order"])
def test_priv_c_multimodal_training_throughput(benchmark, priv_c_setup, threads, bucket_batches: int):
    protocol, table, stores, train_ids, valid_ids, speakers, submission = priv_c_setup
    streams = ("audio", "text")

    def train():
        spec = EncoderSpec("multimodal", "activation", len(speakers), submission.config, "cpu", 0, EPOCHS, protocol.training)
        encoder = load_encoder_class(submission)(spec)
        make = lambda ids: labelled_set(table, ids, stores, streams, "activation", speakers, 0,  # noqa: E731
                                        protocol.training.batch_size, bucket_batches)
        return encoder.fit(make(train_ids), make(valid_ids))

    report = benchmark.pedantic(train, rounds=2, iterations=1, warmup_rounds=0)
    benchmark.extra_info["training_utterances"] = len(train_ids)
    if benchmark.stats:
        benchmark.extra_info["utterances_per_second"] = len(train_ids) * report.epochs / benchmark.stats.stats.min
    # patience 5 cannot stop a 3-epoch fit early: every epoch ran and was validated
    assert report.epochs == EPOCHS and [epoch["epoch"] for epoch in report.history] == list(range(1, EPOCHS + 1))
    assert 1 <= report.best_epoch <= EPOCHS and "valid_emotion_loss" in report.history[-1]
