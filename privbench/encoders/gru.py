"""`privbench.encoders.gru.GRU`: torch.nn.GRU with a compiled CPU time loop.

A subclass of `torch.nn.GRU`: the same constructor, parameters (names, shapes,
order, initialisation) and state dict, and the same results. On the CPU the
forward and backward passes run in C++ (`privbench/csrc/gru_cpu.cpp`): the
input projections of all steps as one matrix product, then per step one small
register-blocked product with vectorised gate arithmetic, and a hand-written
backward through time whose weight gradients are again a few large products.
nn.GRU pays autograd's overhead on every step instead; one training step of the
paper's acoustic GRU (2 layers of 32 on 64 features, batch 32 x 300 frames, one
thread) takes about 86 ms there and about 12 ms here (tests/perf/test_perf_gru.py).

The C++ source is compiled at first use (torch.utils.cpp_extension, about 10 s)
into `<PRIVBENCH_CACHE>/torch_extensions/gru_cpu-<key>`; the key hashes the
source, torch and Python versions, compiler flags and the CPU's instruction-set
flags (it is built with -march=native), so a cache shared between machines never
loads a binary built for another CPU. Processes that start together build once:
a file lock serialises them and the others load the result.

Everything else is nn.GRU's own forward: CUDA tensors (cuDNN), PackedSequence,
unbatched input, bidirectional, dropout while training, bias=False, dtypes other
than float32/float64, torch.compile/jit tracing, and a CPU where the extension
cannot be built (no compiler, no ninja, a failed build: then one
GRUFallbackWarning per process says why). `PRIVBENCH_GRU=torch` in the
environment forces nn.GRU everywhere (read at every forward).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import platform
import shutil
import sys
import threading
import warnings
from pathlib import Path

import torch
from torch import nn
from torch.autograd.function import once_differentiable

ENV_VAR = "PRIVBENCH_GRU"
BACKENDS = ("auto", "torch")  # auto: the compiled loop where it applies; torch: always nn.GRU's forward

SOURCE = Path(__file__).resolve().parent / "csrc" / "gru_cpu.cpp"
CFLAGS = ("-O3", "-march=native", "-ffp-contract=fast")
_LIBRARY_NAME = "privbench_gru_cpu"  # the shared object; its ops are torch.ops.privbench_gru.*
_BUILT_MARKER = "privbench-built"  # written after a build loaded: later processes load without ninja

# Without gradients the compiled forward keeps nothing for a backward pass and
# beats nn.GRU's: 4.4 ms against 13.0 ms for the acoustic GRU above under
# inference_mode (min of 30, one thread, this project's 2-core Xeon;
# tests/perf/test_perf_gru.py::test_gru_inference_forward). False: nn.GRU's forward.
COMPILED_INFERENCE = True


class GRUFallbackWarning(RuntimeWarning):
    """The compiled GRU could not be built or loaded; privbench.encoders.gru.GRU runs nn.GRU's forward."""


# ------------------------------------------------------------------ building


def _cpu_flags() -> str:
    """The CPU's instruction-set flags (what -march=native compiles for)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as cpuinfo:
            for line in cpuinfo:
                if line.startswith(("flags", "Features")):
                    return " ".join(sorted(set(line.split(":", 1)[1].split())))
    except OSError:
        pass
    return f"{platform.system()} {platform.machine()} {platform.processor()}"


def build_key() -> str:
    """Hash of everything the compiled binary depends on."""
    digest = hashlib.sha256()
    compiler = shutil.which(os.environ.get("CXX", "c++")) or os.environ.get("CXX", "c++")
    parts = (SOURCE.read_bytes(), torch.__version__, str(getattr(torch.version, "git_version", "")),
             sys.version, sys.platform, platform.machine(), " ".join(platform.libc_ver()), " ".join(CFLAGS),
             os.path.realpath(compiler), _cpu_flags())
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:20]


def extension_dir() -> Path:
    from privbench.paths import cache_root

    return cache_root() / "torch_extensions" / f"gru_cpu-{build_key()}"


@contextlib.contextmanager
def _build_lock(folder: Path):
    """An exclusive lock on `folder` across processes, released by the kernel if the holder dies."""
    try:
        import fcntl
    except ImportError:  # not POSIX: torch's own lock file only
        yield
        return
    with open(folder / "build.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _is_built(folder: Path) -> bool:
    return (folder / _BUILT_MARKER).is_file() and (folder / f"{_LIBRARY_NAME}.so").is_file()


def _build_and_load():
    """Compile (or reuse) the extension and return its op namespace torch.ops.privbench_gru."""
    if not SOURCE.is_file():
        raise FileNotFoundError(f"{SOURCE} is missing (privbench installed without its package data?)")
    folder = extension_dir()
    if not _is_built(folder):
        from torch.utils import cpp_extension

        folder.mkdir(parents=True, exist_ok=True)
        with _build_lock(folder):
            if not _is_built(folder):  # else another process built it while this one waited
                # torch's own lock (FileBaton: a file that exists while a build runs) is
                # left behind by a build that was killed, and would then make every later
                # process wait forever. Holding our lock, no live build owns it.
                (folder / "lock").unlink(missing_ok=True)
                cpp_extension.load(name=_LIBRARY_NAME, sources=[str(SOURCE)], extra_cflags=list(CFLAGS),
                                   build_directory=str(folder), is_python_module=False, verbose=False)
                (folder / _BUILT_MARKER).write_text(f"{torch.__version__}\n")
                return torch.ops.privbench_gru  # load() loaded it
    torch.ops.load_library(str(folder / f"{_LIBRARY_NAME}.so"))
    return torch.ops.privbench_gru


def _describe(error: Exception) -> str:
    """One line: the exception's first line, and a compiler error line from a build log if there is one."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    text = f"{type(error).__name__}: {lines[0][:200] if lines else ''}".rstrip(": ")
    detail = next((line for line in lines[1:] if "error" in line.lower() or "not found" in line.lower()), None)
    return f"{text} ... {detail[:200]}" if detail else text


