"""A request for support made on a person's behalf: recorded for their counselling point and told to whoever follows
them (the cadre if the bot can reach them, else the commune's officers), through the outbox.

One place for what the help menu (bot/flows/support) and the monthly check-in's needs (bot/flows/checkin) both do,
so a request is routed, recorded and announced the same way whichever way it was asked. The caller has checked the
person's consent (or their one-time permission) and REQUEST_REFERRAL, and audits what was done.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.db.repositories.outbox import NewMessage
from bot.db.store import Repositories
from bot.domain.checkin import needs_to_request
from bot.domain.entities import CounsellingPoint, Participant
from bot.domain.planning import MessageKind
from bot.services.escalations import reachable

# The source of a request made from the needs stated in a monthly check-in ("checkin" is the counselling offer made
# after a risky one); reports count the two apart.
CHECKIN_NEEDS = "checkin_needs"


class Heard(StrEnum):
    """Who hears of a request, as the person is told."""

    CADRE = "cadre"
    OFFICERS = "officers"
    NOBODY = "nobody"  # nobody the bot can reach: it is recorded


@dataclass(frozen=True, slots=True)
class Hearers:
    recipients: list[int]  # staff the notice is queued for
    heard: Heard


@dataclass(frozen=True, slots=True)
class NeedsPassed:
    """What passing stated needs on did: the requests made (kind, id) and the kinds already waiting."""

    made: list[tuple[str, int]]
    already_open: list[str]
    has_point: bool
    heard: Heard


async def point_of(repos: Repositories, unit_id: int | None) -> CounsellingPoint | None:
    if unit_id is None:
        return None
    points = await repos.points.in_unit(unit_id)
    return points[0] if points else None


async def who_hears(repos: Repositories, person: Participant) -> Hearers:
    """Like an escalation: the cadre if the bot can reach them, else the commune's officers (all of them are queued
    for; the person is told of them only if the bot can reach one)."""
    if person.cadre_id is not None and await reachable(repos, [person.cadre_id]):
        return Hearers([person.cadre_id], Heard.CADRE)
    officers = await repos.escalations.officers_of(person.unit_id)
    reached = await reachable(repos, officers)
    return Hearers(officers, Heard.OFFICERS if reached else Heard.NOBODY)


async def record_request(
    repos: Repositories,
    person: Participant,
    kind: str,
    *,
    source: str,
    now: datetime,
    point: CounsellingPoint | None,
    hearers: Hearers,
) -> int:
    """The referral for the point (or for nobody at a point, in a commune without one) and one notice per hearer."""
    referral_id = await repos.referrals.request(person.id, kind, source=source, point_id=point.id if point else None)
    payload = {
        "participant_id": person.id,
        "referral_id": referral_id,
        "kind": kind,
        "point": point is not None,
        "source": source,
    }
    await repos.outbox.add(
        [
            NewMessage(f"referral:{referral_id}:staff:{staff_id}", MessageKind.REFERRAL_NOTICE, now,
                       staff_id=staff_id, payload=payload)
            for staff_id in hearers.recipients
        ]
    )  # fmt: skip
    return referral_id


async def pass_on_needs(repos: Repositories, person: Participant, kinds: tuple[str, ...], now: datetime) -> NeedsPassed:
    """One request per stated need, none for a kind the person already has an open request of."""
    new, already = needs_to_request(kinds, await repos.referrals.open_kinds_of(person.id))
    point = await point_of(repos, person.unit_id)
    hearers = await who_hears(repos, person)
    made = []
    for kind in new:
        referral_id = await record_request(
            repos, person, kind, source=CHECKIN_NEEDS, now=now, point=point, hearers=hearers
        )
        made.append((kind, referral_id))
    return NeedsPassed(made, already, point is not None, hearers.heard)
