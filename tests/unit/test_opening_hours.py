"""Opening hours as a commune office writes them: read, refused when unreadable, open or closed at an instant, the
next opening across days and weeks, and written back in the person's language."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.core.i18n import Catalogs
from bot.domain.opening import OpeningHoursError, parse, read

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
OFFICE = "T2-T6 7:30-11:30,13:30-17:00; T7 8:00-11:00"
LOCALES = Path(__file__).resolve().parents[2] / "locales"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=TZ)  # 23/11/2026 is a Monday


@pytest.mark.parametrize(
    ("when", "is_open", "opens"),
    [
        (at(23, 9), True, at(23, 9)),  # Monday morning
        (at(23, 7, 29), False, at(23, 7, 30)),
        (at(23, 11, 30), False, at(23, 13, 30)),  # lunch: closing time is exclusive
        (at(23, 16, 59), True, at(23, 16, 59)),
        (at(27, 17, 0), False, at(28, 8, 0)),  # Friday evening → Saturday morning
        (at(28, 11, 0), False, at(30, 7, 30)),  # Saturday noon → Monday
        (at(29, 23, 0), False, at(30, 7, 30)),  # Sunday night
    ],
)
def test_open_and_the_next_opening(when: datetime, is_open: bool, opens: datetime) -> None:
    hours = parse(OFFICE)
    assert hours.is_open(when, TZ) is is_open
    assert hours.next_opening(when, TZ) == opens


def test_the_same_instant_in_utc_gives_the_same_answer() -> None:
    hours = parse(OFFICE)
    utc = at(23, 7, 45).astimezone(ZoneInfo("UTC"))
    assert hours.is_open(utc, TZ)


@pytest.mark.parametrize(
    "text",
    ["mon-fri 07:30-17:00", "T2–T6 7h30-17h00", "Hằng ngày 8:00-20:00", "t2,t4,cn 8.00-10.00", "daily 0:00-24:00"],
)
def test_other_ways_of_writing_it_are_read(text: str) -> None:
    assert parse(text).fixed


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("T2-T6", "no hours"),
        ("T8 7:00-9:00", "unknown day"),
        ("T6-T2 7:00-9:00", "backwards"),
        ("T2 9:00-8:00", "closes before it opens"),
        ("T2 7h-9h", "cannot read"),
        ("T2 25:00-26:00", "no such time"),
        ("sáng thứ Hai", "unknown day"),
    ],
)
def test_unreadable_hours_are_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(OpeningHoursError, match=reason):
        parse(text)


def test_no_hours_means_no_fixed_hours_and_old_free_text_is_not_guessed() -> None:
    assert not parse("").fixed
    assert parse("").is_open(at(29, 3), TZ) and parse("").next_opening(at(29, 3), TZ) is None
    assert not read("Giờ hành chính").fixed  # stored before hours were read: shown as written, not interpreted


def test_written_back_in_vietnamese_and_english() -> None:
    catalogs = Catalogs(LOCALES)
    hours = parse(OFFICE)
    assert hours.describe(catalogs.translator("vi")) == "T2–T6 07:30–11:30, 13:30–17:00; T7 08:00–11:00"
    assert hours.describe(catalogs.translator("en")) == "Mon–Fri 07:30–11:30, 13:30–17:00; Sat 08:00–11:00"
    assert parse("T2,T4 8:00-9:00").describe(catalogs.translator("vi")) == "T2 08:00–09:00; T4 08:00–09:00"
