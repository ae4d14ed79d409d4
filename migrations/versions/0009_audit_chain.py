"""Tamper-evident audit log: each entry's keyed MAC, its place in a hash chain, and the chain's head row.

Entries already written are sealed here when the application runs the upgrade (it hands over the master key); an
upgrade run without the key (plain `alembic upgrade`) marks them as written before the chain existed, and the first
seal adopts them as they stand then (bot/services/audit_chain.py), so an edit made before that seal cannot show.

The canonical form, the MACs and the key derivation are copied here, frozen, as they were when this migration was
written (bot/db/audit_mac.py, bot/db/crypto.py): a later change there must come with a new format version that
still verifies these entries, and can never change what this migration writes.

Revision ID: b09d2e3f4a51
Revises: a08c1d2e3f40
Create Date: 2026-12-02 06:30:00.000000
"""

import hashlib
import hmac
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import context, op
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

revision: str = "b09d2e3f4a51"
down_revision: str | None = "a08c1d2e3f40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64


def _derive(master: bytes, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(master)


def _utc(at: datetime) -> datetime:
    """SQLite hands back naive datetimes, stored as UTC."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _canonical(row: Any) -> bytes:
    """One byte string per entry ("v1"): UTC time to the microsecond, sorted ASCII JSON."""
    fields = [
        "v1",
        _utc(row["at"]).isoformat(timespec="microseconds"),
        row["actor_type"],
        row["actor_id"],
        row["action"],
        row["subject_type"],
        row["subject_id"],
        row["outcome"],
        row["detail"] or {},
    ]
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def _entry_mac(key: bytes, content: bytes) -> str:
    return hmac.new(key, b"entry|" + content, hashlib.sha256).hexdigest()


def _chain_link(key: bytes, previous: str, mac: str, seq: int, row_id: int) -> str:
    return hmac.new(key, f"chain|{previous}|{mac}|{seq}|{row_id}".encode("ascii"), hashlib.sha256).hexdigest()


_audit = sa.table(
    "audit_event",
    sa.column("id", sa.Integer()),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("actor_type", sa.String()),
    sa.column("actor_id", sa.Integer()),
    sa.column("action", sa.String()),
    sa.column("subject_type", sa.String()),
    sa.column("subject_id", sa.Integer()),
    sa.column("outcome", sa.String()),
    sa.column("detail", sa.JSON()),
    sa.column("entry_mac", sa.String()),
    sa.column("seq", sa.Integer()),
    sa.column("chain", sa.String()),
)
_head = sa.table(
    "audit_chain_head",
    sa.column("id", sa.Integer()),
    sa.column("seq", sa.Integer()),
    sa.column("chain", sa.String()),
    sa.column("legacy_upto", sa.Integer()),
)


def upgrade() -> None:
    with op.batch_alter_table("audit_event") as batch:
        batch.add_column(sa.Column("entry_mac", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("chain", sa.String(length=64), nullable=True))
        batch.create_unique_constraint(batch.f("uq_audit_event_seq"), ["seq"])
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("chain", sa.String(length=64), nullable=False),
        sa.Column("legacy_upto", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    bind = op.get_bind()
    master = context.config.attributes.get("encryption_key")
    if master is None:
        last = bind.execute(sa.select(sa.func.max(_audit.c.id))).scalar() or 0
        op.execute(_head.insert().values(id=1, seq=0, chain=GENESIS, legacy_upto=last))
        return
    key = _derive(master, "aftercare/audit-chain/v1")
    seq, chain, after = 0, GENESIS, 0
    while True:
        rows = (
            bind.execute(sa.select(_audit).where(_audit.c.id > after).order_by(_audit.c.id).limit(1000))
            .mappings()
            .all()
        )
        if not rows:
            break
        sealed = []
        for row in rows:
            mac = _entry_mac(key, _canonical(row))
            seq += 1
            chain = _chain_link(key, chain, mac, seq, row["id"])
            sealed.append({"row_id": row["id"], "mac": mac, "n": seq, "link": chain})
            after = row["id"]
        stmt = (
            _audit.update()
            .where(_audit.c.id == sa.bindparam("row_id"))
            .values(entry_mac=sa.bindparam("mac"), seq=sa.bindparam("n"), chain=sa.bindparam("link"))
        )
        bind.execute(stmt, sealed)
    op.execute(_head.insert().values(id=1, seq=seq, chain=chain, legacy_upto=0))


def downgrade() -> None:
    op.drop_table("audit_chain_head")
    with op.batch_alter_table("audit_event") as batch:
        batch.drop_constraint(batch.f("uq_audit_event_seq"), type_="unique")
        batch.drop_column("chain")
        batch.drop_column("seq")
        batch.drop_column("entry_mac")
