"""Zalo webhook/getUpdates payloads → core `InboundMessage`, or a deliberate ignore. Pure: no I/O, no rules."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

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
    update = unwrap(payload)
    if update is None:
        return None
    event = update.get("event_name")
    message = update.get("message")
    if not isinstance(message, dict) or (event != "message.text.received" and event not in _MEDIA):
        return None
    sender = message.get("from") if isinstance(message.get("from"), dict) else {}
    chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
    user_id, chat_id, message_id = sender.get("id"), chat.get("id"), message.get("message_id")
    if not user_id or not chat_id or sender.get("is_bot"):
        return None
    text = message.get("text") if event == "message.text.received" else None
    if text is not None and not isinstance(text, str):
        return None
    private = str(chat.get("chat_type", "PRIVATE")).upper() == "PRIVATE"
    return Inbound(
        InboundMessage(
            channel=CHANNEL,
            external_user_id=str(user_id),
            chat_type=ChatType.PRIVATE if private else ChatType.GROUP,
            text=unicodedata.normalize("NFC", text) if text is not None else None,
            media=_MEDIA.get(str(event)),
            message_id=str(message_id) if message_id else None,
            external_chat_id=str(chat_id),
            menu_by_text=True,
            dedupe_key=f"{CHANNEL}:{message_id}" if message_id else None,
        ),
        chat_id=str(chat_id),
    )
