"""Core replies → Telegram message parts: NFC text within the length limit, inline keyboards."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.channels import text
from bot.channels.text import utf16_len

MAX_TEXT = 4096  # Telegram counts UTF-16 code units

__all__ = ["MAX_TEXT", "keyboard", "split_text", "utf16_len"]


def split_text(value: str, limit: int = MAX_TEXT) -> list[str]:
    return text.split_text(value, limit, utf16_len)


def keyboard(labels: list[str], refs: list[str]) -> InlineKeyboardMarkup | None:
    """One button per row: Vietnamese labels are long and thumbs are wide."""
    if not labels:
        return None
    rows = [[InlineKeyboardButton(text=label[:64], callback_data=ref)] for label, ref in zip(labels, refs, strict=True)]
    return InlineKeyboardMarkup(inline_keyboard=rows)
