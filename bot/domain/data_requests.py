"""A person's requests about their own data (Law 91/2025/QH15, Decree 356/2025): what they may ask, what becomes of a
request, and the one-time download links by which a copy reaches a chat that cannot take a file. Pure rules."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from enum import StrEnum

from bot.core.i18n import N_

# A correction is a few sentences saying what is wrong; anything longer is refused with a polite word.
MAX_CORRECTION = 1000


class RequestKind(StrEnum):
    COPY = "copy"  # a copy of my data, delivered in the chat (a PDF and the JSON)
    CORRECTION = "correction"  # something on my record is wrong


class RequestStatus(StrEnum):
    PENDING = "pending"  # waiting for the commune's officer
    APPROVED = "approved"  # a copy: approved, the copy is queued for the chat
    DONE = "done"  # a correction: the officer corrected the record
    DECLINED = "declined"


OPEN = RequestStatus.PENDING

# Why an officer may decline, in words the person reads (kindly): a short list, never free text to the person.
DECLINE_REASONS: dict[str, str] = {
    "identity": N_("We could not be sure the request came from you. Please talk to your commune's officer in person."),
    "duplicate": N_("A copy was sent to you recently. Please ask again later if you still need one."),
    "no_change": N_("We checked your record and found it already correct."),
    "in_person": N_("This needs to be done in person. Please visit your commune's People's Committee."),
}
# Which reasons fit which kind of request (the console offers only these).
REASONS_FOR: dict[RequestKind, tuple[str, ...]] = {
    RequestKind.COPY: ("identity", "duplicate", "in_person"),
    RequestKind.CORRECTION: ("identity", "no_change", "in_person"),
}


def deadline(requested_at: datetime, days: int) -> datetime:
    """When the officer must have decided (AFTERCARE_DATA_REQUEST_DAYS after the request)."""
    return requested_at + timedelta(days=days)


def overdue(due_at: datetime, now: datetime) -> bool:
    return now > due_at


def new_link_token() -> str:
    """A download link's secret: 32 random bytes, URL-safe. Only its hash is kept."""
    return secrets.token_urlsafe(32)


def link_hash(token: str) -> str:
    """What the database keeps of a link's token: its SHA-256 (the token has 256 bits of entropy, so a plain hash
    suffices, and a key rotation never invalidates a link)."""
    return hashlib.sha256(token.encode()).hexdigest()


def well_formed_token(token: str) -> bool:
    """A token as `new_link_token` makes them (43 URL-safe characters); anything else is refused before a query."""
    return len(token) == 43 and all(c.isascii() and (c.isalnum() or c in "-_") for c in token)
