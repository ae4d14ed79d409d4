"""Seal and verify the audit log's hash chain, so an edit to the table by anyone without the key shows.

Writers never wait for one another: each entry carries a keyed MAC of its own content from the moment it is written.
The sealer (every plan tick, and before each verification) gives committed entries, in id order, the next sequence
number and a chain hash over the previous link, under a lock on the chain's head row held for one short transaction
per batch; a tick with nothing to seal takes no lock and writes nothing. An entry without a valid MAC (written or
changed without the key, or by a worker older than the chain) is never sealed: it is marked once, logged once, and
reported by every verification. Verification itself only reads, page by page in short transactions, so it never
holds back a message or a seal.

Limits, stated plainly: an entry can be deleted unnoticed between being written and being sealed (at most one plan
interval), and someone with write access who cuts entries off the end *and* rewinds the head row to an earlier link
is caught only against an outside copy of the head: every seal logs the new head (`audit_sealed` with seq and a
prefix of the chain hash) for that purpose.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from bot.db import audit_mac
from bot.db.models import AuditEventRow
from bot.db.repositories.audit import AuditRepository
from bot.db.store import Repositories, Store
from bot.services import audit_rekey

log = structlog.get_logger(__name__)

_BATCH = 500

_MISSING = "entry {seq} of the chain is missing (deleted or renumbered)"
_CHANGED = "the entry's content was changed after it was written"
_BROKEN = "the chain is broken here (entries reordered, moved or replaced)"
_END = "the chain does not end where its head says (entries removed from the end)"
_BEYOND = "entries numbered beyond the chain's head (inserted, or the head was rewound)"
_NO_MAC = "an entry without a valid MAC (written or changed without the key, or by a worker older than the chain)"


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    sealed: int
    first_bad_id: int | None = None
    reason: str | None = None


async def seal(store: Store, *, batch: int = _BATCH, max_batches: int | None = None) -> int:
    """Chain every committed entry waiting to be sealed, `batch` at a time, each batch in its own short transaction
    (a large backlog, such as the first seal after an upgrade without the key, never holds the head for long);
    at most `max_batches` batches when given (the rest waits for the next call). Returns how many were sealed."""
    sealed, batches = 0, 0
    while max_batches is None or batches < max_batches:
        async with store.transaction() as repos:
            count, more = await _seal_batch(repos, batch)
        sealed, batches = sealed + count, batches + 1
        if not more:
            break
    return sealed


async def _seal_batch(repos: Repositories, batch: int) -> tuple[int, bool]:
    """Seal up to `batch` entries; returns how many were sealed and whether there may be more."""
    audit = repos.audit
    if not await audit.has_candidates():
        return 0, False
    head = await audit.lock_head()
    await audit.load_key_window()
    rows = await audit.candidates(batch)  # read again under the lock: another sealer may have taken them meanwhile
    seq, chain = head.seq, head.chain
    rejected: list[int] = []
    for row in rows:
        assert row.id is not None
        mac = audit.entry_mac(row)
        if row.entry_mac is None and row.id <= head.legacy_upto:
            row.entry_mac = mac  # written before the chain existed; adopted as it stands now
        # `valid_mac` first tries the writing key's MAC, just computed: asked only when that one does not hold
        elif not audit_mac.same(row.entry_mac, mac) and not audit.valid_mac(row):
            audit.reject(row)
            rejected.append(row.id)
            continue
        row.entry_mac = mac  # valid under a key a rotation still accepts: sealed under the writing key
        seq += 1
        chain = audit.link(chain, mac, seq, row.id)
        row.seq, row.chain = seq, chain
    head.seq, head.chain = seq, chain
    await audit.flush()
    sealed = len(rows) - len(rejected)
    if sealed:
        log.info("audit_sealed", sealed=sealed, seq=seq, head=chain[:16])
    if rejected:
        # Once per entry: a refused entry is marked and never looked at again by the sealer.
        log.warning("audit_entries_without_valid_mac", count=len(rejected), first_id=rejected[0])
    return sealed, len(rows) == batch


async def verify_chain(store: Store, *, batch: int = _BATCH) -> ChainReport:
    """Seal what is pending, then walk the chain from the start, reading only, one page per short transaction:
    every entry's MAC, every link, no gap in the sequence, the end where the head says, nothing numbered beyond it,
    and no unsealed entry without a valid MAC. Entries sealed while it runs are followed to the new head."""
    await seal(store, batch=batch)
    async with store.transaction() as repos:
        audit = repos.audit  # used below only for its keys (no session): the MAC and link checks
        await audit.load_key_window()
        head = await audit.head()
        boundary = await audit_rekey.boundary(repos)
    target, target_chain = (head.seq, head.chain) if head is not None else (0, audit_mac.GENESIS)
    previous, sealed = audit_mac.GENESIS, 0

    async def report(row_id: int | None = None, reason: str | None = None) -> ChainReport:
        async with store.transaction() as repos:
            entries = await repos.audit.count()
        return ChainReport(ok=reason is None, entries=entries, sealed=sealed, first_bad_id=row_id, reason=reason)

    while True:
        while sealed < target:
            async with store.transaction() as repos:
                rows = await repos.audit.sealed_page(sealed, target, batch)
            if not rows:
                break
            for row in rows:
                assert row.id is not None and row.seq is not None
                if row.seq != sealed + 1:
                    return await report(row.id, _MISSING.format(seq=sealed + 1))
                if not audit.valid_mac(row):
                    return await report(row.id, _CHANGED)
                if not audit.valid_link(previous, row):
                    return await report(row.id, _BROKEN)
                assert row.chain is not None
                previous, sealed = audit_rekey.previous_link(boundary, row.seq, row.chain), sealed + 1
        if sealed < target or not audit_mac.same(target_chain, previous):
            return await report(None, _END)
        async with store.transaction() as repos:
            beyond = await repos.audit.first_sealed_after(sealed)  # first: a seal seen here shows in the head below
            newer = await repos.audit.head()
        if beyond is None:
            break
        if newer is None or newer.seq <= sealed:
            return await report(beyond, _BEYOND)
        target, target_chain = newer.seq, newer.chain  # sealed meanwhile: follow it

    after = 0
    while True:
        async with store.transaction() as repos:
            pending = await repos.audit.unsealed(after, batch)
        if not pending:
            return await report()
        for row in pending:
            assert row.id is not None
            after = row.id
            if _refused(audit, row):
                return await report(row.id, _NO_MAC)


def _refused(audit: AuditRepository, row: AuditEventRow) -> bool:
    """Refused by the sealer, or (not yet looked at) carrying no valid MAC: an entry written after the seal above
    with a valid MAC is simply waiting for the next one."""
    return row.chain == audit_mac.REJECTED or not audit.valid_mac(row)
