"""The personal export against a real database: every category of a person's record is in the JSON and the PDF
(notes, a test result, a conversation, a request for help, consents, the data requests), nothing of another person,
and the one-time link's rules (spent once, expired, only for an approved copy)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from bot.app import Application
from bot.domain.consent import CONSENT_TEXT_VERSION, Purpose
from bot.domain.data_requests import RequestKind, RequestStatus, link_hash, new_link_token, well_formed_token
from bot.domain.entities import Role
from bot.domain.fieldwork import ObservationCategory, TestOutcome
from bot.services import data_requests, personal_export
from tests.fakes.clock import FakeClock
from tests.support.factories import add_hanoi, add_person
from tests.support.pdfs import text

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


async def test_every_category_of_the_record_is_exported_and_nothing_of_anyone_else(
    app: Application, clock: FakeClock
) -> None:
    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        await add_hanoi(service)
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
        referral = await repos.referrals.request(an.id, "counselling", "help")
        await repos.relay.add(referral, an.id, "participant", "Em muốn nói chuyện về công việc")
        person = await repos.participants.get(an.id)
        assert person is not None
        await data_requests.ask(repos, person, RequestKind.COPY, clock.now(), 3)
        data = await personal_export.gather(repos, an.id, clock.now(), HANOI)
    assert set(data) == set(personal_export.KEYS)
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
    assert "Bích" not in written
    assert json.loads(made.json) == data


async def test_a_link_is_spent_once_and_only_for_an_approved_copy_before_it_expires(
    app: Application, clock: FakeClock
) -> None:
    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        await add_hanoi(service)
        an, _ = await add_person(service, "Nguyễn Văn An")
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
