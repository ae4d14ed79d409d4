from bot.channels.telegram import render as telegram
from bot.channels.zalo.render import MAX_TEXT, render
from bot.core.i18n import Catalogs, default_locales_dir
from bot.core.menus import typed_choice
from bot.core.messages import Button, OutboundMessage, TypedBy

CATALOGS = Catalogs(default_locales_dir())


def test_buttons_become_a_numbered_menu_in_the_persons_language() -> None:
    replies = [
        OutboundMessage("Xong.", language="vi"),
        OutboundMessage("Menu chính.", (Button("Thông tin của tôi", "a"), Button("Cài đặt", "b")), "vi"),
    ]
    assert render(replies, CATALOGS) == [
        "Xong.",
        "Menu chính.\n\n1. Thông tin của tôi\n2. Cài đặt\nTrả lời bằng một số từ 1 đến 2.",
    ]
    english = render([OutboundMessage("Menu.", (Button("Settings", "b"),), "en")], CATALOGS)
    assert english == ["Menu.\n\n1. Settings\nReply 1 to choose it."]


def test_numbering_continues_across_replies() -> None:
    replies = [OutboundMessage("A", (Button("x", "1"),), "vi"), OutboundMessage("B", (Button("y", "2"),), "vi")]
    texts = render(replies, CATALOGS)
    assert "1. x" in texts[0] and "2. y" in texts[1]


def test_long_texts_split_at_2000_characters() -> None:
    text = "\n".join(f"Dòng {i}: nội dung có dấu tiếng Việt." for i in range(300))
    parts = render([OutboundMessage(text)], CATALOGS)
    assert len(parts) > 1 and all(len(p) <= MAX_TEXT for p in parts)
    assert "\n".join(parts) == text


def test_typed_choices() -> None:
    labels = ["Thông tin của tôi", "Cài đặt"]
    assert typed_choice("2", labels) == 2
    assert typed_choice(" 1 ", labels) == 1
    assert typed_choice("２", labels) == 2
    assert typed_choice("2.", labels) == 2
    assert typed_choice("cài đặt", labels) == 2
    assert typed_choice("CÀI  ĐẶT", labels) == 2
    assert typed_choice("9", labels) == 9  # out of range: the engine re-prompts
    assert typed_choice("xin chào", labels) is None
    assert typed_choice("1 2", labels) is None


def test_choices_typed_by_name_are_listed_to_type_and_take_no_number() -> None:
    replies = [
        OutboundMessage("Tin nhắn đã gửi.", (Button("Kết thúc trò chuyện", "relay:end"),), "vi", TypedBy.NAME),
        OutboundMessage("Menu chính.", (Button("Cài đặt", "b"),), "vi"),
    ]
    first, second = render(replies, CATALOGS)
    assert first.startswith("Tin nhắn đã gửi.\n\n▸ Kết thúc trò chuyện\n") and "1." not in first
    assert "1. Cài đặt" in second  # the numbered reply's options are numbered from 1
    english = render([OutboundMessage("Sent.", (Button("End", "relay:end"),), "en", TypedBy.NAME)], CATALOGS)
    assert english == ["Sent.\n\n▸ End\nType one of these to choose it."]


def test_only_the_zalo_renderer_reads_how_choices_are_typed() -> None:
    """On Telegram the same buttons are a keyboard, however they would be typed where there are none."""
    buttons = (Button("Kết thúc trò chuyện", "relay:end"),)
    for typed_by in TypedBy:
        [part] = telegram.render([OutboundMessage("Tin nhắn.", buttons, "vi", typed_by)], lambda action: "ref")
        assert part.text == "Tin nhắn." and part.markup is not None
        assert [[b.text for b in row] for row in part.markup.inline_keyboard] == [["Kết thúc trò chuyện"]]
