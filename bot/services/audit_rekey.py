"""Re-make the audit log's entry MACs and hash chain under a new key, after checking them under the old one.

Kept apart from bot/services/audit_chain.py (which only reads a rotation's boundary) so the two change independently.
The work goes in seq order, one batch per short transaction holding the chain's head lock (the sealer waits, never
forks the chain). The `key_rotation` row `audit_chain` says how far it got and the last entry's old and new links,
updated in the same transaction as the batch: a crash leaves the chain new up to `position` and old after it, and
the next run (CLI or scheduler) continues there. Entries sealed meanwhile are linked over the head, which is the old
link until the re-keying reaches the end, then the new one (from then on `old_link` == `new_link`).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.db import audit_mac
from bot.db.repositories.keys import Cursor, KeyRepository
from bot.db.store import Repositories

PART = "audit_chain"


class AuditRekeyRefused(RuntimeError):
    """An entry that does not verify under any configured key: the chain is not re-made over it (run
    `aftercare audit verify` to see where and why)."""


@dataclass(frozen=True)
class Boundary:
    position: int  # entries up to this seq are linked under the new key
    old_link: str  # what the entry after it is linked over


async def boundary(repos: Repositories) -> Boundary | None:
    cursor = await KeyRepository(repos.session).cursor(PART)
    return Boundary(cursor.position, cursor.old_link) if cursor is not None else None


def previous_link(found: Boundary | None, seq: int, chain: str) -> str:
    """The link the entry after `seq` is chained over (its old link at a re-keying's boundary)."""
    return found.old_link if found is not None and seq == found.position else chain


async def remaining(repos: Repositories, key_id: str) -> int:
    """Sealed entries not yet re-made under the key `key_id`."""
    head = await repos.audit.head()
    total = head.seq if head is not None else 0
    cursor = await KeyRepository(repos.session).cursor(PART)
    if cursor is None or cursor.key_id != key_id:
        return total
    if cursor.old_link == cursor.new_link:  # reached the end once: entries sealed since were sealed under this key
        return 0
    return total - cursor.position


async def rekey_batch(repos: Repositories, key_id: str, batch: int) -> tuple[int, bool]:
    """Re-make up to `batch` sealed entries under the writing key (`key_id`); (how many, whether more remain)."""
    audit, keys = repos.audit, KeyRepository(repos.session)
    head = await audit.lock_head()
    await audit.load_key_window()
    cursor = await keys.cursor(PART, lock=True)
    if cursor is not None and cursor.key_id != key_id and cursor.old_link != cursor.new_link:
        raise AuditRekeyRefused(
            f"the audit log's re-keying to key {cursor.key_id} did not finish: make that key the writing key again "
            "until `aftercare keys status` says done, then rotate to the next one"
        )
    if cursor is None or cursor.key_id != key_id:  # a new rotation: start at the beginning
        cursor = Cursor(key_id, 0, audit_mac.GENESIS, audit_mac.GENESIS)
    if cursor.position >= head.seq:
        await keys.save_cursor(PART, cursor)
        return 0, False
    rows = await audit.sealed_page(cursor.position, head.seq, batch)
    position, old, new = cursor.position, cursor.old_link, cursor.new_link
    for row in rows:
        assert row.id is not None and row.seq is not None
        if row.seq != position + 1 or not audit.valid_mac(row) or not audit.valid_link(old, row):
            raise AuditRekeyRefused(f"audit entry {row.id} does not verify; the chain is not re-made over it")
        mac = audit.entry_mac(row)
        link = audit.link(new, mac, row.seq, row.id)
        old = row.chain or ""
        row.entry_mac, row.chain = mac, link
        row.redaction_mac = None  # the new MAC is over the entry as it is now (redacted or not)
        position, new = row.seq, link
    if position >= head.seq:
        head.chain = new
        old = new  # from here on the chain is one: entries sealed later link over the new head
    await audit.flush()
    await keys.save_cursor(PART, Cursor(key_id, position, old, new))
    return len(rows), position < head.seq
