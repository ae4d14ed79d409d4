"""Plays the people's side of Zalo against the fake Bot Platform: events in, the bot's sendMessage texts out."""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest

from tests.e2e.helpers import PushedMessages
from tests.e2e.simulator_client import Reply, Said
from tests.fakes.zalo_api import FakeZalo

_OPTION = re.compile(r"^(\d+)\. (.+)$")
EVENTS = {"sticker": "message.sticker.received", "photo": "message.image.received", "voice": "message.voice.received"}


class ZaloChats:
    channel = "zalo"

    def __init__(self, fake: FakeZalo, webhook: bool) -> None:
        self.fake = fake
        self.webhook = webhook
        self._ids: dict[str, str] = {}
        self._counter = itertools.count(1)
        self._date = itertools.count(1_790_000_000_000, 1000)

    def user_id(self, name: str) -> str:
        if name not in self._ids:
            self._ids[name] = f"zu{next(self._counter):06d}"
        return self._ids[name]

    def external_id(self, name: str) -> str:
        return self.user_id(name)

    def chat(self, name: str) -> ZaloChat:
        return ZaloChat(self, name)

    def date(self) -> int:
        return next(self._date)


class ZaloChat(PushedMessages):
    def __init__(self, chats: ZaloChats, name: str) -> None:
        self.chats = chats
        self.fake = chats.fake
        self.user_id = chats.user_id(name)
        self.name = name
        self.buttons: dict[str, str] = {}  # label → the number to type

    def update(self, event: str, chat_id: str | None = None, chat_type: str = "PRIVATE", **content: Any) -> dict:
        return {
            "event_name": event,
            "message": {
                "from": {"id": self.user_id, "display_name": self.name, "is_bot": False},
                "chat": {"id": chat_id or self.user_id, "chat_type": chat_type},
                "message_id": self.fake.next_id(),
                "date": self.chats.date(),
                **content,
            },
        }

    async def send_update(self, update: dict[str, Any], wrapped: bool = False) -> Said:
        chat_id = update["message"]["chat"]["id"]
        before = len(self.fake.calls)
        if self.chats.webhook:
            status = await self.fake.deliver(update, wrapped=wrapped)
            assert status == 200, f"webhook answered {status}"
        else:
            await self.fake.wait_handled(self.fake.enqueue(update))
        return self._collect(before, chat_id)

    def _collect(self, before: int, chat_id: str) -> Said:
        said = Said()
        for call in self.fake.calls[before:]:
            if call.method == "sendMessage" and call.status == 200 and call.params["chat_id"] == chat_id:
                options = [_OPTION.match(line) for line in call.params["text"].split("\n")]
                buttons = [{"label": m.group(2), "action": m.group(1)} for m in options if m]
                # In a conversation, choices are typed by name ("▸ Kết thúc trò chuyện"): the label is what is sent.
                named = [line[2:] for line in call.params["text"].split("\n") if line.startswith("▸ ")]
                buttons += [{"label": label, "action": label} for label in named]
                said.append(Reply(call.params["text"], buttons))
        offered = {b["label"]: b["action"] for reply in said for b in reply.buttons}
        if offered:
            self.buttons = offered
        return said

    async def say(self, text: str) -> Said:
        return await self.send_update(self.update("message.text.received", text=text))

    async def press(self, label: str) -> Said:
        """On Zalo a choice is a typed number."""
        assert label in self.buttons, f"no option {label!r}; options are {list(self.buttons)}"
        return await self.say(self.buttons[label])

    async def press_action(self, action: str) -> Said:
        pytest.skip("Zalo has no button payloads: there is nothing to forge (typed numbers are tested separately)")

    async def send_media(self, kind: str) -> Said:
        return await self.send_update(self.update(EVENTS[kind]))

    async def say_in_group(self, text: str) -> Said:
        return await self.send_update(
            self.update("message.text.received", chat_id=f"g-{self.user_id}", chat_type="GROUP", text=text)
        )
