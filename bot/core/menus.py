"""Choosing by typing, for channels without buttons (Zalo): "2", "２", " 2. " or the option's words.

Only the engine applies these rules, and only to the channels it is told type their choices (configuration, see
`bot.app`); the Zalo renderer lists the choices in the same order. Nothing here is stored inside a label.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.messages import Button, OutboundMessage, TypedBy

_NUMBER = re.compile(r"^\s*(\d{1,3})\s*[.)]?\s*$")
# How the Zalo renderer lists a choice typed by name: a person who copies the whole line still names the option.
_LISTED = "▸ "


@dataclass(frozen=True, slots=True)
class Choice:
    """One choice a chat was offered, kept with its conversation state: pressing it is valid, and on a channel
    without buttons it is chosen by typing its number (its place in the chat's choices) or its label."""

    action: str
    label: str
    typed_by: TypedBy = TypedBy.NUMBER


def shown(replies: Sequence[OutboundMessage]) -> list[Choice]:
    """The choices of one turn's replies, in the order a channel without buttons numbers them: those typed by number
    first, in reply order, then those typed by name (they take no number)."""
    numbered = [reply for reply in replies if reply.typed_by is not TypedBy.NAME]
    ordered = numbered + [reply for reply in replies if reply.typed_by is TypedBy.NAME]
    return [Choice(b.action, b.label, reply.typed_by) for reply in ordered for b in reply.buttons]


def pushed(earlier: Sequence[Choice], buttons: Sequence[Button], typed_by: TypedBy, limit: int) -> list[Choice]:
    """The choices of a chat after a pushed message offered `buttons` (at most `limit` kept).

    The new ones go first (a typed "1" means the latest message's first option); the earlier ones stay valid, since
    on a channel with buttons the earlier message's buttons are still on screen. Choices typed by name go last: the
    numbers of the question the person is answering keep their meaning when a message of a conversation arrives in
    the middle of it."""
    new = [Choice(b.action, b.label, typed_by) for b in buttons]
    actions = {choice.action for choice in new}
    kept = [choice for choice in earlier if choice.action not in actions]
    ordered = kept[: limit - len(new)] + new if typed_by is TypedBy.NAME else new + kept
    return ordered[:limit]


def numbers_answer(choices: Sequence[Choice]) -> bool:
    """The latest choices shown are typed by name: a typed number is words for the other side of a conversation."""
    return bool(choices) and choices[0].typed_by is TypedBy.NAME


def chosen(text: str, choices: Sequence[Choice]) -> int | None:
    """The 1-based choice the text names: a number (in range or not) unless numbers are answers, or a label."""
    return typed_choice(text, [choice.label for choice in choices], numbers=not numbers_answer(choices))


def _fold(text: str) -> str:
    """Case, accents and spacing do not matter: "ket thuc tro chuyen" names "Kết thúc trò chuyện"."""
    decomposed = unicodedata.normalize("NFKD", text.removeprefix(_LISTED).casefold().replace("đ", "d"))
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).split())


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
