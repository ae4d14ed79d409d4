"""One-time invite codes: unambiguous, typed by hand on a cheap phone, stored only as a keyed hash."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

# No 0/O, 1/I/L, 5/S or 2/Z: people copy these from paper and read them out over the phone.
ALPHABET = "ABCDEFGHJKMNPQRTUVWXY346789"
CODE_LENGTH = 10
_SEPARATORS = re.compile(r"[\s\-_.]+")
_CANDIDATE = re.compile(rf"^[A-Z0-9]{{{CODE_LENGTH - 2},{CODE_LENGTH + 6}}}$")


@dataclass(frozen=True, slots=True)
class InvitePolicy:
    ttl: timedelta = timedelta(days=14)

    def expires_at(self, issued_at: datetime) -> datetime:
        return issued_at + self.ttl


def generate_code() -> str:
    """About 47 bits from the OS CSPRNG; with the guess rate limit, guessing is hopeless."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def format_code(code: str) -> str:
    """Group for reading aloud: ABCDE-FGHJK."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def normalize_code(text: str) -> str | None:
    """Return the code a person meant to type, or None when the text is not code-shaped.

    Case, spaces, dashes and full-width characters (some Vietnamese keyboards) are ignored.
    """
    folded = unicodedata.normalize("NFKC", text).strip().upper()
    compact = _SEPARATORS.sub("", folded)
    if not _CANDIDATE.match(compact):
        return None
    return compact


def hash_code(key: bytes, code: str) -> str:
    """Keyed, so a stolen database alone cannot be used to brute-force outstanding codes."""
    return hmac.new(key, code.encode("ascii"), hashlib.sha256).hexdigest()
