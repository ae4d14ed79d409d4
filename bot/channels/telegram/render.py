"""Core replies → Telegram message parts: NFC text within the length limit, inline keyboards."""

from __future__ import annotations

import unicodedata

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

MAX_TEXT = 4096  # Telegram counts UTF-16 code units


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """NFC, then pieces of at most `limit` UTF-16 units, cut at line breaks, else at spaces, else anywhere."""
    text = unicodedata.normalize("NFC", text)
    if utf16_len(text) <= limit:
        return [text] if text else []
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if utf16_len(candidate) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        current = ""
        while utf16_len(line) > limit:
            cut = _cut(line, limit)
            parts.append(line[:cut].rstrip())
            line = line[cut:].lstrip()
        current = line
    if current:
        parts.append(current)
    return parts


def _cut(line: str, limit: int) -> int:
    end = 0
    units = 0
    for index, char in enumerate(line):
        units += utf16_len(char)
        if units > limit:
            break
        end = index + 1
    space = line.rfind(" ", 0, end)
    return space if space > end // 2 else end


def keyboard(labels: list[str], tokens: list[str]) -> InlineKeyboardMarkup | None:
    """One button per row: Vietnamese labels are long and thumbs are wide."""
    if not labels:
        return None
    rows = [
        [InlineKeyboardButton(text=label[:64], callback_data=token)]
        for label, token in zip(labels, tokens, strict=True)
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows)
