"""Core replies → Zalo texts: no buttons on Zalo, so choices become a numbered list to answer with a number (or, in a
conversation with a counsellor, where a number is an answer, a list of labels to type)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.channels.text import split_text
from bot.core.i18n import Catalogs
from bot.core.messages import OutboundMessage, TypedBy

MAX_TEXT = 2000


def render(replies: Sequence[OutboundMessage], catalogs: Catalogs) -> list[str]:
    """Texts to send, in order. Options are numbered across the replies, as the engine numbers its menu (those typed
    by name take no number)."""
    texts: list[str] = []
    number = 0
    for reply in replies:
        body = reply.text
        if reply.buttons and reply.typed_by is TypedBy.NAME:
            t = catalogs.translator(reply.language)
            lines = [f"▸ {button.label}" for button in reply.buttons]
            body = f"{body}\n\n" + "\n".join(lines) + "\n" + t._("Type one of these to choose it.")
        elif reply.buttons:
            t = catalogs.translator(reply.language)
            first = number + 1
            lines = []
            for button in reply.buttons:
                number += 1
                lines.append(f"{number}. {button.label}")
            hint = t._("Reply with a number from {first} to {last}.", first=first, last=number)
            if first == number:
                hint = t._("Reply {n} to choose it.", n=number)
            body = f"{body}\n\n" + "\n".join(lines) + f"\n{hint}"
        texts.extend(split_text(body, MAX_TEXT) or ["…"])
    return texts
