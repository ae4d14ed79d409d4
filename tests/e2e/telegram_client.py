"""Plays the people's side of Telegram against the fake Bot API: updates in, the bot's sendMessage calls out."""

from __future__ import annotations

import itertools
import json
from typing import Any

from tests.e2e.helpers import PushedMessages
from tests.e2e.simulator_client import Reply, Said
from tests.fakes.telegram_api import FakeTelegram

MEDIA: dict[str, dict[str, Any]] = {
    "sticker": {
        "sticker": {
            "file_id": "CAAD",
            "file_unique_id": "u1",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
    },
    "photo": {"photo": [{"file_id": "AgAD", "file_unique_id": "u2", "width": 90, "height": 90}]},
    "voice": {"voice": {"file_id": "AwAD", "file_unique_id": "u3", "duration": 3}},
}


class TelegramChats:
    """Chats by name; each name is a Telegram user with a stable numeric id."""

    channel = "telegram"

    def __init__(self, fake: FakeTelegram, webhook: bool) -> None:
        self.fake = fake
        self.webhook = webhook
        self._ids: dict[str, int] = {}
        self._next = itertools.count(5_000_001)
        self._callbacks = itertools.count(1)

    def user_id(self, name: str) -> int:
        if name not in self._ids:
            self._ids[name] = next(self._next)
        return self._ids[name]

    def external_id(self, name: str) -> str:
        return str(self.user_id(name))

    def chat(self, name: str) -> TelegramChat:
        return TelegramChat(self, name)

    def callback_id(self) -> str:
        return f"cq{next(self._callbacks)}"


class TelegramChat(PushedMessages):
    def __init__(self, chats: TelegramChats, name: str) -> None:
        self.chats = chats
        self.fake = chats.fake
        self.user_id = chats.user_id(name)
        self.user = {"id": self.user_id, "is_bot": False, "first_name": name, "language_code": "vi"}
        self.buttons: dict[str, str] = {}
        self.button_message: dict[str, int] = {}

    async def send_update(self, update: dict[str, Any], chat_id: int | None = None) -> Said:
        chat_id = self.user_id if chat_id is None else chat_id
        before = len(self.fake.calls)
        if self.chats.webhook:
            status = await self.fake.deliver(update)
            assert status == 200, f"webhook answered {status}"
        else:
            update_id = self.fake.enqueue(update)
            await self.fake.wait_confirmed(update_id)
        return self._collect(before, chat_id)

    def _collect(self, before: int, chat_id: int) -> Said:
        """The bot's messages to `chat_id` among the Bot API calls since `before`."""
        said = Said()
        for call in self.fake.calls[before:]:
            if call.method != "sendMessage" or call.status != 200 or str(call.params["chat_id"]) != str(chat_id):
                continue
            markup = json.loads(call.params["reply_markup"]) if "reply_markup" in call.params else {}
            buttons = [
                {"label": b["text"], "action": b["callback_data"]}
                for row in markup.get("inline_keyboard", [])
                for b in row
            ]
            said.append(Reply(call.params["text"], buttons))
            for button in buttons:
                self.button_message[button["label"]] = call.result["message_id"]
        offered = {b["label"]: b["action"] for reply in said for b in reply.buttons}
        if offered:
            self.buttons = offered
        return said

    def _message(self, chat: dict[str, Any] | None = None, **content: Any) -> dict[str, Any]:
        return {
            "message": {
                "message_id": self.fake.next_message_id(),
                "date": 1_790_000_000,
                "chat": chat or {"id": self.user_id, "type": "private", "first_name": self.user["first_name"]},
                "from": self.user,
                **content,
            }
        }

    async def say(self, text: str) -> Said:
        return await self.send_update(self._message(text=text))

    async def press(self, label: str) -> Said:
        assert label in self.buttons, f"no button {label!r}; buttons are {list(self.buttons)}"
        return await self.press_action(self.buttons[label], self.button_message.get(label))

    async def press_action(self, data: str, message_id: int | None = None) -> Said:
        """A callback query with any data at all, as a forged or replayed press would arrive. The pressed message is
        shown as it is now, as Telegram does (without its keyboard once that was removed)."""
        current = self.fake.message(self.user_id, message_id) if message_id is not None else None
        update = {
            "callback_query": {
                "id": self.chats.callback_id(),
                "from": self.user,
                "chat_instance": "ci-1",
                "data": data,
                "message": current
                or {
                    "message_id": message_id or 1,
                    "date": 1_790_000_000,
                    "chat": {"id": self.user_id, "type": "private"},
                    "text": "…",
                },
            }
        }
        return await self.send_update(update)

    async def send_media(self, kind: str) -> Said:
        return await self.send_update(self._message(**MEDIA[kind]))

    async def say_in_group(self, text: str) -> Said:
        group = {"id": -1_000_000 - self.user_id % 1000, "type": "group", "title": "Nhóm"}
        return await self.send_update(self._message(chat=group, text=text), chat_id=group["id"])
