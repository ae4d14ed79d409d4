"""Schedule engine: obligations, check-in answers, absences, escalations, referrals and the outbox; a commune"s
due day and test place; a participant"s reminder hour and completion date.

Revision ID: 6c2d8e4f1a03
Revises: 5b1f0c2a9d47
Create Date: 2026-11-23 11:58:26.730378
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6c2d8e4f1a03"
down_revision: str | None = "5b1f0c2a9d47"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table("absence",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("participant_id", sa.Integer(), nullable=False),
    sa.Column("starts_on", sa.Date(), nullable=False),
    sa.Column("ends_on", sa.Date(), nullable=False),
    sa.Column("reported", sa.Boolean(), nullable=False),
    sa.Column("reason_enc", sa.Text(), nullable=True),
    sa.Column("recorded_by", sa.Integer(), nullable=True),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["participant_id"], ["participant.id"], name=op.f("fk_absence_participant_id_participant")),
    sa.ForeignKeyConstraint(["recorded_by"], ["staff_member.id"], name=op.f("fk_absence_recorded_by_staff_member")),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_absence"))
    )
    op.create_index(op.f("ix_absence_participant_id"), "absence", ["participant_id"], unique=False)
    op.create_table("obligation",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("key", sa.String(length=64), nullable=False),
    sa.Column("participant_id", sa.Integer(), nullable=False),
    sa.Column("kind", sa.String(length=16), nullable=False),
    sa.Column("due_on", sa.Date(), nullable=False),
    sa.Column("status", sa.String(length=12), nullable=False),
    sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["participant_id"], ["participant.id"], name=op.f("fk_obligation_participant_id_participant")),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_obligation")),
    sa.UniqueConstraint("key", name=op.f("uq_obligation_key"))
    )
    op.create_index(op.f("ix_obligation_due_on"), "obligation", ["due_on"], unique=False)
    op.create_index("ix_obligation_participant_due", "obligation", ["participant_id", "due_on"], unique=False)
    op.create_table("outbox",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("key", sa.String(length=128), nullable=False),
    sa.Column("kind", sa.String(length=24), nullable=False),
    sa.Column("participant_id", sa.Integer(), nullable=True),
    sa.Column("staff_id", sa.Integer(), nullable=True),
    sa.Column("payload", sa.JSON(), nullable=False),
    sa.Column("urgent", sa.Boolean(), nullable=False),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("status", sa.String(length=16), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("leased_until", sa.DateTime(timezone=True), nullable=True),
    sa.Column("last_error", sa.String(length=64), nullable=True),
    sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["participant_id"], ["participant.id"], name=op.f("fk_outbox_participant_id_participant")),
    sa.ForeignKeyConstraint(["staff_id"], ["staff_member.id"], name=op.f("fk_outbox_staff_id_staff_member")),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    sa.UniqueConstraint("key", name=op.f("uq_outbox_key"))
    )
    op.create_index("ix_outbox_participant_status", "outbox", ["participant_id", "status"], unique=False)
    op.create_index(op.f("ix_outbox_staff_id"), "outbox", ["staff_id"], unique=False)
    op.create_index("ix_outbox_status_next", "outbox", ["status", "next_attempt_at"], unique=False)
    op.create_table("referral",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("participant_id", sa.Integer(), nullable=False),
    sa.Column("kind", sa.String(length=24), nullable=False),
    sa.Column("urgency", sa.String(length=12), nullable=False),
    sa.Column("status", sa.String(length=16), nullable=False),
    sa.Column("source", sa.String(length=24), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["participant_id"], ["participant.id"], name=op.f("fk_referral_participant_id_participant")),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_referral"))
    )
    op.create_index(op.f("ix_referral_participant_id"), "referral", ["participant_id"], unique=False)
    op.create_table("checkin_response",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("obligation_id", sa.Integer(), nullable=False),
    sa.Column("participant_id", sa.Integer(), nullable=False),
    sa.Column("answers_enc", sa.Text(), nullable=False),
    sa.Column("risky", sa.Boolean(), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(["obligation_id"], ["obligation.id"], name=op.f("fk_checkin_response_obligation_id_obligation")),
    sa.ForeignKeyConstraint(["participant_id"], ["participant.id"], name=op.f("fk_checkin_response_participant_id_participant")),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_checkin_response")),
    sa.UniqueConstraint("obligation_id", name=op.f("uq_checkin_response_obligation_id"))
    )
    op.create_index(op.f("ix_checkin_response_participant_id"), "checkin_response", ["participant_id"], unique=False)
    op.create_table("escalation",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("key", sa.String(length=64), nullable=False),
    sa.Column("participant_id", sa.Integer(), nullable=False),
    sa.Column("unit_id", sa.Integer(), nullable=False),
    sa.Column("kind", sa.String(length=24), nullable=False),
    sa.Column("obligation_id", sa.Integer(), nullable=True),
    sa.Column("cadre_id", sa.Integer(), nullable=True),
    sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("acknowledged_by", sa.Integer(), nullable=True),
    sa.Column("officer_notified_at", sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(["acknowledged_by"], ["staff_member.id"], name=op.f("fk_escalation_acknowledged_by_staff_member")),
    sa.ForeignKeyConstraint(["cadre_id"], ["staff_member.id"], name=op.f("fk_escalation_cadre_id_staff_member")),
    sa.ForeignKeyConstraint(["obligation_id"], ["obligation.id"], name=op.f("fk_escalation_obligation_id_obligation")),
    sa.ForeignKeyConstraint(["participant_id"], ["participant.id"], name=op.f("fk_escalation_participant_id_participant")),
    sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_escalation_unit_id_unit")),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation")),
    sa.UniqueConstraint("key", name=op.f("uq_escalation_key"))
    )
    op.create_index(op.f("ix_escalation_participant_id"), "escalation", ["participant_id"], unique=False)
    op.create_index(op.f("ix_escalation_unit_id"), "escalation", ["unit_id"], unique=False)
    with op.batch_alter_table("participant") as batch:
        batch.add_column(sa.Column("reminder_hour", sa.Integer(), server_default="8", nullable=False))
        batch.add_column(sa.Column("completed_on", sa.Date(), nullable=True))
    with op.batch_alter_table("unit") as batch:
        batch.add_column(sa.Column("checkin_due_day", sa.Integer(), server_default="10", nullable=False))
        batch.add_column(sa.Column("test_place", sa.String(length=300), server_default="", nullable=False))
        batch.add_column(sa.Column("test_hours", sa.String(length=100), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("unit") as batch:
        batch.drop_column("test_hours")
        batch.drop_column("test_place")
        batch.drop_column("checkin_due_day")
    with op.batch_alter_table("participant") as batch:
        batch.drop_column("completed_on")
        batch.drop_column("reminder_hour")
    op.drop_index(op.f("ix_escalation_unit_id"), table_name="escalation")
    op.drop_index(op.f("ix_escalation_participant_id"), table_name="escalation")
    op.drop_table("escalation")
    op.drop_index(op.f("ix_checkin_response_participant_id"), table_name="checkin_response")
    op.drop_table("checkin_response")
    op.drop_index(op.f("ix_referral_participant_id"), table_name="referral")
    op.drop_table("referral")
    op.drop_index("ix_outbox_status_next", table_name="outbox")
    op.drop_index(op.f("ix_outbox_staff_id"), table_name="outbox")
    op.drop_index("ix_outbox_participant_status", table_name="outbox")
    op.drop_table("outbox")
    op.drop_index("ix_obligation_participant_due", table_name="obligation")
    op.drop_index(op.f("ix_obligation_due_on"), table_name="obligation")
    op.drop_table("obligation")
    op.drop_index(op.f("ix_absence_participant_id"), table_name="absence")
    op.drop_table("absence")
