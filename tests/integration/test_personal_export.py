"""The personal export against a real database: every category of a person's record is in the JSON and the PDF
(each key of `KEYS` seeded and asserted), nothing of another person, never an unannounced test before its day, and the
one-time link's rules (spent once, expired, only for an approved copy, revoked when the person's chat is unlinked or
they leave the list), and a decline with a reason not on the list refused and audited."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from bot.app import Application
from bot.domain.authz import Actor, ActorKind
from bot.domain.consent import CONSENT_TEXT_VERSION, Purpose
from bot.domain.data_requests import RequestKind, RequestStatus, link_hash, new_link_token, well_formed_token
from bot.domain.entities import ParticipantStatus, Role
from bot.domain.fieldwork import InPersonOutcome, ObservationCategory, ReportKind, ReviewProgress, TestOutcome
from bot.domain.planning import ObligationKind, WantedObligation
from bot.services import access, data_requests, personal_export
from bot.services.operators import Operator
from bot.web.app import build_web
from tests.fakes.clock import FakeClock
from tests.support.console import BASE
from tests.support.factories import add_hanoi, add_person
from tests.support.pdfs import text
from tests.support.records import audit_trail

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


async def test_every_category_of_the_record_is_exported_and_nothing_of_anyone_else(
    app: Application, clock: FakeClock
) -> None:
    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        await add_hanoi(service, ("CG", "Phường Cầu Giấy"))
        cadre, _ = await service.add_staff("Trần Thị Bình", Role.CADRE, "HD", None, "vi")
        an, _ = await add_person(service, "Nguyễn Văn An", cadre_id=cadre.id)
        other, _ = await add_person(service, "Đỗ Thị Bích", cadre_id=cadre.id)
        await repos.consents.record(an.id, Purpose.REMINDERS, True, CONSENT_TEXT_VERSION)
        await repos.fieldwork.add_observation(
            an.id, cadre.id, ObservationCategory.WORK, "Đã tìm được việc ở xưởng", False
        )
        await repos.fieldwork.add_observation(other.id, cadre.id, ObservationCategory.WORK, "Ghi chú về Bích", False)
        await repos.fieldwork.add_test_result(an.id, None, TestOutcome.NEGATIVE, None, "Trạm y tế", date(2026, 11, 20),
                                              cadre.id)  # fmt: skip
        today = date(2026, 11, 23)  # the clock's day in Hà Nội
        await repos.fieldwork.record_in_person(an.id, date(2026, 11, 5), InPersonOutcome.PRESENT, None, cadre.id)
        await repos.fieldwork.save_review(an.id, "2026-Q4", cadre.id, ReviewProgress.GOOD, "Tiến bộ rõ")
        await repos.absences.add(an.id, date(2026, 11, 10), date(2026, 11, 12), True, "Đi thăm mẹ ốm", cadre.id)
        place = await repos.units.by_code("CG")
        home = await repos.units.by_code("HD")
        assert place is not None and home is not None
        await repos.fieldwork.add_transfer(an.id, home.id, place.id, date(2026, 11, 15), cadre.id)
        await repos.fieldwork.add_report(
            an.id, an.unit_id, ReportKind.ABSENCE, {"first": "2026-11-16", "last": "2026-11-18"}, cadre.id
        )
        await repos.obligations.ensure(an.id, [WantedObligation("t:an:announced", ObligationKind.TEST,
                                                                today + timedelta(days=10))])  # fmt: skip
        await repos.obligations.ensure(an.id, [WantedObligation("c:an:11", ObligationKind.CHECKIN, today)])
        await repos.identities.link("telegram", "700123", participant_id=an.id)
        await repos.obligations.add_drawn(an.id, "r:an:past", today - timedelta(days=3))
        await repos.obligations.add_drawn(an.id, "r:an:today", today)
        await repos.obligations.add_drawn(an.id, "r:an:future", today + timedelta(days=4))  # unannounced: never told
        referral = await repos.referrals.request(an.id, "counselling", "help")
        await repos.relay.add(referral, an.id, "participant", "Em muốn nói chuyện về công việc")
        person = await repos.participants.get(an.id)
        assert person is not None
        await data_requests.ask(repos, person, RequestKind.COPY, clock.now(), 3)
        data = await personal_export.gather(repos, an.id, clock.now(), HANOI)
    assert set(data) == set(personal_export.KEYS)
    assert all(data[key] for key in personal_export.KEYS), [key for key in personal_export.KEYS if not data[key]]
    assert [(c["month"], c["outcome"]) for c in data["in_person_checks"]] == [("2026-11", "present")]
    assert [(r["quarter"], r["progress"], r["comment"]) for r in data["reviews"]] == [("2026-Q4", "good", "Tiến bộ rõ")]
    assert [(a["starts_on"], a["reason"]) for a in data["absences"]] == [("2026-11-10", "Đi thăm mẹ ốm")]
    assert [(m["moved_on"], m["status"]) for m in data["moves"]] == [("2026-11-15", "pending")]
    assert [(r["kind"], r["status"], r["details"]["first"]) for r in data["field_reports"]] == [
        ("absence", "pending", "2026-11-16")
    ]
    assert [(o["kind"], o["due_on"]) for o in data["tests"]] == [
        ("random_test", "2026-11-20"), ("random_test", "2026-11-23"), ("test", "2026-12-03")
    ]  # fmt: skip
    assert "2026-11-27" not in json.dumps(data)  # the unannounced test to come
    assert [(c["due_on"], c["status"]) for c in data["checkins"]] == [("2026-11-23", "pending")]
    assert [c["channel"] for c in data["chats"]] == ["telegram"] and "700123" not in json.dumps(data)
    assert [n["text"] for n in data["notes"]] == ["Đã tìm được việc ở xưởng"]
    assert [(t["taken_on"], t["outcome"], t["place"]) for t in data["test_results"]] == [
        ("2026-11-20", "negative", "Trạm y tế")
    ]
    assert [m["text"] for c in data["conversations"] for m in c["messages"]] == ["Em muốn nói chuyện về công việc"]
    assert [h["kind"] for h in data["requests_for_help"]] == ["counselling"]
    assert [(c["purpose"], c["granted"]) for c in data["consents"]] == [("reminders", True)]
    assert [(r["kind"], r["status"]) for r in data["data_requests"]] == [("copy", "pending")]
    assert data["cadre"] == {"name": "Trần Thị Bình"}
    assert "Bích" not in json.dumps(data, ensure_ascii=False)
    made = await personal_export.files(data, HANOI)
    written = " ".join(text(made.pdf).split())
    assert "Đã tìm được việc ở xưởng" in written and "Âm tính" in written and "Em muốn nói chuyện" in written
    assert "Xét nghiệm đột xuất" in written and "03/12/2026" in written and "27/11/2026" not in written
    assert "Tiến bộ rõ" in written and "Đi thăm mẹ ốm" in written and "Đang chờ xác nhận" in written
    assert "Bích" not in written
    assert json.loads(made.json) == data


async def test_a_link_is_spent_once_and_only_for_an_approved_copy_before_it_expires(
    app: Application, clock: FakeClock
) -> None:
    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        await add_hanoi(service)
        an, _ = await add_person(service, "Nguyễn Văn An")
        await repos.identities.link("zalo", "z-an", participant_id=an.id)
        person = await repos.participants.get(an.id)
        assert person is not None
        made = await data_requests.ask(repos, person, RequestKind.COPY, clock.now(), 3)
        token = new_link_token()
        assert well_formed_token(token) and not well_formed_token(token[:-1]) and not well_formed_token("?" * 43)
        await repos.data_requests.set_link(made.request.id, link_hash(token), clock.now() + timedelta(hours=72))
        assert await data_requests.spend_link(repos, token, clock.now()) is None  # not approved yet
        await repos.data_requests.decide(made.request.id, RequestStatus.APPROVED, None, None)
        late = clock.now() + timedelta(hours=73)
        assert await data_requests.spend_link(repos, token, late) is None  # expired
        spent = await data_requests.spend_link(repos, token, clock.now())
        assert spent is not None and spent.participant_id == an.id
        assert await data_requests.spend_link(repos, token, clock.now()) is None  # used
        again = await data_requests.ask(repos, person, RequestKind.COPY, clock.now(), 3)
        assert again.new  # the approved one is no longer waiting: a new request may be made
        assert not (await data_requests.ask(repos, person, RequestKind.COPY, clock.now(), 3)).new  # one at a time


async def approved_copy_with_link(app: Application, clock: FakeClock) -> tuple[int, int, str]:
    """A person on a linked Zalo chat with an approved copy and its link: (person, request, token)."""
    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        await add_hanoi(service)
        an, _ = await add_person(service, "Nguyễn Văn An")
        await repos.identities.link("zalo", "z-an", participant_id=an.id)
        person = await repos.participants.get(an.id)
        assert person is not None
        made = await data_requests.ask(repos, person, RequestKind.COPY, clock.now(), 3)
        await repos.data_requests.decide(made.request.id, RequestStatus.APPROVED, None, None)
        token = new_link_token()
        await repos.data_requests.set_link(made.request.id, link_hash(token), clock.now() + timedelta(hours=72))
    return an.id, made.request.id, token


async def test_unlinking_the_persons_chat_revokes_their_download_link(app: Application, clock: FakeClock) -> None:
    an, request_id, token = await approved_copy_with_link(app, clock)
    async with app.store.transaction() as repos:  # the phone was lost: an officer (here, the command line) unlinks
        assert await data_requests.copy_behind(repos, token, clock.now()) is not None
        await access.unlink_chats(repos, Operator(None, "ops"), participant_id=an, reason="lost_phone")
    async with app.store.transaction() as repos:
        request = await repos.data_requests.get(request_id)
        assert request is not None and request.link_until is None
        assert await data_requests.copy_behind(repos, token, clock.now()) is None
        assert await data_requests.spend_link(repos, token, clock.now()) is None
        await repos.identities.link("zalo", "z-an-new", participant_id=an)  # a new phone does not bring it back
        assert await data_requests.spend_link(repos, token, clock.now()) is None


async def test_a_link_outlives_leaving_the_list_but_not_the_chat(app: Application, clock: FakeClock) -> None:
    """Leaving the list (a completed term, a move away) does not take away the right to one's copy: the link works
    until the records are purged; a chat removed in any way ends it."""
    an, _, token = await approved_copy_with_link(app, clock)
    async with app.store.transaction() as repos:
        await repos.participants.update(an, status=ParticipantStatus.TRANSFERRED, left_on=clock.now().date())
        assert await data_requests.copy_behind(repos, token, clock.now()) is not None
        await repos.identities.unlink_person(participant_id=an)  # any other way a chat is removed
        assert await data_requests.copy_behind(repos, token, clock.now()) is None
        assert await data_requests.spend_link(repos, token, clock.now()) is None


async def test_a_decline_reason_not_on_the_list_is_refused_and_audited(app: Application, clock: FakeClock) -> None:
    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        await add_hanoi(service)
        an, _ = await add_person(service, "Nguyễn Văn An")
        member, _ = await service.add_staff("Lê Văn Cường", Role.OFFICER, "HD", None, "vi")
        officer = member.id
        assert member is not None
        unit = await repos.units.get(member.unit_id)
        assert unit is not None
        person = await repos.participants.get(an.id)
        assert person is not None
        made = await data_requests.ask(repos, person, RequestKind.COPY, clock.now(), 3)
        by = Actor(ActorKind.STAFF, officer, member.role, member.unit_id, unit.parent_id)
        refused = await data_requests.decide_request(
            repos, made.request.id, approve=False, reason="because I say so", by=by,
            operator=Operator(officer), now=clock.now(),
        )  # fmt: skip
    assert refused == data_requests.Refused("reason")
    (entry,) = await audit_trail(app, "data_request_decided", subject_id=an.id)
    assert entry.outcome == "denied" and entry.detail["reason"] == "not_on_list"
    assert "because" not in json.dumps(entry.detail)
    async with app.store.transaction() as repos:
        still = await repos.data_requests.get(made.request.id)
        assert still is not None and still.status is RequestStatus.PENDING


async def test_the_copy_is_made_before_its_link_is_spent_and_given_once(
    app: Application, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    an, request_id, token = await approved_copy_with_link(app, clock)
    real = personal_export.render_pdf

    def broken(*args: object) -> bytes:
        raise RuntimeError("WeasyPrint fell over")

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=build_web(app)), base_url=BASE) as web:
        shown = await web.get(f"/copy/{token}")
        for response in (shown,):  # the console's security headers, nothing cached
            assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.headers["cache-control"] == "no-store"
            assert response.headers["referrer-policy"] == "no-referrer"
        monkeypatch.setattr(personal_export, "render_pdf", broken)
        failed = await web.post(f"/copy/{token}")
        assert failed.status_code == 503 and "vẫn dùng được" in failed.text
        assert await audit_trail(app, "personal_data_exported") == []
        monkeypatch.setattr(personal_export, "render_pdf", real)
        both = await asyncio.gather(web.post(f"/copy/{token}"), web.post(f"/copy/{token}"))  # a double tap
        assert sorted(r.status_code for r in both) == [200, 410]
        (got,) = [r for r in both if r.status_code == 200]
        assert zipfile.ZipFile(io.BytesIO(got.content)).testzip() is None
        assert got.headers["x-content-type-options"] == "nosniff" and got.headers["cache-control"] == "no-store"
        assert "frame-ancestors 'none'" in got.headers["content-security-policy"]
    (export,) = await audit_trail(app, "personal_data_exported", subject_id=an)
    assert export.detail == {"via": "link", "formats": ["pdf", "json"], "request": request_id}
    assert len(await audit_trail(app, "data_copy_downloaded", subject_id=an)) == 1
