"""A purged staff member's stored placeholder name reads in the reader's language wherever a text names them."""

from __future__ import annotations

from pathlib import Path

from bot.core.i18n import FORMER_STAFF, Audience, Catalogs

LOCALES = Path(__file__).resolve().parents[2] / "locales"


def test_the_placeholder_name_is_translated_inside_any_text() -> None:
    catalogs = Catalogs(LOCALES)
    vi = catalogs.translator("vi")
    assert vi._("Cadre accompanying you: {name}", name=FORMER_STAFF).endswith("Cán bộ đã nghỉ")
    staff = catalogs.translator("en", Audience.STAFF)
    assert staff._("Cadre accompanying you: {name}", name=FORMER_STAFF).endswith("Former staff member")
    assert vi._("Cadre accompanying you: {name}", name="Trần Thị Bình").endswith("Trần Thị Bình")  # a name as it is
