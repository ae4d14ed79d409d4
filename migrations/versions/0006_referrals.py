"""Referrals routed to a counselling point: who took one and when (accepted, first reply, closed), the outcome, the
counsellor"s private note, the status history; a counsellor"s duty switch.

Revision ID: 8e4f0a6c3d25
Revises: 7d3e9f5b2c14
Create Date: 2026-11-30 02:33:29.745176
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "8e4f0a6c3d25"
down_revision: str | None = "7d3e9f5b2c14"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "referral_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("actor_type", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["referral_id"], ["referral.id"], name=op.f("fk_referral_event_referral_id_referral")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_event")),
    )
    op.create_index(op.f("ix_referral_event_referral_id"), "referral_event", ["referral_id"], unique=False)
    with op.batch_alter_table("referral") as batch:
        batch.add_column(sa.Column("point_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("counsellor_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("first_reply_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("outcome", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("note_enc", sa.Text(), nullable=True))
        batch.create_index(op.f("ix_referral_point_id"), ["point_id"], unique=False)
        batch.create_foreign_key(
            op.f("fk_referral_counsellor_id_staff_member"), "staff_member", ["counsellor_id"], ["id"]
        )
        batch.create_foreign_key(
            op.f("fk_referral_point_id_counselling_point"), "counselling_point", ["point_id"], ["id"]
        )
    with op.batch_alter_table("staff_member") as batch:
        batch.add_column(sa.Column("on_duty", sa.Boolean(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("staff_member") as batch:
        batch.drop_column("on_duty")
    with op.batch_alter_table("referral") as batch:
        batch.drop_constraint(op.f("fk_referral_point_id_counselling_point"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_referral_counsellor_id_staff_member"), type_="foreignkey")
        batch.drop_index(op.f("ix_referral_point_id"))
        batch.drop_column("note_enc")
        batch.drop_column("outcome")
        batch.drop_column("closed_at")
        batch.drop_column("first_reply_at")
        batch.drop_column("accepted_at")
        batch.drop_column("counsellor_id")
        batch.drop_column("point_id")
    op.drop_index(op.f("ix_referral_event_referral_id"), table_name="referral_event")
    op.drop_table("referral_event")
