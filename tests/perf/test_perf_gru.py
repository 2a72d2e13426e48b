"""The compiled GRU (privbench.encoders.gru.GRU) against torch.nn.GRU, and what bounds a training step.

Run: .venv/bin/python -m pytest tests/perf/test_perf_gru.py --benchmark-enable --benchmark-columns=min,median,rounds
(Skipped when benchmarks are disabled, as in the normal test run.)

- one training step of the paper's acoustic GRU (2 layers of 32 on 64
  features, batch 32 x 300 frames) at 1 and 2 torch threads, nn.GRU and
  privbench's on the same weights: forward, masked mean over the real steps of
  a padded batch and backward including the input's gradient (as in
  AcousticStream), and forward, mean of all outputs and backward without it;
- the same for the whole AcousticStream (3 Conv1d layers of 64, width 3, on 40
  filterbanks, then that GRU), the fallback forced with PRIVBENCH_GRU=torch;
- the inference forward (torch.inference_mode) both ways;
- the single-thread float32 matmul peak (torch.mm), and the fraction of it a
  training step reaches (extra_info: flops, gflop_per_s, fraction_of_peak);
- the convolutions of AcousticStream in other layouts: channels-last (as a
  conv2d of height 1) and im2col + one matrix product per layer in [B, T, C].
Every benchmark checks what it timed against a reference.
"""

from __future__ import annotations

import dataclasses

from pathlib import Path

import pytest
import torch
from torch import nn

import privbench.encoders.gru as gru_module
from privbench.encoders.blocks import AcousticStream, masked_mean

REPO = Path(__file__).resolve().parents[2]

BATCH, STEPS, FEATURES, HIDDEN, LAYERS = 32, 300, 64, 32, 2
_PEAK = {}  # GFLOP/s of torch.mm at one thread, once measured




@pytest.fixture
def compiled(monkeypatch):
    monkeypatch.delenv(gru_module.ENV_VAR, raising=False)
    if gru_module.compiled_ops() is None:
        pytest.skip(f"the compiled GRU is unavailable: {gru_module.compiled_failure()}")


def gru_training_flops(batch=BATCH, steps=STEPS, features=FEATURES, hidden=HIDDEN, layers=LAYERS,
                       input_grad=True) -> int:
    """Multiply-adds x 2 of one forward + backward: the matrix products only (gates add ~8%)."""
    rows, gates = batch * steps, 3 * hidden
    total = 0
    for layer in range(layers):
        width = features if layer == 0 else hidden
        total += 2 * rows * width * gates  # input projections
        total += 2 * rows * hidden * gates  # recurrent products, one per step
        total += 2 * rows * width * gates  # dW_ih
        total += 2 * rows * hidden * gates  # dW_hh
        total += 2 * rows * gates * hidden  # gradient through W_hh, one per step
        if layer > 0 or input_grad:
            total += 2 * rows * gates * width  # gradient of the layer's input
    return total


def _matmul_peak() -> float:
    if "gflops" not in _PEAK:
        before = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
            torch.mm(a, b)
            best = min(_timed(lambda: torch.mm(a, b)) for _ in range(5))
        finally:
            torch.set_num_threads(before)
        _PEAK["gflops"] = 2 * 2048**3 / best / 1e9
    return _PEAK["gflops"]


