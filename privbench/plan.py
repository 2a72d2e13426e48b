"""The job plan: which jobs a budget asks for (PROTOCOL.md sections 5 and 8).

A setup (corpus, modality, task) gets one main job per configuration x
rotation x seed; after selection, one membership job per seed for each of the
budget's membership rotations, with the configuration selected for that rotation.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

from privbench.jobs import JobSpec
from privbench.paths import code_sha256
from privbench.protocol import Budget
from privbench.submission import Submission

RANDOM_DRAW_SEED = 20200207  # the standard budget's configuration draws are the same for everyone


@dataclass(frozen=True)
class Setup:
    corpus: str
    corpus_sha256: str
    modality: str
    task: str

    def describe(self) -> str:
        return f"{self.corpus}/{self.modality}/{self.task}"


def configurations(submission: Submission, budget: Budget) -> list[dict[str, Any]]:
    """The configurations a budget tries: the default; plus seeded draws; or the whole search grid."""
    default = dict(submission.config)
    if budget.configurations == "default" or not submission.search:
        return [default]
    keys = sorted(submission.search)
    grid = [{**default, **dict(zip(keys, values))} for values in itertools.product(*(submission.search[k] for k in keys))]
    if budget.configurations == "grid":
        return grid
    others = [config for config in grid if config != default]
    rng = np.random.default_rng(RANDOM_DRAW_SEED)
    picks = rng.choice(len(others), size=min(budget.random_draws, len(others)), replace=False)
    return [default] + [others[i] for i in sorted(picks)]


def main_jobs(submission: Submission, setup: Setup, budget: Budget, protocol_sha256: str, device: str) -> list[JobSpec]:
    return [JobSpec(str(submission.folder), submission.sha256, protocol_sha256, setup.corpus, setup.corpus_sha256,
                    setup.modality, setup.task, rotation, seed, config, "main", budget.max_epochs, code_sha256(), device)
            for config in configurations(submission, budget)
            for rotation in range(budget.rotations) for seed in range(budget.seeds)]


def membership_jobs(submission: Submission, setup: Setup, budget: Budget, protocol_sha256: str, device: str,
                    chosen: dict[int, dict[str, Any]]) -> list[JobSpec]:
    """`chosen` maps a rotation to its selected configuration."""
    return [JobSpec(str(submission.folder), submission.sha256, protocol_sha256, setup.corpus, setup.corpus_sha256,
                    setup.modality, setup.task, rotation, seed, chosen[rotation], "membership", budget.max_epochs, code_sha256(), device)
            for rotation in range(min(budget.membership_rotations, budget.rotations)) for seed in range(budget.seeds)]
