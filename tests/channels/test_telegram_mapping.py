"""Raw Telegram update JSON → normalised core message, or a deliberate ignore (table-driven, courier style)."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram.types import Update

from bot.channels.telegram.mapping import Inbound, Reachability, to_inbound
from bot.core.messages import ChatType, MediaKind

USER = {"id": 42, "is_bot": False, "first_name": "An", "language_code": "vi"}
PRIVATE = {"id": 42, "type": "private", "first_name": "An"}
GROUP = {"id": -100123, "type": "supergroup", "title": "Nhóm"}
CHANNEL = {"id": -100999, "type": "channel", "title": "Kênh"}


def message(chat: dict[str, Any] = PRIVATE, **content: Any) -> dict[str, Any]:
    return {"message_id": 7, "date": 1_790_000_000, "chat": chat, "from": USER, **content}


CASES: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = [
    (
        "text",
        {"message": message(text="xin chào")},
        {"text": "xin chào", "chat_type": ChatType.PRIVATE, "external_user_id": "42", "language_hint": "vi"},
    ),
    ("command with payload", {"message": message(text="/start ABCDE-FGHJK")}, {"text": "/start ABCDE-FGHJK"}),
    (
        "callback query",
        {
            "callback_query": {
                "id": "cq1",
                "from": USER,
                "chat_instance": "x",
                "data": "tok123",
                "message": message(text="menu"),
            }
        },
        {"action_ref": "tok123", "action": None, "text": None, "external_chat_id": "42"},
    ),
    (
        "sticker",
        {
            "message": message(
                sticker={
                    "file_id": "s",
                    "file_unique_id": "u",
                    "type": "regular",
                    "width": 1,
                    "height": 1,
                    "is_animated": False,
                    "is_video": False,
                }
            )
        },
        {"media": MediaKind.STICKER, "text": None},
    ),
    (
        "photo with caption",
        {"message": message(photo=[{"file_id": "p", "file_unique_id": "u", "width": 1, "height": 1}], caption="ảnh")},
        {"media": MediaKind.PHOTO, "text": None},
    ),
    (
        "voice",
        {"message": message(voice={"file_id": "v", "file_unique_id": "u", "duration": 2})},
        {"media": MediaKind.VOICE},
    ),
    ("location", {"message": message(location={"latitude": 21.0, "longitude": 105.8})}, {"media": MediaKind.LOCATION}),
    ("dice", {"message": message(dice={"emoji": "🎲", "value": 3})}, {"media": MediaKind.OTHER}),
    ("edited message", {"edited_message": {**message(text="sửa"), "edit_date": 1_790_000_100}}, None),
    (
        "group message",
        {"message": message(chat=GROUP, text="chào nhóm")},
        {"chat_type": ChatType.GROUP, "external_chat_id": "-100123", "external_user_id": "42"},
    ),
    (
        "channel post",
        {"channel_post": {"message_id": 1, "date": 1_790_000_000, "chat": CHANNEL, "text": "tin"}},
        {"chat_type": ChatType.CHANNEL, "external_user_id": "-100999"},
    ),
    (
        "message from a bot",
        {"message": {**message(text="hi"), "from": {"id": 9, "is_bot": True, "first_name": "B"}}},
        None,
    ),
    ("inline query", {"inline_query": {"id": "iq", "from": USER, "query": "x", "offset": ""}}, None),
]


@pytest.mark.parametrize(("name", "raw", "expected"), CASES, ids=[c[0] for c in CASES])
def test_update_mapping(name: str, raw: dict[str, Any], expected: dict[str, Any] | None) -> None:
    result = to_inbound(Update.model_validate({"update_id": 1001, **raw}))
    if expected is None:
        assert result is None
        return
    assert isinstance(result, Inbound)
    msg = result.msg
    assert msg.channel == "telegram" and msg.dedupe_key == "telegram:1001"
    for field, value in expected.items():
        assert getattr(msg, field) == value, field


KEYBOARD = {"inline_keyboard": [[{"text": "Có", "callback_data": "t"}]]}


def test_callback_carries_what_to_answer_and_clear() -> None:
    pressed = message(text="m", reply_markup=KEYBOARD)
    raw = {
        "update_id": 5,
        "callback_query": {"id": "cq9", "from": USER, "chat_instance": "x", "data": "t", "message": pressed},
    }
    result = to_inbound(Update.model_validate(raw))
    assert isinstance(result, Inbound)
    assert (result.callback_id, result.callback_message_id, result.chat_id) == ("cq9", 7, 42)


@pytest.mark.parametrize(
    "pressed",
    [
        message(text="m"),  # the keyboard is already gone (a stale or forged press)
        message(text="m", reply_markup={"inline_keyboard": []}),
        {"message_id": 7, "date": 0, "chat": PRIVATE},  # an inaccessible (old) message
    ],
)
def test_a_press_on_a_message_without_keyboard_clears_nothing(pressed: dict[str, Any]) -> None:
    """Editing a keyboard that is not there is refused by Telegram ("message is not modified")."""
    raw = {
        "update_id": 5,
        "callback_query": {"id": "cq9", "from": USER, "chat_instance": "x", "data": "t", "message": pressed},
    }
    result = to_inbound(Update.model_validate(raw))
    assert isinstance(result, Inbound)
    assert (result.callback_id, result.callback_message_id) == ("cq9", None)


@pytest.mark.parametrize(("status", "reachable"), [("kicked", False), ("member", True)])
def test_blocking_the_bot_is_a_reachability_change(status: str, reachable: bool) -> None:
    raw = {
        "update_id": 6,
        "my_chat_member": {
            "chat": PRIVATE,
            "from": USER,
            "date": 1_790_000_000,
            "old_chat_member": {"status": "member", "user": {"id": 1, "is_bot": True, "first_name": "bot"}},
            "new_chat_member": {
                "status": status,
                "user": {"id": 1, "is_bot": True, "first_name": "bot"},
                **({"until_date": 0} if status == "kicked" else {}),
            },
        },
    }
    assert to_inbound(Update.model_validate(raw)) == Reachability("42", reachable)


def test_membership_changes_in_groups_are_ignored() -> None:
    raw = {
        "update_id": 7,
        "my_chat_member": {
            "chat": GROUP,
            "from": USER,
            "date": 1_790_000_000,
            "old_chat_member": {"status": "left", "user": {"id": 1, "is_bot": True, "first_name": "bot"}},
            "new_chat_member": {"status": "member", "user": {"id": 1, "is_bot": True, "first_name": "bot"}},
        },
    }
    assert to_inbound(Update.model_validate(raw)) is None
