"""Key rotation, its progress, retiring an old key, and the start-up check that the configured keys fit the data.

The procedure (README, *Keys*): the new key becomes `AFTERCARE_ENCRYPTION_KEY`, the old one moves to
`AFTERCARE_PREVIOUS_ENCRYPTION_KEYS`, workers restart (everything written from then on is under the new key, and
everything old still reads), then `rotate` re-seals every sealed field (bot/db/sealed.py) in batches, each its own
short transaction, re-keys the hashes that can be recomputed (a chat's `chat_key` from its sealed id, a person's
`national_id_key` from the sealed number) and re-makes the audit chain (bot/services/audit_rekey.py). A batch only
touches values not yet under the writing key and a per-column cursor commits with it, so a crash loses at most one
batch's work and a second run finishes; a pass that ends starts once more from the first row, so a value an old-key
worker wrote behind the cursor is found. The scheduler continues a rotation an operator started (`mark_started`) a
bounded amount per tick, until a run has gone through everything once.
Invite codes are stored only as hashes: they keep working while the old key is configured, and `status` lists the
people whose live codes must be reissued before it is retired.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog

from bot.core.clock import Clock
from bot.db.crypto import (
    IDENTITY_COLUMN,
    LEGACY,
    PREFIX_V3,
    FieldCipher,
    Keyring,
    SealBroken,
    national_id_key,
    row_ref,
)
from bot.db.repositories.keys import Cursor, KeyRepository, KnownKey
from bot.db.sealed import SEALED, SealedColumn, page
from bot.db.store import Store
from bot.services import audit_rekey
from bot.services.operators import Operator

log = structlog.get_logger(__name__)

BATCH = 200
CANARY = "encryption_key.canary"
_CANARY_TEXT = "aftercare canary"
_SETTINGS = "AFTERCARE_ENCRYPTION_KEY / AFTERCARE_PREVIOUS_ENCRYPTION_KEYS"
STARTED = "rotation_started"  # the key_rotation row `keys rotate` writes: position 0 under way, 1 run to the end


class KeyMismatch(RuntimeError):
    """The configured keys do not fit the database: refused before anything runs. The message names the setting and
    the key id (a public fingerprint), never a key."""


class RetireRefused(RuntimeError):
    pass


def _cursor_part(spec: SealedColumn) -> str:
    return f"sealed:{spec.name}"


# --- start-up ---------------------------------------------------------------------------------------------------


async def check_keys(store: Store, clock: Clock) -> None:
    """Refuse (`KeyMismatch`) a writing key that does not open the data, and data kept under a key not configured;
    remember the writing key (with a canary sealed under it) the first time it starts here."""
    keyring = store.keyring
    async with store.transaction() as repos:
        known = await KeyRepository(repos.session).known()
        if not known:
            await _first_value_opens(repos.session, keyring.cipher)
    writer = next((k for k in known if k.key_id == keyring.key_id), None)
    if writer is not None and writer.retired_at is not None:
        raise KeyMismatch(
            f"AFTERCARE_ENCRYPTION_KEY is key {writer.key_id}, retired on {writer.retired_at:%Y-%m-%d}: a retired key "
            "never writes again; set the current key (`aftercare keys status` names it)"
        )
    live = [k for k in known if k.retired_at is None]
    for key in live:
        if key.key_id not in keyring.key_ids:
            raise KeyMismatch(
                f"this database holds data under key {key.key_id}, which is not configured: "
                "AFTERCARE_ENCRYPTION_KEY is not the key this database was written with (during a key rotation, "
                "keep the old key in AFTERCARE_PREVIOUS_ENCRYPTION_KEYS until `aftercare keys status` says done)"
            )
    for key in known:
        if key.key_id in keyring.key_ids:
            try:
                keyring.cipher.decrypt(key.canary, CANARY, row_ref(key=key.key_id))
            except SealBroken as exc:
                raise KeyMismatch(f"the canary of key {key.key_id} does not open: check {_SETTINGS}") from exc
    if keyring.key_id not in {k.key_id for k in known}:
        canary = keyring.cipher.encrypt(_CANARY_TEXT, CANARY, row_ref(key=keyring.key_id))
        async with store.transaction() as repos:
            await KeyRepository(repos.session).add(keyring.key_id, canary, clock.now())
        log.info("encryption_key_added", key_id=keyring.key_id)


async def _first_value_opens(session: Any, cipher: FieldCipher) -> None:
    """Before any key is remembered (first start after the upgrade): one stored value must open, else the key is
    wrong (a new database has none and passes)."""
    for spec in SEALED:
        found = await page(session, spec, after_id=0, limit=50)
        for _, sealed, ref in found.values:
            try:
                cipher.decrypt(sealed, spec.sealed_for, ref)
            except SealBroken as exc:
                raise KeyMismatch(
                    f"AFTERCARE_ENCRYPTION_KEY does not open the data in this database ({spec.name}): it is not the "
                    "key this database was written with"
                ) from exc
            return


# --- rotation ---------------------------------------------------------------------------------------------------


@dataclass
class RotationReport:
    resealed: dict[str, int] = field(default_factory=dict)
    audit_entries: int = 0
    batches: int = 0
    finished: bool = False  # every column and the audit log gone through to the end in this run
    done: bool = False  # nothing left under another key: what `status` calls done
    unreadable_rows: set[tuple[str, int]] = field(default_factory=set)  # did not open where they are (tampered)

    @property
    def unreadable(self) -> int:
        """Values left under their old key because they do not open where they are (counted once a run)."""
        return len(self.unreadable_rows)


async def mark_started(store: Store) -> None:
    """An operator ran `keys rotate`: from now the scheduler carries this rotation on until it has run to the end."""
    async with store.transaction() as repos:
        await KeyRepository(repos.session).save_cursor(STARTED, Cursor(store.keyring.key_id, 0, "", ""))


async def rotate(
    store: Store,
    *,
    batch: int = BATCH,
    max_batches: int | None = None,
    after_batch: Callable[[RotationReport], None] | None = None,
) -> RotationReport:
    """Bring every sealed value, re-computable hash and audit link under the writing key, `batch` rows per short
    transaction; at most `max_batches` batches when given (the scheduler's bounded share per tick).

    A column's pass reads only the rows not yet under the writing key, after its cursor. When it reaches the end
    having started after the first row, it starts once more from the first row: a value an old-key worker wrote
    below the cursor meanwhile is found there. Values that do not open are passed over (the cursor moves past
    them), so a pass always ends."""
    report = RotationReport()
    keyring = store.keyring

    def spent() -> bool:
        return max_batches is not None and report.batches >= max_batches

    for spec in SEALED:
        from_start = restart = False
        while not spent():
            async with store.transaction() as repos:
                keys = KeyRepository(repos.session)
                after, read = await _reseal_batch(keys, repos.session, keyring, spec, batch, report, restart)
            from_start, restart = from_start or after == 0, False
            if read:
                report.batches += 1
                if after_batch is not None:
                    after_batch(report)
            elif from_start:  # a whole pass from the first row in this run: nothing left that opens
                break
            else:
                restart = True  # nothing not read is counted against the bound
        if spent():
            return report
    while not spent():
        async with store.transaction() as repos:
            count, more = await audit_rekey.rekey_batch(repos, keyring.key_id, batch)
        report.audit_entries += count
        report.batches += 1 if count else 0
        if after_batch is not None:
            after_batch(report)
        if not more:
            report.finished = True
            break
    if report.finished:
        columns = await _columns(store)
        report.done = _stale(columns, keyring.key_id) == 0
        async with store.transaction() as repos:
            keys = KeyRepository(repos.session)
            started = await keys.cursor(STARTED, lock=True)
            if started is not None and started.key_id == keyring.key_id and started.position == 0:
                await keys.save_cursor(STARTED, Cursor(keyring.key_id, 1, "", ""))
    return report


async def _reseal_batch(
    keys: KeyRepository,
    session: Any,
    keyring: Keyring,
    spec: SealedColumn,
    batch: int,
    report: RotationReport,
    restart: bool,
) -> tuple[int, bool]:
    """One batch of one column's stale values after its cursor (after the first row when `restart`); (the row id
    it read after, whether it read any)."""
    part = _cursor_part(spec)
    cursor = await keys.cursor(part, lock=True)
    after = cursor.position if cursor is not None and cursor.key_id == keyring.key_id and not restart else 0
    current = f"{PREFIX_V3}{keyring.key_id}:"
    found = await page(session, spec, after_id=after, limit=batch, stale_for=current)
    if found.last_id is None:
        return after, False
    stale = [row_id for row_id, sealed, _ in found.values if not keyring.cipher.is_current(sealed)]
    if stale:
        extra = ("channel",) if spec.sealed_for == IDENTITY_COLUMN else ()
        for row in await keys.locked_rows(spec, stale, extra):
            sealed = spec.stored(row[spec.column])
            if sealed is None or keyring.cipher.is_current(sealed):
                continue  # emptied or rewritten by the application meanwhile
            try:
                values = _resealed(keyring, spec, row, sealed)
            except SealBroken:  # moved or altered in the database: left as it is, counted by `status`, never fatal
                if (spec.name, int(row["id"])) not in report.unreadable_rows:
                    log.warning("sealed_value_not_rotated", column=spec.name, row_id=int(row["id"]))
                report.unreadable_rows.add((spec.name, int(row["id"])))
                continue
            await keys.write(spec, int(row["id"]), values)
            report.resealed[spec.name] = report.resealed.get(spec.name, 0) + 1
    await keys.save_cursor(part, Cursor(keyring.key_id, found.last_id, "", ""))
    return after, True


def _resealed(keyring: Keyring, spec: SealedColumn, row: Any, sealed: str) -> dict[str, Any]:
    """The row's new values: the value sealed under the writing key, and the hashes that go with it."""
    cipher = keyring.cipher
    plain = cipher.decrypt(sealed, spec.sealed_for, spec.ref(row))
    if spec.sealed_for == IDENTITY_COLUMN:
        chat_key = keyring.chat_key(row["channel"], plain)
        moved = {**row, "chat_key": chat_key}
        return {"chat_key": chat_key, spec.column: cipher.encrypt(plain, spec.sealed_for, spec.ref(moved))}
    values: dict[str, Any] = {spec.column: spec.wrap(cipher.encrypt(plain, spec.sealed_for, spec.ref(row)))}
    if spec.sealed_for == "participant.national_id":
        values["national_id_key"] = national_id_key(keyring.lookup_key, plain)
    return values


