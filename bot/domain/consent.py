"""Consent per purpose (Law 91/2025/QH15): asked separately, recorded with the text version, withdrawable."""

from __future__ import annotations

from enum import StrEnum

# Bump when the wording shown to participants changes, so each record says what the person agreed to.
CONSENT_TEXT_VERSION = "2026-11.1"


class Purpose(StrEnum):
    REMINDERS = "reminders"
    SHARE_WITH_CADRE = "share_with_cadre"
    REFERRALS = "referrals"


# Order in which they are asked at linking. Reminders are the reason the bot exists: without them, no chat.
PURPOSE_ORDER: tuple[Purpose, ...] = (Purpose.REMINDERS, Purpose.SHARE_WITH_CADRE, Purpose.REFERRALS)
REQUIRED_PURPOSES: frozenset[Purpose] = frozenset({Purpose.REMINDERS})
