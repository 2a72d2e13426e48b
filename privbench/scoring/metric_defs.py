"""Every metric privbench reports, defined once: name, header, direction, chance, inversion.

Records, the terminal summary, the paper's tables, the findings and the
leaderboard all derive their columns and their significance directions from
`METRICS`, so a metric is added or renamed in one place.

Inverted attacks (PROTOCOL.md section 6): an attacker that lands on the wrong
side of chance on its scored data, by more than the protocol's margin
(`metrics.inversion_margin`), is flagged per rotation. The representation
separates the classes but the attacker's decision flipped between its own data
and the scored data: weak evidence of privacy, not strong evidence. Rankings
and comparisons count a flagged value as chance; the shown value stays the
measured one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    name: str  # the key in result records
    header: str  # the short column label (the paper's where it has one)
    description: str
    higher_is_better: bool | None  # None: no direction (the gender gap)
    chance: float | None  # the value of an uninformed predictor, where one exists
    required: bool  # every record must hold it
    inverted_side: str | None = None  # "above" / "below" chance: where a flipped attacker lands

    def is_inverted(self, value: float | None, margin: float) -> bool:
        if value is None or self.inverted_side is None or self.chance is None:
            return False
        return value > self.chance + margin if self.inverted_side == "above" else value < self.chance - margin

    def ranked(self, value: float | None, inverted: bool) -> float | None:
        """The value rankings and comparisons use: chance for a flagged rotation."""
        return self.chance if inverted else value


METRICS: tuple[Metric, ...] = (
    Metric("uar", "U", "emotion UAR on the test fold", True, 1 / 3, True),
    Metric("uar_male", "U(M)", "emotion UAR on male test utterances", True, 1 / 3, True),
    Metric("uar_female", "U(F)", "emotion UAR on female test utterances", True, 1 / 3, True),
    Metric("gap", "U(F)-U(M)", "the gender gap of emotion UAR", None, None, False),
    Metric("leakage", "L", "gender probe UAR on h (trained on D1, scored on test)", False, 0.5, True),
    Metric("privacy", "P", "1 - UAR of the paper's MLP attacker (trained on test, scored on D1)", True, 0.5, True, "above"),
    Metric("privacy_worst", "P-worst", "P under the strongest attacker family", True, 0.5, False, "above"),
    Metric("privacy_mlp", "P-mlp", "P of the MLP attacker grid", True, 0.5, False, "above"),
    Metric("privacy_logistic", "P-logistic", "P of a logistic-regression attacker", True, 0.5, False, "above"),
    Metric("privacy_knn", "P-knn", "P of a k-nearest-neighbour attacker", True, 0.5, False, "above"),
    Metric("membership", "MI", "membership identification UAR on s5's utterances", False, 0.5, True, "below"),
    Metric("membership_speaker", "MI-spk", "membership identification UAR on s5's speakers", False, 0.5, True, "below"),
    Metric("membership_auc", "MI-AUC", "ROC AUC of the membership attacker on s5", False, 0.5, False, "below"),
    Metric("membership_tpr_at_1fpr", "MI-TPR@1%", "membership attacker's true-positive rate at 1% false positives",
           False, 0.01, False),
)

BY_NAME = {metric.name: metric for metric in METRICS}
REQUIRED = tuple(metric.name for metric in METRICS if metric.required)
UTILITY = ("uar", "uar_male", "uar_female", "gap")
ATTACKS = ("leakage", "privacy", "privacy_worst", "privacy_mlp", "privacy_logistic", "privacy_knn")
MEMBERSHIP = ("membership", "membership_speaker", "membership_auc", "membership_tpr_at_1fpr")


def metric(name: str) -> Metric:
    return BY_NAME[name]


def headers(names: Sequence[str]) -> list[str]:
    return [BY_NAME[name].header for name in names]
