"""A Vietnamese mobile number as people type it, made one form, and shown so a messenger makes it tappable.

Mobile numbers in Vietnam have 10 digits since 2018: 0 and a network prefix (03, 05, 07, 08, 09) and eight more; written
internationally +84 without the 0. People type them with spaces, dots or dashes, with "+84" or "84", sometimes
"+84 (0)…", from a keyboard that may give full-width digits. Landlines (02x, 11 digits) and the old 11-digit mobiles
are not numbers a person gives for a call back, so they are refused: a wrong number is worse than none.
"""

from __future__ import annotations

import re
import unicodedata

from bot.domain.hotlines import tappable

# Spaces, dots, dashes, slashes and brackets are how people group digits; nothing else is ignored.
_GROUPING = re.compile(r"[\s.\-/()]")
_MOBILE = re.compile(r"0[35789]\d{8}")
_LONGEST_TYPED = 32  # a number with generous grouping; anything longer is not a phone number


def mobile(text: str) -> str | None:
    """The number as 0xxxxxxxxx (ten digits), or None when the text is not a Vietnamese mobile number."""
    if len(text) > _LONGEST_TYPED:
        return None
    compact = _GROUPING.sub("", unicodedata.normalize("NFKC", text))
    for international in ("+840", "+84", "00840", "0084", "840", "84"):
        if compact.startswith(international) and len(compact) - len(international) == 9:
            compact = "0" + compact[len(international) :]
            break
    if not compact.isascii() or not _MOBILE.fullmatch(compact):
        return None
    return compact


def shown(phone: str) -> str:
    """ "0912345678" → "0912 345 678 (+84 91 234 5678)": grouped as people say it, and tappable on Telegram. A stored
    number that is not a mobile (written into the register some other way) is shown as it was written."""
    number = mobile(phone)
    if number is None:
        return phone
    return tappable(f"{number[:4]} {number[4:7]} {number[7:]}")
