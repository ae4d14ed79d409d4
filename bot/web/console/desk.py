"""Yêu cầu tư vấn: the counsellors' desk — the point's referrals waiting and those I took (urgent first, then the
oldest), taking one, a private note, closing it with an outcome; the point's opening hours and my duty switch.

The console and the chat are two views of the same rows: every action here is the chat's (bot/flows/counsellor)
through the same service (bot/services/referrals.py) and repositories, with the same checks — the referral is my
point's and its person in my commune (HANDLE_REFERRAL, asked with the records as they are in the database now) —
and the same audit actions. A person is named as the chat's desk names them (`name_for_counsellor`: their name only
with their consent to referrals, otherwise "a person on the list (#id)"), and a counsellor never sees the person's
record. The conversation itself goes on in the chat, where its safeguards live (who wrote meanwhile, ready replies
in the person's language): the page says how to continue it there, shows whether it is open, and — to the counsellor
who took it, while it is open, as the chat does when they open it — its latest messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.core.i18n import Translator
from bot.db.repositories.referrals import Referral
from bot.db.repositories.relay import RelayMessage
from bot.db.store import Repositories
from bot.domain.authz import Action, ParticipantScope, decide
from bot.domain.entities import CounsellingPoint, Participant, Role
from bot.domain.ids import record_id
from bot.domain.opening import read as read_hours
from bot.domain.referrals import ReferralStatus
from bot.flows.counsellor import HISTORY, KIND_NAMES, OUTCOMES, STATUS_NAMES
from bot.flows.engine import clean_text
from bot.flows.support import SUPPORT_KINDS
from bot.services import referrals as referral_service
from bot.services.referrals import NOTE_LIMIT, Took
from bot.services.relay import name_for_counsellor
from bot.web.console.kit import Console, Handler, Viewer

DESK = "/console/desk"
Conversation = tuple[list[tuple[str, RelayMessage]], bool]
COUNSELLOR = {Role.COUNSELLOR}


@dataclass(frozen=True, slots=True)
class Row:
    """One referral as the desk shows it: what the chat's list and card show, no more."""

    referral: Referral
    person: Participant
    name: str  # as the chat's desk names the person to a counsellor
    kind: str
    status: str
    mine: bool  # taken by the viewer
    waited: str  # since it was asked for, for one still waiting

    @property
    def urgent(self) -> bool:
        return self.referral.urgency == "urgent"

    @property
    def conversation(self) -> str:
        """ "open" (a conversation through the bot going on or waiting), "ended", or "" (none)."""
        if self.referral.relaying:
            return "open"
        return "ended" if self.referral.relay_ended_at is not None else ""


