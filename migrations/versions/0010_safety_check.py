"""The safety check: "are you safe?" asked after a message the crisis check was unsure about, open until the person
answers, a crisis message overtakes it or the wait runs out (then it escalates like a crisis). No words are kept.

Revision ID: c10e4f5a6b72
Revises: b09d2e3f4a51
Create Date: 2026-12-04 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c10e4f5a6b72"
down_revision: str | None = "b09d2e3f4a51"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "safety_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("open_for", sa.Integer(), nullable=True),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=8), nullable=True),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participant.id"], name=op.f("fk_safety_check_participant_id_participant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_check")),
        sa.UniqueConstraint("open_for", name=op.f("uq_safety_check_open_for")),
    )
    op.create_index(op.f("ix_safety_check_participant_id"), "safety_check", ["participant_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_safety_check_participant_id"), table_name="safety_check")
    op.drop_table("safety_check")
