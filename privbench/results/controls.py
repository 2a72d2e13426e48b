"""What each control must show (docs/protocol.md section 6), checked on its result record.

The controls are encoders whose leak is known: `control-noise` leaks nothing,
`control-voice` leaks the voice, `control-memoriser` writes membership into h.
Values are compared rounded to 9 decimals, as every flag of the protocol is
(0.44999999999999996 is 0.45). An attack that misses a known leak, or finds one in noise, is broken; the
project's tests evaluate the controls and assert these checks, and the
leaderboard shows their outcome on the controls' sanity rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from privbench.measures import rounded
from privbench.protocol import Controls
from privbench.records import headline


@dataclass(frozen=True)
class Expectation:
    """One check of a control on one record: what it asks, what was measured, and whether it holds
    (None: it does not apply to this record, e.g. too few speakers, or the metric is missing)."""

    control: str
    what: str
    measured: str
    holds: bool | None

    def line(self) -> str:
        status = {True: "holds", False: "FAILS", None: "does not apply"}[self.holds]
        return f"{self.control}: {self.what}: {self.measured} -> {status}"


def _value(record: Mapping[str, Any], name: str, mean: bool = False) -> float | None:
    """The table's value (pooled where the metric is pooled), or with `mean` the mean over rotations."""
    if name not in record["metrics"]:
        return None
    return record["metrics"][name].get("mean") if mean else headline(record, name)


def _within(control: str, record, name: str, label: str, centre: float, tolerance: float) -> Expectation:
    value = _value(record, name, mean=True)  # section 6: the noise control's bars are means over rotations
    return Expectation(control, f"|{label} - {centre:g}| <= {tolerance:g}", "missing" if value is None else f"{value:.3f}",
                       None if value is None else rounded(abs(value - centre)) <= rounded(tolerance))


def _bound(control: str, record, name: str, label: str, limit: float, at_least: bool) -> Expectation:
    value = _value(record, name)
    what = f"{label} {'>=' if at_least else '<='} {limit:g}"
    holds = None if value is None else (rounded(value) >= rounded(limit) if at_least else rounded(value) <= rounded(limit))
    return Expectation(control, what, "missing" if value is None else f"{value:.3f}", holds)


def speakers(record: Mapping[str, Any]) -> int | None:
    """How many speakers the record's corpus holds (the test folds' identity speakers, summed over rotations)."""
    counts = [v for v in record["metrics"].get("identity_speakers", {}).get("rotations", []) if v is not None]
    return int(round(sum(counts))) if counts else None


def expectations(record: Mapping[str, Any], rules: Controls, anywhere: bool = False) -> list[Expectation]:
    """The checks of the control that made `record` (none for any other encoder). `anywhere`: hold
    control-voice to its bars on any corpus (the tests do, on the synthetic corpus), not only on real
    speech with enough speakers."""
    control = record["encoder"]["name"]
    if control == "control-noise":
        means = (("leakage", "L"), ("privacy", "P"), ("membership", "MI"), ("membership_lr_auc", "MI-LR-AUC (mean over rotations)"))
        checks = [_within(control, record, name, label, 0.5, rules.noise_chance_tolerance) for name, label in means]
        checks.append(_bound(control, record, "identity_eer", "ID-EER", rules.noise_min_identity_eer, at_least=True))
        links = record["metrics"].get("identity_link", {}).get("rotations", [])
        counts = record["metrics"].get("identity_speakers", {}).get("rotations", [])
        pairs = [(link, n) for link, n in zip(links, counts) if link is not None and n]
        worst = max((link * n for link, n in pairs), default=None)  # ID-link in units of its chance 1/N
        checks.append(Expectation(control, f"ID-link <= {rules.noise_max_link_over_chance:g}/N in every rotation",
                                  "missing" if worst is None else f"at most {worst:.2f}/N",
                                  None if worst is None else rounded(worst) <= rounded(rules.noise_max_link_over_chance)))
        return checks
    if control == "control-voice":
        real = not record.get("synthetic") and record["corpus"]["name"] != "synthetic"
        enough = (speakers(record) or 0) >= rules.voice_min_speakers
        checks = [_bound(control, record, "identity_eer_informed", "informed ID-EER", rules.voice_max_identity_eer, at_least=False),
                  _bound(control, record, "leakage", "L", rules.voice_min_leakage, at_least=True)]
        if not (anywhere or (real and enough)):  # the protocol sets these bars for real speech with enough speakers
            return [Expectation(c.control, c.what + f" (real speech, >= {rules.voice_min_speakers} speakers)", c.measured, None)
                    for c in checks]
        return checks
    if control == "control-memoriser":
        return [_bound(control, record, "membership_lr_auc", "MI-LR-AUC (pooled)", rules.memoriser_min_membership_lr_auc,
                       at_least=True)]
    return []
