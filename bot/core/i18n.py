"""Gettext catalogs with an explicit language per call: no global locale, no request-local magic."""

from __future__ import annotations

import gettext
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

SUPPORTED_LANGUAGES: tuple[str, ...] = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
DOMAIN = "messages"


def N_(message: str) -> str:
    """Mark a string for extraction where it is defined; translate it where it is shown."""
    return message


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

    def _(self, message: str, **params: object) -> str:
        text = self._catalog.gettext(message)
        return text.format(**params) if params else text

    def n_(self, singular: str, plural: str, n: int, **params: object) -> str:
        return self._catalog.ngettext(singular, plural, n).format(n=n, **params)

    def date(self, value: date) -> str:
        """Dates as people write them here: 12/12/2026 in Vietnamese, 12 Dec 2026 in English."""
        if self.language == "vi":
            return value.strftime("%d/%m/%Y")
        return f"{value.day} {value.strftime('%b %Y')}"


class Catalogs:
    """Loads each language once; prefers compiled .mo files, compiles a newer .po in memory."""

    def __init__(self, locales_dir: Path) -> None:
        self._dir = locales_dir
        self._cache: dict[str, Translator] = {}

    def translator(self, language: str | None) -> Translator:
        lang = normalize_language(language)
        if lang not in self._cache:
            self._cache[lang] = Translator(lang, self._load(lang))
        return self._cache[lang]

    def _load(self, lang: str) -> gettext.NullTranslations:
        base = self._dir / lang / "LC_MESSAGES"
        po, mo = base / f"{DOMAIN}.po", base / f"{DOMAIN}.mo"
        if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
            with mo.open("rb") as handle:
                return gettext.GNUTranslations(handle)
        if po.exists():
            with po.open("rb") as handle:
                catalog = read_po(handle, locale=lang)
            buffer = io.BytesIO()
            write_mo(buffer, catalog)
            buffer.seek(0)
            return gettext.GNUTranslations(buffer)
        return gettext.NullTranslations()


def default_locales_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "locales"
