"""The figures a report needs about referrals: how many asked, how many reached a counsellor ("accessed
counselling"), how fast a human first answered (median), how they ended."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from statistics import median
from typing import Protocol


class ReferralFacts(Protocol):
    kind: str
    urgency: str
    source: str
    created_at: datetime
    accepted_at: datetime | None
    first_reply_at: datetime | None
    outcome: str | None


@dataclass(frozen=True, slots=True)
class ReferralStats:
    requested: int = 0
    urgent: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    # where they were asked: "help" (the menu), "checkin" (the offer after a risky check-in), "checkin_needs" (needs
    # stated in a monthly check-in), "crisis", … — each followed to its outcome like any other
    by_source: dict[str, int] = field(default_factory=dict)
    accessed_counselling: int = 0  # counselling referrals a counsellor took
    replied: int = 0  # of those, how many got a first human reply in the chat
    median_minutes_to_first_reply: float | None = None
    median_minutes_to_accept: float | None = None
    outcomes: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def _minutes(start: datetime, end: datetime) -> float:
    return round((end - start).total_seconds() / 60, 1)


def summarise(referrals: Iterable[ReferralFacts]) -> ReferralStats:
    items = list(referrals)
    counselling = [r for r in items if r.kind == "counselling" and r.accepted_at is not None]
    replies = [_minutes(r.created_at, r.first_reply_at) for r in counselling if r.first_reply_at is not None]
    accepts = [_minutes(r.created_at, r.accepted_at) for r in counselling if r.accepted_at is not None]
    return ReferralStats(
        requested=len(items),
        urgent=sum(1 for r in items if r.urgency == "urgent"),
        by_kind=dict(sorted(Counter(r.kind for r in items).items())),
        by_source=dict(sorted(Counter(r.source for r in items).items())),
        accessed_counselling=len(counselling),
        replied=len(replies),
        median_minutes_to_first_reply=median(replies) if replies else None,
        median_minutes_to_accept=median(accepts) if accepts else None,
        outcomes=dict(sorted(Counter(r.outcome for r in items if r.outcome).items())),
    )
