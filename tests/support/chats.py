"""What the end-to-end transcripts do with chats, whatever the channel: the people's side of linking, checking in,
talking with a counsellor and opening a card; scheduler ticks with what each chat received; replayed updates."""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime, time
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot.app import Application
from bot.domain.entities import Role
from tests.e2e.simulator_client import Said
from tests.e2e.zalo_client import ZaloChat
from tests.support.factories import add_cau_giay, add_staff
from tests.support.texts import AN

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


class Chat(Protocol):
    async def say(self, text: str) -> Said: ...
    async def press(self, label: str) -> Said: ...
    async def press_action(self, action: str) -> Said: ...
    async def send_media(self, kind: str) -> Said: ...
    async def say_in_group(self, text: str) -> Said: ...
    async def during(self, work: Callable[[], Awaitable[object]]) -> Said: ...


class Chats(Protocol):
    channel: str

    def chat(self, name: str) -> Chat: ...
    def external_id(self, name: str) -> str: ...


def at_local(day: date, hour: int = 8, minute: int = 0) -> datetime:
    """A moment in Hà Nội's time, as the fake clock takes it (UTC)."""
    return datetime.combine(day, time(hour, minute), tzinfo=HANOI).astimezone(UTC)


async def tick_all(chats: Sequence[Chat], work: Callable[[], Awaitable[object]]) -> list[Said]:
    """Run one scheduler tick and collect what each chat received during it."""
    results: dict[int, Said] = {}

    async def nest(index: int) -> None:
        if index == len(chats):
            await work()
            return
        results[index] = await chats[index].during(lambda: nest(index + 1))

    await nest(0)
    return [results[i] for i in range(len(chats))]


async def link_participant(chat: Chat, code: str) -> Chat:
    """Link with the invite code, consent to every purpose, choose Vietnamese."""
    await chat.say(code)
    for _ in range(3):
        await chat.press("Tôi đồng ý")
    (await chat.press("Tiếng Việt")).offers("Điểm danh tháng này", "Lịch hẹn của tôi")
    return chat


async def linked_participant(sim: Chats, code: str, chat_id: str = "an") -> Any:
    """A new chat linked with `code`, all three consents given, Vietnamese chosen (typed as the channel's chat)."""
    return await link_participant(sim.chat(chat_id), code)


async def answer_checkin(chat: Chat, *, cravings: str = "Không", call: str = "Không, cảm ơn") -> Said:
    """The monthly check-in, from its first question to the thanks."""
    await chat.press("Tốt")
    await chat.press(cravings)
    await chat.press("Không")
    await chat.press("Đang đi làm")
    await chat.press("Việc làm")
    await chat.press("Xong")
    return await chat.press(call)


async def open_card(staff: Chat, who: str = AN, menu: str = "Người tôi đồng hành") -> Said:
    """A staff member opens a person's card from a list of the main menu."""
    await staff.say("/menu")
    await staff.press(menu)
    return await staff.press(who)


async def on_duty(counsellor: Chat) -> None:
    await counsellor.say("/menu")
    await counsellor.press("Bắt đầu ca trực")


async def talking(app: Application, person: Chat, counsellor: Chat) -> None:
    """The person asks to talk; the counsellor (on duty) is told and takes the conversation."""
    await person.say("giúp")
    await person.press("Nói chuyện với tư vấn viên")
    await counsellor.during(app.scheduler.tick)
    await counsellor.press("Xem yêu cầu")
    await counsellor.press("Tôi nhận")


async def second_counsellor(app: Application, sim: Chats) -> Chat:
    """Vũ Minh Giao, a second counsellor of Hà Đông's point, linked (off duty)."""
    async with app.store.transaction() as repos:
        unit = await repos.units.by_code("HD")
        assert unit is not None
        point = await repos.points.first_in(unit.id)
    _, invite = await add_staff(app, "Vũ Minh Giao", Role.COUNSELLOR, "HD", point)
    giao = sim.chat("giao")
    await giao.say(invite.code)
    return giao


async def commune_without_a_point(app: Application, sim: Chats) -> tuple[Chat, Chat, int]:
    """Phường Cầu Giấy: no counselling point; its officer Hải and Lý Văn Cường (no cadre) linked. Returns Cường's
    chat, Hải's and Cường's record number."""
    outpost = await add_cau_giay(app)
    cuong, hai = sim.chat("lvc"), sim.chat("hai")
    await link_participant(cuong, outpost.person_code)
    await hai.say(outpost.officer_code)
    return cuong, hai, outpost.person_id


async def typed_twice(chat: Chat, text: str) -> tuple[Said, Said]:
    """The platform delivers the same text update twice (a replayed webhook)."""
    if isinstance(chat, ZaloChat):
        update = chat.update("message.text.received", text=text)
    else:
        update = {"update_id": chat.fake.next_update_id(), **chat._message(text=text)}  # type: ignore[attr-defined]
    first = await chat.send_update(copy.deepcopy(update))  # type: ignore[attr-defined]
    second = await chat.send_update(copy.deepcopy(update))  # type: ignore[attr-defined]
    return first, second


async def replayed(chat: Chat, label: str) -> tuple[Said, Said]:
    """Press a button, and have the platform deliver that same update a second time (a replayed webhook)."""
    if isinstance(chat, ZaloChat):
        update = chat.update("message.text.received", text=chat.buttons[label])
    else:
        update = {
            "update_id": chat.fake.next_update_id(),  # type: ignore[attr-defined]
            "callback_query": {
                "id": chat.chats.callback_id(),  # type: ignore[attr-defined]
                "from": chat.user,  # type: ignore[attr-defined]
                "chat_instance": "ci-1",
                "data": chat.buttons[label],  # type: ignore[attr-defined]
                "message": {
                    "message_id": chat.button_message.get(label, 1),  # type: ignore[attr-defined]
                    "date": 1_790_000_000,
                    "chat": {"id": chat.user_id, "type": "private"},  # type: ignore[attr-defined]
                    "text": "…",
                },
            },
        }
    first = await chat.send_update(copy.deepcopy(update))  # type: ignore[attr-defined]
    second = await chat.send_update(copy.deepcopy(update))  # type: ignore[attr-defined]
    return first, second
