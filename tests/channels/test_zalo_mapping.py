"""Raw Zalo payloads → normalised core message, or a deliberate ignore (table-driven)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.channels.zalo.mapping import Inbound, to_inbound, unwrap
from bot.core.messages import ChatType, MediaKind


def event(name: str, chat_type: str = "PRIVATE", **content: Any) -> dict[str, Any]:
    return {
        "event_name": name,
        "message": {
            "from": {"id": "u1", "display_name": "An", "is_bot": False},
            "chat": {"id": "c1" if chat_type != "PRIVATE" else "u1", "chat_type": chat_type},
            "message_id": "mid-1",
            "date": 1750316131602,
            **content,
        },
    }


CASES: list[tuple[str, Any, dict[str, Any] | None]] = [
    (
        "text",
        event("message.text.received", text="xin chào"),
        {"text": "xin chào", "chat_type": ChatType.PRIVATE, "external_user_id": "u1", "media": None},
    ),
    ("text wrapped in ok/result", {"ok": True, "result": event("message.text.received", text="1")}, {"text": "1"}),
    # Kept as sent: NFC of a long run of marks is quadratic; the engine composes a bounded start (clean_text).
    ("decomposed text kept", event("message.text.received", text="Nguye\u0302\u0303n"), {"text": "Nguye\u0302\u0303n"}),
    ("lone surrogate replaced", event("message.text.received", text="a\ud800b"), {"text": "a\ufffdb"}),
    ("overlong text bounded", event("message.text.received", text="a" * 100_000), {"text": "a" * 65_536}),
    (
        "image",
        event("message.image.received", photo="https://x/p.jpg", caption="ảnh"),
        {"media": MediaKind.PHOTO, "text": None},
    ),
    ("sticker", event("message.sticker.received", sticker="s1"), {"media": MediaKind.STICKER}),
    ("voice", event("message.voice.received"), {"media": MediaKind.VOICE}),
    ("unsupported (protected user)", event("message.unsupported.received"), {"media": MediaKind.OTHER}),
    (
        "group chat",
        event("message.text.received", chat_type="GROUP", text="chào"),
        {"chat_type": ChatType.GROUP, "external_chat_id": "c1"},
    ),
    ("unknown event", event("user.followed"), None),
    ("no event name", {"message": {"text": "x"}}, None),
    ("no message", {"event_name": "message.text.received"}, None),
    ("no sender id", {"event_name": "message.text.received", "message": {"chat": {"id": "c"}, "text": "x"}}, None),
    (
        "from a bot",
        {
            **event("message.text.received", text="x"),
            "message": {**event("message.text.received")["message"], "from": {"id": "b", "is_bot": True}},
        },
        None,
    ),
    ("text not a string", event("message.text.received", text=5), None),
    ("not an object", ["x"], None),
    ("wrapped failure", {"ok": False, "error_code": 408}, None),
]


@pytest.mark.parametrize(("name", "payload", "expected"), CASES, ids=[c[0] for c in CASES])
def test_payload_mapping(name: str, payload: Any, expected: dict[str, Any] | None) -> None:
    result = to_inbound(payload)
    if expected is None:
        assert result is None
        return
    assert isinstance(result, Inbound)
    msg = result.msg
    assert msg.channel == "zalo" and msg.dedupe_key == "zalo:mid-1"
    for field, value in expected.items():
        assert getattr(msg, field) == value, field


def test_unwrap_accepts_both_shapes() -> None:
    bare = event("message.text.received", text="a")
    assert unwrap(bare) is bare
    assert unwrap({"ok": True, "result": bare}) is bare
