"""Zalo webhook/getUpdates payloads → core `InboundMessage`, or a deliberate ignore. Pure: no I/O, no rules.

Text is only made well-formed and bounded (`well_formed`: linear, no normalisation); the engine cleans and composes
it, and matches typed menu choices on the cleaned text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.channels.text import well_formed
from bot.core.messages import ChatType, InboundMessage, MediaKind

CHANNEL = "zalo"

_MEDIA = {
    "message.image.received": MediaKind.PHOTO,
    "message.sticker.received": MediaKind.STICKER,
    "message.voice.received": MediaKind.VOICE,
    # Zalo sends this instead of the content for protected users, and for kinds it does not forward.
    "message.unsupported.received": MediaKind.OTHER,
}


@dataclass(frozen=True, slots=True)
class Inbound:
    msg: InboundMessage
    chat_id: str


def unwrap(payload: Any) -> dict[str, Any] | None:
    """Updates come bare or wrapped as {"ok": true, "result": {…}}; accept both."""
    if isinstance(payload, dict) and "result" in payload and "event_name" not in payload:
        payload = payload["result"]
    return payload if isinstance(payload, dict) else None


def to_inbound(payload: Any) -> Inbound | None:
    """Total: any JSON value maps to a message or to None (ignored), never an exception. Every field is type-checked
    because the payload is whatever reached the webhook or the poll, not a promise of the documented shape."""
    update = unwrap(payload)
    if update is None:
        return None
    event = update.get("event_name")
    message = update.get("message")
    if not isinstance(event, str) or not isinstance(message, dict):
        return None
    if event != "message.text.received" and event not in _MEDIA:
        return None
    sender, chat = message.get("from"), message.get("chat")
    sender = sender if isinstance(sender, dict) else {}
    chat = chat if isinstance(chat, dict) else {}
    user_id, chat_id, message_id = _id(sender.get("id")), _id(chat.get("id")), _id(message.get("message_id"))
    if user_id is None or chat_id is None or sender.get("is_bot") not in (None, False):
        return None
    text = message.get("text") if event == "message.text.received" else None
    if event == "message.text.received" and not isinstance(text, str):
        return None
    chat_type = chat.get("chat_type", "PRIVATE")
    if not isinstance(chat_type, str):
        return None
    private = chat_type.upper() == "PRIVATE"
    return Inbound(
        InboundMessage(
            channel=CHANNEL,
            external_user_id=user_id,
            chat_type=ChatType.PRIVATE if private else ChatType.GROUP,
            text=well_formed(text) if text is not None else None,
            media=_MEDIA.get(event),
            message_id=message_id,
            external_chat_id=chat_id,
            dedupe_key=f"{CHANNEL}:{message_id}" if message_id else None,
        ),
        chat_id=chat_id,
    )


_MAX_ID = 128


def _id(value: Any) -> str | None:
    """Ids are strings (numbers are accepted as the platform has sent them): non-empty, printable, bounded."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value or len(value) > _MAX_ID or not value.isprintable():
        return None
    return value
