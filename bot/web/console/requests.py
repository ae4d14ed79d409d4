"""Yêu cầu về dữ liệu: the commune's officer decides people's requests about their own data (Law 91/2025).

- GET /console/requests: the pending requests of the people listed in the officer's commune — a copy or a
  correction (its words), the deadline (overdue marked) — with approve/decline; then the decided ones (read-only).
- POST /console/requests/{id}/approve, POST /console/requests/{id}/decline (`reason`, from the short list).

Each decision asks the authorisation table (DECIDE_DATA_REQUEST) with the person's record as the database has it:
another commune's officer, a guessed id or a reason not on the list is refused and audited. The wrapper checks the
session, the role, the CSRF token and the origin (kit.py). The list's showing is audited with counts, never names.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.db.repositories.data_requests import DataRequest
from bot.domain.data_requests import DECLINE_REASONS, REASONS_FOR, RequestKind, overdue
from bot.domain.entities import Participant, Role
from bot.flows.flow import as_number
from bot.services import data_requests
from bot.services.operators import StaffOperator
from bot.web.console.kit import Console, Viewer

OFFICERS = {Role.OFFICER}


@dataclass(frozen=True, slots=True)
class Row:
    request: DataRequest
    person: Participant | None
    text: str | None  # a correction's words
    overdue: bool
    reasons: tuple[tuple[str, str], ...]  # (code, words) the officer may decline with

    @property
    def is_copy(self) -> bool:
        return self.request.kind is RequestKind.COPY


def routes(console: Console) -> list[BaseRoute]:
    store = console.app.store

    async def listing(request: Request, viewer: Viewer) -> Response:
        t = viewer.t
        now = console.app.clock.now()
        async with store.transaction() as repos:
            unit_id = viewer.staff.unit_id
            pending, decided = [], []
            for found in await repos.data_requests.of_unit(unit_id, pending=True):
                person = await repos.participants.get(found.participant_id)
                words = await repos.data_requests.text_of(found.id) if found.kind is RequestKind.CORRECTION else None
                reasons = tuple((code, t._(DECLINE_REASONS[code])) for code in REASONS_FOR[found.kind])
                pending.append(Row(found, person, words, overdue(found.due_at, now), reasons))
            for found in await repos.data_requests.of_unit(unit_id, pending=False, limit=100):
                person = await repos.participants.get(found.participant_id)
                decided.append(Row(found, person, None, False, ()))
            await repos.audit.record(
                actor_type="staff", actor_id=viewer.staff.id, action="data_requests_listed", outcome="ok",
                subject_type="unit", subject_id=unit_id,
                detail={"pending": len(pending), "decided": len(decided),
                        "corrections_shown": sum(1 for r in pending if r.text is not None)},
            )  # fmt: skip
        return console.render(request, viewer, "requests/list.html", pending=pending, decided=decided,
                              reason_words={code: t._(words) for code, words in DECLINE_REASONS.items()})  # fmt: skip

    async def decide(request: Request, viewer: Viewer, approve: bool) -> Response:
        t = viewer.t
        request_id = as_number(request.path_params.get("request_id"))
        form = await viewer.form()
        reason = form.get("reason")
        if request_id is None:
            return await console.not_found(request, viewer)
        operator = StaffOperator(viewer.staff.id)
        async with store.transaction() as repos:
            decided = await data_requests.decide_request(
                repos, request_id, approve=approve, reason=reason if isinstance(reason, str) else None,
                by=viewer.actor, operator=operator, now=console.app.clock.now(),
            )  # fmt: skip
        if isinstance(decided, data_requests.Refused):
            if decided.why == "out_of_reach":
                return await console.not_found(request, viewer)
            if decided.why == "reason":
                return console.flash_redirect("/console/requests", t._("Please choose a reason from the list."))
            return console.flash_redirect("/console/requests", t._("This request was already decided."))
        if not approve:
            done = t._("Declined. The person is told the reason in the chat.")
        elif decided.request.kind is RequestKind.COPY:
            done = t._("Approved. The copy is being sent to the person's chat.")
        else:
            done = t._("Marked as corrected. The person is told in the chat.")
        return console.flash_redirect("/console/requests", done)

    async def approve(request: Request, viewer: Viewer) -> Response:
        return await decide(request, viewer, True)

    async def decline(request: Request, viewer: Viewer) -> Response:
        return await decide(request, viewer, False)

    post = ("POST",)
    return [
        Route("/requests", console.page(listing, roles=OFFICERS), methods=["GET"]),
        Route("/requests/{request_id}/approve", console.page(approve, roles=OFFICERS, methods=post), methods=["POST"]),
        Route("/requests/{request_id}/decline", console.page(decline, roles=OFFICERS, methods=post), methods=["POST"]),
    ]
