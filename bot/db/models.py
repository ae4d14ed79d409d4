"""Tables. Chat platform ids live only in `channel_identity`, hashed and sealed; sensitive fields only as ciphertext
(`*_enc`) sealed for their table, column and row (bot/db/crypto.py)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Text, UniqueConstraint
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
    checkin_due_day: int = Field(default=10, sa_column_kwargs={"server_default": "10"})
    test_place: str = Field(default="", max_length=300, sa_column_kwargs={"server_default": ""})
    test_hours: str = Field(default="", max_length=100, sa_column_kwargs={"server_default": ""})
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
    on_duty: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})  # counsellors: taking referrals now
    created_at: datetime = _when()
    # The console's second factor (admins): the TOTP secret, sealed, and the last time step accepted (never twice).
    totp_secret_enc: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    totp_last_step: int | None = Field(default=None)
    # Retention (bot/services/retention.py): when the member was deactivated, and when their personal data went.
    deactivated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    purged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


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
    reminder_hour: int = Field(default=8, sa_column_kwargs={"server_default": "8"})
    completed_on: date | None = Field(default=None)
    # The day the person left the list (completed, moved out of the province, removed): retention counts from it.
    left_on: date | None = Field(default=None, index=True)
    # Retention counts from here: the later of `left_on` and the local day the departure was recorded (a departure
    # backdated by a year is not purged at the next run). Reports keep going by `left_on` / `completed_on`.
    retain_from: date | None = Field(default=None, index=True)
    created_at: datetime = _when()
    updated_at: datetime = _when()
    # The commune's register (Mẫu 52). Address, phone and the decision's number are sealed like the name; the national
    # ID also has a keyed hash so a duplicate is found without opening every row.
    birth_year: int | None = Field(default=None)
    sex: str | None = Field(default=None, max_length=8)
    address_enc: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    phone_enc: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    decision_no_enc: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    decision_date: date | None = Field(default=None)
    national_id_key: str | None = Field(default=None, max_length=64, index=True)


class ChannelIdentityRow(SQLModel, table=True):
    """A linked chat. The platform's account id is never in the clear: `chat_key` is its keyed hash (found by it),
    `external_id_enc` the id sealed for this row and person (read to write to the chat); see bot/db/crypto.py."""

    __tablename__ = "channel_identity"
    __table_args__ = (UniqueConstraint("channel", "chat_key"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    chat_key: str = Field(max_length=64)
    external_id_enc: str = Field(sa_column=Column(Text, nullable=False))
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
    __table_args__ = (
        # the retention purge finds a person's entries (as subject or actor) by these
        Index("ix_audit_event_subject", "subject_type", "subject_id"),
        Index("ix_audit_event_actor", "actor_type", "actor_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    actor_type: str = Field(max_length=16)
    actor_id: int | None = Field(default=None)
    action: str = Field(max_length=48)
    subject_type: str | None = Field(default=None, max_length=16)
    subject_id: int | None = Field(default=None)
    outcome: str = Field(max_length=16)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Tamper evidence (bot/db/audit_mac.py): a keyed MAC of the entry written with it; a sequence number and a chain
    # hash to the previous entry given later by the sealer (bot/services/audit_chain.py).
    entry_mac: str | None = Field(default=None, max_length=64)
    seq: int | None = Field(default=None, unique=True)
    chain: str | None = Field(default=None, max_length=64)
    # Set when the retention purge rewrote the subject to an anonymous id: a keyed MAC over the original entry MAC and
    # the content as it now stands (bot/db/audit_mac.py `redaction_mac`); the chain still binds `entry_mac`.
    redaction_mac: str | None = Field(default=None, max_length=64)


class EncryptionKeyRow(SQLModel, table=True):
    """Each master key that has written here, by its public key id, with a canary sealed under it: at start-up the
    configured keys are checked against this list, so a wrong key is refused at once (bot/services/keys.py)."""

    __tablename__ = "encryption_key"

    key_id: str = Field(primary_key=True, max_length=16)
    canary: str = Field(sa_type=Text)
    added_at: datetime = _when()
    retired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class KeyRotationRow(SQLModel, table=True):
    """Where a key rotation's ordered part stands (the audit chain re-made under the new key): the last entry done
    and the old and new links at that point, updated in the same transaction as each batch, so a crash resumes."""

    __tablename__ = "key_rotation"

    part: str = Field(primary_key=True, max_length=64)
    key_id: str = Field(max_length=16)
    position: int = Field(default=0)
    old_link: str = Field(max_length=64)
    new_link: str = Field(max_length=64)


class AuditChainHeadRow(SQLModel, table=True):
    """The one row naming the last sealed audit entry: sealers lock it (one chain, never a fork), and verification
    compares the chain's end with it (entries cut off the end are noticed)."""

    __tablename__ = "audit_chain_head"

    id: int = Field(default=1, primary_key=True)
    seq: int = Field(default=0)
    chain: str = Field(max_length=64)
    # Entries written before the chain existed, sealed without a MAC of their own when the migration had no key.
    legacy_upto: int = Field(default=0)


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
    # Keyed hash of the chat the update came from: redelivered replies go back only to it; per-chat inbound limits.
    chat_key: str | None = Field(default=None, max_length=64, index=True)
    received_at: datetime = Field(sa_type=UTCDateTime, index=True)
    replies_enc: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    replied_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ObligationRow(SQLModel, table=True):
    """Something a participant is due to do on a day: a monthly check-in, a periodic or a random test.

    `key` makes planning idempotent (a second planner inserts nothing); a random test's row is its audit trail."""

    __tablename__ = "obligation"
    __table_args__ = (Index("ix_obligation_participant_due", "participant_id", "due_on"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64, unique=True)
    participant_id: int = Field(foreign_key="participant.id")
    kind: str = Field(max_length=16)
    due_on: date = Field(index=True)
    status: str = Field(default="pending", max_length=12)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = _when()


class CheckinRow(SQLModel, table=True):
    """A monthly self-report, saved after every answer so it can be resumed; answers only as ciphertext."""

    __tablename__ = "checkin_response"

    id: int | None = Field(default=None, primary_key=True)
    obligation_id: int = Field(foreign_key="obligation.id", unique=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    answers_enc: str = Field(sa_column=Column(Text, nullable=False))
    risky: bool = Field(default=False)
    started_at: datetime = _when()
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AbsenceRow(SQLModel, table=True):
    """Time away from the place of residence; unreported days do not count toward the term (Decree 116 Art. 79)."""

    __tablename__ = "absence"

    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    starts_on: date
    ends_on: date
    reported: bool
    reason_enc: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    recorded_by: int | None = Field(default=None, foreign_key="staff_member.id")
    recorded_at: datetime = _when()


class EscalationRow(SQLModel, table=True):
    """A problem a person must act on; the officer hears of it when nobody acknowledged it in time."""

    __tablename__ = "escalation"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64, unique=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    kind: str = Field(max_length=24)
    obligation_id: int | None = Field(default=None, foreign_key="obligation.id", index=True)
    cadre_id: int | None = Field(default=None, foreign_key="staff_member.id")
    raised_at: datetime = _when()
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    acknowledged_by: int | None = Field(default=None, foreign_key="staff_member.id")
    officer_notified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    note_enc: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # what was done, encrypted


class ReferralRow(SQLModel, table=True):
    """A request for help; the help issue routes it to a counselling point. Here it is recorded and the cadre told."""

    __tablename__ = "referral"

    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    kind: str = Field(max_length=24)
    urgency: str = Field(default="normal", max_length=12)
    status: str = Field(default="requested", max_length=16)
    source: str = Field(max_length=24)
    created_at: datetime = _when()
    point_id: int | None = Field(default=None, foreign_key="counselling_point.id", index=True)
    counsellor_id: int | None = Field(default=None, foreign_key="staff_member.id")
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    first_reply_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    outcome: str | None = Field(default=None, max_length=16)
    note_enc: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # the counsellor's, private
    # the conversation through the bot: started when the person asks to talk (or a counsellor takes a crisis referral)
    relay_started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    relay_ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RelayMessageRow(SQLModel, table=True):
    """One message of a conversation between a person and a counsellor through the bot; the words only encrypted.
    The outbox carries its id, never its text, and it goes when the person's records are purged."""

    __tablename__ = "relay_message"

    id: int | None = Field(default=None, primary_key=True)
    referral_id: int = Field(foreign_key="referral.id", index=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    sender: str = Field(max_length=12)  # participant | counsellor
    staff_id: int | None = Field(default=None, foreign_key="staff_member.id")
    body_enc: str = Field(sa_column=Column(Text, nullable=False))
    sent_at: datetime = _when()


class ReferralEventRow(SQLModel, table=True):
    """A referral's status history (requested, accepted, closed …), for reports: who, when; never content."""

    __tablename__ = "referral_event"

    id: int | None = Field(default=None, primary_key=True)
    referral_id: int = Field(foreign_key="referral.id", index=True)
    status: str = Field(max_length=24)  # requested, accepted, first_reply, relay_ended, closed:<outcome>
    actor_type: str = Field(max_length=16)
    actor_id: int | None = Field(default=None)
    at: datetime = _when()


class SafetyCheckRow(SQLModel, table=True):
    """The question "are you safe?", asked after a message the crisis check was unsure about, until the person
    answers, a crisis message overtakes it or the wait runs out. Only when and how it ended: never the words that set
    it off."""

    __tablename__ = "safety_check"

    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    # the participant's id while the check is open, NULL once closed: one open check per person, kept by the database
    open_for: int | None = Field(default=None, unique=True)
    asked_at: datetime = _when()
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    outcome: str | None = Field(default=None, max_length=8)  # ok | help | silent | crisis


class OutboxRow(SQLModel, table=True):
    """A message the system sends on its own. The text is rendered at send time (language, wording and facts as
    they are then); the row holds only references, never content."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_next", "status", "next_attempt_at"),
        # the planner's "this page's pending reminders" (SQLite otherwise scans every pending row for each page)
        Index("ix_outbox_participant_status", "participant_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=128, unique=True)
    kind: str = Field(max_length=24)
    participant_id: int | None = Field(default=None, foreign_key="participant.id")
    staff_id: int | None = Field(default=None, foreign_key="staff_member.id", index=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    urgent: bool = Field(default=False)
    due_at: datetime = _when()
    next_attempt_at: datetime = _when()
    status: str = Field(default="pending", max_length=16)
    attempts: int = Field(default=0)
    leased_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=64)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = _when()


class InPersonCheckRow(SQLModel, table=True):
    """The month's in-person check (kiểm diện) recorded by a cadre or officer; one per person and month (the latest
    record of the month stands)."""

    __tablename__ = "in_person_check"
    __table_args__ = (UniqueConstraint("participant_id", "month"),)

    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(foreign_key="participant.id")
    month: str = Field(max_length=7)  # "2026-12"
    outcome: str = Field(max_length=16)
    reason_enc: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    checked_on: date
    recorded_by: int = Field(foreign_key="staff_member.id")
    recorded_at: datetime = _when()


class TestResultRow(SQLModel, table=True):
    """A drug test result. The outcome, substance group and place are one ciphertext: nothing readable at rest."""

    __test__ = False  # not a pytest test class, despite its name

    __tablename__ = "test_result"

    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    obligation_id: int | None = Field(default=None, foreign_key="obligation.id", index=True)
    result_enc: str = Field(sa_column=Column(Text, nullable=False))
    taken_on: date
    recorded_by: int = Field(foreign_key="staff_member.id")
    recorded_at: datetime = _when()


class ObservationRow(SQLModel, table=True):
    """A cadre's note about a person: category and text encrypted together; only the risk flag is in the clear (it
    ranks the cadre's list)."""

    __tablename__ = "observation"

    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    staff_id: int = Field(foreign_key="staff_member.id")
    body_enc: str = Field(sa_column=Column(Text, nullable=False))
    risk_flag: bool = Field(default=False)
    recorded_at: datetime = _when()


class QuarterlyReviewRow(SQLModel, table=True):
    """The cadre's end-of-quarter assessment (kiểm điểm cuối quý); progress and comment encrypted."""

    __tablename__ = "quarterly_review"
    __table_args__ = (UniqueConstraint("participant_id", "quarter"),)

    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(foreign_key="participant.id")
    quarter: str = Field(max_length=7)  # "2026-Q4"
    cadre_id: int = Field(foreign_key="staff_member.id")
    assessment_enc: str = Field(sa_column=Column(Text, nullable=False))
    written_at: datetime = _when()


class FieldReportRow(SQLModel, table=True):
    """An absence or a move a cadre saw in the community, waiting for the officer to confirm it."""

    __tablename__ = "field_report"

    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    kind: str = Field(max_length=16)
    details_enc: str = Field(sa_column=Column(Text, nullable=False))
    reported_by: int = Field(foreign_key="staff_member.id")
    reported_at: datetime = _when()
    status: str = Field(default="pending", max_length=16)
    decided_by: int | None = Field(default=None, foreign_key="staff_member.id")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class TransferRow(SQLModel, table=True):
    """A move to another commune: the hand-over notice (Mẫu 53) goes to the receiving commune, and the record moves
    when its officer accepts."""

    __tablename__ = "transfer"

    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    from_unit_id: int = Field(foreign_key="unit.id")
    to_unit_id: int = Field(foreign_key="unit.id", index=True)
    moved_on: date
    status: str = Field(default="pending", max_length=16)
    created_by: int = Field(foreign_key="staff_member.id")
    created_at: datetime = _when()
    decided_by: int | None = Field(default=None, foreign_key="staff_member.id")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LoginLinkRow(SQLModel, table=True):
    """A one-time link into the console, sent through the bot or printed by the CLI: only its hash is kept."""

    __tablename__ = "login_link"

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff_member.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = _when()
    expires_at: datetime = _when()
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ConsoleSessionRow(SQLModel, table=True):
    """A signed-in browser: a server-side row (the cookie holds a random token, the row its hash), so it can be ended
    from anywhere — sign-out, a role or unit change, a deactivation."""

    __tablename__ = "console_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    staff_id: int = Field(foreign_key="staff_member.id", index=True)
    created_at: datetime = _when()
    last_seen_at: datetime = _when()
    expires_at: datetime = _when()  # the absolute lifetime; the idle timeout counts from last_seen_at
    second_factor_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_reason: str | None = Field(default=None, max_length=24)


class IndicatorTargetRow(SQLModel, table=True):
    """A province's own target for one of the plans' indicators (bot/domain/reports/indicators.py); absent, the
    plans' default holds. `target` NULL means the province set none."""

    __tablename__ = "indicator_target"
    __table_args__ = (UniqueConstraint("unit_id", "indicator"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id")
    indicator: str = Field(max_length=32)
    target: float | None = Field(default=None)
    set_by: int | None = Field(default=None, foreign_key="staff_member.id")
    set_at: datetime = _when()


class HandoverCountRow(SQLModel, table=True):
    """How many people the rehabilitation facilities handed over to a commune for management, as its officer knows
    at the end of a month: the denominator of the 'managed' indicator (the list cannot know who never reached it)."""

    __tablename__ = "handover_count"
    __table_args__ = (UniqueConstraint("unit_id", "month"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id")
    month: str = Field(max_length=7)  # "2026-11"
    people: int
    set_by: int | None = Field(default=None, foreign_key="staff_member.id")
    set_at: datetime = _when()


class ReportMonthRow(SQLModel, table=True):
    """A settled month's figures for one commune or province (bot/domain/reports/figures.py `Tally.dump`: counts, a
    province's people counted once across its communes; no ids), kept so a 12-month trend does not gather a year of
    records on every report. Written once a month is settled (`bot/services/reports.py` SETTLED_AFTER_DAYS); the
    month's own report is always computed afresh."""

    __tablename__ = "report_month"
    __table_args__ = (UniqueConstraint("unit_id", "month"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id")
    month: str = Field(max_length=7)
    figures: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    made_at: datetime = _when()


class DataRequestRow(SQLModel, table=True):
    """A person's request about their own data (Law 91/2025): a copy (delivered in the chat once the commune's officer
    approves it) or a correction (what is wrong, in their words, sealed). Who decided, when, and why not (a reason
    from a short list); for a copy sent as a link (Zalo, the simulator), only the hash of its one-time token."""

    __tablename__ = "data_request"

    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    kind: str = Field(max_length=16)  # copy | correction
    status: str = Field(default="pending", max_length=16, index=True)  # pending | approved | done | declined
    text_enc: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # a correction's words
    requested_at: datetime = _when()
    due_at: datetime = _when()
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by: int | None = Field(default=None, foreign_key="staff_member.id")
    reason: str | None = Field(default=None, max_length=32)  # why declined: a code of the short list
    overdue_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # the officers/admins were told once
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    link_hash: str | None = Field(default=None, max_length=64, unique=True)
    link_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    link_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AnonymousPersonRow(SQLModel, table=True):
    """What the reports keep of a purged person (bot/services/retention.py): a random negative id that no live id
    can take and nothing links to the old one, the term's dates, the commune at purge time and the chat counts."""

    __tablename__ = "anonymous_person"

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    unit_id: int = Field(foreign_key="unit.id", index=True)
    term_start: date
    expected_end: date
    completed_on: date | None = Field(default=None)
    left_on: date | None = Field(default=None)
    chats_linked: int = Field(default=0)
    chats_unreachable: int = Field(default=0)
    last_entry_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # a province's 'last entry' column
    purged_on: date


class AnonymousFactRow(SQLModel, table=True):
    """One nameless fact of a purged person, mirroring bot/domain/reports/facts.py: `kind` is move, absence, duty,
    in_person, result, request, crisis or review; the other columns as that kind needs them (local days)."""

    __tablename__ = "anonymous_fact"
    __table_args__ = (Index("ix_anonymous_fact_kind_day", "kind", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="anonymous_person.id", index=True)
    kind: str = Field(max_length=12)
    day: date  # moved, started, due, checked, taken, asked, raised on; a review: its quarter's last day
    until: date | None = Field(default=None)  # an absence's last day; a request's acceptance
    category: str | None = Field(default=None, max_length=24)  # duty kind, outcome, request kind, progress
    label: str | None = Field(default=None, max_length=16)  # duty status, request outcome, month, quarter
    flag: bool = Field(default=False)  # absence reported, check-in self-reported, test unannounced
    minutes: float | None = Field(default=None)  # a crisis: minutes to the first human answer
    from_unit: int | None = Field(default=None)  # a move
    to_unit: int | None = Field(default=None)


class DirectSendRow(SQLModel, table=True):
    """How many replies each process sent straight to people (not through the outbox) in one second, per channel:
    the outbox's sender spends only what is left of the platform's rate (bot/scheduler/budget.py). UNLOGGED on
    PostgreSQL: a count lost in a crash is worth nothing a minute later."""

    __tablename__ = "direct_send"

    channel: str = Field(primary_key=True, max_length=16)
    second: int = Field(primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False})
    sent: int = Field(default=0)
