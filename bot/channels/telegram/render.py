"""Core replies → Telegram message parts: NFC text within the length limit, inline keyboards."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.channels import text
from bot.channels.text import utf16_len
from bot.core.messages import OutboundMessage

MAX_TEXT = 4096  # Telegram counts UTF-16 code units

__all__ = ["MAX_TEXT", "Part", "keyboard", "render", "split_text", "utf16_len"]


@dataclass(frozen=True, slots=True)
class Part:
    """One Telegram message: a piece of a reply's text, and the reply's keyboard under its last piece; `no_preview`:
    Telegram is told to show no link preview (every piece of a reply that asks for none)."""

    text: str
    markup: InlineKeyboardMarkup | None = None
    no_preview: bool = False


def render(replies: Sequence[OutboundMessage], ref: Callable[[str], str]) -> list[Part]:
    """Messages to send, in order. `ref(action)` is the opaque reference a button carries (valid only in this chat):
    the action itself never reaches Telegram."""
    parts: list[Part] = []
    for reply in replies:
        pieces = split_text(reply.text) or ["…"]
        markup = keyboard([b.label for b in reply.buttons], [ref(action) for action in reply.actions])
        parts += [Part(piece, no_preview=reply.no_preview) for piece in pieces[:-1]]
        parts.append(Part(pieces[-1], markup, reply.no_preview))
    return parts


def split_text(value: str, limit: int = MAX_TEXT) -> list[str]:
    return text.split_text(value, limit, utf16_len)


def keyboard(labels: list[str], refs: list[str]) -> InlineKeyboardMarkup | None:
    """One button per row: Vietnamese labels are long and thumbs are wide."""
    if not labels:
        return None
    rows = [[InlineKeyboardButton(text=label[:64], callback_data=ref)] for label, ref in zip(labels, refs, strict=True)]
    return InlineKeyboardMarkup(inline_keyboard=rows)
