"""Splitting long replies for platforms with a message length limit, at line breaks where possible."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

Measure = Callable[[str], int]
_SURROGATE = re.compile("[\ud800-\udfff]")


def utf16_len(text: str) -> int:
    """Telegram counts UTF-16 code units (an emoji is two)."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int, measure: Measure = len) -> list[str]:
    """NFC, then pieces of at most `limit` (as `measure` counts), cut at line breaks, else at spaces, else anywhere."""
    text = unicodedata.normalize("NFC", text)
    if measure(text) <= limit:
        return [text] if text else []
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if measure(candidate) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        current = ""
        while measure(line) > limit:
            cut = _cut(line, limit, measure)
            parts.append(line[:cut].rstrip())
            line = line[cut:].lstrip()
        current = line
    if current:
        parts.append(current)
    return parts


def _cut(line: str, limit: int, measure: Measure) -> int:
    end = 0
    units = 0
    for index, char in enumerate(line):
        units += measure(char)
        if units > limit:
            break
        end = index + 1
    space = line.rfind(" ", 0, end)
    return space if space > end // 2 else end


# What a mapping keeps of a message's text: far more than the engine ever reads (4 × max_text_length, 16,000
# characters), so a longer message is still answered "too long", while nothing after the mapping holds more.
MAX_TEXT = 64 * 1024


def well_formed(value: str, limit: int = MAX_TEXT) -> str:
    """At most `limit` characters, lone surrogates (valid JSON "\\ud800", not Unicode) as U+FFFD, so the text can be
    encoded, stored and sent. Linear in the length and nothing more: no normalisation here, since NFC of a long run
    of combining marks is quadratic (100,000 alternating marks: seconds). The engine's `clean_text` composes (NFC) a
    bounded start of the text after cutting such runs; whatever matches or stores text reads it from there."""
    value = value[:limit]
    if _SURROGATE.search(value):
        value = value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return value
