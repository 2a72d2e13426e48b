"""The representation store: training and scoring as two cached steps, frozen front ends, frozen
representations as a submission, and `privbench cache`."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, invoke
from privbench.store.representations import RepresentationSet, TrainRecord


@pytest.fixture
def prepared(isolated, runner, evaluable_corpus):
    result = invoke(runner, "prepare", "synthetic", "--root", str(evaluable_corpus))
    assert result.exit_code == 0, result.output
    return isolated


@pytest.fixture
def counted(monkeypatch):
    """How often each kind of task ran (the executor runs them in this process with --workers 1)."""
    import privbench.run.executor as executor

    calls = {"train": 0, "score": 0, "represent": 0}
    for kind, name in (("train", "run_job"), ("score", "run_score"), ("represent", "run_represent")):
        real = getattr(executor, name)

        def wrapped(spec, real=real, kind=kind):
            calls[kind] += 1
            return real(spec)

        monkeypatch.setattr(executor, name, wrapped)
    return calls


def _bytes(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*.json"))}


GENERAL = ["evaluate", str(REPO / "baselines" / "general"), "--budget", "smoke", "--modality", "audio", "--task", "activation",
           "--workers", "1"]


def test_a_scoring_change_rescores_without_training_and_recreates_the_record_byte_for_byte(prepared, runner, tmp_path,
                                                                                            counted, monkeypatch):
    import privbench.run.plan as plan

    results = tmp_path / "results"
    assert invoke(runner, *GENERAL, "--results", str(results)).exit_code == 0
    assert counted == {"train": 2, "score": 2, "represent": 0}  # one main and one membership job, each scored
    first = _bytes(results)

    real = plan.code_sha256
    monkeypatch.setattr(plan, "code_sha256", lambda kind="train": real(kind) + ("-edited" if kind == "score" else ""))
    again = invoke(runner, *GENERAL, "--results", str(results))
    assert again.exit_code == 0, again.output
    assert counted == {"train": 2, "score": 4, "represent": 0}  # re-scored, not retrained
    assert _bytes(results) == first  # the record is a function of the store: the same bytes

    monkeypatch.setattr(plan, "code_sha256", lambda kind="train": real(kind) + ("-edited" if kind == "train" else ""))
    assert invoke(runner, *GENERAL, "--results", str(results)).exit_code == 0
    assert counted["train"] == 4  # a training change retrains


def test_stored_artifacts_round_trip_and_a_damaged_one_is_made_again(isolated):
    from privbench.store.artifacts import artifact_path

    ids = ("b", "a", "c")
    record = TrainRecord("k" * 64, {"rotation": 0, "seed": 0, "config": {}, "kind": "main"}, ids,
                         np.arange(6, dtype=np.float32).reshape(3, 2), np.full((3, 3), 1 / 3),
                         {"epochs": 1, "best_epoch": 1, "chance_reached": None, "chance_source": None, "gender_uar": None,
                          "history": []}, {"train_s": 1.0, "embed_s": 0.5}, {"torch": "x"}, "2026-01-01T00:00:00+00:00")
    record.write()
    back = TrainRecord.read(record.key)
    assert back is not None and back.ids == ids and np.array_equal(back.h, record.h)
    assert np.array_equal(back.rows(back.h, ["c", "b"]), record.h[[2, 0]])
    artifact_path("train", record.key).write_bytes(b"truncated")
    assert TrainRecord.read(record.key) is None  # read as absent: the job runs again
    shared = RepresentationSet("s" * 64, ids, np.ones((3, 4), np.float32), {"source": "test"})
    shared.write()
    linked = TrainRecord("m" * 64, record.spec, ids, shared.h, record.probabilities, record.fit, record.timings, {}, record.created,
                         representation=shared.key)
    linked.write()
    assert np.array_equal(TrainRecord.read(linked.key).h, shared.h)  # h is read from the shared set


# ---------------------------------------------------------------- frozen representations as a submission

def _frozen_submission(folder: Path, ids: list[str], h: np.ndarray, **arrays) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "submission.toml").write_text(textwrap.dedent("""\
        name = "frozen-test"
        display_name = "Frozen representations (test)"
        authors = ["A. Person"]
        description = "h made elsewhere, submitted as a file."
        modalities = ["audio"]
        representations = { synthetic = "synthetic.npz" }
        """))
    np.savez(folder / "synthetic.npz", ids=np.asarray(ids), h=h, **arrays)
    return folder


def _corpus_ids() -> list[str]:
    from privbench.data.corpora.store import load_corpus
    from privbench.protocol import get_protocol

    return sorted(load_corpus("synthetic", get_protocol()).table["utterance_id"])


def test_frozen_representations_are_evaluated_like_an_encoder_and_marked(prepared, runner, tmp_path, counted):
    ids = _corpus_ids()
    h = np.random.default_rng(0).normal(size=(len(ids), 8)).astype(np.float32)
    folder = _frozen_submission(tmp_path / "frozen", ids[::-1], h[::-1])  # any order of rows will do
    results = tmp_path / "results"
    result = invoke(runner, "evaluate", str(folder), "--budget", "smoke", "--workers", "1", "--results", str(results))
    assert result.exit_code == 0, result.output
    paths = sorted(p.name for p in results.rglob("*.json"))
    assert paths == ["audio-activation.json", "audio-valence.json"]  # audio: the streams h was computed from
    record = json.loads((results / "frozen-test" / "smoke" / "synthetic" / "audio-activation.json").read_text())
    assert record["submission"]["kind"] == "representations"
    assert record["submission"]["representations"] == {"synthetic": "synthetic.npz"}
    assert record["chance_reached"] is None and 0 <= record["metrics"]["leakage"]["mean"] <= 1
    assert counted["represent"] == 0 and counted["train"] == 4  # the emotion head, per job; h is the file's
    check = invoke(runner, "check", str(folder))
    assert check.exit_code == 0, check.output
    assert "PASS [synthetic] covers every utterance of the corpus with finite float32 h" in check.stdout


@pytest.mark.parametrize("damage, message", [
    (lambda ids, h: (ids[1:], h[1:]), "misses utterance {first!r}"),
    (lambda ids, h: (ids + ids[:1], np.concatenate([h, h[:1]])), "id {first!r} appears twice"),
    (lambda ids, h: (ids, np.where(np.arange(len(ids))[:, None] == 2, np.nan, h).astype(np.float32)), "h of {third!r} holds NaN or inf"),
    (lambda ids, h: (ids, h.astype(np.float64)), "h is float64: save it as float32"),
    (lambda ids, h: (ids[:-1] + ["not-an-utterance"], h), "holds id 'not-an-utterance', which the prepared corpus does not have"),
    (lambda ids, h: (ids, h[:-1]), "h has shape"),
])
def test_a_bad_representation_file_is_refused_in_one_line_before_any_training(prepared, runner, tmp_path, counted, damage,
                                                                              message):
    ids = _corpus_ids()
    h = np.random.default_rng(0).normal(size=(len(ids), 8)).astype(np.float32)
    folder = _frozen_submission(tmp_path / "frozen", *damage(ids, h))
    result = invoke(runner, "evaluate", str(folder), "--budget", "smoke", "--workers", "1", "--results", str(tmp_path / "r"))
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"privbench: error: {folder / 'synthetic.npz'}: ")
    assert message.format(first=ids[0], third=ids[2]) in lines[0]
    assert counted == {"train": 0, "score": 0, "represent": 0} and not (tmp_path / "r").exists()


def test_a_frozen_representation_submission_needs_its_corpus_file_and_no_entry(prepared, runner, tmp_path):
    ids = _corpus_ids()
    folder = _frozen_submission(tmp_path / "frozen", ids, np.zeros((len(ids), 4), np.float32))
    missing = invoke(runner, "evaluate", str(folder), "--corpus", "ravdess", "--results", str(tmp_path / "r"))
    assert missing.exit_code == 1 and "corpus 'ravdess' is not prepared" in missing.stderr  # (an unknown name: exit 2)
    text = (folder / "submission.toml").read_text()
    (folder / "submission.toml").write_text(text + 'entry = "encoder:X"\n')
    both = invoke(runner, "evaluate", str(folder), "--results", str(tmp_path / "r"))
    assert both.exit_code == 1 and "give either entry" in both.stderr and "not both" in both.stderr


# ---------------------------------------------------------------- a frozen front end: h once per corpus

def test_a_frozen_front_end_computes_h_once_per_corpus(prepared, runner, tmp_path, counted):
    args = ["evaluate", str(REPO / "controls" / "control-voice"), "--budget", "smoke", "--workers", "1",
            "--results", str(tmp_path / "results")]
    result = invoke(runner, *args)
    assert result.exit_code == 0, result.output
    assert counted["represent"] == 1 and counted["train"] == 4  # both tasks' jobs train the head on one h
    record = json.loads((tmp_path / "results" / "control-voice" / "smoke" / "synthetic" / "audio-valence.json").read_text())
    assert record["submission"]["kind"] == "front end" and "represent_s" in record["timings_s"]
    assert invoke(runner, *args).exit_code == 0 and counted["represent"] == 1  # stored: not computed again


# ---------------------------------------------------------------- privbench cache

def test_cache_shows_the_store_and_prunes_what_no_record_needs(prepared, runner, tmp_path, counted):
    kept, dropped = tmp_path / "kept", tmp_path / "dropped"
    assert invoke(runner, *GENERAL, "--results", str(kept)).exit_code == 0
    assert invoke(runner, *[a if a != "activation" else "valence" for a in GENERAL], "--results", str(dropped)).exit_code == 0
    shown = invoke(runner, "cache", "--results", str(kept))
    assert shown.exit_code == 0 and "needed by no record" in shown.stdout and "privbench cache --prune deletes it" in shown.stdout
    pruned = invoke(runner, "cache", "--results", str(kept), "--prune")
    assert pruned.exit_code == 0 and "pruned 4 artifacts" in pruned.stdout  # the valence jobs and their scores
    trained = counted["train"]
    assert invoke(runner, *GENERAL, "--results", str(kept)).exit_code == 0
    assert counted["train"] == trained  # what the kept record needs is still stored
    missing = invoke(runner, "cache", "--results", str(tmp_path / "nowhere"))
    assert missing.exit_code == 2 and "is not a folder of result records" in missing.stderr  # a usage error
