"""What the operator sees of a real day: metrics after a person's crisis through the Telegram webhook, a counsellor
answering, outbox sends and console pages hold no personal data; and each webhook update's log lines share one
request id, in JSON."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.app import Application
from bot.logging import configure_logging
from bot.web.app import build_web
from tests.e2e.telegram_client import TelegramChats
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_api import Fault as FakeTelegramFault
from tests.fakes.zalo_api import FakeZalo
from tests.fakes.zalo_api import Fault as ZaloFault
from tests.support.chats import Chat, Chats, on_duty
from tests.support.console import BASE, login_link
from tests.support.factories import Commune, add_person

NATIONAL_ID = "001099012345"
MOBILE = "0912345678"
PHONE = "024 3382 0000"  # the counselling point's, shown to people in crisis
NAMES = ("Nguyễn Văn An", "Trần Thị Bình", "Phạm Thu Dung", "Lê Văn Cường", "Đỗ Thị Bích", "Lý Thị Phương")
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def _scrape(app: Application) -> str:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=build_web(app)), base_url=BASE) as http:
        answer = await http.get("/metrics")
    assert answer.status_code == 200
    return answer.text


def _samples(scrape: str) -> Samples:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(scrape)
        for sample in family.samples
    }


def _grew(before: Samples, after: Samples, name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


@pytest.mark.parametrize("channel_kind", ["telegram-webhook"])
async def test_a_day_of_work_leaves_no_personal_data_in_the_metrics(
    app: Application, sim: TelegramChats, chats: dict[str, Chat], commune: Commune
) -> None:
    before = _samples(await _scrape(app))
    async with app.store.transaction() as repos:
        phuong, phuong_invite = await add_person(app.enrolment(repos), "Lý Thị Phương", national_id=NATIONAL_ID)
        await repos.participants.set_phone(phuong.id, MOBILE)
    an, dung = chats["an"], chats["counsellor"]
    await on_duty(dung)
    await an.say("em không muốn sống nữa")
    await dung.during(app.scheduler.tick)  # the crisis alert goes out through the outbox
    await dung.press("Xem yêu cầu")
    await dung.press("Tôi nhận")  # the first human answer
    await an.during(app.scheduler.tick)
    (await dung.say("Mình ở đây với bạn.")).says("✓ Đã gửi")  # the first reply: the crisis was answered already
    await an.during(app.scheduler.tick)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=build_web(app)), base_url=BASE) as browser:
        link = await login_link(app, commune.cadre_id)
        signed_in = await browser.post(link, headers={"origin": BASE})
        assert signed_in.status_code == 303
        assert (await browser.get(f"/console/people/{commune.an_id}")).status_code == 200
        await browser.get(f"/console/people/{phuong.id}")
        assert (await browser.get("/console/people")).status_code == 200
    scrape = await _scrape(app)
    after = _samples(scrape)

    assert _grew(before, after, "aftercare_crisis_first_answer_seconds_count") == 1  # once, not again for the reply
    sent = {"channel": "telegram", "outcome": "sent"}
    assert _grew(before, after, "aftercare_messages_sent_total", kind="crisis_alert", **sent) >= 1
    assert _grew(before, after, "aftercare_send_duration_seconds_count", channel="telegram") >= 2
    routes = {dict(labels).get("route") for name, labels in after if name.startswith("aftercare_http_request")}
    assert {"/webhook/telegram", "/console/people/{participant_id}", "/console/people"} <= routes
    assert ("aftercare_outbox_due_messages", ()) in after

    personal = [*NAMES, NATIONAL_ID, MOBILE, PHONE, "không muốn sống", "Mình ở đây"]
    personal += [commune.an_code, commune.binh_code, commune.cadre_code, commune.counsellor_code, phuong_invite.code]
    personal += [sim.external_id(name) for name in ("an", "binh", "dung")]
    personal += [f"/{commune.an_id}", f"/{phuong.id}", link.rsplit("/", 1)[-1]]
    assert [word for word in personal if word in scrape] == []
    values = {(key, value) for _, labels in after for key, value in labels if key != "le"}
    # No id in a label: nothing with a digit but whole numbers (statuses, codes) and the "5xx" code class (another
    # test in this process may have counted one: the metrics are the process's).
    assert not [v for _, v in values if any(ch.isdigit() for ch in v) and not v.isdigit() and v != "5xx"]
    numbers = {(key, value) for key, value in values if value.isdigit()}  # HTTP statuses and platform error codes
    assert all(key in ("status", "code") and 100 <= int(value) < 600 for key, value in numbers)


@pytest.fixture
def json_logs() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level, hook = root.handlers[:], root.level, sys.excepthook
    configure_logging(json_logs=True)
    try:
        yield
    finally:
        root.handlers[:], root.level, sys.excepthook = handlers, level, hook


@pytest.mark.parametrize("channel_kind", ["telegram-webhook", "telegram-polling", "zalo-webhook", "zalo-polling"])
async def test_every_log_line_of_one_update_has_its_request_id(
    app: Application,
    sim: Chats,
    channel_kind: str,
    fake_telegram: FakeTelegram | None,
    fake_zalo: FakeZalo | None,
    commune: Commune,
    json_logs: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Webhook or polling, Telegram or Zalo: each update's lines (here: its reply failing twice before it goes) share
    one request id, and the next update has another."""
    channel = channel_kind.split("-")[0]
    fake: Any = fake_telegram or fake_zalo
    before = _samples(await _scrape(app))
    capsys.readouterr()
    for name, code in (("an", commune.an_code), ("bich", commune.binh_code)):
        for _ in range(2):
            fake.inject("sendMessage", FakeTelegramFault(502, "Bad Gateway") if fake_telegram else ZaloFault(502))
        await sim.chat(name).say(code)
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]
    retries = [line for line in lines if line["event"] == f"{channel}_retry"]
    ids = [line.get("request_id") for line in retries]
    assert len(ids) == 4 and ids[0] == ids[1] and ids[2] == ids[3] and ids[0] != ids[2] and all(ids)
    after = _samples(await _scrape(app))
    assert _grew(before, after, "aftercare_platform_errors_total", channel=channel, code="5xx") == 4
