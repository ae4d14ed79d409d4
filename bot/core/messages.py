"""Channel-neutral messages: every adapter maps its platform payloads to and from these."""

from __future__ import annotations

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
    menu_by_text: bool = False  # a channel without buttons: "2" or an option's words choose from the last menu
    dedupe_key: str | None = None  # e.g. "telegram:4711": a redelivery of the same update is handled once


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    text: str
    buttons: tuple[Button, ...] = field(default=())
    language: str | None = None  # set by the engine, for adapters that add words of their own (numbered menus)
    # Chosen by typing the label, never a number: in a conversation through the bot a typed "3" is an answer.
    by_label: bool = False

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(button.action for button in self.buttons)
