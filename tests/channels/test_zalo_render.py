from bot.channels.zalo.render import MAX_TEXT, render
from bot.core.i18n import Catalogs, default_locales_dir
from bot.core.menus import typed_choice
from bot.core.messages import Button, OutboundMessage

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
