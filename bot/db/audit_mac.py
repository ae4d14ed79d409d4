"""The keyed hashes that make the audit log tamper-evident; pure functions shared by the repository and migration.

Each entry carries an *entry MAC* over its own canonical content, computed when it is written (no coordination
between writers: a row written without the key fails it). A sealer later gives committed entries a sequence number
and a *chain hash* linking each to the one before, so a deleted, reordered or altered sealed entry breaks the chain.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
"""The chain hash "before" the first sealed entry."""


def canonical(
    *,
    at: datetime,
    actor_type: str,
    actor_id: int | None,
    action: str,
    subject_type: str | None,
    subject_id: int | None,
    outcome: str,
    detail: dict[str, Any] | None,
) -> bytes:
    """One byte string per entry, stable across databases: UTC time to the microsecond, sorted ASCII JSON."""
    fields = [
        "v1",
        at.astimezone(UTC).isoformat(timespec="microseconds"),
        actor_type,
        actor_id,
        action,
        subject_type,
        subject_id,
        outcome,
        detail or {},
    ]
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def entry_mac(key: bytes, content: bytes) -> str:
    return hmac.new(key, b"entry|" + content, hashlib.sha256).hexdigest()


def chain_link(key: bytes, previous: str, mac: str, seq: int, row_id: int) -> str:
    """The chain hash of entry `seq`: binds it to the previous link, its own content and its row id."""
    return hmac.new(key, f"chain|{previous}|{mac}|{seq}|{row_id}".encode("ascii"), hashlib.sha256).hexdigest()


def same(a: str | None, b: str) -> bool:
    """Constant-time comparison that tolerates a missing or non-ASCII stored value (someone edited the row)."""
    if a is None:
        return False
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
