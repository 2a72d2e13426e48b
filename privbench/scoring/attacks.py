"""docs/protocol.md section 6's attacks on frozen representations: L, P, P-worst and the paper's MI.

Every attack is a function of representations (float arrays [N, D]) and
labels; no encoder is involved, so each can be tested on constructed data.

Attacker families:
- "mlp": the paper's grid, {2,3,4} hidden layers x {32,64} units (ReLU), Adam,
  balanced cross-entropy, early stopping on the attacker's own validation
  loss; the member with the best validation UAR is scored. The grid's members
  train side by side in one pass over the data.
- "logistic": the same trainer with no hidden layer (logistic regression).
- "knn": k nearest neighbours (Euclidean), k chosen on validation.
Inputs are z-scored with the attacker's training data's statistics
**[decided]**; mini-batches of `attacker.batch_size` **[decided]**; the k-NN
attacker's candidate k and the families behind P-worst are protocol data too.
`privacy_worst` is the privacy metric under the strongest family, so a
representation cannot look private by defeating one attacker shape; the
family is chosen per rotation on the attacker's own validation data
(h(validation)), never on the scored data (protocol 3; version 2 took the
lowest P on the scored data, an optimistic choice).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from privbench.errors import ProtocolError
from privbench.measures import class_weighting, uar
from privbench.protocol import Attacker, Membership
from privbench.scoring.roc import roc_auc, tpr_at_fpr

# protocol.toml's attacker.optimizer -> the optimiser of each attacker network.
OPTIMISERS = {"adam": lambda parameters, settings: torch.optim.Adam(parameters, lr=settings.learning_rate)}


@dataclass(frozen=True)
class Attack:
    """Labelled representations for one attack: train, select, score."""

    train_x: np.ndarray
    train_y: np.ndarray
    valid_x: np.ndarray
    valid_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray


def _standardise(attack: Attack) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    mean = attack.train_x.mean(axis=0)
    scale = attack.train_x.std(axis=0)
    scale[scale < 1e-8] = 1.0
    return tuple(torch.from_numpy(((x - mean) / scale).astype(np.float32)) for x in (attack.train_x, attack.valid_x, attack.test_x))


def _mlp(input_dim: int, layers: int, units: int, classes: int) -> nn.Module:
    sizes = [input_dim] + [units] * layers
    hidden = [module for a, b in zip(sizes, sizes[1:]) for module in (nn.Linear(a, b), nn.ReLU())]
    return nn.Sequential(*hidden, nn.Linear(sizes[-1], classes))


def train_attackers(shapes: list[tuple[int, int]], attack: Attack, settings: Attacker, seed: int,
                    classes: int = 2) -> list[np.ndarray]:
    """Train one network per (layers, units) shape side by side; each member stops
    on its own validation loss (patience) and keeps its best epoch.

    Returns, per member, its class probabilities on [valid; test] (rows of valid first).
    """
    torch.manual_seed(seed)
    train_x, valid_x, test_x = _standardise(attack)
    train_y = torch.from_numpy(attack.train_y.astype(np.int64))
    valid_y = torch.from_numpy(attack.valid_y.astype(np.int64))
    weights = torch.tensor(class_weighting(settings.loss, "attacker.loss")(attack.train_y.astype(np.int64), classes),
                           dtype=torch.float32)
    members = [_mlp(train_x.shape[1], layers, units, classes) for layers, units in shapes]
    if settings.optimizer not in OPTIMISERS:
        raise ProtocolError(f"protocol.toml: attacker.optimizer = {settings.optimizer!r} is not one of {', '.join(OPTIMISERS)}")
    optimisers = [OPTIMISERS[settings.optimizer](m.parameters(), settings) for m in members]
    best = [(float("inf"), None) for _ in members]
    waited = [0] * len(members)
    active = list(range(len(members)))
    generator = torch.Generator().manual_seed(seed)
    for _ in range(settings.max_epochs):
        if not active:
            break
        order = torch.randperm(len(train_x), generator=generator)
        for start in range(0, len(order), settings.batch_size):
            rows = order[start:start + settings.batch_size]
            for i in active:
                loss = nn.functional.cross_entropy(members[i](train_x[rows]), train_y[rows], weight=weights)
                optimisers[i].zero_grad(set_to_none=True)
                loss.backward()
                optimisers[i].step()
        with torch.inference_mode():
            for i in list(active):
                loss = float(nn.functional.cross_entropy(members[i](valid_x), valid_y, weight=weights))
                if loss < best[i][0]:
                    best[i] = (loss, {k: v.clone() for k, v in members[i].state_dict().items()})
                    waited[i] = 0
                else:
                    waited[i] += 1
                    if waited[i] >= settings.early_stopping_patience:
                        active.remove(i)
    outputs = []
    with torch.inference_mode():
        both = torch.cat([valid_x, test_x])
        for member, (_, state) in zip(members, best):
            if state is not None:
                member.load_state_dict(state)
            outputs.append(torch.softmax(member(both), dim=1).numpy())
    return outputs


@dataclass(frozen=True)
class Picked:
    """The selected attacker: its validation UAR and its class probabilities on the test rows."""

    valid_uar: float
    test_probabilities: np.ndarray


def _pick(probabilities: list[np.ndarray], attack: Attack) -> Picked:
    """The member with the best validation UAR (first on ties)."""
    n_valid = len(attack.valid_y)
    scores = [uar(attack.valid_y, p[:n_valid].argmax(axis=1)) for p in probabilities]
    best = int(np.argmax(scores))
    return Picked(scores[best], probabilities[best][n_valid:])


def knn_probabilities(attack: Attack, neighbours: tuple[int, ...], classes: int = 2) -> np.ndarray:
    """Class shares among the k nearest training points, k chosen on validation UAR."""
    train_x, valid_x, test_x = (t.numpy() for t in _standardise(attack))
    both = np.concatenate([valid_x, test_x])
    distances = ((both[:, None, :] - train_x[None, :, :]) ** 2).sum(axis=2)  # [valid+test, train]
    nearest = np.argsort(distances, axis=1, kind="stable")
    candidates = []
    for k in neighbours:
        votes = attack.train_y[nearest[:, :min(k, len(train_x))]]
        candidates.append(np.stack([(votes == c).mean(axis=1) for c in range(classes)], axis=1))
    return _pick(candidates, attack)


def attack_family(family: str, attack: Attack, settings: Attacker, seed: int, classes: int = 2) -> Picked:
    """One attacker family trained on the attack's train rows, its member chosen on validation."""
    if family == "mlp":
        shapes = [(layers, units) for layers in settings.hidden_layers for units in settings.hidden_units]
        return _pick(train_attackers(shapes, attack, settings, seed, classes), attack)
    if family == "logistic":
        return _pick(train_attackers([(0, 0)], attack, settings, seed, classes), attack)
    if family == "knn":
        return knn_probabilities(attack, settings.knn_neighbours, classes)
    raise ProtocolError(f"protocol.toml: attacker.families names {family!r}; the families are mlp, logistic, knn")


