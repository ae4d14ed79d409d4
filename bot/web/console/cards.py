"""Thẻ mời and Mẫu 54: printing invite cards for the commune's people, and completing a person's term with its
certificate. The console only asks: who may do it is the authorisation table's answer (MANAGE_LIST, each record as
the database has it now) inside the services (`invite_cards`, `completion`), which also audit it; a person out of the
viewer's reach, or no such person, is the same 404.

- GET /console/cards: choose people — the commune's list with checkboxes, or `?ids=1,2,3` (the people an import
  just listed, chosen already). An admin chooses one of the province's communes first (`?unit=ID`).
- POST /console/cards.pdf: the cards as a PDF download. Each card carries a NEW code: the one the person had not used
  stops working (their linked chats keep working). The PDF is drawn after the codes are committed.
- POST /console/people/{id}/complete: the officer records the completion (on or after the end of the term, which
  unreported absences move); the record then offers the certificate.
- GET /console/people/{id}/certificate.pdf: Mẫu 54 for a completed term (name, national ID: each printing audited).
- GET /console/transfers/{id}/handover.pdf: Mẫu 53, the hand-over notice of a move, for the officer of the sending or
  the receiving commune (each printing audited).

A person's record can include "cards/record_actions.html" (context: `person`, `today`) for the completion form and
the certificate link.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.core.clock import local_today
from bot.db.store import Repositories
from bot.domain.authz import Action, ParticipantScope, decide
from bot.domain.entities import Participant, Role, Unit, UnitLevel
from bot.domain.ids import record_id
from bot.services import completion, handover_notice
from bot.services.access import Refused
from bot.services.invite_cards import MAX_CARDS, CardsError, Why, print_cards
from bot.services.operators import StaffOperator
from bot.web.console.kit import Console, Viewer

PRINTERS = {Role.OFFICER, Role.ADMIN}
MAX_ID_TEXT = 12_000  # `?ids=` of one import's print run (200 ids) with room to spare; longer is not ours
PDF = "application/pdf"


def routes(console: Console) -> list[BaseRoute]:
    def today() -> date:
        return local_today(console.app.clock, console.zone)

    async def choose(request: Request, viewer: Viewer) -> Response:
        chosen = _ids(request.query_params.get("ids", ""))
        if chosen is None:
            return await console.not_found(request, viewer)
        async with console.app.store.transaction() as repos:
            communes = await _communes(repos, viewer)
            unit = await _unit(repos, viewer, request.query_params.get("unit"))
            if unit is None and viewer.staff.role is Role.OFFICER:
                return await _denied(console, request, viewer, repos, "cards for a commune out of reach")
            if chosen:
                people = await _chosen(repos, viewer, chosen)
                if people is None:
                    return await _denied(console, request, viewer, repos, "cards for people out of reach")
            else:
                people = await repos.participants.followed(unit.id) if unit else []
            if people:  # names on a page: who saw which commune's, how many (never the names)
                await repos.audit.record(
                    actor_type="staff", actor_id=viewer.staff.id, action="card_list_viewed", outcome="ok",
                    subject_type="unit", subject_id=unit.id if unit else None, detail={"count": len(people)},
                )  # fmt: skip
        return console.render(
            request, viewer, "cards/choose.html", people=people, chosen=set(chosen), unit=unit, communes=communes,
            telegram=console.app.telegram is not None, max_cards=MAX_CARDS,
        )  # fmt: skip

    async def download(request: Request, viewer: Viewer) -> Response:
        form = await viewer.form()
        ids = _form_ids(form.getlist("id"))
        if ids is None:
            return await console.not_found(request, viewer)
        if form.get("everyone"):
            async with console.app.store.transaction() as repos:
                unit = await _unit(repos, viewer, form.get("unit"))
                if unit is None:
                    return await _denied(console, request, viewer, repos, "cards for a commune out of reach")
                ids = [p.id for p in await repos.participants.followed(unit.id)]
        try:
            printed = await print_cards(
                console.app.store, console.app.enrolment, console.app.catalogs, ids,
                operator=StaffOperator(viewer.staff.id), by=viewer.actor, zone=console.zone,
                deep_link=await _deep_link(console),
            )  # fmt: skip
        except Refused:
            return await console.not_found(request, viewer)
        except CardsError as exc:
            if exc.why is Why.UNKNOWN:
                return await console.not_found(request, viewer)
            return console.render(request, viewer, "error.html", status=400, message=_cards_problem(viewer, exc))
        name = f"the-moi-{today():%Y%m%d}-{printed.cards}.pdf"
        return Response(printed.pdf, media_type=PDF, headers={"content-disposition": f'attachment; filename="{name}"'})

    async def complete(request: Request, viewer: Viewer) -> Response:
        participant_id = _path_id(request)
        form = await viewer.form()
        on = _day(form.get("on"), today())
        record = f"/console/people/{participant_id}"
        if participant_id is None:
            return await console.not_found(request, viewer)
        if on is None:
            return console.flash_redirect(record, viewer.t._("Please give the date as day/month/year."))
        try:
            async with console.app.store.transaction() as repos:
                try:
                    done = await completion.complete(
                        repos, participant_id, on, now=console.app.clock.now(), zone=console.zone,
                        operator=StaffOperator(viewer.staff.id), by=viewer.actor,
                    )  # fmt: skip
                except Refused:
                    refused = True  # committed: the refusal stays on record
                else:
                    refused = False
        except completion.CompletionError as exc:
            return console.flash_redirect(record, _completion_problem(viewer, exc))
        if refused:
            return await console.not_found(request, viewer)
        message = viewer.t._(
            "The term is recorded as completed on {date}. The certificate (Mẫu 54) can now be printed.",
            date=viewer.t.date(done.completed_on),
        )
        return console.flash_redirect(record, message)

    async def certificate(request: Request, viewer: Viewer) -> Response:
        participant_id = _path_id(request)
        if participant_id is None:
            return await console.not_found(request, viewer)
        refused = False
        try:
            async with console.app.store.transaction() as repos:
                try:
                    content = await completion.certificate(
                        repos, participant_id, operator=StaffOperator(viewer.staff.id), by=viewer.actor
                    )
                except Refused:
                    refused = True
        except completion.CompletionError:
            return console.render(
                request, viewer, "error.html", status=409,
                message=viewer.t._("The certificate is printed once the term is recorded as completed."),
            )  # fmt: skip
        if refused:
            return await console.not_found(request, viewer)
        pdf = await completion.certificate_pdf(content)
        name = f"giay-chung-nhan-{participant_id}.pdf"
        return Response(pdf, media_type=PDF, headers={"content-disposition": f'attachment; filename="{name}"'})

    async def handover(request: Request, viewer: Viewer) -> Response:
        """The hand-over notice (Mẫu 53) of a move: the sending or the receiving commune's officer (asked in the
        service with the records as stored); anything else is the same 404 as an unknown transfer."""
        transfer_id = _path_id(request, "transfer_id")
        if transfer_id is None:
            return await console.not_found(request, viewer)
        async with console.app.store.transaction() as repos:
            try:
                content = await handover_notice.notice(
                    repos, transfer_id, zone=console.zone, operator=StaffOperator(viewer.staff.id), by=viewer.actor
                )
            except Refused:
                content = None  # committed: the refusal stays on record
        if content is None:
            return await console.not_found(request, viewer)
        pdf = await handover_notice.notice_pdf(content)
        name = f"thong-bao-ban-giao-{transfer_id}.pdf"
        return Response(pdf, media_type=PDF, headers={"content-disposition": f'attachment; filename="{name}"'})

    return [
        Route("/transfers/{transfer_id}/handover.pdf", console.page(handover, roles={Role.OFFICER}), methods=["GET"]),
        Route("/cards", console.page(choose, roles=PRINTERS), methods=["GET"]),
        Route("/cards.pdf", console.page(download, roles=PRINTERS, methods=("POST",)), methods=["POST"]),
        Route(
            "/people/{participant_id}/complete",
            console.page(complete, roles={Role.OFFICER}, methods=("POST",)),
            methods=["POST"],
        ),
        Route("/people/{participant_id}/certificate.pdf", console.page(certificate, roles=PRINTERS), methods=["GET"]),
    ]


# ---- reading what the browser sent (ids only; never trusted beyond their shape) ------------------------------------


def _ids(text: str) -> list[int] | None:
    """`?ids=1,2,3` as ids in order, each once; None for anything else (a forged or mangled link)."""
    if len(text) > MAX_ID_TEXT:
        return None
    ids = [record_id(part) for part in text.split(",") if part.strip()]
    if any(i is None for i in ids):
        return None
    return list(dict.fromkeys(i for i in ids if i is not None))


def _form_ids(values: list[object]) -> list[int] | None:
    """The ticked boxes' ids; None when any is not an id (a forged form, a file where an id should be). Repeats and
    too many are the service's to refuse, in words."""
    ids = [record_id(value) for value in values]
    if any(i is None for i in ids):
        return None
    return [i for i in ids if i is not None]


