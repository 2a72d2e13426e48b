"""Building blocks any encoder may reuse: the paper's streams, heads and gradient reversal.

Padding never changes a result: each conv layer's output is zeroed after the
true length (so the next layer sees the same zeros 'same' padding adds at a
real edge), the GRUs are unidirectional (a real step never sees a later padded
one), and pooling averages real steps only. An utterance embeds the same alone
or in a batch padded to any length.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from privbench.encoders.gru import GRU
from privbench.encoders.interface import Batch


def lengths_mask(lengths: torch.Tensor, steps: int) -> torch.Tensor:
    """bool [B, T]: True on the real (unpadded) steps."""
    return torch.arange(steps, device=lengths.device)[None, :] < lengths[:, None]


def masked_mean(values: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Mean over the real steps of [B, T, D] -> [B, D]."""
    mask = lengths_mask(lengths, values.shape[1]).unsqueeze(-1).to(values.dtype)  # [B, T, 1]
    return (values * mask).sum(dim=1) / lengths.clamp(min=1).unsqueeze(-1).to(values.dtype)


class _ReverseGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx, values: torch.Tensor, strength: float) -> torch.Tensor:
        ctx.strength = strength
        return values.view_as(values)

    @staticmethod
    def backward(ctx, gradient: torch.Tensor):
        return -ctx.strength * gradient, None


class GradientReversal(nn.Module):
    """Identity forward; backward multiplies the gradient by -strength (lambda).

    `strength` is a plain attribute, so a schedule may change it between steps.
    """

    def __init__(self, strength: float):
        super().__init__()
        self.strength = float(strength)

    def forward(self, values: torch.Tensor) -> torch.Tensor:
        return _ReverseGradient.apply(values, self.strength)


class AcousticStream(nn.Module):
    """[B, T, 40] filterbanks -> Conv1d+ReLU layers -> GRU layers -> masked mean -> h_a [B, gru_width]."""

    def __init__(self, input_dim: int, conv_layers: int, conv_kernel_width: int, conv_kernels: int,
                 gru_layers: int, gru_width: int):
        super().__init__()
        widths = [input_dim] + [conv_kernels] * conv_layers
        self.convs = nn.ModuleList(nn.Conv1d(a, b, conv_kernel_width) for a, b in zip(widths, widths[1:]))
        # 'same' padding, written out: torch's padding="same" copies the input for even widths.
        self.same_padding = ((conv_kernel_width - 1) // 2, conv_kernel_width // 2)
        self.gru = GRU(conv_kernels, gru_width, num_layers=gru_layers, batch_first=True)
        self.output_dim = gru_width

    def forward(self, frames: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        mask = lengths_mask(lengths, frames.shape[1]).to(frames.dtype)[:, None, None, :]  # [B, 1, 1, T]
        # Each Conv1d runs as a conv2d of height 1 on a channels-last tensor, so the data stays physically
        # [B, T, C] from the frames to the GRU: on a CPU 1.4x faster than Conv1d on [B, C, T] (forward and
        # backward of the three layers, tests/perf/test_perf_gru.py), with the Conv1d's own parameters.
        values = frames.transpose(1, 2).unsqueeze(2).contiguous(memory_format=torch.channels_last)  # [B, 40, 1, T]
        for conv in self.convs:
            padded = nn.functional.pad(values, self.same_padding).contiguous(memory_format=torch.channels_last)
            weight = conv.weight.unsqueeze(2).contiguous(memory_format=torch.channels_last)  # [kernels, in, 1, width]
            values = torch.relu(nn.functional.conv2d(padded, weight, conv.bias)) * mask  # [B, kernels, 1, T], zero after the end
        steps, _ = self.gru(values.squeeze(2).transpose(1, 2))  # [B, T, gru_width]
        return masked_mean(steps, lengths)


class LexicalStream(nn.Module):
    """[B, W, 300] word vectors -> GRU layers -> masked mean -> h_l [B, gru_width]."""

    def __init__(self, input_dim: int, gru_layers: int, gru_width: int):
        super().__init__()
        self.gru = GRU(input_dim, gru_width, num_layers=gru_layers, batch_first=True)
        self.output_dim = gru_width

    def forward(self, words: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        steps, _ = self.gru(words)  # [B, W, gru_width]
        return masked_mean(steps, lengths)


class DenseHead(nn.Module):
    """`layers` dense layers of `width` with ReLU, then a linear layer to `classes` logits."""

    def __init__(self, input_dim: int, layers: int, width: int, classes: int):
        super().__init__()
        sizes = [input_dim] + [width] * layers
        hidden = [module for a, b in zip(sizes, sizes[1:]) for module in (nn.Linear(a, b), nn.ReLU())]
        self.net = nn.Sequential(*hidden, nn.Linear(sizes[-1], classes))

    def forward(self, values: torch.Tensor) -> torch.Tensor:
        return self.net(values)


def batch_tensors(batch: Batch, device: torch.device | str) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """stream -> (features [B, T, D] float32, lengths [B] int64) on `device`."""
    tensors = {}
    for stream in batch.streams:
        values = torch.from_numpy(np.ascontiguousarray(getattr(batch, stream))).to(device)
        lengths = torch.from_numpy(np.asarray(getattr(batch, f"{stream}_lengths"), dtype=np.int64)).to(device)
        tensors[stream] = (values, lengths)
    return tensors


def resolve_device(requested: str) -> str:
    """'auto' -> 'cuda' when a CUDA GPU is visible, else 'cpu'."""
    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        from privbench.errors import PrivbenchError

        raise PrivbenchError("--device cuda asked for, but torch sees no CUDA GPU: use --device cpu or auto")
    return requested