def routes(console: Console) -> list[BaseRoute]:
    async def desk(request: Request, viewer: Viewer) -> Response:
        now = console.app.clock.now()
        async with console.app.store.transaction() as repos:
            point = await _point(repos, viewer)
            rows = [await _row(repos, viewer, r, p, now) for r, p in await visible(repos, viewer)] if point else []
            if point is not None:
                await _audit(repos, viewer, "list_opened", subject=("point", point.id),
                             list="referrals", results=len(rows))  # fmt: skip
        return console.render(
            request, viewer, "desk/list.html", point=point, hours=_hours(viewer.t, point, now, console),
            waiting=[r for r in rows if not r.mine], mine=[r for r in rows if r.mine],
        )  # fmt: skip

    async def card(request: Request, viewer: Viewer) -> Response:
        return await _card(request, viewer)

    async def _card(
        request: Request, viewer: Viewer, *, status: int = 200, problem: str = "", draft: str = ""
    ) -> Response:
        now = console.app.clock.now()
        async with console.app.store.transaction() as repos:
            found = await _in_scope(repos, viewer, request.path_params["referral_id"])
            if found is None:
                return await console.not_found(request, viewer)
            row = await _row(repos, viewer, *found, now)
            await _audit(repos, viewer, "referral_viewed", subject=("participant", row.person.id),
                         referral=row.referral.id)  # fmt: skip
            note = await repos.referrals.note_of(row.referral.id)
            messages = await _conversation(repos, viewer, row)
        return console.render(
            request, viewer, "desk/card.html", status=status, row=row, note=note, messages=messages,
            outcomes=OUTCOMES, problem=problem, draft=draft, limit=NOTE_LIMIT,
            in_chat=" → ".join([viewer.t._("Referrals"), row.name, viewer.t._("Open the conversation")]),
        )  # fmt: skip

    async def take(request: Request, viewer: Viewer) -> Response:
        t = viewer.t
        async with console.app.store.transaction() as repos:
            found = await _in_scope(repos, viewer, request.path_params["referral_id"])
            if found is None:
                return await console.not_found(request, viewer)
            referral, person = found
            took = await referral_service.take(repos, referral, viewer.staff.id, console.app.clock.now())
            if took is not Took.ALREADY:
                await _audit(repos, viewer, "referral_accepted", subject=("participant", person.id),
                             referral=referral.id)  # fmt: skip
            again = await repos.referrals.get(referral.id)
        url = f"{DESK}/{referral.id}"
        if took is Took.CONVERSATION:
            message = t._(
                "Taken. The conversation with the person is open in the chat with the assistant: their messages "
                "reach you there, and they see you as “Counsellor”."
            )
        elif took is Took.REQUEST:
            message = t._(
                "Taken. The person is told that a counsellor took it and that the point's details are in their "
                "“Help” menu. The assistant holds no phone number for them."
            )
        elif again is not None and again.counsellor_id == viewer.staff.id:
            message = t._("You have already taken this referral.")
        else:
            message, url = t._("Another counsellor has already taken this referral."), DESK
        return console.flash_redirect(url, message)

    async def note(request: Request, viewer: Viewer) -> Response:
        t = viewer.t
        raw = (await viewer.form()).get("note")
        text = clean_text(raw) if isinstance(raw, str) else ""
        if not text:
            return await _card(request, viewer, status=400, problem=t._("Type the note first."))
        if len(text) > NOTE_LIMIT:
            problem = t._("The note is too long (at most {limit} characters). Please shorten it.", limit=NOTE_LIMIT)
            return await _card(request, viewer, status=400, problem=problem, draft=text)
        async with console.app.store.transaction() as repos:
            found = await _in_scope(repos, viewer, request.path_params["referral_id"])
            if found is None:
                return await console.not_found(request, viewer)
            referral, person = found
            await repos.referrals.add_note(referral.id, text)
            await _audit(repos, viewer, "referral_noted", subject=("participant", person.id), referral=referral.id)
        return console.flash_redirect(f"{DESK}/{referral.id}", t._("The note is saved."))

    async def close(request: Request, viewer: Viewer) -> Response:
        t = viewer.t
        outcome = (await viewer.form()).get("outcome")
        async with console.app.store.transaction() as repos:
            found = await _in_scope(repos, viewer, request.path_params["referral_id"])
            if found is None:
                return await console.not_found(request, viewer)
            if not isinstance(outcome, str) or outcome not in OUTCOMES:
                return console.render(request, viewer, "error.html", status=400,
                                      message=t._("The form could not be read. Please try again."))  # fmt: skip
            referral, person = found
            closed = await referral_service.close(repos, referral, viewer.staff.id, outcome, console.app.clock.now())
            if closed:
                await _audit(repos, viewer, "referral_closed", subject=("participant", person.id),
                             referral=referral.id, outcome=outcome)  # fmt: skip
        if not closed:
            return console.flash_redirect(DESK, t._("Only the counsellor who took it can close it."))
        return console.flash_redirect(DESK, t._("Closed: {outcome}.", outcome=t._(OUTCOMES[outcome])))

    async def duty(request: Request, viewer: Viewer) -> Response:
        """The chat's duty switch: the same flag, the same audit."""
        t = viewer.t
        wanted = (await viewer.form()).get("on")
        if wanted not in ("1", "0"):
            return console.render(request, viewer, "error.html", status=400,
                                  message=t._("The form could not be read. Please try again."))  # fmt: skip
        on_duty = wanted == "1"
        async with console.app.store.transaction() as repos:
            await repos.staff.set_duty(viewer.staff.id, on_duty)
            await _audit(repos, viewer, "duty_changed", subject=("staff", viewer.staff.id), on_duty=on_duty)
        message = t._("You are on duty: urgent referrals will reach you.") if on_duty else t._("You are off duty.")
        return console.flash_redirect(DESK, message)

    def post(path: str, handler: Handler) -> Route:
        return Route(path, console.page(handler, roles=COUNSELLOR, methods=("POST",)), methods=["POST"])

    return [
        Route("/desk", console.page(desk, roles=COUNSELLOR), methods=["GET"]),
        post("/desk/duty", duty),
        Route("/desk/{referral_id}", console.page(card, roles=COUNSELLOR), methods=["GET"]),
        post("/desk/{referral_id}/take", take),
        post("/desk/{referral_id}/note", note),
        post("/desk/{referral_id}/close", close),
    ]


async def visible(repos: Repositories, viewer: Viewer) -> list[tuple[Referral, Participant]]:
    """The point's open referrals waiting for a counsellor, and those the viewer took (urgent first, then the
    oldest: the chat's order), each of a person the viewer may handle now. Others' taken ones are not listed."""
    point_id = viewer.staff.point_id
    if point_id is None or not decide(viewer.actor, Action.LIST_REFERRALS):
        return []
    found = []
    for referral in await repos.referrals.open_for_point(point_id):
        if referral.status == ReferralStatus.ACCEPTED and referral.counsellor_id != viewer.staff.id:
            continue
        person = await repos.participants.get(referral.participant_id)
        if person is not None and decide(viewer.actor, Action.HANDLE_REFERRAL, await _scope(repos, person)):
            found.append((referral, person))
    return found


