"""Staff get "anh/chị", participants "bạn": a staff translator prefers a shared prompt's msgctxt "staff" variant."""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest

from bot.core.i18n import Audience, Catalogs
from bot.core.staff_words import STAFF_VARIANTS

LOCALES = Path(__file__).resolve().parents[2] / "locales"
NOT_UNDERSTOOD = "Sorry, I didn't understand. Please choose one of the options."
TOO_LONG = "That message is too long for me (more than {limit} characters). Please send a shorter one."
# "bạn" and the bot's "mình" as words (not inside another word); staff are "anh/chị".
PARTICIPANT_WORDS = re.compile(r"(?<![^\W\d_])(bạn|mình)(?![^\W\d_])", re.IGNORECASE)


def _catalog(lang: str) -> polib.POFile:
    return polib.pofile(str(LOCALES / lang / "LC_MESSAGES" / "messages.po"))


@pytest.fixture(scope="module")
def catalogs() -> Catalogs:
    return Catalogs(LOCALES)


def test_staff_get_anh_chi_and_participants_ban(catalogs: Catalogs) -> None:
    staff = catalogs.translator("vi", audience=Audience.STAFF)
    participant = catalogs.translator("vi")
    assert staff._(NOT_UNDERSTOOD) == "Xin lỗi, trợ lý chưa hiểu ý anh/chị. Anh/chị vui lòng chọn một mục bên dưới."
    assert participant._(NOT_UNDERSTOOD) == "Xin lỗi, mình chưa hiểu ý bạn. Bạn hãy chọn một mục bên dưới nhé."
    assert staff._(TOO_LONG, limit=4000) == "Tin nhắn này quá dài (hơn 4000 ký tự). Anh/chị vui lòng gửi ngắn gọn hơn."
    said = participant._(TOO_LONG, limit=4000)
    assert said == "Tin nhắn này quá dài (hơn 4000 ký tự). Bạn vui lòng gửi ngắn gọn hơn nhé."
    assert (staff.audience, participant.audience) == (Audience.STAFF, Audience.PARTICIPANT)


def test_staff_fall_back_to_the_plain_entry(catalogs: Catalogs) -> None:
    """Only shared prompts have a staff variant; every other text is the same for a staff translator."""
    staff = catalogs.translator("vi", audience="staff")
    assert staff is catalogs.translator("vi-VN", audience=Audience.STAFF)
    assert staff._("Settings") == "Cài đặt"
    assert staff._("Staff menu. What would you like to do?") == "Menu cán bộ. Anh/chị muốn làm gì?"
    assert staff.n_("Term: {n} month", "Term: {n} months", 24) == "Thời gian quản lý: 24 tháng"
    assert staff._("A string nobody translated") == "A string nobody translated"
    english = catalogs.translator("en", audience=Audience.STAFF)
    assert english._(NOT_UNDERSTOOD) == NOT_UNDERSTOOD
    assert english._(TOO_LONG, limit=10) == TOO_LONG.format(limit=10)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_staff_variant_has_a_plain_entry(lang: str) -> None:
    entries = [e for e in _catalog(lang) if not e.obsolete]
    plain = {e.msgid for e in entries if not e.msgctxt}
    staff = {e.msgid for e in entries if e.msgctxt == "staff"}
    assert {e.msgctxt for e in entries} <= {None, "staff"}
    assert staff == set(STAFF_VARIANTS), "run scripts/i18n.py after changing bot/core/staff_words.py"
    assert staff <= plain, sorted(staff - plain)


def test_staff_variants_say_anh_chi_never_ban_or_minh() -> None:
    for entry in _catalog("vi"):
        if entry.msgctxt == "staff":
            assert "anh/chị" in entry.msgstr.lower(), entry.msgid
            assert not PARTICIPANT_WORDS.search(entry.msgstr), entry.msgstr


def test_the_glossary_is_in_every_catalog_header() -> None:
    """scripts/i18n.py writes locales/GLOSSARY.md into the header comment, so a regeneration keeps it."""
    glossary = [line.rstrip() for line in (LOCALES / "GLOSSARY.md").read_text("utf-8").splitlines() if line.strip()]
    for path in (LOCALES / "messages.pot", *(LOCALES / lang / "LC_MESSAGES" / "messages.po" for lang in ("vi", "en"))):
        header = polib.pofile(str(path)).header.splitlines()
        missing = [line for line in glossary if line not in header]
        assert not missing, f"{path.name}: run scripts/i18n.py ({missing[:3]})"
