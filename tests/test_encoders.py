"""The encoder interface, building blocks, training recipe, submissions and `privbench check`."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import REPO, invoke
from privbench import EncoderSpec, LabelledSet
from privbench.encoders.blocks import AcousticStream, GradientReversal, LexicalStream, masked_mean
from privbench.errors import SetupRefused
from privbench.encoders.interface import LabelAccessError
from privbench.protocol import get_protocol
from privbench.encoders.recipe import _select, class_weights
from privbench.measures import chance_distance
from privbench.encoders.submission import folder_sha256, load_encoder_class, read_submission

BASELINES = ["general", "priv-c", "priv-e", "priv-speaker", "priv-multi", "mcadams"]


# ---------------------------------------------------------------- building blocks

@pytest.mark.parametrize("strength", [0.3, 1.0, 2.5])
def test_gradient_reversal_multiplies_the_gradient_by_minus_lambda(strength: float):
    torch.manual_seed(0)
    values = torch.randn(4, 6, requires_grad=True)
    weights = torch.randn(6, 3)
    (values @ weights).pow(2).sum().backward()
    plain = values.grad.clone()
    values.grad = None
    layer = GradientReversal(strength)
    reversed_out = layer(values)
    assert torch.equal(reversed_out, values)  # identity forward
    (reversed_out @ weights).pow(2).sum().backward()
    assert torch.equal(values.grad, -strength * plain)


def test_gradient_reversal_strength_can_change_between_steps():
    layer = GradientReversal(0.5)
    values = torch.ones(3, requires_grad=True)
    layer(values).sum().backward()
    assert torch.equal(values.grad, torch.full((3,), -0.5))
    layer.strength = 2.0
    values.grad = None
    layer(values).sum().backward()
    assert torch.equal(values.grad, torch.full((3,), -2.0))


def test_masked_mean_ignores_padding():
    values = torch.tensor([[[1.0], [3.0], [100.0]], [[2.0], [4.0], [6.0]]])
    assert masked_mean(values, torch.tensor([2, 3])).flatten().tolist() == [2.0, 4.0]


@pytest.mark.parametrize("stream_kind", ["acoustic", "lexical"])
def test_streams_give_the_same_output_whatever_the_padding(stream_kind: str):
    torch.manual_seed(0)
    stream = (AcousticStream(40, 3, 2, 16, 2, 8) if stream_kind == "acoustic" else LexicalStream(300, 2, 8)).eval()
    dim = 40 if stream_kind == "acoustic" else 300
    utterance = torch.randn(1, 17, dim)
    lengths = torch.tensor([17])
    with torch.no_grad():
        alone = stream(utterance, lengths)
        for extra in (1, 5, 200):
            padded = torch.cat([utterance, torch.zeros(1, extra, dim)], dim=1)
            assert torch.allclose(stream(padded, lengths), alone, atol=1e-6), extra


# ---------------------------------------------------------------- data the encoder sees

def _toy_set(seed: int, bucket_batches: int = 16, n: int = 100) -> LabelledSet:
    rng = np.random.default_rng(0)
    store = {f"u{i:03d}": rng.normal(size=(int(rng.integers(5, 300)), 40)).astype(np.float32) for i in range(n)}
    labels = np.arange(n) % 3
    return LabelledSet(list(store), {"audio": store}, labels, np.arange(n) % 2, np.arange(n) % 4, 4, seed,
                       batch_size=8, bucket_batches=bucket_batches)


def test_labelled_set_yields_every_utterance_once_per_epoch_in_seeded_order():
    first, same, other = _toy_set(1), _toy_set(1), _toy_set(2)
    order = [rows.tolist() for rows in first.batch_order(1)]
    assert sorted(i for rows in order for i in rows) == list(range(100))
    assert order == [rows.tolist() for rows in same.batch_order(1)]
    assert order != [rows.tolist() for rows in other.batch_order(1)]
    assert order != [rows.tolist() for rows in first.batch_order(2)]  # each epoch reshuffles


def test_bucketing_pads_less_than_random_batches():
    def padding(labelled_set: LabelledSet) -> int:
        total = 0
        for labelled in labelled_set.batches():
            total += int(labelled.batch.audio.shape[1] * labelled.batch.size - labelled.batch.audio_lengths.sum())
        return total

    assert padding(_toy_set(1)) < padding(_toy_set(1, bucket_batches=0)) / 3


def test_labelled_batches_carry_padded_float32_features_lengths_and_labels():
    labelled = next(_toy_set(1).batches())
    batch = labelled.batch
    assert batch.audio.dtype == np.float32 and batch.audio_lengths.dtype == np.int64 and batch.text is None
    assert batch.audio.shape[:2] == (8, batch.audio_lengths.max())
    for i, length in enumerate(batch.audio_lengths):
        assert not batch.audio[i, length:].any()
    assert labelled.emotion.shape == labelled.gender.shape == labelled.speaker.shape == (8,)


def test_a_closed_set_refuses_every_read():
    labelled_set = _toy_set(1)
    labelled_set.close()
    with pytest.raises(LabelAccessError):
        next(labelled_set.batches())
    with pytest.raises(LabelAccessError):
        labelled_set.labels("gender")


# ---------------------------------------------------------------- recipe

def test_class_weights_are_inverse_frequency_with_mean_one():
    weights = class_weights(np.array([0, 0, 0, 1, 2, 2, -1]), 4)
    assert weights[3] == 0  # absent class
    np.testing.assert_allclose(weights[:3].numpy().mean(), 1.0, rtol=1e-6)
    np.testing.assert_allclose(weights[1] / weights[0], 3.0, rtol=1e-6)


def _history(losses, genders):
    return [{"valid_emotion_loss": loss, "valid_gender_uar": gender} for loss, gender in zip(losses, genders)]


def test_selection_keeps_the_best_loss_among_epochs_at_chance():
    history = _history([0.9, 0.5, 0.7, 0.6], [0.52, 0.80, 0.54, 0.70])
    assert _select(history, ["gender"], 0.05) == (2, True)  # epoch 1 has the best loss but gender 0.80
    assert _select(history, [], 0.05) == (1, None)  # without an adversary: best loss


def test_a_confidently_wrong_head_is_not_at_chance():
    # Epoch 0 has the best loss and gender UAR 0.2: flipping that head recovers gender (0.8), so the
    # two-sided check refuses it and keeps epoch 1 (0.52). Version 1 (UAR <= 0.55) kept epoch 0.
    history = _history([0.4, 0.6, 0.9], [0.20, 0.52, 0.50])
    assert _select(history, ["gender"], 0.05) == (1, True)


def test_the_chance_edge_is_the_same_on_both_sides_of_one_half():
    # 11/20 = 0.55 and 9/20 = 0.45 are both exactly 0.05 from chance, and both are at chance
    # (float subtraction alone puts 0.55 at 0.05000000000000004, outside the tolerance).
    assert _select(_history([0.4, 0.9], [11 / 20, 0.50]), ["gender"], 0.05) == (0, True)
    assert _select(_history([0.4, 0.9], [9 / 20, 0.50]), ["gender"], 0.05) == (0, True)
    assert _select(_history([0.4, 0.9], [0.5501, 0.50]), ["gender"], 0.05) == (1, True)
    # the fallback ties 0.40 and 0.60 (both 0.1 away) and keeps the earlier epoch either way
    assert _select(_history([0.9, 0.5], [0.40, 0.60]), ["gender"], 0.05) == (0, False)
    assert _select(_history([0.9, 0.5], [0.60, 0.40]), ["gender"], 0.05) == (0, False)
    assert chance_distance([0.55]) == chance_distance([0.45]) == 0.05


def test_selection_falls_back_to_the_epoch_closest_to_chance():
    # None within 0.05 of 0.5: the fallback is the smallest |UAR - 0.5| (0.57), not the lowest UAR (0.30).
    assert _select(_history([0.9, 0.5, 0.7, 0.6], [0.60, 0.80, 0.57, 0.30]), ["gender"], 0.05) == (2, False)
    # several gender heads (priv-e): an epoch counts by its farthest head
    two_heads = [{"valid_emotion_loss": 0.5, "valid_gender_audio_uar": 0.5, "valid_gender_text_uar": 0.25},
                 {"valid_emotion_loss": 0.7, "valid_gender_audio_uar": 0.54, "valid_gender_text_uar": 0.47}]
    assert _select(two_heads, ["gender_audio", "gender_text"], 0.05) == (1, True)


# ---------------------------------------------------------------- submissions

def _write_submission(folder: Path, toml_fields: str, code: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "submission.toml").write_text(textwrap.dedent(toml_fields))
    (folder / "encoder.py").write_text(textwrap.dedent(code))
    return folder


GOOD_FIELDS = '''
    name = "toy"
    display_name = "Toy"
    authors = ["A. Person"]
    description = "A mean-pooling toy."
    entry = "encoder:Toy"
    modalities = ["audio"]
'''


@pytest.mark.parametrize("change, message", [
    (('name = "toy"', 'name = "Toy_1"'), "name 'Toy_1' must be lower-case letters and digits with single hyphens inside"),
    (('entry = "encoder:Toy"', 'entry = "missing:Toy"'), "entry 'missing:Toy' names missing.py, which is not in"),
    (('entry = "encoder:Toy"', 'entry = "encoder"'), "entry 'encoder' must be module:Class"),
    (('modalities = ["audio"]', 'modalities = ["video"]'), "modalities ['video'] must be a non-empty list of 'audio', 'text'"),
    (('authors = ["A. Person"]', 'authors = []'), "authors must be a non-empty list of names"),
    (('display_name = "Toy"', 'display_name = "Toy"\nurl = "javascript:alert(1)"'), "url 'javascript:alert(1)' must start with http"),
    (('display_name = "Toy"', 'display_name = "Toy"\ncolour = "red"'), "unknown field 'colour'"),
    (('display_name = "Toy"', 'display_name = "Toy"\nlicence = ["MIT"]'), "licence must be a non-empty string"),
    (('description = "A mean-pooling toy."', ''), "missing field 'description'"),
    (('name = "toy"', 'name = "toy'), "not valid TOML"),
])
def test_malformed_submission_toml_is_named_in_one_line(isolated, runner, tmp_path, change, message):
    folder = _write_submission(tmp_path / "sub", GOOD_FIELDS.replace(*change), "")
    result = invoke(runner, "check", str(folder))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"privbench: error: {folder / 'submission.toml'}: ")
    assert message in result.stderr and result.stderr.count("\n") == 1


def test_a_folder_without_submission_toml_says_how_to_start(isolated, runner, tmp_path):
    result = invoke(runner, "check", str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr == f"privbench: error: {tmp_path} has no submission.toml: copy submissions/my_encoder/ to start one\n"


def test_submission_sha256_covers_files_but_not_caches(tmp_path):
    folder = _write_submission(tmp_path / "sub", GOOD_FIELDS, "x = 1\n")
    digest = folder_sha256(folder)
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "encoder.cpython-311.pyc").write_bytes(b"junk")
    (folder / ".DS_Store").write_bytes(b"junk")
    assert folder_sha256(folder) == digest
    (folder / "weights.txt").write_text("1")
    assert folder_sha256(folder) != digest
    (folder / "weights.txt").unlink()
    (folder / "encoder.py").write_text("x = 2\n")
    assert folder_sha256(folder) != digest


def test_entry_is_imported_by_path_without_touching_sys_path(tmp_path):
    folder = _write_submission(tmp_path / "sub", GOOD_FIELDS, '''
        from .helpers import WIDTH
        from privbench.encoders.paper_encoder import PaperEncoder

        class Toy(PaperEncoder):
            width = WIDTH
    ''')
    (folder / "helpers.py").write_text("WIDTH = 7\n")
    before = list(sys.path)
    cls = load_encoder_class(read_submission(folder, get_protocol()))
    assert cls.width == 7 and sys.path == before


def test_baselines_take_the_protocols_default_configuration_and_grid():
    protocol = get_protocol()
    submission = read_submission(REPO / "baselines" / "priv-c", protocol)
    assert submission.config["lambda"] == protocol.training.default_config.lambda_
    assert submission.search["lambda"] == list(protocol.training.grid.lambda_)
    assert submission.search["conv_kernels"] == list(protocol.training.grid.conv_kernels)
    assert submission.setups() == ("audio", "text", "multimodal")


def test_priv_e_refuses_a_unimodal_setup():
    protocol = get_protocol()
    submission = read_submission(REPO / "baselines" / "priv-e", protocol)
    cls = load_encoder_class(submission)
    spec = EncoderSpec("audio", "activation", 4, submission.config, "cpu", 0, 2, protocol.training)
    with pytest.raises(SetupRefused, match="PrivE puts an adversary on each stream, so it needs the multimodal setup; audio has one stream"):
        cls(spec)


# ---------------------------------------------------------------- privbench check

TOY_ENCODER = '''
import numpy as np
from privbench import Encoder, FitReport

class Toy(Encoder):
    def __init__(self, spec):
        super().__init__(spec)
        self.rng = np.random.default_rng(spec.seed)
        self.projection = self.rng.normal(size=(40, 3)).astype(np.float32)

    def fit(self, train, valid):
        self.mean = np.mean([b.batch.audio.mean() for b in train.batches()])
        return FitReport(epochs=1, best_epoch=1)

    def _pooled(self, batch):
        mask = np.arange(batch.audio.shape[1])[None, :] < batch.audio_lengths[:, None]
        return (batch.audio * mask[..., None]).sum(1) / batch.audio_lengths[:, None]

    def embed(self, batch):
        return self._pooled(batch).astype(np.float32)

    def predict_proba(self, batch):
        logits = self._pooled(batch) @ self.projection
        e = np.exp(logits - logits.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)
'''

BROKEN = {
    "nan": (("return self._pooled(batch).astype(np.float32)",
             "h = self._pooled(batch).astype(np.float32); h[0, 0] = np.nan; return h"),
            "FAIL [audio] finite values: embed on a batch of 8 utterances returned 1 non-finite values (NaN or inf)"),
    "shape": (("return self._pooled(batch).astype(np.float32)", "return self._pooled(batch).astype(np.float32).T"),
              "FAIL [audio] embed returns float32 [B, D]: embed on a batch of 8 utterances returned shape [40, 8], expected [8, D]"),
    "dtype": (("return self._pooled(batch).astype(np.float32)", "return self._pooled(batch).astype(np.float64)"),
              "FAIL [audio] embed returns float32 [B, D]: embed on a batch of 8 utterances returned dtype float64, expected float32"),
    "nondeterministic": (("self.rng = np.random.default_rng(spec.seed)", "self.rng = np.random.default_rng()"),
                         None),
    "crash": (("self.mean = np.mean(", "raise RuntimeError('out of cheese'); self.mean = np.mean("),
              "FAIL [audio] fit trains on a labelled set: fit raised RuntimeError: out of cheese (at encoder.py:"),
    "labels": (("return self._pooled(batch).astype(np.float32)",
                "self.train.labels('gender'); return self._pooled(batch).astype(np.float32)"),
               "FAIL [audio] no label access outside fit: embed on a batch of 8 utterances: the encoder read a labelled set after fit returned"),
}


def test_a_correct_toy_encoder_passes_check(isolated, runner, tmp_path):
    folder = _write_submission(tmp_path / "toy", GOOD_FIELDS, TOY_ENCODER)
    result = invoke(runner, "check", str(folder))
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.stdout and "PASS [audio] no label access outside fit" in result.stdout
    assert result.stdout.rstrip().splitlines()[-1].startswith("all 12 checks passed for toy")


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_broken_encoders_fail_check_with_a_precise_message(isolated, runner, tmp_path, kind):
    (old, new), expected = BROKEN[kind]
    code = TOY_ENCODER.replace(old, new)
    if kind == "labels":
        code = code.replace("def fit(self, train, valid):", "def fit(self, train, valid):\n        self.train = train")
    if kind == "nondeterministic":
        code = code.replace("return self._pooled(batch).astype(np.float32)",
                            "return (self._pooled(batch) + self.rng.normal()).astype(np.float32)")
    assert code != TOY_ENCODER
    result = invoke(runner, "check", str(_write_submission(tmp_path / kind, GOOD_FIELDS, code)))
    assert result.exit_code == 1
    if kind == "nondeterministic":
        expected = "FAIL [audio] the same seed gives the same outputs: two encoders fitted with seed 1234 embed the same batch differently"
    assert expected in result.stdout, result.stdout
    assert result.stderr.splitlines()[-1].startswith("privbench: error: ")


@pytest.mark.parametrize("folder", [f"baselines/{name}" for name in BASELINES] + ["submissions/my_encoder"])
def test_every_baseline_and_the_template_pass_check(isolated, runner, folder):
    result = invoke(runner, "check", str(REPO / folder))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "FAIL" not in result.stdout


def test_the_public_interface_is_importable_from_the_package():
    import privbench
    from privbench.encoders import interface

    for name in ("Encoder", "EncoderSpec", "Batch", "LabelledSet", "FitReport"):
        assert getattr(privbench, name) is getattr(interface, name), name  # one definition, re-exported


def test_parametrize_with_checks_gives_one_test_per_promise_for_a_submitters_suite(isolated, tmp_path):
    import privbench

    good = _write_submission(tmp_path / "toy", GOOD_FIELDS, TOY_ENCODER)
    mark = privbench.parametrize_with_checks(good)
    name, checks = mark.args
    assert name == "check" and len(checks) == 12 and mark.kwargs["ids"][0] == "audio: constructs from its spec"
    for check in checks:
        check()  # every promise kept: no assertion fails
    (old, new), _ = BROKEN["nan"]
    broken = _write_submission(tmp_path / "nan", GOOD_FIELDS, TOY_ENCODER.replace(old, new))
    mark = privbench.parametrize_with_checks(broken)
    outcomes = {}
    for check, test_id in zip(mark.args[1], mark.kwargs["ids"]):
        try:
            check()
            outcomes[test_id] = "pass"
        except AssertionError as error:
            outcomes[test_id] = str(error)
    assert outcomes["audio: finite values"].startswith("FAIL [audio] finite values: embed on a batch of 8 utterances returned 1")
    assert outcomes["audio: constructs from its spec"] == "pass"