# --- status and retiring ----------------------------------------------------------------------------------------


@dataclass
class KeyStatus:
    writing_key: str
    configured: list[str]
    known: list[KnownKey]
    columns: dict[str, dict[str, int]]  # column -> key id (or "v2") -> values
    audit_remaining: int
    invites_to_reissue: list[dict[str, int | None]]

    @property
    def remaining(self) -> int:
        return _stale(self.columns, self.writing_key) + self.audit_remaining

    @property
    def done(self) -> bool:
        return self.remaining == 0

    def in_use(self, key_id: str) -> list[str]:
        """Why `key_id` cannot be retired yet (empty: nothing uses it)."""
        reasons = []
        values = sum(counts.get(key_id, 0) + counts.get(LEGACY, 0) for counts in self.columns.values())
        if values:
            reasons.append(f"{values} sealed values are under it or have no key id yet (run `aftercare keys rotate`)")
        if self.audit_remaining:
            reasons.append(f"{self.audit_remaining} audit entries are not yet re-made under the writing key")
        if self.invites_to_reissue:
            reasons.append(f"{len(self.invites_to_reissue)} unused invite codes were issued under it: reissue them")
        return reasons

    def as_dict(self) -> dict[str, Any]:
        old = [k.key_id for k in self.known if k.retired_at is None and k.key_id != self.writing_key]
        return {
            "remaining": self.remaining,
            "done": self.done,
            "writing_key": self.writing_key,
            "configured_keys": self.configured,
            "keys": [
                {
                    "key_id": k.key_id,
                    "added_at": k.added_at.isoformat(),
                    "retired": k.retired_at is not None,
                    "configured": k.key_id in self.configured,
                    "values": sum(counts.get(k.key_id, 0) for counts in self.columns.values()),
                }
                for k in self.known
            ],
            "columns": self.columns,
            "audit_remaining": self.audit_remaining,
            "invites_to_reissue": self.invites_to_reissue,
            "retirable": [kid for kid in old if not self.in_use(kid)],
        }


