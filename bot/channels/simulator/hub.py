"""The local chat simulator: many pretend chats talking to the real core, and a Messenger that pushes into them.

History lives in process memory only (bounded); it is a development tool and never stores content on disk.
"""

from __future__ import annotations

import itertools
import re
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from bot.core.channel_names import SIMULATOR
from bot.core.clock import Clock
from bot.core.messages import ChatType, InboundMessage, MediaKind, OutboundMessage
from bot.core.ports import ConversationHandler

if TYPE_CHECKING:
    from bot.channels.simulator.clock import TimeMachine

CHANNEL = SIMULATOR
CHAT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


@dataclass(slots=True)
class Entry:
    seq: int
    direction: str  # "in" (the person) or "out" (the bot)
    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)
    pushed: bool = False
    at: str = ""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class SimulatorHub:
    channel = CHANNEL

    def __init__(self, conversation: ConversationHandler, clock: Clock, history: int = 300) -> None:
        self._conversation = conversation
        self._clock = clock
        self._chats: dict[str, deque[Entry]] = {}
        self._labels: dict[str, str] = {}
        self._seq = itertools.count(1)
        self._history = history
        # The time control (development only; set by the composition root, bot/app.py); None: the clock is real.
        self.time_machine: TimeMachine | None = None

    def open(self, chat_id: str, label: str = "") -> str:
        if not CHAT_ID.match(chat_id):
            raise ValueError("chat ids are 1-40 lowercase letters, digits and dashes")
        self._chats.setdefault(chat_id, deque(maxlen=self._history))
        if label:
            self._labels[chat_id] = label[:60]
        return chat_id

    def chats(self) -> dict[str, str]:
        return {chat_id: self._labels.get(chat_id, chat_id) for chat_id in self._chats}

    async def say(
        self,
        chat_id: str,
        *,
        text: str | None = None,
        action: str | None = None,
        media: MediaKind | None = None,
        chat_type: ChatType = ChatType.PRIVATE,
        shown_as: str | None = None,
    ) -> list[Entry]:
        """One message from the pretend person; returns the bot's direct replies (also kept in the history).

        `shown_as` is how a button press appears in the transcript (its label); it never reaches the core.
        """
        self.open(chat_id)
        shown = text if text is not None else (f"[{media.value}]" if media else f"[{shown_as or action}]")
        self._append(chat_id, "in", shown or "")
        replies = await self._conversation.handle(
            InboundMessage(
                channel=CHANNEL,
                external_user_id=chat_id,
                chat_type=chat_type,
                text=text,
                action=action,
                media=media,
                message_id=str(next(self._seq)),
                external_chat_id=f"group-{chat_id}" if chat_type is not ChatType.PRIVATE else chat_id,
            )
        )
        return [self._append(chat_id, "out", r.text, r) for r in replies]

    async def send(self, external_id: str, message: OutboundMessage) -> None:
        """Messenger port: a message the bot starts (reminder, escalation) appears in that chat."""
        self.open(external_id)
        self._append(external_id, "out", message.text, message, pushed=True)

    async def push(self, external_id: str, message: OutboundMessage) -> None:
        """Messenger port for the outbox: the simulator always delivers."""
        await self.send(external_id, message)

    def history(self, chat_id: str, after: int = 0) -> list[Entry]:
        return [entry for entry in self._chats.get(chat_id, ()) if entry.seq > after]

    def _append(
        self, chat_id: str, direction: str, text: str, message: OutboundMessage | None = None, pushed: bool = False
    ) -> Entry:
        buttons = [{"label": b.label, "action": b.action} for b in message.buttons] if message else []
        entry = Entry(next(self._seq), direction, text, buttons, pushed, self._clock.now().isoformat())
        self._chats[chat_id].append(entry)
        return entry
