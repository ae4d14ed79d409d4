"""Gettext catalogs with an explicit language per call: no global locale, no request-local magic.

Each translator is also made for one audience. Participants are addressed "bạn" and the bot calls itself "mình";
staff are addressed "anh/chị". A prompt both see (a sticker, an empty message, an unknown command…) is one msgid in
the code; its plain translation speaks to a participant, and its staff variant is the same msgid under msgctxt
"staff" (listed in `bot.core.staff_words`). A staff translator looks the staff variant up first and falls back to
the plain entry, so only the prompts that need a second wording have one.
"""

from __future__ import annotations

import functools
import gettext
import io
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

SUPPORTED_LANGUAGES: tuple[str, ...] = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
DOMAIN = "messages"


class Audience(StrEnum):
    """Who reads a text: its value is the msgctxt of that audience's variants (participants need none)."""

    PARTICIPANT = "participant"
    STAFF = "staff"


def N_(message: str) -> str:
    """Mark a string for extraction where it is defined; translate it where it is shown."""
    return message


# A purged staff member's stored name (bot/services/retention.py): whatever text names them shows it translated.
FORMER_STAFF = N_("Former staff member")


def normalize_language(code: str | None) -> str:
    """Map a platform language hint (e.g. 'en-US') to a supported language, Vietnamese by default."""
    if code:
        base = code.strip().lower().replace("_", "-").split("-")[0]
        if base in SUPPORTED_LANGUAGES:
            return base
    return DEFAULT_LANGUAGE


@dataclass(frozen=True, slots=True)
class Translator:
    language: str
    _catalog: gettext.NullTranslations
    audience: Audience = Audience.PARTICIPANT

    def _(self, message: str, **params: object) -> str:
        text = self._gettext(message)
        return text.format(**self._named(params)) if params else text

    def n_(self, singular: str, plural: str, n: int, **params: object) -> str:
        return self._ngettext(singular, plural, n).format(n=n, **self._named(params))

    def _named(self, params: dict[str, object]) -> dict[str, object]:
        """A purged staff member's placeholder name, put into a text, in this text's language."""
        if FORMER_STAFF not in params.values():
            return params
        return {k: self._gettext(FORMER_STAFF) if v == FORMER_STAFF else v for k, v in params.items()}

    def date(self, value: date) -> str:
        """Dates as people write them here: 12/12/2026 in Vietnamese, 12 Dec 2026 in English."""
        if self.language == "vi":
            return value.strftime("%d/%m/%Y")
        return f"{value.day} {value.strftime('%b %Y')}"

    def _gettext(self, message: str) -> str:
        # gettext answers a missing entry with the msgid itself; a variant translated as its msgid (English) is the
        # same text as the plain entry's, so falling back then changes nothing.
        if self.audience is not Audience.PARTICIPANT:
            variant = self._catalog.pgettext(self.audience.value, message)
            if variant != message:
                return variant
        return self._catalog.gettext(message)

    def _ngettext(self, singular: str, plural: str, n: int) -> str:
        if self.audience is not Audience.PARTICIPANT:
            variant = self._catalog.npgettext(self.audience.value, singular, plural, n)
            if variant not in (singular, plural):
                return variant
        return self._catalog.ngettext(singular, plural, n)


class Catalogs:
    """Loads each language once; prefers compiled .mo files, compiles a newer .po in memory."""

    def __init__(self, locales_dir: Path) -> None:
        self._dir = locales_dir
        self._loaded: dict[str, gettext.NullTranslations] = {}
        self._cache: dict[tuple[str, Audience], Translator] = {}

    def translator(self, language: str | None, audience: Audience | str = Audience.PARTICIPANT) -> Translator:
        """The translator for this language and reader: `Audience.STAFF` for a staff member's chat (anh/chị)."""
        lang, reader = normalize_language(language), Audience(audience)
        key = (lang, reader)
        if key not in self._cache:
            if lang not in self._loaded:
                self._loaded[lang] = self._load(lang)
            self._cache[key] = Translator(lang, self._loaded[lang], reader)
        return self._cache[key]

    def _load(self, lang: str) -> gettext.NullTranslations:
        base = self._dir / lang / "LC_MESSAGES"
        po, mo = base / f"{DOMAIN}.po", base / f"{DOMAIN}.mo"
        if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
            with mo.open("rb") as handle:
                return gettext.GNUTranslations(handle)
        if po.exists():
            stat = po.stat()
            return gettext.GNUTranslations(io.BytesIO(_compiled(po, lang, stat.st_mtime_ns, stat.st_size)))
        return gettext.NullTranslations()


@functools.lru_cache(maxsize=8)
def _compiled(po: Path, lang: str, _mtime_ns: int, _size: int) -> bytes:
    """A .po file compiled in memory, once per process for each version of the file (reading a catalog of a thousand
    entries takes a tenth of a second; every Application, and every test, builds its own Catalogs)."""
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


def default_locales_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "locales"
