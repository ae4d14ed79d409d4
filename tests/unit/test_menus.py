"""Typed choices (channels without buttons): which choice typed words name, in what order a chat's choices are kept,
and how messages to one chat are joined. Pure rules of bot/core; the engine applies them, Zalo renders them."""

from __future__ import annotations

from bot.core import menus
from bot.core.menus import Choice
from bot.core.messages import Button, OutboundMessage, TypedBy, join

NAME, NUMBER = TypedBy.NAME, TypedBy.NUMBER
MENU = OutboundMessage("Menu", (Button("Cài đặt", "menu:settings"), Button("Thông tin", "menu:info")))
TALK = OutboundMessage("Chat", (Button("Kết thúc trò chuyện", "relay:end"),), typed_by=NAME)


def test_choices_typed_by_name_come_after_the_numbered_ones_whatever_the_reply_order() -> None:
    assert menus.shown([TALK, MENU]) == [
        Choice("menu:settings", "Cài đặt"),
        Choice("menu:info", "Thông tin"),
        Choice("relay:end", "Kết thúc trò chuyện", NAME),
    ]
    assert menus.shown([OutboundMessage("Xong.")]) == []


def test_a_number_chooses_unless_the_latest_choices_are_typed_by_name() -> None:
    numbered = menus.shown([MENU, TALK])
    assert menus.chosen("2", numbered) == 2
    assert menus.chosen("9", numbered) == 9  # out of range: the engine shows the menu again
    assert menus.chosen("kết thúc trò chuyện", numbered) == 3
    talking = menus.shown([TALK])
    assert menus.numbers_answer(talking) and not menus.numbers_answer(numbered)
    assert menus.chosen("3", talking) is None  # words for the counsellor
    assert menus.chosen("KET THUC TRO CHUYEN", talking) == 1
    assert menus.chosen("▸ Kết thúc trò chuyện", talking) == 1  # the whole listed line, copied
    assert menus.chosen("2", []) == 2 and not menus.numbers_answer([])


def test_a_pushed_message_offers_its_choices_first_and_named_ones_last() -> None:
    earlier = menus.shown([MENU])
    assert [c.action for c in menus.pushed(earlier, MENU.buttons[1:], NUMBER, 24)] == ["menu:info", "menu:settings"]
    talking = menus.pushed(earlier, TALK.buttons, NAME, 24)
    assert talking == [*earlier, Choice("relay:end", "Kết thúc trò chuyện", NAME)]  # "1" is still the question's 1
    assert [c.action for c in menus.pushed(earlier, TALK.buttons, NAME, 2)] == ["menu:settings", "relay:end"]
    many = [Button(str(n), f"a:{n}") for n in range(30)]
    assert len(menus.pushed(earlier, many, NUMBER, 24)) == 24


def test_messages_to_one_chat_are_joined_typed_by_name_only_when_all_their_choices_are() -> None:
    read = OutboundMessage("Tin mới", (Button("Đọc", "relay:read"), Button("Kết thúc", "relay:end")), "vi", NAME)
    joined = join([TALK, OutboundMessage("Nhắc lịch"), read])
    assert joined.text == "Chat\n\nNhắc lịch\n\nTin mới" and joined.typed_by is NAME
    assert [b.action for b in joined.buttons] == ["relay:end", "relay:read"]  # each action once, its first button
    assert join([TALK, MENU]).typed_by is NUMBER  # one numbered message numbers them all
    assert join([OutboundMessage("a", typed_by=NAME)]).typed_by is NUMBER  # nothing to choose
    assert join([OutboundMessage("a", language="en"), MENU]).language == "en"