def _path_id(request: Request, name: str = "participant_id") -> int | None:
    return record_id(request.path_params.get(name))


def _day(value: object, default: date) -> date | None:
    """The date field: empty is today; `YYYY-MM-DD` (a date input) or `dd/mm/yyyy` (typed by hand)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    if not isinstance(value, str) or len(value) > 20:
        return None
    text = value.strip()
    try:
        if "/" in text:
            day, month, year = (int(part) for part in text.split("/"))
            return date(year, month, day)
        return date.fromisoformat(text)
    except ValueError:
        return None


# ---- scope -----------------------------------------------------------------------------------------------------------


async def _communes(repos: Repositories, viewer: Viewer) -> list[Unit]:
    """The communes an admin may choose from (their province's); an officer prints for their own."""
    if viewer.staff.role is not Role.ADMIN or viewer.actor.province_id is None:
        return []
    province = viewer.actor.province_id
    return [u for u in await repos.units.all() if u.level is UnitLevel.COMMUNE and u.parent_id == province]


async def _unit(repos: Repositories, viewer: Viewer, chosen: object) -> Unit | None:
    """The commune whose list is shown: the one asked for (an admin's choice; for an officer anything but their own
    is refused), else the viewer's own when it is a commune. Asked of the authorisation table with the commune as the
    database has it: its scope is any listed person's."""
    unit_id: int | None = viewer.staff.unit_id
    if isinstance(chosen, str) and chosen.strip():
        unit_id = record_id(chosen)
    unit = await repos.units.get(unit_id) if unit_id is not None else None
    if unit is None or unit.level is not UnitLevel.COMMUNE:
        return None
    listed = ParticipantScope(0, unit.id, unit.parent_id, None)
    return unit if decide(viewer.actor, Action.MANAGE_LIST, listed) else None


async def _chosen(repos: Repositories, viewer: Viewer, ids: list[int]) -> list[Participant] | None:
    """The people of `?ids=`, if the viewer may manage every one (the page shows names); None otherwise."""
    people = []
    parents: dict[int, int | None] = {}
    for participant_id in ids[:MAX_CARDS]:
        person = await repos.participants.get(participant_id)
        if person is None:
            return None
        if person.unit_id not in parents:
            unit = await repos.units.get(person.unit_id)
            parents[person.unit_id] = unit.parent_id if unit else None
        scope = ParticipantScope(person.id, person.unit_id, parents[person.unit_id], person.cadre_id)
        if not decide(viewer.actor, Action.MANAGE_LIST, scope):
            return None
        people.append(person)
    return people


async def _denied(console: Console, request: Request, viewer: Viewer, repos: Repositories, reason: str) -> Response:
    await repos.audit.record(
        actor_type="staff", actor_id=viewer.staff.id, action=f"denied:{Action.MANAGE_LIST.value}", outcome="denied",
        detail={"reason": reason},
    )  # fmt: skip
    return await console.not_found(request, viewer)


async def _deep_link(console: Console) -> Callable[[str], str | None] | None:
    """The Telegram deep link builder when Telegram is configured; the bot's username is learnt once (the running
    channel has usually learnt it at start). An unreachable Bot API prints cards without a QR code, not an error."""
    telegram = console.app.telegram
    if telegram is None:
        return None
    if telegram.username is None:
        try:
            await telegram.identify()
        except Exception:  # the cards still carry the code to type
            return None
    return telegram.deep_link


# ---- words -------------------------------------------------------------------------------------------------------


def _cards_problem(viewer: Viewer, exc: CardsError) -> str:
    t = viewer.t
    if exc.why is Why.NOBODY:
        return t._("Please choose at least one person.")
    if exc.why is Why.TOO_MANY:
        return t._("At most {count} cards can be printed at a time.", count=MAX_CARDS)
    ids = ", ".join(f"#{i}" for i in exc.ids)
    return t._("These people are no longer on the list (completed or moved), so no card was printed: {ids}.", ids=ids)


def _completion_problem(viewer: Viewer, exc: completion.CompletionError) -> str:
    t = viewer.t
    if exc.why is completion.Why.TOO_EARLY and exc.expected_end is not None:
        return t._(
            "The term ends on {date} (days of unreported absence included); it cannot be completed before then.",
            date=t.date(exc.expected_end),
        )
    if exc.why is completion.Why.IN_FUTURE:
        return t._("A completion is recorded on its day or later, not in advance.")
    if exc.why is completion.Why.NOT_ON_LIST:
        return t._("This person is no longer on the list (already completed or moved).")
    return t._("Nothing was found here.")