class _Extension:
    """Per process: the loaded ops, or why there are none. Tried once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.tried = False
        self.ops = None
        self.failure: str | None = None


_extension = _Extension()


def compiled_ops():
    """torch.ops.privbench_gru after building/loading it once per process, or None if that failed."""
    state = _extension
    if not state.tried:
        with state.lock:
            if not state.tried:
                try:
                    state.ops = _build_and_load()
                except Exception as error:  # noqa: BLE001 - any failure means the fallback, never an error
                    state.failure = _describe(error)
                    warnings.warn(f"privbench.encoders.gru: the compiled CPU GRU is unavailable ({state.failure}); "
                                  f"using torch.nn.GRU's forward, which trains several times slower. "
                                  f"Set {ENV_VAR}=torch to choose that explicitly.", GRUFallbackWarning, stacklevel=2)
                state.tried = True
    return state.ops


def compiled_failure() -> str | None:
    """Why the extension could not be loaded in this process (None: loaded, or not tried yet)."""
    return _extension.failure


def requested_backend() -> str:
    """`PRIVBENCH_GRU`: 'auto' (default) or 'torch'."""
    value = os.environ.get(ENV_VAR, "auto").strip().lower() or "auto"
    return value if value in BACKENDS else "auto"


# -------------------------------------------------------------------- autograd


class _CompiledGRUFunction(torch.autograd.Function):
    """forward and backward through time in C++; inputs (input, h0, batch_first, *flat weights)."""

    @staticmethod
    def forward(ctx, input, h0, batch_first, *weights):
        output, h_n, saved = _extension.ops.forward(input, h0, list(weights), batch_first, True)
        ctx.batch_first = batch_first
        ctx.num_weights = len(weights)
        ctx.save_for_backward(input, *weights, *saved)
        return output, h_n

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output, grad_h_n):
        input, *rest = ctx.saved_tensors
        weights, saved = rest[:ctx.num_weights], rest[ctx.num_weights:]
        needs = ctx.needs_input_grad
        grad_input, grad_h0, grad_weights = _extension.ops.backward(
            grad_output, grad_h_n, input, list(weights), list(saved), ctx.batch_first, needs[0])
        grad_weights = [grad if need else None for grad, need in zip(grad_weights, needs[3:])]
        return (grad_input if needs[0] else None, grad_h0 if needs[1] else None, None, *grad_weights)


class GRU(nn.GRU):
    """torch.nn.GRU whose CPU forward and backward run in compiled C++ (see the module docstring).

    Same constructor, parameters, state dict and results as nn.GRU (float32 results
    agree to about 1e-6 relative, the exp/tanh differ in the last bits).
    """

    def _compiled_applies(self, input, hx) -> bool:
        if requested_backend() == "torch" or not isinstance(input, torch.Tensor):
            return False
        if torch.jit.is_scripting() or torch.jit.is_tracing() or torch.compiler.is_compiling():
            return False
        if (input.device.type != "cpu" or input.dim() != 3 or input.dtype not in (torch.float32, torch.float64)
                or input.numel() == 0 or input.size(-1) != self.input_size):
            return False
        if self.bidirectional or not self.bias or (self.dropout and self.training) or getattr(self, "proj_size", 0):
            return False
        weights = [getattr(self, name) for name in self._flat_weights_names]
        if any(w.device.type != "cpu" or w.dtype != input.dtype for w in weights):
            return False
        if hx is not None:
            batch = input.size(0 if self.batch_first else 1)
            if (not isinstance(hx, torch.Tensor) or hx.device.type != "cpu" or hx.dtype != input.dtype
                    or tuple(hx.shape) != (self.num_layers, batch, self.hidden_size)):
                return False  # nn.GRU's forward raises its own error
        return True

    def forward(self, input, hx=None):
        if not self._compiled_applies(input, hx) or compiled_ops() is None:
            return super().forward(input, hx)
        weights = [getattr(self, name) for name in self._flat_weights_names]
        batch = input.size(0 if self.batch_first else 1)
        h0 = input.new_zeros(self.num_layers, batch, self.hidden_size) if hx is None else hx
        needs_grad = torch.is_grad_enabled() and (
            input.requires_grad or h0.requires_grad or any(w.requires_grad for w in weights))
        if not needs_grad:
            if not COMPILED_INFERENCE:
                return super().forward(input, hx)
            output, h_n, _ = _extension.ops.forward(input, h0, weights, self.batch_first, False)
            return output, h_n
        return _CompiledGRUFunction.apply(input.contiguous(), h0, self.batch_first, *weights)


def backend(input: torch.Tensor | None = None, module: GRU | None = None) -> str:
    """'compiled' or 'torch': which forward a GRU on the CPU would run now (builds the extension once)."""
    if requested_backend() == "torch":
        return "torch"
    if module is not None and input is not None and not module._compiled_applies(input, None):
        return "torch"
    return "compiled" if compiled_ops() is not None else "torch"
