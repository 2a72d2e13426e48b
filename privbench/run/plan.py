"""The job plan: which jobs a budget asks for (docs/protocol.md sections 5 and 8).

A setup (corpus, modality, task) gets one main job per configuration x
rotation x seed; after selection, one membership job per seed for each of the
budget's membership rotations, with the configuration selected for that rotation.
Each training job that an attack reads is then scored (`score_jobs`). A frozen
front end's or frozen representations' jobs train the emotion head on the
setup's shared h (`Setup.representation`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

from privbench.run.jobs import TRAINING_SECTIONS, JobSpec
from privbench.run.score_jobs import ScoreSpec
from privbench.scoring.score import SCORING_SECTIONS
from privbench.paths import code_sha256
from privbench.protocol import Budget, Protocol
from privbench.encoders.submission import Submission


@dataclass(frozen=True)
class Setup:
    corpus: str
    corpus_sha256: str
    split_sha256: str  # jobs read the split, so it keys them too
    modality: str
    task: str
    representation: str = ""  # the shared h's key, for a frozen front end or frozen representations

    def describe(self) -> str:
        return f"{self.corpus}/{self.modality}/{self.task}"


def configurations(submission: Submission, budget: Budget, draw_seed: int) -> list[dict[str, Any]]:
    """The configurations a budget tries: the default; plus draws seeded with the protocol's
    `training.configuration_draw_seed` (the same for everyone); or the whole search grid."""
    default = dict(submission.config)
    if budget.configurations == "default" or not submission.search:
        return [default]
    keys = sorted(submission.search)
    grid = [{**default, **dict(zip(keys, values))} for values in itertools.product(*(submission.search[k] for k in keys))]
    if budget.configurations == "grid":
        return grid
    others = [config for config in grid if config != default]
    rng = np.random.default_rng(draw_seed)
    picks = rng.choice(len(others), size=min(budget.random_draws, len(others)), replace=False)
    return [default] + [others[i] for i in sorted(picks)]


def _job(submission: Submission, setup: Setup, budget: Budget, protocol: Protocol, device: str, rotation: int, seed: int,
         config: dict[str, Any], kind: str) -> JobSpec:
    return JobSpec(str(submission.folder), submission.sha256, protocol.sections_sha256(TRAINING_SECTIONS), setup.corpus,
                   setup.corpus_sha256, setup.split_sha256, setup.modality, setup.task, rotation, seed, config, kind,
                   budget.max_epochs, code_sha256("train"), setup.representation, device)


def score_spec(job: JobSpec, protocol: Protocol) -> ScoreSpec:
    """The score step of a training job."""
    return ScoreSpec(job, code_sha256("score"), protocol.sections_sha256(SCORING_SECTIONS))


def main_jobs(submission: Submission, setup: Setup, budget: Budget, protocol: Protocol, device: str) -> list[JobSpec]:
    # On a shared h only the protocol's fixed emotion head trains: there is nothing to search.
    configs = ([dict(submission.config)] if setup.representation
               else configurations(submission, budget, protocol.training.configuration_draw_seed))
    return [_job(submission, setup, budget, protocol, device, rotation, seed, config, "main")
            for config in configs for rotation in range(budget.rotations) for seed in range(budget.seeds)]


def membership_jobs(submission: Submission, setup: Setup, budget: Budget, protocol: Protocol, device: str,
                    chosen: dict[int, dict[str, Any]]) -> list[JobSpec]:
    """`chosen` maps a rotation to its selected configuration."""
    return [_job(submission, setup, budget, protocol, device, rotation, seed, chosen[rotation], "membership")
            for rotation in range(min(budget.membership_rotations, budget.rotations)) for seed in range(budget.seeds)]
