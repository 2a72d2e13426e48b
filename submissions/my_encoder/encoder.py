"""A template privbench encoder: the acoustic stream with attention pooling, no adversary.

Copy this folder to start your own. What privbench promises and expects is in
docs/submitting.md; `privbench check submissions/my_encoder` tells you which
promise an encoder breaks. This one shows the three things most encoders do:

1. build a torch network from `spec.config`, seeded with `spec.seed`;
2. train it with the protocol's recipe (`train_network`: weighted
   cross-entropy, RMSProp, early stopping on validation emotion loss);
3. embed and predict in inference mode, returning float32 numpy arrays.

Other modules of this folder can be imported relatively (`from .layers import X`).
"""

import numpy as np
import torch
from torch import nn

from privbench import (Batch, DenseHead, Encoder, EncoderSpec, FitReport, Head, LabelledSet, batch_tensors, lengths_mask,
                       train_network)


class AttentionPooledNetwork(nn.Module):
    """[B, T, 40] -> Conv1d+ReLU -> GRU -> attention-weighted mean over real frames -> h [B, gru_width]."""

    def __init__(self, conv_layers: int, conv_kernel_width: int, conv_kernels: int, gru_width: int, dense_width: int, classes: int):
        super().__init__()
        widths = [40] + [conv_kernels] * conv_layers
        self.convs = nn.ModuleList(nn.Conv1d(a, b, conv_kernel_width, padding="same") for a, b in zip(widths, widths[1:]))
        self.gru = nn.GRU(conv_kernels, gru_width, batch_first=True)
        self.attention = nn.Linear(gru_width, 1)
        self.emotion = DenseHead(gru_width, 1, dense_width, classes)

    def represent(self, tensors: dict) -> torch.Tensor:
        frames, lengths = tensors["audio"]  # [B, T, 40], [B]
        mask = lengths_mask(lengths, frames.shape[1])  # [B, T]
        values = frames.transpose(1, 2)  # [B, 40, T]
        for conv in self.convs:
            # Zero the padding after every layer, so an utterance gets the same
            # representation however much its batch is padded.
            values = torch.relu(conv(values)) * mask.unsqueeze(1)
        steps, _ = self.gru(values.transpose(1, 2))  # [B, T, gru_width]
        scores = self.attention(steps).squeeze(-1).masked_fill(~mask, float("-inf"))  # [B, T]
        weights = torch.softmax(scores, dim=1).unsqueeze(-1)  # [B, T, 1], zero on padding
        return (weights * steps).sum(dim=1)  # [B, gru_width]

    def forward(self, tensors: dict) -> dict[str, torch.Tensor]:
        return {"emotion": self.emotion(self.represent(tensors))}


class AttentionPooledEncoder(Encoder):
    def __init__(self, spec: EncoderSpec):
        super().__init__(spec)
        torch.manual_seed(spec.seed)  # the same seed must give the same weights
        self.device = torch.device(spec.device)
        self.network = AttentionPooledNetwork(classes=spec.n_classes, **spec.config).to(self.device)

    def fit(self, train: LabelledSet, valid: LabelledSet) -> FitReport:
        # One head, emotion; add Head("gender", 2) outputs (behind
        # privbench.encoders.blocks.GradientReversal) to unlearn gender as the baselines do.
        heads = {"emotion": Head("emotion", self.spec.n_classes)}
        return train_network(self.network, heads, self.network, train, valid, self.spec)

    @torch.inference_mode()
    def embed(self, batch: Batch) -> np.ndarray:
        self.network.eval()
        return self.network.represent(batch_tensors(batch, self.device)).cpu().numpy().astype(np.float32)

    @torch.inference_mode()
    def predict_proba(self, batch: Batch) -> np.ndarray:
        self.network.eval()
        logits = self.network(batch_tensors(batch, self.device))["emotion"]
        return torch.softmax(logits.double(), dim=1).cpu().numpy()
