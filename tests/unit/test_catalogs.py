"""Every user-facing string is in both catalogs; Vietnamese is complete, not fuzzy, and keeps its placeholders."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import polib
import pytest

from bot.core.i18n import Catalogs, normalize_language
from bot.domain.reports.texts import STAFF_VIEW_MSGIDS as REPORT_MSGIDS
from bot.flows.caseload import STAFF_VIEW_MSGIDS
from bot.flows.checkin import EXPLICIT_VIEW_MSGIDS
from bot.flows.checkin.pushed import EXPLICIT_MSGIDS
from bot.web.console.admin import STAFF_VIEW_MSGIDS as ADMIN_VIEW_MSGIDS
from tests.support.texts import REVEALING_IN_CATALOGS as REVEALING

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ROOT / "locales"
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def _catalog(lang: str) -> polib.POFile:
    return polib.pofile(str(LOCALES / lang / "LC_MESSAGES" / "messages.po"))


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run(
        [
            str(pybabel),
            "-q",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_",
            "-k",
            "N_",
            "-k",
            "n_:1,2",
            "-o",
            str(pot),
            "bot",
        ],
        check=True,
        cwd=ROOT,
    )
    return {entry.msgid for entry in polib.pofile(str(pot))}


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_extracted_string_is_in_the_catalog(lang: str, extracted: set[str]) -> None:
    present = {entry.msgid for entry in _catalog(lang) if not entry.obsolete}
    missing = sorted(extracted - present)
    assert not missing, f"run scripts/i18n.py and translate: {missing}"


def test_vietnamese_is_complete_and_not_fuzzy() -> None:
    bad = [e.msgid for e in _catalog("vi") if not e.obsolete and (not e.translated() or "fuzzy" in e.flags)]
    assert not bad, f"untranslated or fuzzy Vietnamese entries: {bad}"


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_translations_keep_their_placeholders(lang: str) -> None:
    for entry in _catalog(lang):
        if entry.msgid_plural:
            for text in entry.msgstr_plural.values():
                assert set(PLACEHOLDER.findall(text)) <= set(PLACEHOLDER.findall(entry.msgid_plural)), entry.msgid
        elif entry.msgstr:
            assert set(PLACEHOLDER.findall(entry.msgstr)) == set(PLACEHOLDER.findall(entry.msgid)), entry.msgid


def test_vietnamese_has_diacritics() -> None:
    """A guard against text typed without tones: most Vietnamese sentences carry them."""
    entries = [e for e in _catalog("vi") if e.msgstr and len(e.msgstr) > 20]
    plain = [e.msgstr for e in entries if e.msgstr.isascii()]
    assert not plain, plain


def test_no_revealing_words_in_the_default_texts() -> None:
    """Only the texts a participant gets after choosing explicit wording may name what an appointment is for."""
    assert EXPLICIT_MSGIDS, "the explicit texts are listed in bot.flows.checkin.pushed"
    allowed = (
        EXPLICIT_MSGIDS | EXPLICIT_VIEW_MSGIDS | STAFF_VIEW_MSGIDS | ADMIN_VIEW_MSGIDS | REPORT_MSGIDS
    )  # fmt: skip
    for lang in ("vi", "en"):
        for entry in _catalog(lang):
            if entry.msgid in allowed:
                continue
            texts = [entry.msgstr, *entry.msgstr_plural.values()]
            for text in texts:
                lowered = text.lower()
                assert not any(word in lowered for word in REVEALING), f"{lang}: {text!r}"


def test_staff_view_texts_are_never_pushed() -> None:
    """The texts allowed to name tests for staff are replies to a tap; pushed notifications (every flow's
    `pushed.py`) use none."""
    pushed = sorted((ROOT / "bot" / "flows").glob("*/pushed.py"))
    assert pushed
    pushed_source = "\n".join(path.read_text("utf-8") for path in pushed)
    assert STAFF_VIEW_MSGIDS and not [m for m in STAFF_VIEW_MSGIDS if f'"{m}"' in pushed_source]
    assert REPORT_MSGIDS and not [m for m in REPORT_MSGIDS if f'"{m}"' in pushed_source]
    assert "bot.domain.reports" not in pushed_source and "bot.documents" not in pushed_source
    assert "caseload.STAFF_VIEW" not in pushed_source and "OUTCOME_NAMES" not in pushed_source


def test_translator_formats_and_falls_back() -> None:
    catalogs = Catalogs(LOCALES)
    vi = catalogs.translator("vi")
    assert vi._("Start date: {date}", date="15/01/2026") == "Ngày bắt đầu: 15/01/2026"
    assert vi.n_("Term: {n} month", "Term: {n} months", 24) == "Thời gian quản lý: 24 tháng"
    en = catalogs.translator("en-US")
    assert en.n_("Term: {n} month", "Term: {n} months", 1) == "Term: 1 month"
    assert catalogs.translator("fr").language == "vi"
    assert vi._("A string nobody translated") == "A string nobody translated"


@pytest.mark.parametrize(("hint", "lang"), [(None, "vi"), ("vi-VN", "vi"), ("EN_us", "en"), ("ja", "vi"), ("", "vi")])
def test_language_hints(hint: str | None, lang: str) -> None:
    assert normalize_language(hint) == lang


def test_po_is_compiled_in_memory_when_no_mo_exists(tmp_path: Path) -> None:
    target = tmp_path / "vi" / "LC_MESSAGES"
    target.mkdir(parents=True)
    (target / "messages.po").write_bytes((LOCALES / "vi" / "LC_MESSAGES" / "messages.po").read_bytes())
    assert Catalogs(tmp_path).translator("vi")._("Settings") == "Cài đặt"