async def _columns(store: Store) -> dict[str, dict[str, int]]:
    """Every column's values counted by the key id they name, by the database (one grouped count per column in a
    short transaction: nothing sealed is read into Python)."""
    columns: dict[str, dict[str, int]] = {}
    for spec in SEALED:
        async with store.transaction() as repos:
            found = await KeyRepository(repos.session).by_key_prefix(spec)
        counts: dict[str, int] = {}
        for prefix, n in found:
            kid = FieldCipher.key_of(prefix) or "unreadable"
            counts[kid] = counts.get(kid, 0) + n
        columns[spec.name] = dict(sorted(counts.items()))
    return columns


def _stale(columns: dict[str, dict[str, int]], writing: str) -> int:
    return sum(n for counts in columns.values() for kid, n in counts.items() if kid != writing)


async def status(store: Store, clock: Clock) -> KeyStatus:
    """Count every sealed value by the key it is under (counted in SQL, column by column)."""
    keyring = store.keyring
    columns = await _columns(store)
    async with store.transaction() as repos:
        keys = KeyRepository(repos.session)
        known = await keys.known()
        older = [k for k in known if k.retired_at is None and k.key_id != keyring.key_id]
        audit_left = await audit_rekey.remaining(repos, keyring.key_id) if older else 0
        invites: list[dict[str, int | None]] = []
        writer = next((k for k in known if k.key_id == keyring.key_id), None)
        if older and writer is not None:
            pairs = await keys.live_invites_before(writer.added_at, clock.now())
            invites = [{"participant_id": p, "staff_id": s} for p, s in pairs]
    return KeyStatus(keyring.key_id, list(keyring.key_ids), known, columns, audit_left, invites)


