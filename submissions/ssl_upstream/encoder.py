"""A frozen self-supervised upstream (SUPERB-style weighted layer sum) under the privbench protocol.

The upstream (any `transformers` audio model that returns hidden states:
WavLM, HuBERT, wav2vec 2.0) is frozen: for each utterance it runs once, on
that utterance alone (WavLM and wav2vec 2.0 Base normalise over the whole
input, so padding would change their output), and every hidden layer is
mean-pooled over the utterance's frames into a [layers, hidden] matrix, which
is cached by the waveform's bytes. What trains is small: softmax weights over
the layers (SUPERB's weighted sum; since pooling is linear, the weighted sum
of pooled layers is the pooled weighted sum), giving h = the representation
that leaves the device, and a dense emotion head, with the protocol's recipe
(privbench.train_network).

Config: `checkpoint` (hub name or folder; "random:tiny" and
"random:wavlm-base-plus" build randomly initialised upstreams without a
download), `dense_layers`, `dense_width`.
"""

from __future__ import annotations

import hashlib

import numpy as np
import torch
from torch import nn

from privbench import (Batch, DenseHead, Encoder, EncoderSpec, FitReport, Head, LabelledSet, batch_tensors, make_batch,
                       train_network)
from privbench.errors import SubmissionError

_UPSTREAMS: dict[str, nn.Module] = {}  # checkpoint -> the frozen upstream, one per process
_POOLED: dict[tuple[str, str], np.ndarray] = {}  # (checkpoint, waveform sha1) -> [layers, hidden]
MIN_SAMPLES = 400  # the upstream's convolutions need at least this many samples (25 ms)


def load_upstream(checkpoint: str) -> nn.Module:
    """The frozen upstream, in eval mode, float32, on the CPU (moved to the job's device by the encoder)."""
    if checkpoint in _UPSTREAMS:
        return _UPSTREAMS[checkpoint]
    try:
        import transformers
    except ImportError:
        raise SubmissionError("ssl-upstream needs transformers: pip install -e '.[ssl]'") from None
    if checkpoint.startswith("random:"):
        presets = {
            "tiny": dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                         conv_dim=(32,) * 7, num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=4),
            "wavlm-base-plus": {},  # transformers' WavLMConfig defaults are WavLM Base (+): 12 layers of 768
        }
        if checkpoint[len("random:"):] not in presets:
            raise SubmissionError(f"checkpoint {checkpoint!r}: the random presets are {', '.join('random:' + p for p in presets)}")
        torch.manual_seed(0)  # the same random upstream in every process
        model = transformers.WavLMModel(transformers.WavLMConfig(**presets[checkpoint[len("random:"):]]))
    else:
        try:
            model = transformers.AutoModel.from_pretrained(checkpoint)
        except (OSError, ValueError) as error:
            raise SubmissionError(f"cannot load the upstream {checkpoint!r} ({error}): give a hub name or a folder "
                                  "holding config.json and the weights") from None
    model.eval().requires_grad_(False)
    _UPSTREAMS[checkpoint] = model
    return model


@torch.inference_mode()
def pooled_layers(checkpoint: str, waveform: np.ndarray, device: str) -> np.ndarray:
    """Every hidden layer of the upstream, mean-pooled over the utterance: float32 [layers, hidden]."""
    key = (checkpoint, hashlib.sha1(waveform.tobytes()).hexdigest())
    if key not in _POOLED:
        model = load_upstream(checkpoint).to(device)
        samples = np.pad(waveform, (0, max(0, MIN_SAMPLES - len(waveform))))
        hidden = model(torch.from_numpy(samples)[None].to(device), output_hidden_states=True).hidden_states
        _POOLED[key] = torch.stack([layer[0].mean(dim=0) for layer in hidden]).float().cpu().numpy()
    return _POOLED[key]


class WeightedLayers(nn.Module):
    """[B, layers, hidden] -> softmax-weighted sum over layers = h [B, hidden] -> emotion logits."""

    def __init__(self, layers: int, hidden: int, dense_layers: int, dense_width: int, classes: int):
        super().__init__()
        self.layer_weights = nn.Parameter(torch.zeros(layers))
        self.emotion = DenseHead(hidden, dense_layers, dense_width, classes)

    def represent(self, pooled: torch.Tensor) -> torch.Tensor:
        return torch.einsum("l,blh->bh", torch.softmax(self.layer_weights, dim=0), pooled)

    def forward(self, tensors: dict) -> dict[str, torch.Tensor]:
        return {"emotion": self.emotion(self.represent(tensors["audio"][0]))}


class SSLUpstream(Encoder):
    def __init__(self, spec: EncoderSpec):
        super().__init__(spec)
        config = dict(spec.config)
        self.checkpoint = str(config["checkpoint"])
        upstream = load_upstream(self.checkpoint)
        layers, hidden = upstream.config.num_hidden_layers + 1, upstream.config.hidden_size
        torch.manual_seed(spec.seed)
        self.network = WeightedLayers(layers, hidden, int(config["dense_layers"]), int(config["dense_width"]), spec.n_classes)
        self.device = torch.device(spec.device)
        self.network.to(self.device)

    def _convert(self, batch: Batch) -> Batch:
        rows = [np.ascontiguousarray(batch.waveform[i, :n]) for i, n in enumerate(batch.waveform_lengths)]
        return make_batch({"audio": [pooled_layers(self.checkpoint, row, self.spec.device) for row in rows]})

    def fit(self, train: LabelledSet, valid: LabelledSet) -> FitReport:
        torch.manual_seed(self.spec.seed)
        heads = {"emotion": Head("emotion", self.spec.n_classes)}
        return train_network(self.network, heads, self.network, train.mapped(self._convert), valid.mapped(self._convert),
                             self.spec)

    @torch.inference_mode()
    def embed(self, batch: Batch) -> np.ndarray:
        self.network.eval()
        pooled = batch_tensors(self._convert(batch), self.device)["audio"][0]
        return self.network.represent(pooled).float().cpu().numpy()

    @torch.inference_mode()
    def predict_proba(self, batch: Batch) -> np.ndarray:
        self.network.eval()
        logits = self.network(batch_tensors(self._convert(batch), self.device))["emotion"]
        return torch.softmax(logits.double(), dim=1).cpu().numpy()
