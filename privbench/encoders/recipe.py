"""docs/protocol.md section 5's training recipe for any multi-head network.

A network maps a batch to logits per head: always "emotion", plus any
adversary heads (their gradient already reversed inside the network). Each
head names the label it learns ("gender" or "speaker"). The recipe:

- loss = sum over heads of cross-entropy weighted by inverse class frequency
  in the training set, normalised to mean 1 over the classes present;
- the optimiser `training.optimizer` names (RMSProp with Keras' defaults: lr,
  rho, epsilon from protocol.toml), batch
  size from protocol.toml (the LabelledSet's batches);
- at most `spec.max_epochs` epochs; stop when the validation emotion loss has
  not improved for `early_stopping_patience` epochs;
- keep the best epoch: the lowest validation emotion loss, and for a network
  with gender adversaries only among epochs whose every gender head is at
  chance on validation, two-sided: |UAR - 0.5| <= tolerance (a head at 0.2 is
  confidently wrong: flipping it recovers gender, so it is not at chance);
  when no epoch is, the epoch whose farthest head is closest to 0.5, and
  `chance_reached` False.

The validation emotion loss uses the training set's class weights **[decided]**,
so it measures the objective that training minimises.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from privbench.encoders.blocks import batch_tensors
from privbench.errors import ProtocolError
from privbench.encoders.interface import EncoderSpec, FitReport, LabelledSet
from privbench.measures import chance_distance, class_weighting, uar


def class_weights(labels: np.ndarray, classes: int, weighting: str = "inverse_frequency_mean_one") -> torch.Tensor:
    """The protocol's class weights (`training.class_weights`): by default inverse class frequency,
    mean 1 over the classes present; absent classes weigh 0."""
    return torch.tensor(class_weighting(weighting, "training.class_weights")(labels, classes), dtype=torch.float32)


# protocol.toml's training.optimizer -> the optimiser, built from the training settings.
OPTIMISERS = {"rmsprop": lambda parameters, training: torch.optim.RMSprop(parameters, lr=training.learning_rate,
                                                                          alpha=training.rho, eps=training.epsilon)}


def optimiser_for(parameters, training) -> torch.optim.Optimizer:
    try:
        build = OPTIMISERS[training.optimizer]
    except KeyError:
        raise ProtocolError(f"protocol.toml: training.optimizer = {training.optimizer!r} is not one of {', '.join(OPTIMISERS)}") from None
    return build(parameters, training)


@dataclass(frozen=True)
class Head:
    """One output of the network: the label it predicts and how many classes."""

    label: str  # "emotion", "gender" or "speaker"
    classes: int


def _epoch_state(network: nn.Module) -> dict[str, torch.Tensor]:
    return {name: value.detach().clone() for name, value in network.state_dict().items()}


def _select(history: list[dict[str, float]], gender_heads: list[str], tolerance: float) -> tuple[int, bool | None]:
    """Index of the epoch to keep, and chance_reached (None without a gender adversary)."""
    losses = [epoch["valid_emotion_loss"] for epoch in history]
    if not gender_heads:
        return int(np.argmin(losses)), None
    distance = [chance_distance([epoch[f"valid_{head}_uar"] for head in gender_heads]) for epoch in history]
    at_chance = [i for i, value in enumerate(distance) if value <= tolerance]
    if at_chance:
        return min(at_chance, key=lambda i: (losses[i], i)), True
    return int(np.argmin(distance)), False


def train_network(network: nn.Module, heads: Mapping[str, Head], forward: Callable[[dict], dict[str, torch.Tensor]],
                  train: LabelledSet, valid: LabelledSet, spec: EncoderSpec,
                  on_epoch: Callable[[int, nn.Module], None] | None = None) -> FitReport:
    """Train `network` with the protocol's recipe and leave the kept epoch's weights in it.

    `forward(tensors)` maps `batch_tensors(...)` to {head name: logits [B, classes]}.
    `on_epoch(epoch, network)` runs before each epoch (for a lambda schedule).
    """
    recipe = spec.training
    device = torch.device(spec.device)
    network.to(device)
    weights = {name: class_weights(train.labels(head.label), head.classes, recipe.class_weights).to(device)
               for name, head in heads.items()}
    optimiser = optimiser_for(network.parameters(), recipe)
    gender_heads = [name for name, head in heads.items() if head.label == "gender"]

    history: list[dict[str, float]] = []
    kept: dict[int, dict[str, torch.Tensor]] = {}
    best_loss, since_best = float("inf"), 0
    for epoch in range(1, spec.max_epochs + 1):
        if on_epoch:
            on_epoch(epoch, network)
        network.train()
        totals: dict[str, float] = {name: 0.0 for name in heads}
        seen = 0
        for labelled in train.batches():
            tensors = batch_tensors(labelled.batch, device)
            logits = forward(tensors)
            losses = {name: nn.functional.cross_entropy(logits[name], _labels(labelled, head, device), weight=weights[name],
                                                        ignore_index=-1)
                      for name, head in heads.items()}
            optimiser.zero_grad(set_to_none=True)
            sum(losses.values()).backward()
            optimiser.step()
            for name, loss in losses.items():
                totals[name] += float(loss.detach()) * labelled.batch.size
            seen += labelled.batch.size
        record = {f"train_{name}_loss": total / seen for name, total in totals.items()}
        record.update(_validate(network, heads, forward, valid, weights, device))
        record["epoch"] = epoch
        history.append(record)

        # Keep a snapshot only of the epochs the rule could still return: the one it
        # keeps now and, with gender heads, the lowest-gender-UAR fallback.
        wanted = {_select(history, gender_heads, recipe.gender_chance_tolerance)[0]}
        if gender_heads:
            wanted.add(_select(history, gender_heads, -1.0)[0])  # tolerance -1: none qualifies, so the fallback
        if epoch - 1 in wanted:
            kept[epoch - 1] = _epoch_state(network)
        kept = {i: state for i, state in kept.items() if i in wanted}

        if record["valid_emotion_loss"] < best_loss:
            best_loss, since_best = record["valid_emotion_loss"], 0
        else:
            since_best += 1
            if since_best >= recipe.early_stopping_patience:
                break

    keep, chance_reached = _select(history, gender_heads, recipe.gender_chance_tolerance)
    network.load_state_dict(kept[keep])
    network.eval()
    chosen = history[keep]
    return FitReport(epochs=len(history), best_epoch=keep + 1, chance_reached=chance_reached, history=history,
                     validation={key[len("valid_"):]: value for key, value in chosen.items() if key.startswith("valid_")},
                     chance_check="privbench")


def _labels(labelled, head: Head, device: torch.device) -> torch.Tensor:
    return torch.from_numpy(getattr(labelled, head.label)).to(device)


@torch.inference_mode()
def _validate(network: nn.Module, heads: Mapping[str, Head], forward, valid: LabelledSet,
              weights: Mapping[str, torch.Tensor], device: torch.device) -> dict[str, float]:
    network.eval()
    emotion_loss, seen = 0.0, 0
    predictions: dict[str, list[np.ndarray]] = {name: [] for name in heads}
    truths: dict[str, list[np.ndarray]] = {name: [] for name in heads}
    for labelled in valid.batches(shuffle=False):
        logits = forward(batch_tensors(labelled.batch, device))
        emotion_loss += float(nn.functional.cross_entropy(logits["emotion"], _labels(labelled, heads["emotion"], device),
                                                          weight=weights["emotion"])) * labelled.batch.size
        seen += labelled.batch.size
        for name, head in heads.items():
            if head.label != "speaker":  # validation speakers are unseen: no speaker accuracy
                predictions[name].append(logits[name].argmax(dim=1).cpu().numpy())
                truths[name].append(getattr(labelled, head.label))
    scores = {"valid_emotion_loss": emotion_loss / seen}
    for name, head in heads.items():
        if head.label != "speaker":
            scores[f"valid_{name}_uar"] = uar(np.concatenate(truths[name]), np.concatenate(predictions[name]))
    return scores