async def retire(store: Store, clock: Clock, key_id: str, operator: Operator) -> KeyStatus:
    """Mark an old key retired (it may then be removed from the settings); refused while anything uses it."""
    current = await status(store, clock)
    if key_id == current.writing_key:
        raise RetireRefused(f"key {key_id} is the writing key (AFTERCARE_ENCRYPTION_KEY); it cannot be retired")
    entry = next((k for k in current.known if k.key_id == key_id), None)
    if entry is None:
        raise RetireRefused(f"no key {key_id} has written to this database")
    reasons = current.in_use(key_id)
    if reasons:
        raise RetireRefused(f"key {key_id} is still in use: " + "; ".join(reasons))
    if entry.retired_at is None:
        async with store.transaction() as repos:
            await KeyRepository(repos.session).retire(key_id, clock.now())
            await operator.record(repos, "encryption_key_retired", detail={"key_id": key_id})
    return await status(store, clock)


def rotation_started(known: list[KnownKey], writing: str) -> bool:
    """An older key is still live: there may be rotating to do (the scheduler also needs `mark_started`)."""
    return any(k.retired_at is None and k.key_id != writing for k in known)


async def continue_rotation(store: Store, *, max_batches: int = 5) -> RotationReport | None:
    """The scheduler's share: a bounded amount of a rotation an operator started (`keys rotate` ran with this
    writing key) until it has run to the end once; none otherwise (a new key alone never starts one)."""
    async with store.transaction() as repos:
        keys = KeyRepository(repos.session)
        known = await keys.known()
        started = await keys.cursor(STARTED)
    if not rotation_started(known, store.keyring.key_id):
        return None
    if started is None or started.key_id != store.keyring.key_id or started.position != 0:
        return None
    return await rotate(store, max_batches=max_batches)
