"""Stored secrets bound to their row: every sealed value (format v1, bound to its column only) is re-sealed as v2,
bound to its table, column and row (bot/db/crypto.py); chat platform ids are replaced by a keyed hash (`chat_key`,
unique with the channel) and the id sealed for the row.

`inbound_update` gains a `chat_key` column for the updates received from now on. Rows already there keep it NULL:
the clear chat id is not in that table, so their keyed hash cannot be computed. They are pruned within 3 days by the
planner like any other; an update that was in flight during the upgrade and is redelivered afterwards is not
recognised as seen (its old row has no chat), so it may be handled once more.

The data step needs the master key. The application hands it over (`config.attributes["encryption_key"]`, see
bot/db/migrate.py); a bare `alembic upgrade` takes AFTERCARE_ENCRYPTION_KEY or the key kept in the data directory,
and never generates one: a new key could not open the data, so with rows to convert and no key it refuses. The key is
asked for only when there is something to convert, so an empty database migrates without it.

Order, so that a wrong key stops the migration before the schema changes: first the sealed values are re-sealed in
place (opening each one is the check: a value that does not open stops everything with a message naming the key),
then the columns are added and the chat ids hashed and sealed, then `channel_identity` is rebuilt without the clear
id. bot/db/migrate.py runs the whole upgrade in one transaction, on SQLite too, so a failure at any step leaves the
database as it was at 0007 and the upgrade can simply be run again. Tables are read in pages of ids, never whole.
Downgrade puts back v1 values and clear ids, so upgrade → downgrade → upgrade keeps every value.

The v1 and v2 primitives are copied here, frozen: this migration keeps working whatever crypto.py becomes.

Revision ID: a08c1d2e3f40
Revises: 9f5a1b7d4e36
Create Date: 2026-12-08 09:12:00.000000
"""

import base64
import hashlib
import hmac
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import sqlalchemy as sa
from alembic import context, op
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

revision: str = "a08c1d2e3f40"
down_revision: str | None = "9f5a1b7d4e36"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Row = Mapping[str, Any]


