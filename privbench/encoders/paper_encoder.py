"""The paper's network as a reusable Encoder: streams, emotion head, adversaries.

The five baselines are this class with different `adversaries`; a submission
may subclass it too. Everything here uses only the public interface
(privbench.encoders.interface) and the building blocks (privbench.encoders.blocks, privbench.encoders.recipe).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from privbench.encoders.blocks import AcousticStream, DenseHead, GradientReversal, LexicalStream, batch_tensors
from privbench.errors import SetupRefused, SubmissionError
from privbench.encoders.interface import Batch, Encoder, EncoderSpec, FitReport, LabelledSet
from privbench.encoders.recipe import Head, train_network

FEATURE_DIMS = {"audio": 40, "text": 300}
CONFIG_KEYS = ("conv_layers", "conv_kernel_width", "conv_kernels", "gru_layers", "gru_width",
               "dense_layers", "dense_width", "lambda")


@dataclass(frozen=True)
class Adversary:
    """A head that unlearns `label` ("gender" or "speaker") through gradient reversal,
    on the joint representation h ("joint") or on each stream's pooled output ("each")."""

    label: str
    on: str = "joint"


def paper_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """Check that a configuration has exactly the paper network's keys."""
    missing = [key for key in CONFIG_KEYS if key not in config]
    unknown = [key for key in config if key not in CONFIG_KEYS]
    if missing or unknown:
        problem = f"lacks {', '.join(missing)}" if missing else f"has unknown keys {', '.join(unknown)}"
        raise SubmissionError(f"the paper network's configuration {problem}: it takes exactly {', '.join(CONFIG_KEYS)}")
    return dict(config)


class EmotionNetwork(nn.Module):
    """Streams -> h = concat(pooled streams) -> emotion head, plus reversed adversary heads."""

    def __init__(self, streams: tuple[str, ...], config: Mapping[str, Any], classes: int,
                 adversaries: tuple[Adversary, ...], n_speakers: int):
        super().__init__()
        encoders = {}
        for stream in streams:
            if stream == "audio":
                encoders[stream] = AcousticStream(FEATURE_DIMS["audio"], config["conv_layers"], config["conv_kernel_width"],
                                                  config["conv_kernels"], config["gru_layers"], config["gru_width"])
            else:
                encoders[stream] = LexicalStream(FEATURE_DIMS["text"], config["gru_layers"], config["gru_width"])
        self.streams = nn.ModuleDict(encoders)
        joint_dim = sum(stream.output_dim for stream in self.streams.values())
        dense = (config["dense_layers"], config["dense_width"])
        self.emotion = DenseHead(joint_dim, *dense, classes)
        self.reversal = GradientReversal(config["lambda"])
        self.adversary_heads = nn.ModuleDict()
        self.heads = {"emotion": Head("emotion", classes)}
        for adversary in adversaries:
            size = 2 if adversary.label == "gender" else n_speakers
            targets = {"joint": joint_dim} if adversary.on == "joint" else {s: m.output_dim for s, m in self.streams.items()}
            for target, dim in targets.items():
                name = adversary.label if adversary.on == "joint" else f"{adversary.label}_{target}"
                self.adversary_heads[name] = DenseHead(dim, *dense, size)
                self.heads[name] = Head(adversary.label, size)
        self._inputs = {name: ("joint" if name in ("gender", "speaker") else name.split("_", 1)[1]) for name in self.adversary_heads}

    def pooled(self, tensors: dict) -> dict[str, torch.Tensor]:
        """stream -> its pooled representation [B, gru_width]."""
        return {name: stream(*tensors[name]) for name, stream in self.streams.items()}

    def represent(self, tensors: dict) -> torch.Tensor:
        """h [B, sum of stream widths]: what leaves the device."""
        return torch.cat(list(self.pooled(tensors).values()), dim=1)

    def forward(self, tensors: dict) -> dict[str, torch.Tensor]:
        pooled = self.pooled(tensors)
        joint = torch.cat(list(pooled.values()), dim=1)
        logits = {"emotion": self.emotion(joint)}
        for name, head in self.adversary_heads.items():
            source = joint if self._inputs[name] == "joint" else pooled[self._inputs[name]]
            logits[name] = head(self.reversal(source))
        return logits


class PaperEncoder(Encoder):
    """The paper's network trained with the protocol's recipe; subclasses set `adversaries`."""

    adversaries: tuple[Adversary, ...] = ()

    def __init__(self, spec: EncoderSpec):
        super().__init__(spec)
        if any(adversary.on == "each" for adversary in self.adversaries) and len(spec.streams) < 2:
            raise SetupRefused(f"{type(self).__name__} puts an adversary on each stream, so it needs the multimodal "
                               f"setup; {spec.modality} has one stream")
        config = paper_config(spec.config)
        torch.manual_seed(spec.seed)
        self.network = EmotionNetwork(spec.streams, config, spec.n_classes, self.adversaries, spec.n_speakers)
        self.device = torch.device(spec.device)
        self.network.to(self.device)

    def fit(self, train: LabelledSet, valid: LabelledSet) -> FitReport:
        torch.manual_seed(self.spec.seed)
        return train_network(self.network, self.network.heads, self.network, train, valid, self.spec)

    @torch.inference_mode()
    def embed(self, batch: Batch) -> np.ndarray:
        self.network.eval()
        return self.network.represent(batch_tensors(batch, self.device)).float().cpu().numpy()

    @torch.inference_mode()
    def predict_proba(self, batch: Batch) -> np.ndarray:
        self.network.eval()
        logits = self.network(batch_tensors(batch, self.device))["emotion"]
        return torch.softmax(logits.double(), dim=1).cpu().numpy()
