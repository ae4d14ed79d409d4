"""Channel-neutral messages: every adapter maps its platform payloads to and from these."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class ChatType(StrEnum):
    PRIVATE = "private"
    GROUP = "group"
    CHANNEL = "channel"


class MediaKind(StrEnum):
    """Non-text content; the bot never stores it, it only answers politely."""

    STICKER = "sticker"
    PHOTO = "photo"
    VOICE = "voice"
    VIDEO = "video"
    FILE = "file"
    LOCATION = "location"
    CONTACT = "contact"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Button:
    """An abstract choice; adapters render it (inline keyboard, numbered menu, chip)."""

    label: str
    action: str


class TypedBy(StrEnum):
    """How a message's choices are chosen on a channel without buttons (Zalo), where people type them. Read by the
    engine (what typed words choose, bot/core/menus.py) and the Zalo renderer (how the choices are listed) only."""

    NUMBER = "number"  # listed with numbers: "2" (or the option's words) chooses
    NAME = "name"  # listed to be typed by name: a typed number is words (in a conversation through the bot, an answer)


@dataclass(frozen=True, slots=True)
class InboundMessage:
    channel: str
    external_user_id: str
    chat_type: ChatType = ChatType.PRIVATE
    text: str | None = None
    action: str | None = None
    media: MediaKind | None = None
    message_id: str | None = None
    external_chat_id: str | None = None
    language_hint: str | None = None
    action_ref: str | None = None  # an opaque button reference (Telegram callback data), resolved by the engine
    dedupe_key: str | None = None  # e.g. "telegram:4711": a redelivery of the same update is handled once


@dataclass(frozen=True, slots=True)
class Document:
    """A file sent after a message's text, on a channel that takes files (Telegram). Made when it is sent, never
    stored; `repr` leaves the content out so a log line never holds it."""

    filename: str
    content: bytes = field(repr=False)
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    text: str
    buttons: tuple[Button, ...] = field(default=())
    language: str | None = None  # set by the engine, for adapters that add words of their own (numbered menus)
    # NAME in a conversation through the bot, where a typed "3" is an answer, not the third option.
    typed_by: TypedBy = TypedBy.NUMBER
    # Sent without a link preview (a one-time sign-in link): the platform's previewer would fetch it and show the
    # page; Telegram is told not to. Adapters without previews ignore it.
    no_preview: bool = False
    # Files sent before the text (a person's approved copy of their data); only on channels that take files.
    documents: tuple[Document, ...] = ()
    # Files still to be made (a PDF takes a second of CPU): the dispatcher makes them after the rendering transaction
    # has closed, right before sending, and adds them to `documents`.
    make: Callable[[], Awaitable[tuple[Document, ...]]] | None = field(default=None, compare=False, repr=False)

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(button.action for button in self.buttons)


def join(messages: Sequence[OutboundMessage]) -> OutboundMessage:
    """Messages to one chat sent as one (one notification; on Zalo one list of choices): the texts in order, each
    action once (its first button), typed by name only if every message with choices is (one message with
    numbered choices has them all numbered), without a link preview if any of them is. `messages` is not empty."""
    buttons: list[Button] = []
    for message in messages:
        buttons += [b for b in message.buttons if b.action not in {m.action for m in buttons}]
    named = bool(buttons) and all(m.typed_by is TypedBy.NAME for m in messages if m.buttons)
    text = "\n\n".join(message.text for message in messages)
    typed_by = TypedBy.NAME if named else TypedBy.NUMBER
    no_preview = any(message.no_preview for message in messages)
    documents = tuple(document for message in messages for document in message.documents)
    return OutboundMessage(text, tuple(buttons), messages[0].language, typed_by, no_preview, documents)
