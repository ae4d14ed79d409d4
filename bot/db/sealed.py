"""Every place the database holds a sealed value (bot/db/crypto.py), with what it is sealed for.

One list for whatever must touch every sealed value: key rotation re-seals them, the retention tests open them all
to prove a purged person is gone, the data inventory names them. A new sealed column is one entry here, and
`tests/integration/test_sealed_registry.py` fails until it is listed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from bot.db.crypto import IDENTITY_COLUMN, row_ref

Row = Mapping[str, Any]


class Shape(StrEnum):
    """How the sealed string sits in its column."""

    TEXT = "text"  # the column is the sealed string (or NULL)
    WRAPPED = "wrapped"  # a JSON object {"sealed": "<sealed string>"} (or {})
    LISTED = "listed"  # a JSON list holding one sealed string (or [])


@dataclass(frozen=True)
class SealedColumn:
    table: str
    column: str  # the database column
    sealed_for: str  # the column name bound into the ciphertext ("participant.name")
    uses: tuple[str, ...]  # the row's columns its reference is made of (besides `id`)
    ref: Callable[[Row], str]
    shape: Shape = Shape.TEXT

    @property
    def name(self) -> str:
        return f"{self.table}.{self.column}"

    def stored(self, value: Any) -> str | None:
        """The sealed string inside the column's value, None when the column holds nothing sealed."""
        if self.shape is Shape.TEXT:
            return value if isinstance(value, str) and value else None
        if self.shape is Shape.WRAPPED:
            inner = value.get("sealed") if isinstance(value, dict) else None
            return inner if isinstance(inner, str) and inner else None
        return value[0] if isinstance(value, list) and len(value) == 1 and isinstance(value[0], str) else None

    def wrap(self, sealed: str) -> Any:
        """The column's value holding `sealed` (the inverse of `stored`)."""
        if self.shape is Shape.TEXT:
            return sealed
        return {"sealed": sealed} if self.shape is Shape.WRAPPED else [sealed]


def _owned(table: str, column: str, sealed_for: str) -> SealedColumn:
    """A row inserted through the ORM: sealed for its id and its person."""
    return SealedColumn(
        table, column, sealed_for, ("participant_id",), lambda r: row_ref(id=r["id"], participant=r["participant_id"])
    )


def _by_id(table: str, column: str, sealed_for: str) -> SealedColumn:
    return SealedColumn(table, column, sealed_for, (), lambda r: row_ref(id=r["id"]))


def _identity(r: Row) -> str:
    if r["participant_id"] is not None:
        return row_ref(chat=r["chat_key"], participant=r["participant_id"])
    return row_ref(chat=r["chat_key"], staff=r["staff_id"])


SEALED: tuple[SealedColumn, ...] = (
    _by_id("participant", "name_enc", "participant.name"),
    _by_id("participant", "national_id_enc", "participant.national_id"),
    _by_id("participant", "address_enc", "participant.address"),
    _by_id("participant", "phone_enc", "participant.phone"),
    _by_id("participant", "decision_no_enc", "participant.decision_no"),
    _by_id("staff_member", "totp_secret_enc", "staff_member.totp_secret"),
    SealedColumn(
        "channel_identity", "external_id_enc", IDENTITY_COLUMN, ("chat_key", "participant_id", "staff_id"), _identity
    ),
    SealedColumn(
        "conversation_state",
        "data",
        "conversation_state.data",
        ("identity_id",),
        lambda r: row_ref(identity=r["identity_id"]),
        Shape.WRAPPED,
    ),
    SealedColumn(
        "conversation_state",
        "offered_labels",
        "conversation_state.offered_labels",
        ("identity_id",),
        lambda r: row_ref(identity=r["identity_id"]),
        Shape.LISTED,
    ),
    SealedColumn("inbound_update", "replies_enc", "inbound_update.replies", ("key",), lambda r: row_ref(key=r["key"])),
    SealedColumn(
        "checkin_response",
        "answers_enc",
        "checkin_response.answers",
        ("obligation_id", "participant_id"),
        lambda r: row_ref(obligation=r["obligation_id"], participant=r["participant_id"]),
    ),
    _owned("absence", "reason_enc", "absence.reason"),
    _owned("escalation", "note_enc", "escalation.note"),
    _owned("referral", "note_enc", "referral.note"),
    SealedColumn(
        "relay_message",
        "body_enc",
        "relay_message.body",
        ("referral_id", "participant_id"),
        lambda r: row_ref(id=r["id"], referral=r["referral_id"], participant=r["participant_id"]),
    ),
    SealedColumn(
        "in_person_check",
        "reason_enc",
        "in_person_check.reason",
        ("participant_id", "month"),
        lambda r: row_ref(participant=r["participant_id"], month=r["month"]),
    ),
    _owned("test_result", "result_enc", "test_result.result"),
    _owned("observation", "body_enc", "observation.body"),
    SealedColumn(
        "quarterly_review",
        "assessment_enc",
        "quarterly_review.assessment",
        ("participant_id", "quarter"),
        lambda r: row_ref(participant=r["participant_id"], quarter=r["quarter"]),
    ),
    _owned("field_report", "details_enc", "field_report.details"),
    _owned("data_request", "text_enc", "data_request.text"),
)


def table_of(spec: SealedColumn) -> Table:
    return SQLModel.metadata.tables[spec.table]


@dataclass(frozen=True)
class Page:
    values: list[tuple[int, str, str]]  # (row id, sealed string, the reference it is sealed for)
    last_id: int | None  # the last row read (empty columns included); None when no row is left


KEY_PREFIX = 16  # "v3:" + a 12-character key id + ":": enough of a sealed string to say which key it is under


def sealed_text(spec: SealedColumn) -> ColumnElement[Any]:
    """The sealed string inside the column, in SQL (NULL where there is none): the column itself, or the JSON
    member read by the database (`->>` on PostgreSQL, `JSON_EXTRACT` on SQLite), never the rows read into Python."""
    column = table_of(spec).c[spec.column]
    if spec.shape is Shape.TEXT:
        return column
    return column["sealed"].as_string() if spec.shape is Shape.WRAPPED else column[0].as_string()


def key_prefix(spec: SealedColumn) -> ColumnElement[Any]:
    """The first `KEY_PREFIX` characters of the sealed string: `FieldCipher.key_of` reads the key id from them."""
    return func.substr(sealed_text(spec), 1, KEY_PREFIX)


def holds_value(spec: SealedColumn) -> ColumnElement[bool]:
    text = sealed_text(spec)
    return and_(text.is_not(None), text != "")


async def page(
    session: AsyncSession, spec: SealedColumn, *, after_id: int, limit: int, stale_for: str | None = None
) -> Page:
    """The next `limit` rows after `after_id` in id order, and the sealed values among them (a row whose column
    is empty has none). Read `page(after_id=result.last_id)` until `last_id` is None. With `stale_for` (the
    writing key's prefix, `v3:<key id>:`), only the rows holding a value not under it are read."""
    table = table_of(spec)
    columns = [table.c.id, table.c[spec.column], *(table.c[name] for name in spec.uses)]
    stmt = select(*columns).where(table.c.id > after_id)
    if stale_for is not None:
        stmt = stmt.where(holds_value(spec), key_prefix(spec) != stale_for)
    stmt = stmt.order_by(table.c.id).limit(limit)
    values: list[tuple[int, str, str]] = []
    last_id: int | None = None
    for row in (await session.execute(stmt)).mappings():
        last_id = int(row["id"])
        sealed = spec.stored(row[spec.column])
        if sealed is not None:
            values.append((last_id, sealed, spec.ref(row)))
    return Page(values, last_id)
