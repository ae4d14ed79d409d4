"""Yêu cầu về dữ liệu over HTTP against the real app: the commune's officer sees the pending requests (overdue
marked) and decides them; another commune's officer, an admin, a cadre, a forged id, a forged reason, a form
without its CSRF token or from another origin are refused (and audited) and change nothing. The scheduler reminds
the officers and tells the province's admins once when a request is past its deadline."""

from __future__ import annotations

import pytest

from bot.app import Application
from bot.domain.data_requests import RequestKind
from bot.domain.planning import MessageKind
from bot.services import data_requests
from tests.fakes.clock import FakeClock
from tests.support.at_rest import rows
from tests.support.console import BASE, SignIn
from tests.support.factories import add_person
from tests.support.records import audit_trail


@pytest.fixture
async def asked(app: Application, hanoi: dict[str, int]) -> dict[str, int]:
    """An of Hà Đông asked for a copy, and for a correction (3 days to decide)."""
    async with app.store.transaction() as repos:
        an, _ = await add_person(app.enrolment(repos), "Nguyễn Văn An", cadre_id=hanoi["cadre"])
        person = await repos.participants.get(an.id)
        assert person is not None
        now = app.clock.now()
        copy = await data_requests.ask(repos, person, RequestKind.COPY, now, 3)
        fix = await data_requests.ask(repos, person, RequestKind.CORRECTION, now, 3, text="Năm sinh của tôi là 1991")
    return {"an": an.id, "copy": copy.request.id, "fix": fix.request.id}


async def outbox(app: Application, kind: MessageKind) -> list[dict[str, object]]:
    return [r for r in await rows(app, "outbox") if r["kind"] == kind.value]


async def test_the_officer_sees_and_decides_the_requests_of_their_commune(
    app: Application, hanoi: dict[str, int], asked: dict[str, int], sign_in: SignIn, clock: FakeClock
) -> None:
    assert {r["staff_id"] for r in await outbox(app, MessageKind.DATA_REQUEST)} == {hanoi["officer"]}
    officer = await sign_in(hanoi["officer"])
    page = await officer.client.get("/console/requests")
    assert page.status_code == 200
    assert "Nguyễn Văn An" in page.text and "Năm sinh của tôi là 1991" in page.text and "Quá hạn" not in page.text
    assert 'href="/console/requests"' in page.text  # in the officer's menu
    clock.advance(days=4)
    officer = await sign_in(hanoi["officer"])  # the first session has ended meanwhile
    assert "Quá hạn" in (await officer.client.get("/console/requests")).text
    done = await officer.post(f"/console/requests/{asked['copy']}/approve")
    assert done.status_code == 303 and done.headers["location"] == "/console/requests"
    declined = await officer.post(f"/console/requests/{asked['fix']}/decline", {"reason": "in_person"})
    assert declined.status_code == 303
    statuses = {r["id"]: (r["status"], r["reason"], r["decided_by"]) for r in await rows(app, "data_request")}
    assert statuses == {asked["copy"]: ("approved", None, hanoi["officer"]),
                        asked["fix"]: ("declined", "in_person", hanoi["officer"])}  # fmt: skip
    assert [r["participant_id"] for r in await outbox(app, MessageKind.DATA_COPY)] == [asked["an"]]
    assert [r["participant_id"] for r in await outbox(app, MessageKind.DATA_REQUEST_DECIDED)] == [asked["an"]]
    decisions = await audit_trail(app, "data_request_decided", actor_id=hanoi["officer"])
    assert [e.detail["status"] for e in decisions] == ["approved", "declined"]
    assert not any("1991" in str(e.detail) for e in await audit_trail(app))  # never a correction's words
    history = await officer.client.get("/console/requests")
    assert "Không có yêu cầu nào đang chờ." in history.text and "Việc này cần làm trực tiếp" in history.text


async def test_another_communes_officer_and_other_roles_are_refused(
    app: Application, hanoi: dict[str, int], asked: dict[str, int], sign_in: SignIn
) -> None:
    other = await sign_in(hanoi["other_officer"])
    assert "Nguyễn Văn An" not in (await other.client.get("/console/requests")).text
    refused = await other.post(f"/console/requests/{asked['copy']}/approve")
    assert refused.status_code == 404
    denials = await audit_trail(app, "denied:decide_data_request", actor_id=hanoi["other_officer"])
    assert [(e.outcome, e.detail["reason"]) for e in denials] == [("denied", "other commune")]
    for role in ("admin", "cadre", "counsellor"):
        browser = await sign_in(hanoi[role])
        assert (await browser.client.get("/console/requests")).status_code == 403
        assert (await browser.post(f"/console/requests/{asked['copy']}/approve")).status_code == 403
    assert {r["status"] for r in await rows(app, "data_request")} == {"pending"}
    assert await outbox(app, MessageKind.DATA_COPY) == []


async def test_forged_forms_change_nothing(
    app: Application, hanoi: dict[str, int], asked: dict[str, int], sign_in: SignIn
) -> None:
    officer = await sign_in(hanoi["officer"])
    no_token = await officer.client.post(f"/console/requests/{asked['copy']}/approve", headers={"origin": BASE})
    assert no_token.status_code == 403
    elsewhere = await officer.post(
        f"/console/requests/{asked['copy']}/approve", headers={"origin": "https://evil.example"}
    )
    assert elsewhere.status_code == 403
    assert [e.detail["reason"] for e in await audit_trail(app, "console_refused")] == ["csrf", "origin"]
    forged_reason = await officer.post(f"/console/requests/{asked['copy']}/decline", {"reason": "no_change"})
    assert forged_reason.status_code == 303  # "no_change" is for corrections only: asked again
    assert (await officer.post("/console/requests/abc/approve")).status_code == 404
    assert (await officer.post("/console/requests/99999/approve")).status_code == 404
    denied = await audit_trail(app, "denied:decide_data_request", outcome="denied")
    assert [(e.detail["request"], e.detail["reason"]) for e in denied] == [(99999, "no such request")]
    assert {r["status"] for r in await rows(app, "data_request")} == {"pending"}


async def test_an_overdue_request_reminds_the_officers_and_tells_the_admins_once(
    app: Application, hanoi: dict[str, int], asked: dict[str, int], clock: FakeClock
) -> None:
    await app.scheduler.planner.run()
    assert await outbox(app, MessageKind.DATA_REQUEST_OVERDUE) == []
    clock.advance(days=3, minutes=1)
    await app.scheduler.planner.run()
    await app.scheduler.planner.run()  # a second tick adds nothing
    told = await outbox(app, MessageKind.DATA_REQUEST_OVERDUE)
    assert sorted((r["staff_id"], r["payload"]["request_id"]) for r in told) == sorted(
        (staff, request) for staff in (hanoi["officer"], hanoi["admin"]) for request in (asked["copy"], asked["fix"])
    )
    assert len(await audit_trail(app, "data_request_overdue")) == 2
