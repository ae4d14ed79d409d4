"""The keyed hashes that make the audit log tamper-evident; pure functions shared by the repository and migration.

Each entry carries an *entry MAC* over its own canonical content, computed when it is written (no coordination
between writers: a row written without the key fails it). A sealer later gives committed entries a sequence number
and a *chain hash* linking each to the one before, so a deleted, reordered or altered sealed entry breaks the chain.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
"""The chain hash "before" the first sealed entry."""

REJECTED = "rejected"
"""Put in the `chain` column of an unsealed entry the sealer refused (no valid MAC): never a hex link, so it can
never pass for one, and the sealer's search for work skips the entry instead of re-reading it every tick."""


def plain_detail(detail: dict[Any, Any] | None) -> dict[str, Any]:
    """What `record` stores *and* MACs: plain JSON that both databases give back unchanged, so an entry's MAC holds
    forever. Keys become strings (as `json.dumps` spells them), tuples and sets lists, non-finite floats, datetimes
    and anything else not JSON their `str()`, lone surrogates U+FFFD; ordinary JSON passes through unchanged."""
    return {_key(k): _plain(v) for k, v in (detail or {}).items()}


def _text(value: str) -> str:
    """A plain `str` (not a subclass) that encodes as UTF-8: a lone surrogate would fail the PostgreSQL driver."""
    if any("\ud800" <= c <= "\udfff" for c in value):
        return "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in value)
    return str.__str__(value)


def _key(key: Any) -> str:
    if isinstance(key, str):
        return _text(key)
    if isinstance(key, bool | float) or key is None:
        return json.dumps(key)
    if isinstance(key, int):
        return str(int(key))
    return _text(str(key))


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {_key(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((_plain(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    return _text(str(value))


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
    """One byte string per entry, stable across databases: UTC time to the microsecond, sorted ASCII JSON.

    Never raises on an odd `detail` (mixed or non-string keys, values that are not JSON): it is first put through
    JSON once, which leaves what a database gives back (and what `plain_detail` makes) exactly as it is, so the
    bytes for every entry already written, by this code or by migration 0009, are unchanged."""
    if detail:
        detail = json.loads(json.dumps(detail, default=str, skipkeys=True))
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


def redaction_mac(key: bytes, mac: str, content: bytes) -> str:
    """Vouches for an entry the retention purge rewrote (its subject made anonymous): binds the original entry MAC,
    which the chain still holds, to the content as it now stands. Only the key's holder can make one."""
    return hmac.new(key, b"redacted|" + mac.encode("ascii") + b"|" + content, hashlib.sha256).hexdigest()


def chain_link(key: bytes, previous: str, mac: str, seq: int, row_id: int) -> str:
    """The chain hash of entry `seq`: binds it to the previous link, its own content and its row id."""
    return hmac.new(key, f"chain|{previous}|{mac}|{seq}|{row_id}".encode("ascii"), hashlib.sha256).hexdigest()


def same(a: str | None, b: str) -> bool:
    """Constant-time comparison that tolerates a missing or non-ASCII stored value (someone edited the row)."""
    if a is None:
        return False
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