def attack_probabilities(family: str, attack: Attack, settings: Attacker, seed: int, classes: int = 2) -> np.ndarray:
    """The selected attacker's class probabilities on the attack's test rows."""
    return attack_family(family, attack, settings, seed, classes).test_probabilities


def attack_uar(family: str, attack: Attack, settings: Attacker, seed: int, classes: int = 2) -> float:
    return uar(attack.test_y, attack_probabilities(family, attack, settings, seed, classes).argmax(axis=1))


def leakage(h_train: np.ndarray, g_train: np.ndarray, h_valid: np.ndarray, g_valid: np.ndarray,
            h_test: np.ndarray, g_test: np.ndarray, settings: Attacker, seed: int) -> float:
    """L: a gender probe trained on h(D1), selected on h(validation), UAR on h(test)."""
    return attack_uar("mlp", Attack(h_train, g_train, h_valid, g_valid, h_test, g_test), settings, seed)


def privacy(h_test: np.ndarray, g_test: np.ndarray, h_valid: np.ndarray, g_valid: np.ndarray,
            h_d1: np.ndarray, g_d1: np.ndarray, settings: Attacker, seed: int) -> dict[str, float]:
    """P = 1 - UAR of an attacker trained on h(test), selected on h(validation), scored on h(D1),
    per family; "privacy" is the paper's MLP grid, "privacy_worst" the P of the family with the
    best validation UAR (first in protocol order on ties)."""
    attack = Attack(h_test, g_test, h_valid, g_valid, h_d1, g_d1)
    picked = {family: attack_family(family, attack, settings, seed) for family in settings.families}
    per_family = {family: 1.0 - uar(g_d1, p.test_probabilities.argmax(axis=1)) for family, p in picked.items()}
    strongest = max(settings.families, key=lambda family: (picked[family].valid_uar, -settings.families.index(family)))
    return {"privacy": per_family["mlp"], "privacy_worst": per_family[strongest],
            **{f"privacy_{family}": value for family, value in per_family.items()}}


# ---------------------------------------------------------------- membership identification

@dataclass(frozen=True)
class MembershipData(Attack):
    """The MI attacker's data: representations with membership labels (1 = 'yes').

    `test_speakers` gives each test row's speaker, for speaker-level MI.
    """

    test_speakers: np.ndarray


def membership(data: MembershipData, settings: Attacker, rules: Membership, seed: int) -> dict[str, float]:
    """MI (sample-level UAR on s5), speaker-level MI, ROC AUC and TPR at 1% FPR."""
    probability = attack_probabilities("mlp", data, settings, seed)[:, 1]  # P(yes) per s5 utterance
    predicted = (probability >= 0.5).astype(np.int64)
    speakers = np.unique(data.test_speakers)
    speaker_truth = np.array([data.test_y[data.test_speakers == s][0] for s in speakers])
    speaker_vote = np.array([probability[data.test_speakers == s].mean() >= rules.speaker_threshold for s in speakers], dtype=np.int64)
    return {"membership": uar(data.test_y, predicted), "membership_speaker": uar(speaker_truth, speaker_vote),
            "membership_auc": roc_auc(data.test_y, probability), "membership_tpr_at_1fpr": tpr_at_fpr(data.test_y, probability)}
