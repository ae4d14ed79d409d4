"""The hotline directory: numbers to call, in the person's language, written so messengers make them tappable.

Data, not code (bot/data/hotlines.json, or the operator's file): numbers and hours change. Telegram's inline buttons
cannot hold `tel:` links (Bot API: a button URL is HTTP or tg:// only), so numbers go in the message text, where
Telegram marks phone numbers as tappable (entity "phone_number", written internationally: +84…) and Zalo links them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Hotline:
    number: str
    name: dict[str, str]
    hours: dict[str, str]
    crisis: bool  # also in the crisis reply

    def line(self, language: str) -> str:
        name = self.name.get(language) or self.name.get("vi", "")
        hours = self.hours.get(language) or self.hours.get("vi", "")
        return f"☎ {tappable(self.number)} — {name}" + (f" ({hours})" if hours else "")


def tappable(number: str) -> str:
    """ "096 306 1414" → "096 306 1414 (+84 96 306 1414)": the local form people know, and the international form
    Telegram recognises as a phone number. Short service numbers (115) stay as they are."""
    digits = re.sub(r"\D", "", number)
    if len(digits) >= 9 and digits.startswith("0"):
        rest = digits[1:]
        return f"{number} (+84 {rest[:2]} {rest[2:5]} {rest[5:]})"
    return number


def parse_hotlines(text: str) -> tuple[Hotline, ...]:
    data = json.loads(text)
    lines = tuple(
        Hotline(str(h["number"]), dict(h["name"]), dict(h.get("hours", {})), bool(h.get("crisis", False)))
        for h in data["hotlines"]
    )
    if not lines:
        raise ValueError("the hotline directory is empty")
    return lines
