"""Seal and verify the audit log's hash chain, so an edit to the table by anyone without the key shows.

Writers never wait for one another: each entry carries a keyed MAC of its own content from the moment it is written.
The sealer (every plan tick, and before each verification) gives committed entries, in the order it finds them, the
next sequence number and a chain hash over the previous link, under a lock on the chain's head row; one short lock
per batch, never one per message. Limits, stated plainly: an entry can be deleted unnoticed between being written
and being sealed (at most one plan interval), and someone with write access who cuts entries off the end *and*
rewinds the head row to an earlier link is caught only against an outside copy of the head: every seal logs the new
head (`audit_sealed` with seq and a prefix of the chain hash) for that purpose.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from bot.db import audit_mac
from bot.db.store import Repositories

log = structlog.get_logger(__name__)

_BATCH = 500


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    sealed: int
    first_bad_id: int | None = None
    reason: str | None = None


async def seal(repos: Repositories, *, batch: int = _BATCH) -> int:
    """Chain every committed unsealed entry whose MAC is valid; returns how many were sealed. Entries with a
    wrong or missing MAC are left unsealed (verification reports them) and never extend the chain."""
    head = await repos.audit.lock_head()
    seq, chain = head.seq, head.chain
    sealed = rejected = 0
    after_id = 0
    while rows := await repos.audit.unsealed(after_id, batch):
        for row in rows:
            assert row.id is not None
            after_id = row.id
            mac = repos.audit.entry_mac(row)
            if row.entry_mac is None and row.id <= head.legacy_upto:
                row.entry_mac = mac  # written before the chain existed; adopted as it stands now
            elif not audit_mac.same(row.entry_mac, mac):
                rejected += 1
                continue
            seq += 1
            chain = repos.audit.link(chain, mac, seq, row.id)
            row.seq, row.chain = seq, chain
            sealed += 1
        await repos.audit.flush()
        repos.audit.forget(rows)
    if sealed:
        head.seq, head.chain = seq, chain
        await repos.audit.flush()
        log.info("audit_sealed", sealed=sealed, seq=seq, head=chain[:16])
    if rejected:
        log.warning("audit_entries_without_valid_mac", count=rejected)
    return sealed


async def verify_chain(repos: Repositories, *, batch: int = _BATCH) -> ChainReport:
    """Seal what is pending, then walk the chain from the start: every entry's MAC, every link, no gap in the
    sequence, the end where the head says, and no unsealed entry without a valid MAC."""
    await seal(repos, batch=batch)
    entries = await repos.audit.count()
    head = await repos.audit.head()
    previous, expected, sealed = audit_mac.GENESIS, 1, 0

    def bad(row_id: int | None, reason: str) -> ChainReport:
        return ChainReport(ok=False, entries=entries, sealed=sealed, first_bad_id=row_id, reason=reason)

    while rows := await repos.audit.sealed_page(expected - 1, batch):
        for row in rows:
            assert row.id is not None and row.seq is not None
            if row.seq != expected:
                return bad(row.id, f"entry {expected} of the chain is missing (deleted or renumbered)")
            mac = repos.audit.entry_mac(row)
            if not audit_mac.same(row.entry_mac, mac):
                return bad(row.id, "the entry's content was changed after it was written")
            link = repos.audit.link(previous, mac, row.seq, row.id)
            if not audit_mac.same(row.chain, link):
                return bad(row.id, "the chain is broken here (entries reordered, moved or replaced)")
            previous, expected, sealed = link, expected + 1, sealed + 1
        repos.audit.forget(rows)
    if head is None or head.seq != sealed or not audit_mac.same(head.chain, previous):
        return bad(None, "the chain does not end where its head says (entries removed from the end)")
    after_id = 0
    while rows := await repos.audit.unsealed(after_id, batch):
        for row in rows:
            assert row.id is not None
            after_id = row.id
            if not audit_mac.same(row.entry_mac, repos.audit.entry_mac(row)):
                return bad(row.id, "an entry without a valid MAC (written or changed without the key)")
        repos.audit.forget(rows)
    return ChainReport(ok=True, entries=entries, sealed=sealed)
