"""Tables. Chat platform ids live only in `channel_identity`; sensitive fields only as ciphertext (`*_enc`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.db.types import UTCDateTime

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _when() -> Any:
    return Field(sa_type=UTCDateTime)


class UnitRow(SQLModel, table=True):
    __tablename__ = "unit"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=200)
    level: str = Field(max_length=16)
    parent_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    created_at: datetime = _when()


class CounsellingPointRow(SQLModel, table=True):
    __tablename__ = "counselling_point"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    name: str = Field(max_length=200)
    address: str = Field(default="", max_length=300)
    phone: str = Field(default="", max_length=40)
    hours: str = Field(default="", max_length=200)
    created_at: datetime = _when()


class StaffRow(SQLModel, table=True):
    __tablename__ = "staff_member"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    role: str = Field(max_length=16)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    point_id: int | None = Field(default=None, foreign_key="counselling_point.id")
    language: str = Field(default="vi", max_length=8)
    active: bool = Field(default=True)
    created_at: datetime = _when()


class ParticipantRow(SQLModel, table=True):
    __tablename__ = "participant"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    name_enc: str = Field(sa_column=Column(Text, nullable=False))
    national_id_enc: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    term_start: date
    term_months: int
    expected_end: date
    risk_level: str = Field(default="medium", max_length=8)
    status: str = Field(default="enrolled", max_length=16)
    cadre_id: int | None = Field(default=None, foreign_key="staff_member.id", index=True)
    language: str = Field(default="vi", max_length=8)
    wording: str = Field(default="neutral", max_length=16)
    created_at: datetime = _when()
    updated_at: datetime = _when()


class ChannelIdentityRow(SQLModel, table=True):
    __tablename__ = "channel_identity"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    external_id: str = Field(max_length=128)
    participant_id: int | None = Field(default=None, foreign_key="participant.id", index=True)
    staff_id: int | None = Field(default=None, foreign_key="staff_member.id", index=True)
    linked_at: datetime = _when()
    unreachable: bool = Field(default=False)


class InviteCodeRow(SQLModel, table=True):
    __tablename__ = "invite_code"

    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(max_length=64, unique=True)
    participant_id: int | None = Field(default=None, foreign_key="participant.id", index=True)
    staff_id: int | None = Field(default=None, foreign_key="staff_member.id", index=True)
    created_at: datetime = _when()
    expires_at: datetime = _when()
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ConsentRow(SQLModel, table=True):
    """Append-only: the latest row per (participant, purpose) is in force; history stays for audit."""

    __tablename__ = "consent"

    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    purpose: str = Field(max_length=32)
    granted: bool
    text_version: str = Field(max_length=32)
    recorded_at: datetime = _when()


class ConversationStateRow(SQLModel, table=True):
    """Where a linked chat is in a flow and which buttons it was last offered (anything else is stale)."""

    __tablename__ = "conversation_state"

    id: int | None = Field(default=None, primary_key=True)
    identity_id: int = Field(foreign_key="channel_identity.id", unique=True)
    flow: str = Field(default="menu", max_length=32)
    step: str = Field(default="", max_length=32)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    offered: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    offered_labels: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]"))
    updated_at: datetime = _when()


class AuditEventRow(SQLModel, table=True):
    """Who did what to which record, when; never message content."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    actor_type: str = Field(max_length=16)
    actor_id: int | None = Field(default=None)
    action: str = Field(max_length=48)
    subject_type: str | None = Field(default=None, max_length=16)
    subject_id: int | None = Field(default=None)
    outcome: str = Field(max_length=16)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class LinkFailureRow(SQLModel, table=True):
    """A wrong code from an unlinked chat, keyed by a keyed hash of the chat (no platform id stored)."""

    __tablename__ = "link_failure"

    id: int | None = Field(default=None, primary_key=True)
    chat_key: str = Field(max_length=64, index=True)
    at: datetime = _when()


class ChatLockoutRow(SQLModel, table=True):
    __tablename__ = "chat_lockout"

    chat_key: str = Field(max_length=64, primary_key=True)
    until: datetime = _when()


class GroupNoticeRow(SQLModel, table=True):
    """Remembers that a group was told once that the bot works in private chats; a keyed hash, nothing else."""

    __tablename__ = "group_notice"

    chat_key: str = Field(max_length=64, primary_key=True)
    at: datetime = _when()


class InboundUpdateRow(SQLModel, table=True):
    """A platform update seen once: redeliveries are not processed again, and replies not yet delivered are kept
    (encrypted) so a redelivery after a crash can still send them."""

    __tablename__ = "inbound_update"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=96, unique=True)
    received_at: datetime = Field(sa_type=UTCDateTime, index=True)
    replies_enc: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    replied_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
