"""Choosing from a menu by typing, for channels without buttons (Zalo): "2", "２", " 2. " or the option's words."""

from __future__ import annotations

import re
import unicodedata

_NUMBER = re.compile(r"^\s*(\d{1,3})\s*[.)]?\s*$")


BY_NAME = "▸ "  # marks, in a chat's stored labels, a choice that is typed by name (a number there is an answer)


def _fold(text: str) -> str:
    """Case, accents and spacing do not matter: "ket thuc tro chuyen" names "Kết thúc trò chuyện"."""
    decomposed = unicodedata.normalize("NFKD", text.removeprefix(BY_NAME).casefold().replace("đ", "d"))
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).split())


def numbers_answer(labels: list[str]) -> bool:
    """The latest choices shown are typed by name: a typed number is words for the other side of a conversation."""
    return bool(labels) and labels[0].startswith(BY_NAME)


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
