"""Every metric privbench reports, defined once: name, header, direction, chance, inversion.

Records, the terminal summary, the paper's tables, the findings and the
leaderboard all derive their columns and their significance directions from
`METRICS`, so a metric is added or renamed in one place.

The chance side (docs/protocol.md section 6): an attack's value on the
privacy side of chance (P above 0.5, ID-EER above 0.5, MI, MI-AUC or
MI-LR-AUC below 0.5) is counted as chance in rankings and comparisons, with no
margin, so the rule is monotone (a value never ranks better for being further
past chance). Beyond the protocol's margin (`metrics.inversion_margin`) a
rotation is also flagged `inverted` for display: the representation separates
the classes but the attacker's decision flipped between its own data and the
scored data, which is weak evidence of privacy, not strong evidence. Flags
compare values rounded to 9 decimals, so 0.44999999999999996 is 0.45. The
shown value stays the measured one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from privbench.measures import rounded


@dataclass(frozen=True)
class Metric:
    name: str  # the key in result records
    header: str  # the short column label (the paper's where it has one)
    description: str
    higher_is_better: bool | None  # None: no direction (the gender gap, a count)
    chance: float | None  # the value of an uninformed attacker or predictor, where one exists
    required: bool  # every record must hold it
    inverted_side: str | None = None  # "above" / "below" chance: where a flipped attacker lands
    pooled: bool = False  # the headline is one value over every rotation's speakers pooled (MI-LR)

    def is_inverted(self, value: float | None, margin: float) -> bool:
        if value is None or self.inverted_side is None or self.chance is None:
            return False
        value, margin = rounded(value), rounded(margin)
        return value > rounded(self.chance + margin) if self.inverted_side == "above" else value < rounded(self.chance - margin)

    def ranked(self, value: float | None) -> float | None:
        """The value rankings and comparisons use: chance wherever it lies on the privacy side of chance."""
        if value is None or self.inverted_side is None or self.chance is None:
            return value
        return min(value, self.chance) if self.inverted_side == "above" else max(value, self.chance)


METRICS: tuple[Metric, ...] = (
    Metric("uar", "U", "emotion UAR on the test fold", True, 1 / 3, True),
    Metric("uar_male", "U(M)", "emotion UAR on male test utterances", True, 1 / 3, True),
    Metric("uar_female", "U(F)", "emotion UAR on female test utterances", True, 1 / 3, True),
    Metric("gap", "U(F)-U(M)", "the gender gap of emotion UAR", None, None, False),
    Metric("leakage", "L", "gender probe UAR on h (trained on D1, scored on test)", False, 0.5, True),
    Metric("privacy", "P", "1 - UAR of the paper's MLP attacker (trained on test, scored on D1)", True, 0.5, True, "above"),
    Metric("privacy_worst", "P-worst", "P of the attacker family strongest on validation", True, 0.5, False, "above"),
    Metric("privacy_mlp", "P-mlp", "P of the MLP attacker grid", True, 0.5, False, "above"),
    Metric("privacy_logistic", "P-logistic", "P of a logistic-regression attacker", True, 0.5, False, "above"),
    Metric("privacy_knn", "P-knn", "P of a k-nearest-neighbour attacker", True, 0.5, False, "above"),
    Metric("identity_eer", "ID-EER", "equal error rate of the identity attacker family strongest on validation (test speakers)",
           True, 0.5, False, "above"),
    Metric("identity_eer_ignorant", "ID-EER-ign", "ID-EER with cosine on standardised h", True, 0.5, False, "above"),
    Metric("identity_eer_informed", "ID-EER-inf", "ID-EER with cosine after LDA fitted on h(D1) by speaker", True, 0.5, False,
           "above"),
    Metric("identity_link", "ID-link", "share of test trials whose own speaker scores highest (chance 1/N)", False, None, False),
    Metric("identity_tpr_at_1fpr", "ID-TPR@1%", "same-speaker trials accepted at 1% false acceptances", False, 0.01, False),
    Metric("identity_speakers", "N", "test speakers of the identity attack (ID-link's chance is 1/N)", None, None, False),
    Metric("membership", "MI", "membership identification UAR on s5's utterances (the paper's)", False, 0.5, True, "below"),
    Metric("membership_speaker", "MI-spk", "membership identification UAR on s5's speakers (the paper's)", False, 0.5, True,
           "below"),
    Metric("membership_auc", "MI-AUC", "ROC AUC of the paper's membership attacker on s5", False, 0.5, False, "below"),
    Metric("membership_tpr_at_1fpr", "MI-TPR@1%", "the paper's membership attacker's true-positive rate at 1% false positives",
           False, 0.01, False),
    Metric("membership_lr_auc", "MI-LR", "speaker-level ROC AUC of the likelihood-ratio membership attack (stronger surface on s4)",
           False, 0.5, False, "below", pooled=True),
    Metric("membership_lr_tpr_at_10fpr", "MI-LR-TPR@10%", "MI-LR's true-positive rate at 10% false positives", False, 0.1,
           False, pooled=True),
    Metric("membership_lr_tpr_at_1fpr", "MI-LR-TPR@1%", "MI-LR's true-positive rate at 1% false positives", False, 0.01, False,
           pooled=True),
    Metric("membership_lr_auc_h", "MI-LR-h", "MI-LR's AUC on the representation surface", False, 0.5, False, "below", pooled=True),
    Metric("membership_lr_auc_loss", "MI-LR-loss", "MI-LR's AUC on the emotion model's loss surface", False, 0.5, False, "below",
           pooled=True),
    Metric("membership_lr_tpr_at_10fpr_h", "MI-LR-h-TPR@10%", "MI-LR's TPR at 10% FPR, representation surface", False, 0.1, False,
           pooled=True),
    Metric("membership_lr_tpr_at_10fpr_loss", "MI-LR-loss-TPR@10%", "MI-LR's TPR at 10% FPR, loss surface", False, 0.1, False,
           pooled=True),
)

BY_NAME = {metric.name: metric for metric in METRICS}
REQUIRED = tuple(metric.name for metric in METRICS if metric.required)
UTILITY = ("uar", "uar_male", "uar_female", "gap")
ATTACKS = ("leakage", "privacy", "privacy_worst", "privacy_mlp", "privacy_logistic", "privacy_knn")
IDENTITY = ("identity_eer", "identity_eer_ignorant", "identity_eer_informed", "identity_link", "identity_tpr_at_1fpr",
            "identity_speakers")
MAIN_SCORES = ATTACKS + IDENTITY  # what scoring a main job gives
MEMBERSHIP = ("membership", "membership_speaker", "membership_auc", "membership_tpr_at_1fpr")


def metric(name: str) -> Metric:
    return BY_NAME[name]


def headers(names: Sequence[str]) -> list[str]:
    return [BY_NAME[name].header for name in names]
