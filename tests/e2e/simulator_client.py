"""Talks to the simulator channel over real HTTP, the way the chat page does, and keeps the transcript."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Reply:
    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)
    pushed: bool = False

    @property
    def labels(self) -> list[str]:
        return [b["label"] for b in self.buttons]


class Said(list[Reply]):
    """The bot's replies to one message, with assertions that print the whole exchange on failure."""

    @property
    def text(self) -> str:
        return "\n---\n".join(r.text for r in self)

    def says(self, *fragments: str) -> Said:
        for fragment in fragments:
            assert fragment in self.text, f"expected {fragment!r} in:\n{self.text}"
        return self

    def never_says(self, *fragments: str) -> Said:
        for fragment in fragments:
            assert fragment not in self.text, f"did not expect {fragment!r} in:\n{self.text}"
        return self

    def offers(self, *labels: str) -> Said:
        shown = [label for reply in self for label in reply.labels]
        for label in labels:
            assert label in shown, f"expected a button {label!r}; buttons were {shown}"
        return self


class SimChat:
    def __init__(self, http: httpx.AsyncClient, chat_id: str) -> None:
        self.http = http
        self.chat_id = chat_id
        self.buttons: dict[str, str] = {}

    async def _send(self, body: dict[str, Any]) -> Said:
        response = await self.http.post(f"/simulator/api/chats/{self.chat_id}/messages", json=body)
        assert response.status_code == 200, response.text
        said = Said(Reply(r["text"], r["buttons"], r["pushed"]) for r in response.json()["replies"])
        offered = {b["label"]: b["action"] for reply in said for b in reply.buttons}
        if offered:
            self.buttons = offered
        return said

    async def say(self, text: str) -> Said:
        return await self._send({"text": text})

    async def press(self, label: str) -> Said:
        assert label in self.buttons, f"no button {label!r}; buttons are {list(self.buttons)}"
        return await self._send({"action": self.buttons[label], "label": label})

    async def press_action(self, action: str) -> Said:
        """Send a raw payload, as a forged or replayed button press would arrive."""
        return await self._send({"action": action})

    async def send_media(self, kind: str) -> Said:
        return await self._send({"media": kind})

    async def say_in_group(self, text: str) -> Said:
        return await self._send({"text": text, "chat_type": "group"})

    async def during(self, work: Callable[[], Awaitable[object]]) -> Said:
        """What the bot pushes to this chat on its own while `work` runs (a scheduler tick)."""
        before = await self.history()
        last = before[-1]["seq"] if before else 0
        await work()
        response = await self.http.get(f"/simulator/api/chats/{self.chat_id}/messages", params={"after": last})
        said = Said(Reply(m["text"], m["buttons"], m["pushed"]) for m in response.json()["messages"] if m["pushed"])
        offered = {b["label"]: b["action"] for reply in said for b in reply.buttons}
        if offered:
            self.buttons = offered
        return said

    async def history(self) -> list[dict[str, Any]]:
        response = await self.http.get(f"/simulator/api/chats/{self.chat_id}/messages")
        return list(response.json()["messages"])


class Simulator:
    channel = "simulator"

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    def chat(self, chat_id: str) -> SimChat:
        return SimChat(self.http, chat_id)

    def external_id(self, name: str) -> str:
        return name
