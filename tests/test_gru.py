"""privbench.encoders.gru.GRU: the compiled CPU time loop against torch.nn.GRU, its build and its fallbacks.

The extension is built once per session into a temporary cache, by two spawned
processes that start building into the empty cache at the same moment (what
local workers or Ray tasks on one node do); the test process then loads that build.
"""

from __future__ import annotations

import multiprocessing
import os
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
import torch
from torch import nn

import privbench.encoders.gru as gru_module
from privbench.encoders.blocks import AcousticStream, LexicalStream, masked_mean
from privbench.encoders.gru import GRU, GRUFallbackWarning

TOLERANCE = dict(rtol=1e-5, atol=1e-5)


def _build_in_child(cache: str, barrier_dir: str, rank: int) -> dict:
    """In a spawned process: wait until both processes are up, then build/load and check one forward."""
    os.environ["PRIVBENCH_CACHE"] = cache
    os.environ.pop("PRIVBENCH_GRU", None)
    import privbench.encoders.gru as child_gru

    Path(barrier_dir, f"ready-{rank}").touch()
    deadline = time.monotonic() + 60
    while len(list(Path(barrier_dir).glob("ready-*"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    start = time.perf_counter()
    ops = child_gru.compiled_ops()
    seconds = time.perf_counter() - start
    if ops is None:
        return {"ok": False, "failure": child_gru.compiled_failure()}
    torch.manual_seed(rank)
    module = child_gru.GRU(5, 4, num_layers=2, batch_first=True)
    reference = nn.GRU(5, 4, num_layers=2, batch_first=True)
    reference.load_state_dict(module.state_dict())
    frames = torch.randn(3, 6, 5, requires_grad=True)
    output, _ = module(frames)
    expected, _ = reference(frames)
    return {"ok": True, "seconds": seconds, "compiled": type(output.grad_fn).__name__,
            "max_diff": (output - expected).abs().max().item(), "pid": os.getpid()}


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """The extension built by two simultaneous spawned processes into an empty cache; loaded here too."""
    cache = tmp_path_factory.mktemp("gru-cache")
    barrier = tmp_path_factory.mktemp("gru-barrier")
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=context) as pool:
        futures = [pool.submit(_build_in_child, str(cache), str(barrier), rank) for rank in (0, 1)]
        children = [future.result(timeout=300) for future in futures]
    if not gru_module._extension.tried:  # load this session's build (another test module may have loaded one)
        saved = os.environ.get("PRIVBENCH_CACHE")
        os.environ["PRIVBENCH_CACHE"] = str(cache)
        try:
            gru_module.compiled_ops()
        finally:
            if saved is None:
                os.environ.pop("PRIVBENCH_CACHE")
            else:
                os.environ["PRIVBENCH_CACHE"] = saved
    assert gru_module._extension.ops is not None, gru_module.compiled_failure()
    return {"cache": cache, "children": children}


@pytest.fixture
def ops(built, monkeypatch):
    monkeypatch.delenv("PRIVBENCH_GRU", raising=False)
    return gru_module._extension.ops


def test_two_processes_building_at_once_both_get_a_working_module(built):
    children = built["children"]
    assert all(child["ok"] for child in children), children
    assert len({child["pid"] for child in children}) == 2
    assert all(child["compiled"] == "_CompiledGRUFunctionBackward" for child in children)
    assert all(child["max_diff"] < 1e-6 for child in children)
    builds = list((built["cache"] / "torch_extensions").iterdir())
    assert len(builds) == 1 and builds[0].name.startswith("gru_cpu-")
    assert (builds[0] / "privbench_gru_cpu.so").is_file() and (builds[0] / "privbench-built").is_file()
    assert not (builds[0] / "lock").exists()  # torch's build lock was released
    print(f"\nfirst use (build or wait + load) per process: {[round(c['seconds'], 1) for c in children]} s")


def _pair(input_size, hidden, layers, batch_first, seed=0, dtype=torch.float32):
    torch.manual_seed(seed)
    ours = GRU(input_size, hidden, num_layers=layers, batch_first=batch_first).to(dtype)
    reference = nn.GRU(input_size, hidden, num_layers=layers, batch_first=batch_first).to(dtype)
    reference.load_state_dict(ours.state_dict())
    return ours, reference


def _run(module, frames, h0, grad_output, grad_h_n):
    frames = frames.detach().clone().requires_grad_()
    h0 = None if h0 is None else h0.detach().clone().requires_grad_()
    output, h_n = module(frames) if h0 is None else module(frames, h0)
    torch.autograd.backward([output, h_n], [grad_output, grad_h_n])
    grads = {"input": frames.grad, "h0": None if h0 is None else h0.grad}
    grads.update({name: p.grad for name, p in module.named_parameters()})
    return output, h_n, grads


SHAPES = [  # batch, steps, input, hidden, layers, batch_first, explicit h0
    (4, 9, 6, 5, 2, True, False),
    (1, 12, 7, 16, 1, True, True),
    (3, 1, 5, 8, 3, False, True),
    (5, 7, 3, 33, 3, True, True),
    (2, 20, 64, 32, 2, False, False),
    (1, 1, 2, 3, 1, False, False),
]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "b{}-t{}-i{}-h{}-l{}-{}-{}".format(
    *s[:5], "bf" if s[5] else "tf", "h0" if s[6] else "zeros"))
def test_outputs_states_and_every_gradient_match_nn_gru(ops, shape):
    batch, steps, input_size, hidden, layers, batch_first, explicit_h0 = shape
    ours, reference = _pair(input_size, hidden, layers, batch_first, seed=batch * steps)
    generator = torch.Generator().manual_seed(1)
    frames = torch.randn((batch, steps, input_size) if batch_first else (steps, batch, input_size), generator=generator)
    h0 = torch.randn(layers, batch, hidden, generator=generator) if explicit_h0 else None
    out_shape = (batch, steps, hidden) if batch_first else (steps, batch, hidden)
    grad_output = torch.randn(out_shape, generator=generator)
    grad_h_n = torch.randn(layers, batch, hidden, generator=generator)

    output, h_n, grads = _run(ours, frames, h0, grad_output, grad_h_n)
    expected_output, expected_h_n, expected_grads = _run(reference, frames, h0, grad_output, grad_h_n)

    assert type(output.grad_fn).__name__ == "_CompiledGRUFunctionBackward"  # not the fallback
    assert output.shape == expected_output.shape and h_n.shape == expected_h_n.shape
    torch.testing.assert_close(output, expected_output, **TOLERANCE)
    torch.testing.assert_close(h_n, expected_h_n, **TOLERANCE)
    assert set(grads) == set(expected_grads) and len(grads) == 2 + 4 * layers
    for name, expected in expected_grads.items():
        if expected is None:
            assert grads[name] is None
        else:
            torch.testing.assert_close(grads[name], expected, **TOLERANCE, msg=lambda m: f"{name}: {m}")


def test_zero_padded_batch_matches_nn_gru_and_its_real_steps_match_each_sequence_alone(ops):
    ours, reference = _pair(6, 8, 2, batch_first=True)
    lengths = torch.tensor([10, 3, 7, 1])
    generator = torch.Generator().manual_seed(2)
    frames = torch.randn(4, 10, 6, generator=generator) * (torch.arange(10)[None, :, None] < lengths[:, None, None])

    def loss_and_grads(module):
        x = frames.clone().requires_grad_()
        output, _ = module(x)
        loss = masked_mean(output, lengths).square().sum()
        loss.backward()
        return output, x.grad, {name: p.grad.clone() for name, p in module.named_parameters()}

    output, grad_input, grads = loss_and_grads(ours)
    expected_output, expected_grad_input, expected_grads = loss_and_grads(reference)
    torch.testing.assert_close(output, expected_output, **TOLERANCE)  # padded steps included
    torch.testing.assert_close(grad_input, expected_grad_input, **TOLERANCE)
    for name in grads:
        torch.testing.assert_close(grads[name], expected_grads[name], **TOLERANCE)
    assert grad_input[1, 3:].abs().max() == 0  # nothing after a sequence's end reaches the loss
    with torch.no_grad():
        for row, length in enumerate(lengths.tolist()):
            alone, _ = ours(frames[row:row + 1, :length])
            torch.testing.assert_close(alone[0], output[row, :length].detach(), rtol=1e-6, atol=1e-6)


def test_gradcheck_float64(ops):
    torch.manual_seed(3)
    module = GRU(3, 4, num_layers=2, batch_first=True).double()
    weights = [p.detach().clone().requires_grad_() for p in module.parameters()]
    frames = torch.randn(2, 5, 3, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(2, 2, 4, dtype=torch.float64, requires_grad=True)
    output, _ = module(frames, h0)
    assert type(output.grad_fn).__name__ == "_CompiledGRUFunctionBackward"

    def function(x, h, *w):
        return gru_module._CompiledGRUFunction.apply(x, h, True, *w)

    assert torch.autograd.gradcheck(function, (frames, h0, *weights), eps=1e-6, atol=1e-6)


def test_inference_forward_matches_and_keeps_nothing(ops):
    ours, reference = _pair(6, 8, 2, batch_first=True)
    frames = torch.randn(3, 11, 6)
    with torch.inference_mode():
        output, h_n = ours(frames)
        expected_output, expected_h_n = reference(frames)
    with torch.no_grad():
        output_no_grad, _ = ours(frames)
    assert output.grad_fn is None and output_no_grad.grad_fn is None
    torch.testing.assert_close(output, expected_output, **TOLERANCE)
    torch.testing.assert_close(h_n, expected_h_n, **TOLERANCE)
    assert torch.equal(output, output_no_grad)
    weights = [p.detach() for p in ours.parameters()]
    _, _, saved = ops.forward(frames, torch.zeros(2, 3, 8), weights, True, False)
    assert saved == []  # the no-grad forward keeps no activations
    _, _, saved = ops.forward(frames, torch.zeros(2, 3, 8), weights, True, True)
    assert len(saved) == 4  # training: hall and gates per layer


def test_kernel_exp_sigmoid_tanh_are_accurate_to_about_1e_7_relative(ops):
    def max_relative_error(which, values, reference):
        got = ops.math(values, which).double()
        want = reference(values.double())
        return ((got - want).abs() / want.abs().clamp_min(1e-300)).max().item()

    odd = torch.tensor([0.0, -0.0, 1e-30, -1e-30, 1e-8, 0.625, -0.625, 0.62499994, 0.62500006])
    wide = torch.cat([torch.linspace(-87, 88, 400_001), odd])  # length not a multiple of the vector width
    assert max_relative_error(0, wide, torch.exp) < 2e-7
    assert max_relative_error(1, torch.cat([torch.linspace(-80, 30, 400_001), odd]), torch.sigmoid) < 2e-7
    assert max_relative_error(2, torch.cat([torch.linspace(-12, 12, 400_001), odd]), torch.tanh) < 2e-7
    special = torch.tensor([float("nan"), float("inf"), -float("inf"), 1e4, -1e4] * 4)
    assert torch.isnan(ops.math(special, 1)[::5]).all() and torch.isnan(ops.math(special, 2)[::5]).all()
    assert ops.math(special, 2)[1::5].eq(1).all() and ops.math(special, 2)[2::5].eq(-1).all()


def test_state_dict_round_trip_and_same_initialisation():
    torch.manual_seed(4)
    ours = GRU(7, 5, num_layers=3, batch_first=True)
    torch.manual_seed(4)
    reference = nn.GRU(7, 5, num_layers=3, batch_first=True)
    assert list(ours.state_dict()) == list(reference.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(ours.state_dict().values(), reference.state_dict().values()))
    torch.manual_seed(5)
    other = nn.GRU(7, 5, num_layers=3, batch_first=True)
    ours.load_state_dict(other.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(ours.state_dict().values(), other.state_dict().values()))
    torch.manual_seed(6)
    back = GRU(7, 5, num_layers=3, batch_first=True)
    reference.load_state_dict(back.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(reference.state_dict().values(), back.state_dict().values()))


def test_same_seed_gives_bit_identical_outputs_and_gradients(ops):
    def once():
        torch.manual_seed(7)
        module = GRU(6, 8, num_layers=2, batch_first=True)
        frames = torch.randn(5, 13, 6, requires_grad=True)
        output, h_n = module(frames)
        (output.square().sum() + h_n.sum()).backward()
        return [output.detach(), h_n.detach(), frames.grad] + [p.grad for p in module.parameters()]

    first, second = once(), once()
    assert all(torch.equal(a, b) for a, b in zip(first, second))


def test_environment_variable_forces_nn_gru(ops, monkeypatch):
    ours, reference = _pair(6, 8, 2, batch_first=True)
    frames = torch.randn(3, 9, 6, requires_grad=True)
    monkeypatch.setenv("PRIVBENCH_GRU", "torch")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no note: the fallback was asked for
        output, h_n = ours(frames)
    expected_output, expected_h_n = reference(frames)
    assert type(output.grad_fn).__name__ != "_CompiledGRUFunctionBackward"
    assert torch.equal(output, expected_output) and torch.equal(h_n, expected_h_n)
    assert gru_module.backend() == "torch"
    monkeypatch.setenv("PRIVBENCH_GRU", "auto")
    assert type(ours(frames)[0].grad_fn).__name__ == "_CompiledGRUFunctionBackward"


def test_failed_build_falls_back_with_exactly_one_note(monkeypatch):
    monkeypatch.delenv("PRIVBENCH_GRU", raising=False)
    monkeypatch.setattr(gru_module, "_extension", gru_module._Extension())
    calls = []

    def failing_build():
        calls.append(1)
        raise RuntimeError("Error building extension 'privbench_gru_cpu': [1/2] c++ -c gru_cpu.cpp\n"
                           "gru_cpu.cpp:10:1: error: expected ';'\nninja: build stopped")

    monkeypatch.setattr(gru_module, "_build_and_load", failing_build)
    ours, reference = _pair(6, 8, 2, batch_first=True)
    frames = torch.randn(3, 9, 6, requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        output, h_n = ours(frames)
        output.sum().backward()
        with torch.no_grad():
            ours(frames)
        GRU(6, 8)(torch.randn(4, 2, 6))
    notes = [w for w in caught if issubclass(w.category, GRUFallbackWarning)]
    assert len(notes) == 1 and len(calls) == 1
    assert "gru_cpu.cpp:10:1: error: expected ';'" in str(notes[0].message)
    assert "PRIVBENCH_GRU=torch" in str(notes[0].message)
    assert gru_module.compiled_failure() == ("RuntimeError: Error building extension 'privbench_gru_cpu': "
                                             "[1/2] c++ -c gru_cpu.cpp ... gru_cpu.cpp:10:1: error: expected ';'")
    expected_output, expected_h_n = reference(frames)
    assert torch.equal(output, expected_output) and torch.equal(h_n, expected_h_n)


def test_unsupported_configurations_run_nn_gru(ops):
    frames = torch.randn(3, 5, 4)
    cases = [
        dict(bidirectional=True),
        dict(num_layers=2, dropout=0.5),
        dict(bias=False),
    ]
    for options in cases:
        torch.manual_seed(8)
        ours = GRU(4, 6, batch_first=True, **options)
        torch.manual_seed(8)
        reference = nn.GRU(4, 6, batch_first=True, **options)
        torch.manual_seed(9)
        output, _ = ours(frames.clone().requires_grad_())
        torch.manual_seed(9)
        expected, _ = reference(frames.clone().requires_grad_())
        assert type(output.grad_fn).__name__ != "_CompiledGRUFunctionBackward", options
        assert torch.equal(output, expected), options
    ours, reference = _pair(4, 6, 1, batch_first=True)
    unbatched, _ = ours(frames[0])
    assert torch.equal(unbatched, reference(frames[0])[0])
    packed = nn.utils.rnn.pack_padded_sequence(frames, torch.tensor([5, 3, 2]), batch_first=True)
    packed_out, _ = ours(packed)
    assert torch.equal(packed_out.data, reference(packed)[0].data)
    with pytest.raises(RuntimeError):  # a wrong input width is nn.GRU's error, not a crash in C++
        ours(torch.randn(3, 5, 7))


def test_streams_use_it_and_the_build_key_covers_the_cpu(built, monkeypatch):
    from privbench.paths import CODE_MODULES, TRAIN_MODULES, cache_root

    assert isinstance(AcousticStream(40, 3, 3, 64, 2, 32).gru, GRU)
    assert isinstance(LexicalStream(300, 2, 32).gru, GRU)
    package = Path(gru_module.__file__).parent.parent  # the module lists are relative to privbench/
    assert {"encoders/gru.py", "encoders/csrc/gru_cpu.cpp"} <= set(TRAIN_MODULES)
    assert all((package / name).is_file() for modules in CODE_MODULES.values() for name in modules)
    monkeypatch.setenv("PRIVBENCH_CACHE", str(built["cache"]))
    assert gru_module.extension_dir().parent == cache_root() / "torch_extensions"
    key = gru_module.build_key()
    monkeypatch.setattr(gru_module, "_cpu_flags", lambda: "fpu sse sse2")
    assert gru_module.build_key() != key


def test_a_stale_torch_build_lock_is_removed_before_building(built, tmp_path, monkeypatch):
    """A build killed mid-way leaves torch's lock file, on which every later build would wait forever."""
    from torch.utils import cpp_extension

    monkeypatch.setenv("PRIVBENCH_CACHE", str(tmp_path))
    folder = gru_module.extension_dir()
    folder.mkdir(parents=True)
    (folder / "lock").touch()
    seen = []

    def fake_load(**kwargs):
        seen.append((folder / "lock").exists())
        return str(folder / "privbench_gru_cpu.so")

    monkeypatch.setattr(cpp_extension, "load", fake_load)
    assert gru_module._build_and_load() is torch.ops.privbench_gru
    assert seen == [False] and (folder / "privbench-built").is_file()