async def waiting_here(repos: Repositories, viewer: Viewer) -> tuple[int, int, int] | None:
    """For the counsellor's home page: (waiting, of which urgent, taken by me) at their point; None without one."""
    if viewer.staff.role is not Role.COUNSELLOR or viewer.staff.point_id is None:
        return None
    listed = [r for r, _ in await visible(repos, viewer)]
    waiting = [r for r in listed if r.status == ReferralStatus.REQUESTED]
    urgent = sum(r.urgency == "urgent" for r in waiting)
    return len(waiting), urgent, len(listed) - len(waiting)


async def _in_scope(repos: Repositories, viewer: Viewer, raw_id: str) -> tuple[Referral, Participant] | None:
    """The referral, if it is the viewer's point's and its person in their reach — read now, whatever the URL says;
    a refusal is audited (the same "not found" as for an id that does not exist)."""
    referral_id = record_id(raw_id)
    referral = await repos.referrals.get(referral_id) if referral_id is not None else None
    person = await repos.participants.get(referral.participant_id) if referral is not None else None
    if referral is None or person is None or referral.point_id is None or referral.point_id != viewer.staff.point_id:
        await _audit(repos, viewer, "denied:handle_referral", outcome="denied", reason="not this point's referral")
        return None
    decision = decide(viewer.actor, Action.HANDLE_REFERRAL, await _scope(repos, person))
    if not decision:
        await _audit(repos, viewer, "denied:handle_referral", outcome="denied",
                     subject=("participant", person.id), reason=decision.reason)  # fmt: skip
        return None
    return referral, person


async def _scope(repos: Repositories, person: Participant) -> ParticipantScope:
    unit = await repos.units.get(person.unit_id)
    return ParticipantScope(person.id, person.unit_id, unit.parent_id if unit else None, person.cadre_id)


async def _row(repos: Repositories, viewer: Viewer, referral: Referral, person: Participant, now: datetime) -> Row:
    t = viewer.t
    kind = KIND_NAMES.get(referral.kind) or SUPPORT_KINDS.get(referral.kind, KIND_NAMES["counselling"])
    waited = waited_for(t, now - referral.created_at) if referral.status == ReferralStatus.REQUESTED else ""
    return Row(
        referral, person, await name_for_counsellor(repos, t, person), t._(kind),
        t._(STATUS_NAMES.get(referral.status, STATUS_NAMES[ReferralStatus.REQUESTED])),
        referral.counsellor_id == viewer.staff.id and referral.status == ReferralStatus.ACCEPTED, waited,
    )  # fmt: skip


async def _conversation(repos: Repositories, viewer: Viewer, row: Row) -> Conversation | None:
    """The latest messages of the conversation (and whether earlier ones are left out), as the chat shows them when
    its counsellor opens it: only to the counsellor who took it, only while it is open (audited like the chat's
    opening); None otherwise."""
    if not row.mine or not row.referral.relaying:
        return None
    messages = await repos.relay.of_referral(row.referral.id, limit=HISTORY + 1)
    await _audit(repos, viewer, "relay_opened", subject=("participant", row.person.id), referral=row.referral.id)
    counsellor = viewer.t._("Counsellor")
    shown = [(row.name if m.sender == "participant" else counsellor, m) for m in messages[-HISTORY:]]
    return shown, len(messages) > HISTORY


async def _point(repos: Repositories, viewer: Viewer) -> CounsellingPoint | None:
    if viewer.staff.point_id is None or not decide(viewer.actor, Action.LIST_REFERRALS):
        return None
    return await repos.points.get(viewer.staff.point_id)


def _hours(t: Translator, point: CounsellingPoint | None, now: datetime, console: Console) -> dict[str, object]:
    """The point's opening hours as the chat describes them to a person, and whether it is open now."""
    if point is None or not point.hours.strip():
        return {"text": "", "open": True}
    hours = read_hours(point.hours)
    return {"text": hours.describe(t) if hours.fixed else point.hours, "open": hours.is_open(now, console.zone)}


def waited_for(t: Translator, waited: timedelta) -> str:
    """How long a referral has waited, coarse enough to read at a glance."""
    minutes = max(0, int(waited.total_seconds() // 60))
    if minutes < 60:
        return t._("{minutes} min", minutes=minutes)
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return t._("{hours} h {minutes} min", hours=hours, minutes=minutes)
    days, hours = divmod(hours, 24)
    return t._("{days} d {hours} h", days=days, hours=hours)


async def _audit(
    repos: Repositories,
    viewer: Viewer,
    action: str,
    *,
    outcome: str = "ok",
    subject: tuple[str, int] | None = None,
    **detail: object,
) -> None:
    """Who did or read what through the console (ids only, never a name, a note or a message)."""
    await repos.audit.record(
        actor_type="staff", actor_id=viewer.staff.id, action=action, outcome=outcome,
        subject_type=subject[0] if subject else None, subject_id=subject[1] if subject else None,
        detail={"channel": "console", **detail},
    )  # fmt: skip
