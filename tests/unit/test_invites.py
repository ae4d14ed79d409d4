import re
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.invites import (
    ALPHABET,
    CODE_LENGTH,
    InvitePolicy,
    format_code,
    generate_code,
    hash_code,
    normalize_code,
)


def test_codes_use_only_unambiguous_characters() -> None:
    codes = {generate_code() for _ in range(500)}
    assert len(codes) == 500
    for code in codes:
        assert len(code) == CODE_LENGTH >= 8
        assert set(code) <= set(ALPHABET)
    assert not set("0O1IL5S2Z") & set(ALPHABET)


def test_format_groups_for_reading_aloud() -> None:
    assert format_code("ABCDEFGHJK") == "ABCDE-FGHJK"


@pytest.mark.parametrize(
    "typed",
    [
        "ABCDE-FGHJK",
        "abcde-fghjk",
        " abcde fghjk ",
        "ABCDEFGHJK",
        "abc de-fg_hjk",
        "ＡＢＣＤＥ－ＦＧＨＪＫ",
        "abcde.fghjk",
    ],
)
def test_normalize_ignores_case_spaces_dashes_and_width(typed: str) -> None:
    assert normalize_code(typed) == "ABCDEFGHJK"


@pytest.mark.parametrize("text", ["xin chào", "", "   ", "hi", "/start", "😀😀😀😀😀😀😀😀", "A" * 40, "cảm ơn bạn"])
def test_text_that_is_not_code_shaped_is_not_a_code(text: str) -> None:
    assert normalize_code(text) is None


def test_hash_is_keyed_and_stable() -> None:
    first = hash_code(b"k" * 32, "ABCDEFGHJK")
    assert first == hash_code(b"k" * 32, "ABCDEFGHJK")
    assert first != hash_code(b"j" * 32, "ABCDEFGHJK")
    assert re.fullmatch(r"[0-9a-f]{64}", first)
    assert "ABCDEFGHJK" not in first


def test_codes_expire_after_fourteen_days_by_default() -> None:
    issued = datetime(2026, 11, 23, tzinfo=UTC)
    assert InvitePolicy().expires_at(issued) == issued + timedelta(days=14)
