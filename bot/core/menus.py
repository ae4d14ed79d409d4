"""Choosing from a menu by typing, for channels without buttons (Zalo): "2", "２", " 2. " or the option's words."""

from __future__ import annotations

import re
import unicodedata

_NUMBER = re.compile(r"^\s*(\d{1,3})\s*[.)]?\s*$")


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def typed_choice(text: str, labels: list[str], numbers: bool = True) -> int | None:
    """The 1-based option the text names: a number (in range or not), or an option's label; None if neither."""
    folded = unicodedata.normalize("NFKC", text)
    number = _NUMBER.match(folded)
    if number and numbers:
        return int(number.group(1))
    wanted = _fold(text)
    for index, label in enumerate(labels, 1):
        if wanted and wanted == _fold(label):
            return index
    return None