def _derive(master: bytes, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(master)


def _ref(**parts: object) -> str:
    return ",".join(f"{name}={value}" for name, value in parts.items())


class _Keys:
    """v1 (AAD = column) and v2 (AAD = "v2|column|row") field sealing, and the chat key, from the master key."""

    def __init__(self, master: bytes) -> None:
        if len(master) != 32:
            raise RuntimeError("the encryption key must be 32 bytes")
        self._v1 = AESGCM(_derive(master, "aftercare/field-encryption/v1"))
        self._v2 = AESGCM(_derive(master, "aftercare/field-encryption/v2"))
        self._chat = _derive(master, "aftercare/chat-key/v1")

    @staticmethod
    def _seal(aead: AESGCM, prefix: str, plain: str, aad: bytes) -> str:
        nonce = os.urandom(12)
        return prefix + base64.b64encode(nonce + aead.encrypt(nonce, plain.encode(), aad)).decode("ascii")

    @staticmethod
    def _open(aead: AESGCM, prefix: str, stored: str, aad: bytes) -> str:
        if not stored.startswith(prefix):
            raise ValueError("not sealed in the expected format")
        raw = base64.b64decode(stored[len(prefix) :])
        return aead.decrypt(raw[:12], raw[12:], aad).decode()

    def seal_v1(self, plain: str, column: str) -> str:
        return self._seal(self._v1, "v1:", plain, column.encode())

    def open_v1(self, stored: str, column: str) -> str:
        return self._open(self._v1, "v1:", stored, column.encode())

    def seal_v2(self, plain: str, column: str, row: str) -> str:
        return self._seal(self._v2, "v2:", plain, f"v2|{column}|{row}".encode())

    def open_v2(self, stored: str, column: str, row: str) -> str:
        return self._open(self._v2, "v2:", stored, f"v2|{column}|{row}".encode())

    def chat_key(self, channel: str, external_id: str) -> str:
        return hmac.new(self._chat, f"{channel}:{external_id}".encode(), hashlib.sha256).hexdigest()


class _Lazy:
    """The keys, loaded the first time a value needs them."""

    @cached_property
    def keys(self) -> _Keys:
        if context.is_offline_mode():
            raise RuntimeError("0008 re-seals stored values: run it against the database, not as offline SQL")
        master = context.config.attributes.get("encryption_key")
        if master is None:  # a bare `alembic upgrade`: the key as configured or kept, never a new one
            from bot.config import Settings, existing_encryption_key

            master = existing_encryption_key(Settings())
        if master is None:
            raise RuntimeError(
                "0008 must re-seal the stored data with the encryption key it was written with, and none is "
                "configured: set AFTERCARE_ENCRYPTION_KEY (or run from the directory whose data/encryption.key holds "
                "it, or set AFTERCARE_DATA_DIR). No key was generated and nothing was changed."
            )
        return _Keys(master)


@dataclass(frozen=True)
class _Sealed:
    """One sealed text column: its v1 associated data, its v2 column name and row reference."""

    table: str
    value: str
    columns: tuple[str, ...]  # besides id and the value: what the references need
    v1: Callable[[Row], str]
    v2: str
    ref: Callable[[Row], str]


def _owned(table: str, value: str, name: str) -> _Sealed:
    """A row inserted through the ORM: sealed for its id and its person."""
    return _Sealed(
        table,
        value,
        ("participant_id",),
        lambda r: name,
        name,
        lambda r: _ref(id=r["id"], participant=r["participant_id"]),
    )


_SEALED = (
    _Sealed(
        "participant", "name_enc", (), lambda r: "participant.name", "participant.name", lambda r: _ref(id=r["id"])
    ),
    _Sealed(
        "participant",
        "national_id_enc",
        (),
        lambda r: "participant.national_id",
        "participant.national_id",
        lambda r: _ref(id=r["id"]),
    ),
    _Sealed(
        "inbound_update",
        "replies_enc",
        ("key",),
        lambda r: "inbound_update.replies",
        "inbound_update.replies",
        lambda r: _ref(key=r["key"]),
    ),
    _Sealed(
        "checkin_response",
        "answers_enc",
        ("obligation_id", "participant_id"),
        lambda r: "checkin_response.answers",
        "checkin_response.answers",
        lambda r: _ref(obligation=r["obligation_id"], participant=r["participant_id"]),
    ),
    _owned("absence", "reason_enc", "absence.reason"),
    _owned("escalation", "note_enc", "escalation.note"),
    _owned("referral", "note_enc", "referral.note"),
    _Sealed(
        "relay_message",
        "body_enc",
        ("referral_id", "participant_id"),
        lambda r: f"relay.body:{r['referral_id']}",
        "relay_message.body",
        lambda r: _ref(id=r["id"], referral=r["referral_id"], participant=r["participant_id"]),
    ),
    _Sealed(
        "in_person_check",
        "reason_enc",
        ("participant_id", "month"),
        lambda r: "in_person_check.reason",
        "in_person_check.reason",
        lambda r: _ref(participant=r["participant_id"], month=r["month"]),
    ),
    _owned("test_result", "result_enc", "test_result.result"),
    _owned("observation", "body_enc", "observation.body"),
    _Sealed(
        "quarterly_review",
        "assessment_enc",
        ("participant_id", "quarter"),
        lambda r: "quarterly_review.assessment",
        "quarterly_review.assessment",
        lambda r: _ref(participant=r["participant_id"], quarter=r["quarter"]),
    ),
    _owned("field_report", "details_enc", "field_report.details"),
)

_DATA, _LABELS = "conversation_state.data", "conversation_state.offered_labels"


PAGE = 1_000
"""Rows read and written at a time: 100,000 participants or years of check-ins are never held whole."""


def _pages(table: sa.TableClause, where: sa.ColumnElement[bool] | None = None) -> Iterator[Sequence[Row]]:
    """The rows of `table` in pages by ascending id (each page read fully before the caller updates it)."""
    bind = op.get_bind()
    after: Any = None
    while True:
        query = sa.select(table).order_by(table.c.id).limit(PAGE)
        if where is not None:
            query = query.where(where)
        if after is not None:
            query = query.where(table.c.id > after)
        rows = bind.execute(query).mappings().all()
        if not rows:
            return
        yield rows
        after = rows[-1]["id"]


def _update(table: sa.TableClause, values: Mapping[str, sa.BindParameter[Any]], updates: list[dict[str, Any]]) -> None:
    if updates:
        op.get_bind().execute(table.update().where(table.c.id == sa.bindparam("row_id")).values(values), updates)


def _convert_column(spec: _Sealed, convert: Callable[[str, _Sealed, Row], str]) -> None:
    table = sa.table(spec.table, sa.column("id"), sa.column(spec.value), *(sa.column(c) for c in spec.columns))
    for rows in _pages(table, table.c[spec.value].is_not(None)):
        updates = []
        for row in rows:
            try:
                updates.append({"row_id": row["id"], "sealed": convert(row[spec.value], spec, row)})
            except Exception as exc:
                raise RuntimeError(
                    f"{spec.table}.{spec.value} of row {row['id']} does not open with this encryption key "
                    "(is AFTERCARE_ENCRYPTION_KEY the one the data was written with?); nothing was changed"
                ) from exc
        _update(table, {spec.value: sa.bindparam("sealed")}, updates)


def _conversation_states(convert: Callable[[Any, str, str], Any]) -> None:
    """`data` ({"sealed": …} or, written before sealing, plain) and `offered_labels` ([sealed] or plain labels)."""
    table = sa.table(
        "conversation_state", sa.column("id"), sa.column("identity_id"), sa.column("data", sa.JSON),
        sa.column("offered_labels", sa.JSON),
    )  # fmt: skip
    for rows in _pages(table):
        updates = []
        for row in rows:
            ref = _ref(identity=row["identity_id"])
            try:
                data, labels = convert(row["data"], _DATA, ref), convert(row["offered_labels"], _LABELS, ref)
            except Exception as exc:
                raise RuntimeError(
                    f"conversation_state of row {row['id']} does not open with this encryption key "
                    "(is AFTERCARE_ENCRYPTION_KEY the one the data was written with?); nothing was changed"
                ) from exc
            updates.append({"row_id": row["id"], "new_data": data, "new_labels": labels})
        values = {
            "data": sa.bindparam("new_data", type_=sa.JSON),
            "offered_labels": sa.bindparam("new_labels", type_=sa.JSON),
        }
        _update(table, values, updates)


class _ChatStatesSetAside:
    """SQLite rebuilds `channel_identity` (copy, drop, rename) to change its unique constraint, and with foreign keys
    on it cannot drop a table that rows point at: the chats' conversation states wait in a temporary table meanwhile
    (ids are kept by the copy)."""

    def __enter__(self) -> None:
        self.sqlite = op.get_bind().dialect.name == "sqlite"
        if self.sqlite:
            op.execute("CREATE TEMP TABLE _states_0008 AS SELECT * FROM conversation_state")
            op.execute("DELETE FROM conversation_state")

    def __exit__(self, *exc: object) -> None:
        if self.sqlite and exc[0] is None:
            op.execute("INSERT INTO conversation_state SELECT * FROM _states_0008")
            op.execute("DROP TABLE _states_0008")


def upgrade() -> None:
    lazy = _Lazy()
    bind = op.get_bind()

    # 1. Values re-sealed in place, before any schema change: a wrong key stops here, at the first value.
    def to_v2(stored: str, spec: _Sealed, row: Row) -> str:
        plain = lazy.keys.open_v1(stored, spec.v1(row))
        return lazy.keys.seal_v2(plain, spec.v2, spec.ref(row))

    for spec in _SEALED:
        _convert_column(spec, to_v2)

    def state_to_v2(value: Any, column: str, ref: str) -> Any:
        if not value:
            return value
        if column == _DATA:
            if set(value) == {"sealed"} and isinstance(value["sealed"], str):
                plain = lazy.keys.open_v1(value["sealed"], column)
            else:  # written before sealing: sealed now
                plain = json.dumps(value, ensure_ascii=False)
            return {"sealed": lazy.keys.seal_v2(plain, column, ref)}
        if len(value) == 1 and isinstance(value[0], str) and value[0].startswith("v1:"):
            plain = lazy.keys.open_v1(value[0], column)
        else:
            plain = json.dumps(value, ensure_ascii=False)
        return [lazy.keys.seal_v2(plain, column, ref)]

    _conversation_states(state_to_v2)

    identities = sa.table(
        "channel_identity", sa.column("id"), sa.column("channel"), sa.column("external_id"),
        sa.column("participant_id"), sa.column("staff_id"), sa.column("chat_key"), sa.column("external_id_enc"),
    )  # fmt: skip
    if bind.execute(sa.select(identities.c.id).limit(1)).first() is not None:
        lazy.keys  # noqa: B018  (chats to hash: no key configured stops here too, before the schema changes)

    # 2. The new columns, the chats' keyed hashes and sealed ids.
    with op.batch_alter_table("inbound_update") as batch:
        batch.add_column(sa.Column("chat_key", sa.String(length=64), nullable=True))
        batch.create_index(batch.f("ix_inbound_update_chat_key"), ["chat_key"], unique=False)
    with op.batch_alter_table("channel_identity") as batch:
        batch.add_column(sa.Column("chat_key", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("external_id_enc", sa.Text(), nullable=True))

    for rows in _pages(identities):
        updates = []
        for row in rows:
            key = lazy.keys.chat_key(row["channel"], row["external_id"])
            owner = (
                _ref(chat=key, participant=row["participant_id"])
                if row["participant_id"] is not None
                else _ref(chat=key, staff=row["staff_id"])
            )
            sealed = lazy.keys.seal_v2(row["external_id"], "channel_identity.external_id", owner)
            updates.append({"row_id": row["id"], "new_key": key, "sealed": sealed})
        _update(identities, {"chat_key": sa.bindparam("new_key"), "external_id_enc": sa.bindparam("sealed")}, updates)

    # 3. No clear id left.
    with _ChatStatesSetAside(), op.batch_alter_table("channel_identity") as batch:
        batch.drop_constraint("uq_channel_identity_channel_external_id", type_="unique")
        batch.drop_column("external_id")
        batch.alter_column("chat_key", existing_type=sa.String(length=64), nullable=False)
        batch.alter_column("external_id_enc", existing_type=sa.Text(), nullable=False)
        batch.create_unique_constraint("uq_channel_identity_channel_chat_key", ["channel", "chat_key"])


def downgrade() -> None:
    lazy = _Lazy()

    def to_v1(stored: str, spec: _Sealed, row: Row) -> str:
        return lazy.keys.seal_v1(lazy.keys.open_v2(stored, spec.v2, spec.ref(row)), spec.v1(row))

    for spec in _SEALED:  # values first, as in upgrade: a wrong key stops before the schema changes
        _convert_column(spec, to_v1)

    def state_to_v1(value: Any, column: str, ref: str) -> Any:
        if not value:
            return value
        if column == _DATA:
            return {"sealed": lazy.keys.seal_v1(lazy.keys.open_v2(value["sealed"], column, ref), column)}
        return [lazy.keys.seal_v1(lazy.keys.open_v2(value[0], column, ref), column)]

    _conversation_states(state_to_v1)

    identities = sa.table(
        "channel_identity", sa.column("id"), sa.column("external_id"), sa.column("participant_id"),
        sa.column("staff_id"), sa.column("chat_key"), sa.column("external_id_enc"),
    )  # fmt: skip
    if op.get_bind().execute(sa.select(identities.c.id).limit(1)).first() is not None:
        lazy.keys  # noqa: B018  (chats to open: no key configured stops here, before the schema changes)
    with op.batch_alter_table("channel_identity") as batch:
        batch.add_column(sa.Column("external_id", sa.String(length=128), nullable=True))
    for rows in _pages(identities):
        updates = []
        for row in rows:
            owner = (
                _ref(chat=row["chat_key"], participant=row["participant_id"])
                if row["participant_id"] is not None
                else _ref(chat=row["chat_key"], staff=row["staff_id"])
            )
            try:
                plain = lazy.keys.open_v2(row["external_id_enc"], "channel_identity.external_id", owner)
            except Exception as exc:
                raise RuntimeError(
                    f"channel_identity of row {row['id']} does not open with this encryption key"
                ) from exc
            updates.append({"row_id": row["id"], "plain": plain})
        _update(identities, {"external_id": sa.bindparam("plain")}, updates)
    with _ChatStatesSetAside(), op.batch_alter_table("channel_identity") as batch:
        batch.drop_constraint("uq_channel_identity_channel_chat_key", type_="unique")
        batch.drop_column("external_id_enc")
        batch.drop_column("chat_key")
        batch.alter_column("external_id", existing_type=sa.String(length=128), nullable=False)
        batch.create_unique_constraint("uq_channel_identity_channel_external_id", ["channel", "external_id"])

    with op.batch_alter_table("inbound_update") as batch:
        batch.drop_index(batch.f("ix_inbound_update_chat_key"))
        batch.drop_column("chat_key")
