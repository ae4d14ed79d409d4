import unicodedata

from bot.channels.telegram.render import MAX_TEXT, keyboard, split_text, utf16_len


def test_short_text_is_one_part_in_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "Bạn có lịch hẹn ngày 12/12.")
    assert split_text(decomposed) == ["Bạn có lịch hẹn ngày 12/12."]


def test_long_text_splits_on_line_boundaries() -> None:
    lines = [f"Dòng số {i}: nội dung tiếng Việt có dấu." for i in range(400)]
    text = "\n".join(lines)
    parts = split_text(text)
    assert len(parts) > 1
    assert all(utf16_len(p) <= MAX_TEXT for p in parts)
    assert "\n".join(parts) == text
    assert all(p.split("\n")[0].startswith("Dòng số") for p in parts)


def test_a_single_huge_line_splits_at_spaces() -> None:
    text = " ".join(["từ"] * 5000)
    parts = split_text(text)
    assert all(utf16_len(p) <= MAX_TEXT for p in parts)
    assert " ".join(parts).split() == text.split()


def test_emoji_count_as_two_units() -> None:
    text = "😀" * 3000  # 6000 UTF-16 units, no spaces
    parts = split_text(text)
    assert len(parts) == 2 and all(utf16_len(p) <= MAX_TEXT for p in parts)
    assert "".join(parts) == text


def test_empty_text_has_no_parts() -> None:
    assert split_text("") == []


def test_keyboard_is_one_button_per_row() -> None:
    markup = keyboard(["Tôi đồng ý", "Tôi không đồng ý"], ["t1", "t2"])
    assert markup is not None
    assert [[b.callback_data for b in row] for row in markup.inline_keyboard] == [["t1"], ["t2"]]
    assert keyboard([], []) is None
