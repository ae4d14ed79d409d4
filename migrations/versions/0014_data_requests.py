"""A person's requests about their own data (a copy, a correction): one new table; nothing existing changes.

Revision ID: f14c3d4e5f62
Revises: f15d4e5f6a73
Create Date: 2026-12-03 10:35:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f14c3d4e5f62"
down_revision: str | None = "f15d4e5f6a73"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "data_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("text_enc", sa.Text(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("overdue_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("link_hash", sa.String(length=64), nullable=True),
        sa.Column("link_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("link_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["staff_member.id"], name=op.f("fk_data_request_decided_by_staff_member")
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participant.id"], name=op.f("fk_data_request_participant_id_participant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_request")),
        sa.UniqueConstraint("link_hash", name=op.f("uq_data_request_link_hash")),
    )
    op.create_index(op.f("ix_data_request_participant_id"), "data_request", ["participant_id"], unique=False)
    op.create_index(op.f("ix_data_request_status"), "data_request", ["status"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_data_request_status"), table_name="data_request")
    op.drop_index(op.f("ix_data_request_participant_id"), table_name="data_request")
    op.drop_table("data_request")
