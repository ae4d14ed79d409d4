"""The plans' indicators: a numerator, a denominator, the value (a fraction, None when the denominator is zero or not
known) and the target the province set (defaults from the plans). Each has one definition, printed with the report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.core.i18n import N_
from bot.domain.reports.figures import Tally

NAMES = (
    "managed", "accessed_services", "vocational_training", "job_support", "livelihood_support", "relapse",
    "checkins", "reviews",
)  # fmt: skip
# The plans' targets (Quảng Ninh, Hà Đông, Lào Cai, Bình Dương, Bắc Kạn): 100 % managed, more than 80 % reaching
# services, 100 % of those asking for vocational training served, more than 50 % of those wanting a job helped; the
# monthly roll-call and the quarterly review done for everyone. Relapse has no target: lower is better.
DEFAULT_TARGETS: dict[str, float | None] = {
    "managed": 1.0,
    "accessed_services": 0.8,
    "vocational_training": 1.0,
    "job_support": 0.5,
    "livelihood_support": None,
    "relapse": None,
    "checkins": 1.0,
    "reviews": 1.0,
}
LOWER_IS_BETTER = frozenset({"relapse"})

LABELS: dict[str, str] = {
    "managed": N_("Under management"),
    "accessed_services": N_("Reached counselling, treatment or support"),
    "vocational_training": N_("Vocational training given to those who asked"),
    "job_support": N_("Help finding a job given to those who asked"),
    "livelihood_support": N_("Livelihood support given to those who asked"),
    "relapse": N_("Positive among those tested"),
    "checkins": N_("Monthly check-ins done"),
    "reviews": N_("Quarterly reviews written"),
}
DEFINITIONS: dict[str, str] = {
    "managed": N_(
        "People under management at the end of the period ÷ people handed over from rehabilitation to the commune, "
        "as its officer entered it for the period's last month; empty while that number is not known."
    ),
    "accessed_services": N_(
        "People under management at the end of the period who had a request for support or counselling taken by a "
        "counselling point by then (at any time of their term) ÷ people under management at the end."
    ),
    "vocational_training": N_(
        "People who asked for vocational training in the period and whose request ended with help given or passed "
        "on ÷ people who asked for it in the period."
    ),
    "job_support": N_("The same for help finding a job."),
    "livelihood_support": N_("The same for livelihood support or a loan."),
    "relapse": N_("People with a positive result in the period ÷ people tested (negative or positive) in it."),
    "checkins": N_("Monthly check-ins done ÷ check-ins due in the period."),
    "reviews": N_("Quarterly reviews written ÷ reviews due (quarters ending in the period)."),
}


@dataclass(frozen=True, slots=True)
class Indicator:
    name: str
    numerator: int
    denominator: int | None
    target: float | None

    @property
    def value(self) -> float | None:
        if not self.denominator:
            return None
        return round(self.numerator / self.denominator, 4)

    @property
    def met(self) -> bool | None:
        """At least the target (at most, where lower is better), on the exact fraction: 19,999 of 20,000 shows as
        100.0 % and has not met a 100 % target."""
        if not self.denominator or self.target is None:
            return None
        goal = self.target * self.denominator
        return self.numerator <= goal + 1e-9 if self.name in LOWER_IS_BETTER else self.numerator >= goal - 1e-9

    def as_dict(self) -> dict[str, Any]:
        return {"numerator": self.numerator, "denominator": self.denominator, "value": self.value,
                "target": self.target, "met": self.met}  # fmt: skip


def indicators(tally: Tally, targets: dict[str, float | None], handed_over: int | None) -> dict[str, Indicator]:
    """The indicators of one tally (a commune, or a province's sum of communes)."""
    counts = tally.counts
    end = counts.get("under_management_end", 0)
    pairs: dict[str, tuple[int, int | None]] = {
        "managed": (end, handed_over),
        "accessed_services": (tally.distinct("accessed"), end),
        "vocational_training": (tally.distinct("got_training"), tally.distinct("asked_training")),
        "job_support": (tally.distinct("got_job"), tally.distinct("asked_job")),
        "livelihood_support": (tally.distinct("got_livelihood"), tally.distinct("asked_livelihood")),
        "relapse": (tally.distinct("positive"), tally.distinct("tested")),
        "checkins": (counts.get("checkins_done", 0), counts.get("checkins_due", 0)),
        "reviews": (counts.get("reviews_written", 0), counts.get("reviews_due", 0)),
    }
    return {
        name: Indicator(name, numerator, denominator, targets.get(name, DEFAULT_TARGETS[name]))
        for name, (numerator, denominator) in pairs.items()
    }
