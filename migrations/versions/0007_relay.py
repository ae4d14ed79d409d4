"""The conversation between a person and a counsellor through the bot: its messages (encrypted), when it started and
ended (referrals made before have neither, so none becomes a conversation by this upgrade);
referral history statuses up to 24 characters.

Revision ID: 9f5a1b7d4e36
Revises: 8e4f0a6c3d25
Create Date: 2026-11-30 03:41:21.563684
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "9f5a1b7d4e36"
down_revision: str | None = "8e4f0a6c3d25"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "relay_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=12), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("body_enc", sa.Text(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participant.id"], name=op.f("fk_relay_message_participant_id_participant")
        ),
        sa.ForeignKeyConstraint(["referral_id"], ["referral.id"], name=op.f("fk_relay_message_referral_id_referral")),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_member.id"], name=op.f("fk_relay_message_staff_id_staff_member")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relay_message")),
    )
    op.create_index(op.f("ix_relay_message_participant_id"), "relay_message", ["participant_id"], unique=False)
    op.create_index(op.f("ix_relay_message_referral_id"), "relay_message", ["referral_id"], unique=False)
    with op.batch_alter_table("referral") as batch:
        batch.add_column(sa.Column("relay_started_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("relay_ended_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("referral_event") as batch:  # "closed:no_contact" did not fit in 16
        batch.alter_column("status", existing_type=sa.String(length=16), type_=sa.String(length=24))


def downgrade() -> None:
    with op.batch_alter_table("referral_event") as batch:
        batch.alter_column("status", existing_type=sa.String(length=24), type_=sa.String(length=16))
    with op.batch_alter_table("referral") as batch:
        batch.drop_column("relay_ended_at")
        batch.drop_column("relay_started_at")
    op.drop_index(op.f("ix_relay_message_referral_id"), table_name="relay_message")
    op.drop_index(op.f("ix_relay_message_participant_id"), table_name="relay_message")
    op.drop_table("relay_message")
