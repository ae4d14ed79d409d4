"""Tổng quan: the first page after signing in. An officer sees the commune's numbers for today, each a link to the
list filtered to those people; everyone sees what is waiting for them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.core.i18n import N_
from bot.db.repositories.overview import commune_today
from bot.db.store import Repositories
from bot.domain.authz import Action, ParticipantScope, decide
from bot.domain.entities import Participant, Role
from bot.domain.planning import MessageKind, ObligationStatus, shown_before_due
from bot.flows.caseload import DUE_WHAT
from bot.web.console import desk
from bot.web.console.kit import Console, Viewer


def routes(console: Console) -> list[BaseRoute]:
    async def home(request: Request, viewer: Viewer) -> Response:
        today = console.app.clock.now().astimezone(console.zone).date()
        numbers = None
        async with console.app.store.transaction() as repos:
            unit = await repos.units.get(viewer.staff.unit_id)
            if viewer.staff.role is Role.OFFICER:
                numbers = await commune_today(repos.session, viewer.staff.unit_id, today)
            waiting = await _waiting(repos, viewer.staff.id, console.zone)
            desk_numbers = await desk.waiting_here(repos, viewer)  # a counsellor: their point's requests
            due = await _cadre_due(repos, viewer, today) if viewer.staff.role is Role.CADRE else None
        return console.render(
            request, viewer, "home.html", unit=unit, numbers=numbers, today=today, waiting=waiting,
            desk=desk_numbers, due=due,
        )  # fmt: skip

    return [Route("/", console.page(home), methods=["GET"])]


# What each kind of kept notification is, as the home page names it (never its content).
WAITING_WHAT: dict[MessageKind, str] = {
    MessageKind.DIGEST: N_("Morning summary"),
    MessageKind.ESCALATION: N_("Alert about a person"),
    MessageKind.COMPLETION_NOTICE: N_("Term ended: completion to record (Mẫu 54)"),
    MessageKind.REFERRAL_NOTICE: N_("A person asked for counselling"),
    MessageKind.DEAD_LETTER: N_("A message could not be delivered"),
    MessageKind.REVIEW_REQUEST: N_("Quarterly reviews to write"),
    MessageKind.REVIEWS_MISSING: N_("Quarterly reviews still missing"),
    MessageKind.FIELD_REPORT: N_("A cadre's report to confirm"),
    MessageKind.TRANSFER_NOTICE: N_("Hand-over notice (Mẫu 53)"),
    MessageKind.ASSIGNMENT: N_("A person assigned to you"),
    MessageKind.CRISIS_ALERT: N_("Someone needs help now"),
    MessageKind.RELAY_REQUEST: N_("Someone would like to talk"),
    MessageKind.RELAY: N_("A message in a conversation"),
    MessageKind.RELAY_ENDED: N_("A conversation ended"),
    MessageKind.CADRE_NEEDED: N_("People who need a new cadre"),
}


@dataclass(frozen=True, slots=True)
class Kept:
    what: str  # a WAITING_WHAT msgid
    at: datetime  # when it was raised, the commune's time
    person_id: int | None
    urgent: bool


async def _waiting(repos: Repositories, staff_id: int, zone: tzinfo) -> list[Kept]:
    """Notifications raised before this staff member linked a chat: kept for them, shown here meanwhile."""
    kept = await repos.outbox.waiting_for_staff(staff_id)
    what = N_("A notification")  # a kind not named above
    return [Kept(WAITING_WHAT.get(k.kind, what), k.created_at.astimezone(zone), k.participant_id, k.urgent)
            for k in kept]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Due:
    person_id: int
    name: str
    what: str  # a DUE_WHAT msgid (the digest's words)
    due_on: date
    late: bool  # past its day, or missed


async def _cadre_due(repos: Repositories, viewer: Viewer, today: date) -> list[Due]:
    """A cadre's people with something open or missed from the last 31 days to the end of this month, late first:
    the query of their morning digest in the chat (`for_cadre`), an unannounced check never shown before its day.
    Each person is asked of the authorisation table as stored (VIEW_PARTICIPANT); the listing is audited."""
    month_end = date(today.year + (today.month == 12), today.month % 12 + 1, 1) - timedelta(days=1)
    found: list[Due] = []
    people: dict[int, Participant | None] = {}
    for obligation, pid in await repos.obligations.for_cadre(viewer.staff.id, today - timedelta(days=31), month_end):
        if not shown_before_due(obligation.kind, obligation.due_on, today):
            continue
        if pid not in people:
            people[pid] = await _viewable(repos, viewer, pid)
        person = people[pid]
        if person is not None:
            late = obligation.due_on < today or obligation.status is ObligationStatus.MISSED
            found.append(Due(pid, person.name, DUE_WHAT[obligation.kind], obligation.due_on, late))
    await repos.audit.record(
        actor_type="staff", actor_id=viewer.staff.id, action="list_opened", outcome="ok", subject_type="unit",
        subject_id=viewer.staff.unit_id, detail={"list": "due_this_month", "results": len(found), "channel": "console"},
    )  # fmt: skip
    return sorted(found, key=lambda d: (not d.late, d.due_on, d.person_id))


async def _viewable(repos: Repositories, viewer: Viewer, participant_id: int) -> Participant | None:
    person = await repos.participants.get(participant_id)
    if person is None:
        return None
    unit = await repos.units.get(person.unit_id)
    scope = ParticipantScope(person.id, person.unit_id, unit.parent_id if unit else None, person.cadre_id)
    return person if decide(viewer.actor, Action.VIEW_PARTICIPANT, scope) else None
