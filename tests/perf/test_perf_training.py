"""Training throughput of the multimodal priv-c baseline: length bucketing against random batches.

Run: .venv/bin/python -m pytest tests/perf/test_perf_training.py --benchmark-enable --benchmark-columns=min,mean,rounds
Both variants train the same network (default configuration, seed 0) for
`EPOCHS` epochs on rotation 0's training folds of the full synthetic corpus;
only the batch composition differs. Throughput = training utterances x epochs
/ seconds (the validation pass after each epoch is included in both).
"""

from pathlib import Path

import pytest
import torch

from privbench.corpora.store import feature_store_folder, load_corpus
from privbench.feature_cache import open_store
from privbench.folds import rotation
from privbench.interface import EncoderSpec
from privbench.setup_data import labelled_set
from privbench.submission import load_encoder_class, read_submission

REPO = Path(__file__).resolve().parents[2]
EPOCHS = 3


@pytest.fixture(scope="module")
def priv_c_setup(full_synthetic_prepared):
    name, protocol = full_synthetic_prepared
    corpus = load_corpus(name, protocol)
    stores = {stream: open_store(feature_store_folder(corpus, stream)) for stream in ("audio", "text")}
    folds = rotation(0, protocol.folds)
    table = corpus.table
    train_ids = list(table.loc[table["fold"].isin(folds.training_folds), "utterance_id"])
    valid_ids = list(table.loc[table["fold"] == folds.validation_fold, "utterance_id"])
    speakers = sorted(table.loc[table["fold"].isin(folds.training_folds), "speaker"].unique())
    submission = read_submission(REPO / "baselines" / "priv-c", protocol)
    return protocol, table, stores, train_ids, valid_ids, speakers, submission


@pytest.mark.parametrize("bucket_batches", [16, 0], ids=["bucketed", "random-order"])
def test_priv_c_multimodal_training_throughput(benchmark, priv_c_setup, bucket_batches: int):
    protocol, table, stores, train_ids, valid_ids, speakers, submission = priv_c_setup
    torch.set_num_threads(2)
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
    assert report.epochs >= 1


@pytest.mark.parametrize("mode", ["train-forward-backward", "inference-forward"])
def test_acoustic_gru_one_batch_one_thread(benchmark, mode: str):
    """Where a training job's time goes: the default configuration's 2-layer GRU (64 inputs from
    the convolutions, width 32) on one batch of 32 three-second utterances (300 frames), one
    thread as each local worker has. Training pays the backward pass through 300 steps."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(0)
        gru = torch.nn.GRU(64, 32, num_layers=2, batch_first=True)
        frames = torch.randn(32, 300, 64)

        def train_step():
            output, _ = gru(frames)
            output.mean().backward()

        def inference():
            with torch.inference_mode():
                gru(frames)

        benchmark.pedantic(train_step if mode.startswith("train") else inference, rounds=20, iterations=1, warmup_rounds=2)
    finally:
        torch.set_num_threads(threads)