def _timed(function) -> float:
    import time

    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def _padded_batch(seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    lengths = torch.randint(150, STEPS + 1, (BATCH,), generator=generator)
    lengths[0] = STEPS
    mask = (torch.arange(STEPS)[None, :] < lengths[:, None]).unsqueeze(-1)
    frames = torch.randn(BATCH, STEPS, FEATURES, generator=generator) * mask
    return frames, lengths


def _gru_pair():
    torch.manual_seed(0)
    ours = gru_module.GRU(FEATURES, HIDDEN, num_layers=LAYERS, batch_first=True)
    reference = nn.GRU(FEATURES, HIDDEN, num_layers=LAYERS, batch_first=True)
    reference.load_state_dict(ours.state_dict())
    return ours, reference


def _training_step(module, frames, lengths, loss="masked-mean"):
    """masked-mean: as in AcousticStream, the input needs a gradient (it comes from the convolutions);
    mean: the mean of all outputs, no input gradient (tests/perf/test_perf_training.py's GRU benchmark)."""
    x = frames.detach().requires_grad_(loss == "masked-mean")
    module.zero_grad(set_to_none=True)
    output, _ = module(x)
    (masked_mean(output, lengths).sum() if loss == "masked-mean" else output.mean()).backward()
    return x.grad, [p.grad for p in module.parameters()]


@pytest.mark.parametrize("loss", ["masked-mean", "mean"])
@pytest.mark.parametrize("threads", [1, 2], indirect=True)
@pytest.mark.parametrize("implementation", ["nn.GRU", "privbench"])
def test_gru_training_step(benchmark, compiled, threads, implementation, loss):
    ours, reference = _gru_pair()
    frames, lengths = _padded_batch()
    expected_input_grad, expected_grads = _training_step(reference, frames, lengths, loss)
    module = ours if implementation == "privbench" else reference
    rounds = 30 if implementation == "privbench" else 8
    input_grad, grads = benchmark.pedantic(_training_step, args=(module, frames, lengths, loss), rounds=rounds,
                                           iterations=1, warmup_rounds=2)
    if loss == "masked-mean":
        torch.testing.assert_close(input_grad, expected_input_grad, rtol=1e-5, atol=1e-6)
    else:
        assert input_grad is None and expected_input_grad is None
    for grad, expected in zip(grads, expected_grads):
        torch.testing.assert_close(grad, expected, rtol=1e-4, atol=1e-5)
    if not benchmark.stats:  # --benchmark-disable (the normal test run): the body ran once, nothing timed
        return
    flops = gru_training_flops(input_grad=loss == "masked-mean")
    seconds = benchmark.stats.stats.min
    benchmark.extra_info.update(flops=flops, gflop_per_s=round(flops / seconds / 1e9, 1),
                                matmul_peak_gflop_per_s=round(_matmul_peak(), 1),
                                fraction_of_peak=round(flops / seconds / 1e9 / _matmul_peak(), 3))


@pytest.mark.parametrize("threads", [1], indirect=True)
@pytest.mark.parametrize("implementation", ["nn.GRU", "privbench"])
def test_gru_inference_forward(benchmark, compiled, threads, implementation):
    ours, reference = _gru_pair()
    frames, _ = _padded_batch()
    module = ours if implementation == "privbench" else reference

    def forward():
        with torch.inference_mode():
            return module(frames)[0]

    output = benchmark.pedantic(forward, rounds=30, iterations=1, warmup_rounds=2)
    with torch.inference_mode():
        expected = reference(frames)[0]
    torch.testing.assert_close(output, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("threads", [1], indirect=True)
@pytest.mark.parametrize("implementation", ["nn.GRU", "privbench"])
def test_acoustic_stream_training_step(benchmark, compiled, threads, implementation, monkeypatch):
    """The real block: convolutions, the GRU, masked mean; PRIVBENCH_GRU=torch for nn.GRU."""
    torch.manual_seed(0)
    stream = AcousticStream(40, 3, 3, 64, LAYERS, HIDDEN)
    generator = torch.Generator().manual_seed(1)
    lengths = torch.randint(150, STEPS + 1, (BATCH,), generator=generator)
    mask = torch.arange(STEPS)[None, :, None] < lengths[:, None, None]
    filterbanks = torch.randn(BATCH, STEPS, 40, generator=generator) * mask

    def step():
        stream.zero_grad(set_to_none=True)
        stream(filterbanks, lengths).sum().backward()
        return [p.grad for p in stream.parameters()]

    monkeypatch.setenv(gru_module.ENV_VAR, "torch")
    expected = step()
    monkeypatch.setenv(gru_module.ENV_VAR, "torch" if implementation == "nn.GRU" else "auto")
    grads = benchmark.pedantic(step, rounds=20 if implementation == "privbench" else 8, iterations=1, warmup_rounds=2)
    for grad, want in zip(grads, expected):
        torch.testing.assert_close(grad, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("threads", [1], indirect=True)
def test_matmul_peak_one_thread(benchmark, threads):
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    product = benchmark.pedantic(torch.mm, args=(a, b), rounds=10, iterations=1, warmup_rounds=1)
    torch.testing.assert_close(product[:8], (a[:8].double() @ b.double()).float(), rtol=1e-4, atol=1e-3)
    if benchmark.stats:
        benchmark.extra_info["gflop_per_s"] = round(2 * 2048**3 / benchmark.stats.stats.min / 1e9, 1)


# ------------------------------------------------------------- convolution layouts


def _conv_stack():
    torch.manual_seed(0)
    return nn.ModuleList(nn.Conv1d(a, 64, 3) for a in (40, 64, 64))


def _conv_ncw(convs, frames, mask):
    """AcousticStream's layout: [B, C, T] through Conv1d, then [B, T, C] (a transposed view) for the GRU."""
    values = frames.transpose(1, 2)
    mask = mask.transpose(1, 2)
    for conv in convs:
        values = torch.relu(conv(nn.functional.pad(values, (1, 1)))) * mask
    return values.transpose(1, 2)


def _conv_channels_last(convs, frames, mask):
    """Conv2d of height 1 on channels-last tensors: physically [B, T, C] throughout."""
    values = frames.transpose(1, 2).unsqueeze(2).contiguous(memory_format=torch.channels_last)  # [B, C, 1, T]
    mask = mask.transpose(1, 2).unsqueeze(2)
    for conv in convs:
        weight = conv.weight.unsqueeze(2).contiguous(memory_format=torch.channels_last)
        padded = nn.functional.pad(values, (1, 1)).contiguous(memory_format=torch.channels_last)
        values = torch.relu(nn.functional.conv2d(padded, weight, conv.bias)) * mask
    return values.squeeze(2).transpose(1, 2)


def _conv_im2col(convs, frames, mask):
    """[B, T, C] throughout: the three shifted copies side by side, one matrix product per layer."""
    values = frames
    for conv in convs:
        padded = nn.functional.pad(values, (0, 0, 1, 1))  # [B, T + 2, C]
        columns = torch.cat([padded[:, :-2], padded[:, 1:-1], padded[:, 2:]], dim=2)  # [B, T, 3C]
        weight = conv.weight.permute(2, 1, 0).reshape(-1, conv.out_channels)  # [3C, K], rows (shift, channel)
        values = torch.relu(torch.addmm(conv.bias, columns.reshape(-1, columns.size(2)), weight)
                            .view(values.size(0), values.size(1), -1)) * mask
    return values


@pytest.mark.parametrize("threads", [1], indirect=True)
@pytest.mark.parametrize("layout", ["ncw-conv1d", "channels-last-conv2d", "ntc-im2col-mm"])
def test_acoustic_convolutions_layout(benchmark, threads, layout):
    """Forward and backward of the 3 convolutions (ReLU, padding mask) on [32, 300, 40]; the output
    goes to the GRU as [B, T, 64], so a layout that yields it contiguous saves the GRU a copy."""
    convs = _conv_stack()
    generator = torch.Generator().manual_seed(0)
    lengths = torch.randint(150, STEPS + 1, (BATCH,), generator=generator)
    mask = (torch.arange(STEPS)[None, :, None] < lengths[:, None, None]).float()  # [B, T, 1]
    frames = torch.randn(BATCH, STEPS, 40, generator=generator) * mask
    run = {"ncw-conv1d": _conv_ncw, "channels-last-conv2d": _conv_channels_last, "ntc-im2col-mm": _conv_im2col}[layout]
    downstream = torch.randn(BATCH, STEPS, 64, generator=generator)

    def step():
        convs.zero_grad(set_to_none=True)
        out = run(convs, frames, mask)
        gru_input = out.contiguous()  # what the GRU reads
        (gru_input * downstream).sum().backward()
        return gru_input.detach(), [p.grad for p in convs.parameters()]

    output, grads = benchmark.pedantic(step, rounds=15, iterations=1, warmup_rounds=2)
    convs.zero_grad(set_to_none=True)
    expected = _conv_ncw(convs, frames, mask)
    (expected * downstream).sum().backward()
    torch.testing.assert_close(output, expected.detach(), rtol=1e-4, atol=1e-5)
    for grad, parameter in zip(grads, convs.parameters()):
        torch.testing.assert_close(grad, parameter.grad, rtol=1e-4, atol=1e-4)


# ------------------------------------------------------------- one whole job


@pytest.mark.parametrize("threads", [1], indirect=True)
@pytest.mark.parametrize("implementation", ["nn.GRU", "privbench"])
def test_quick_audio_job(benchmark, compiled, threads, implementation, benchmark_corpus, monkeypatch):
    """One quick-budget main job of general (synthetic, audio, activation, rotation 0: train up to 15
    epochs, embed and predict every utterance), one thread as a local worker has, with nn.GRU's forward
    forced or not. In the normal test run the same job runs once at the smoke budget's 2 epochs. (Its
    attacks are the score step's, measured in tests/perf/test_perf_evaluate.py.)"""
    from privbench.data.corpora.store import load_corpus
    from privbench.encoders.submission import read_submission
    from privbench.run.plan import Setup, _job
    from privbench.run.train import run_job

    if implementation == "nn.GRU":
        monkeypatch.setenv(gru_module.ENV_VAR, "torch")
    name, protocol = benchmark_corpus
    corpus = load_corpus(name, protocol)
    submission = read_submission(REPO / "baselines" / "general", protocol)
    epochs = protocol.budget("smoke" if benchmark.disabled else "quick").max_epochs
    budget = dataclasses.replace(protocol.budget("quick"), max_epochs=epochs)
    setup = Setup(name, corpus.content_sha256, corpus.split_sha256, "audio", "activation")
    spec = _job(submission, setup, budget, protocol, "cpu", 0, 0, dict(submission.config), "main")
    result = benchmark.pedantic(run_job, args=(spec,), rounds=1, iterations=1)
    assert 1 <= result["fit"]["epochs"] <= epochs and result["h"].shape == (len(corpus.table), 32)
    if benchmark.stats:
        benchmark.extra_info.update({key: round(value, 1) for key, value in result["timings"].items()})
