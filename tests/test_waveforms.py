"""Waveform encoders: the `inputs` of submission.toml, Batch.waveform, the waveform cache, check, and mcadams."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest
import soundfile

from conftest import REPO, invoke
from privbench.encoders.interface import batch_streams, make_batch

WAVEFORM_FIELDS = '''
    name = "wavy"
    display_name = "Wavy"
    authors = ["A. Person"]
    description = "Energy statistics of the raw waveform."
    entry = "encoder:Wavy"
    modalities = ["audio"]
    inputs = ["waveform"]
'''

WAVEFORM_ENCODER = '''
import numpy as np
from privbench import Encoder, FitReport

class Wavy(Encoder):
    def fit(self, train, valid):
        assert all(b.batch.audio is None and b.batch.waveform.ndim == 2 for b in train.batches())
        return FitReport(epochs=1, best_epoch=1)

    def _features(self, batch):
        rows = [batch.waveform[i, :n] for i, n in enumerate(batch.waveform_lengths)]
        return np.array([[np.abs(w).mean(), (w ** 2).mean(), np.abs(np.diff(w, prepend=0)).mean()] for w in rows], np.float32)

    def embed(self, batch):
        return self._features(batch)

    def predict_proba(self, batch):
        logits = self._features(batch) * [1.0, 2.0, 3.0]
        e = np.exp(logits - logits.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)
'''


def _submission(folder: Path, fields: str, code: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "submission.toml").write_text(textwrap.dedent(fields))
    (folder / "encoder.py").write_text(textwrap.dedent(code))
    return folder


def test_inputs_choose_the_batch_fields():
    assert batch_streams("audio") == ("audio",) and batch_streams("multimodal") == ("audio", "text")
    assert batch_streams("audio", ("waveform",)) == ("waveform",)
    assert batch_streams("multimodal", ("filterbank", "waveform", "text")) == ("audio", "waveform", "text")
    batch = make_batch({"waveform": [np.ones(5, np.float32), np.ones(3, np.float32)]})
    assert batch.waveform.shape == (2, 5) and list(batch.waveform_lengths) == [5, 3] and batch.size == 2
    assert not batch.waveform[1, 3:].any() and batch.streams == ("waveform",)


def test_a_waveform_encoder_passes_check_and_a_padding_dependent_one_fails(isolated, runner, tmp_path):
    good = invoke(runner, "check", str(_submission(tmp_path / "good", WAVEFORM_FIELDS, WAVEFORM_ENCODER)))
    assert good.exit_code == 0, good.output
    assert "PASS [audio] handles very short inputs" in good.stdout and "PASS [audio] handles very long inputs" in good.stdout
    assert good.stdout.rstrip().splitlines()[-1].startswith("all 12 checks passed for wavy")
    leaky = WAVEFORM_ENCODER.replace("return self._features(batch)", "return self._features(batch) * batch.waveform.shape[1]")
    bad = invoke(runner, "check", str(_submission(tmp_path / "bad", WAVEFORM_FIELDS, leaky)))
    assert bad.exit_code == 1
    assert "FAIL [audio] padding does not change a representation" in bad.stdout


@pytest.mark.parametrize("change, message", [
    (('inputs = ["waveform"]', 'inputs = ["video"]'), "inputs ['video'] must be a non-empty list of 'filterbank', 'text', 'waveform'"),
    (('inputs = ["waveform"]', 'inputs = ["text"]'), 'modalities include "audio": inputs must include "filterbank" or "waveform"'),
])
def test_malformed_inputs_are_named_in_one_line(isolated, runner, tmp_path, change, message):
    folder = _submission(tmp_path / "sub", WAVEFORM_FIELDS.replace(*change), WAVEFORM_ENCODER)
    result = invoke(runner, "check", str(folder))
    assert result.exit_code == 1 and result.stderr == f"privbench: error: {folder / 'submission.toml'}: {message}\n"


def test_the_waveform_cache_gives_back_the_audio(isolated, evaluable_corpus):
    from privbench.data.corpora.store import load_corpus
    from privbench.data.feature_cache import open_store
    from privbench.data.prepare import ensure_waveforms, prepare_corpus
    from privbench.protocol import get_protocol

    protocol = get_protocol()
    prepare_corpus("synthetic", protocol, evaluable_corpus)
    corpus = load_corpus("synthetic", protocol)
    notes: list[str] = []
    store = open_store(ensure_waveforms(corpus, protocol, notes.append))
    assert len(notes) == 1 and "caching the waveforms of synthetic" in notes[0]
    ensure_waveforms(load_corpus("synthetic", protocol), protocol, notes.append)
    assert len(notes) == 1  # cached once
    row = corpus.table.iloc[0]
    audio, rate = soundfile.read(row["audio_path"], dtype="float32")
    assert rate == 16000 and store[row["utterance_id"]].dtype == np.float32
    np.testing.assert_allclose(store[row["utterance_id"]], audio, atol=1 / 32768)


def test_mcadams_evaluates_from_waveforms_cached_on_first_use(isolated, runner, evaluable_corpus, tmp_path):
    assert invoke(runner, "prepare", "synthetic", "--root", str(evaluable_corpus)).exit_code == 0
    results = tmp_path / "results"
    args = ["evaluate", str(REPO / "baselines" / "mcadams"), "--budget", "smoke", "--workers", "1", "--task", "activation",
            "--results", str(results)]
    first = invoke(runner, *args)
    assert first.exit_code == 0, first.output
    assert "caching the waveforms of synthetic" in first.stderr
    assert [p.name for p in results.rglob("*.json")] == ["audio-activation.json"]
    again = invoke(runner, *args)
    assert again.exit_code == 0 and "caching the waveforms" not in again.stderr


@pytest.fixture
def tiny_ssl(tmp_path) -> Path:
    """submissions/ssl_upstream with a tiny randomly initialised WavLM (no checkpoint can be downloaded in CI)."""
    import shutil

    folder = tmp_path / "ssl_upstream"
    shutil.copytree(REPO / "submissions" / "ssl_upstream", folder)
    toml = folder / "submission.toml"
    toml.write_text(toml.read_text().replace('checkpoint = "microsoft/wavlm-base-plus"', 'checkpoint = "random:tiny"'))
    return folder


def test_the_ssl_upstream_example_passes_check_and_evaluates(isolated, runner, evaluable_corpus, tiny_ssl, tmp_path):
    checked = invoke(runner, "check", str(tiny_ssl))
    assert checked.exit_code == 0, checked.output
    assert checked.stdout.rstrip().splitlines()[-1].startswith("all 12 checks passed for ssl-upstream")
    assert invoke(runner, "prepare", "synthetic", "--root", str(evaluable_corpus)).exit_code == 0
    results = tmp_path / "results"
    evaluated = invoke(runner, "evaluate", str(tiny_ssl), "--budget", "smoke", "--workers", "1", "--task", "valence",
                       "--results", str(results))
    assert evaluated.exit_code == 0, evaluated.output
    record = json.loads(next(results.rglob("audio-valence.json")).read_text())
    assert record["submission"]["inputs"] == ["waveform"] and record["encoder"]["name"] == "ssl-upstream"
