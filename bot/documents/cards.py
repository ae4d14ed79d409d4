"""Invite cards: A4 sheets of eight cards (2 × 4) with cut lines, one per person, to hand over in person.

A card may lie on a table at home or be seen in a wallet, so it says nothing about what the product is for: the
product's name "Đồng Hành", the person's name, a "connection code" and how to use it. No word of drugs, tests,
rehabilitation, the police or aftercare (the unit test reads every card's text for them). It carries the code to
type in Zalo and, when Telegram is configured, a QR code of the bot's deep link (t.me/<bot>?start=<code>), which
opens the chat with the code already in it. Texts are in the person's own language (participant wording, "bạn").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

import segno

from bot.core.i18n import Translator
from bot.documents import render

PER_PAGE = 8  # 2 columns × 4 rows of 105 × 74.25 mm: an A4 sheet cut in eight
PRODUCT = "Đồng Hành"


@dataclass(frozen=True, slots=True)
class InviteCard:
    name: str
    code: str  # as people read it: ABCDE-FGHJK
    expires_at: datetime
    link: str | None  # the Telegram deep link; None when Telegram is not configured (no QR code then)
    t: Translator  # the person's language, participant wording


def pages_for(cards: int) -> int:
    return -(-cards // PER_PAGE)


def qr_data_uri(link: str) -> str:
    """A PNG data URI (inline, so the renderer fetches nothing and a test can read it back out of the PDF). Medium
    error correction survives a fold or a thumbprint; the four-module quiet zone is what phone cameras need."""
    return segno.make(link, error="m", mask=0).png_data_uri(scale=4, border=4)


def _texts(card: InviteCard, zone: tzinfo) -> dict[str, object]:
    t = card.t
    local = card.expires_at.astimezone(zone)
    if card.link:
        steps = [
            t._("Telegram: scan the QR code with your phone's camera, then press Start."),
            t._("Zalo: send the code above to Đồng Hành in a message."),
        ]
    else:
        steps = [
            t._("Open Zalo and find Đồng Hành."),
            t._("Send the code above to Đồng Hành in a message."),
        ]
    steps.append(t._("The code works once. Please keep this card to yourself."))
    return {
        "lang": t.language,
        "name": card.name,
        "label": t._("Connection code"),
        "code": card.code,
        "until": t._("Valid until {time} on {date}", time=f"{local:%H:%M}", date=t.date(local.date())),
        "qr": qr_data_uri(card.link) if card.link else None,
        "qr_label": t._("QR code to open Đồng Hành on Telegram"),
        "steps": steps,
    }


def render_cards(cards: Sequence[InviteCard], zone: tzinfo) -> render.Rendered:
    """One PDF of ⌈n/8⌉ A4 pages; cut along the dashed lines."""
    if not cards:
        raise ValueError("no cards to print")
    filled = [_texts(card, zone) for card in cards]
    sheets = [filled[i : i + PER_PAGE] for i in range(0, len(filled), PER_PAGE)]
    return render.pdf(render.html("cards.html", sheets=sheets, product=PRODUCT), title=PRODUCT)
