"""Key rotation: the keys that wrote here (with a canary each) and where a rotation's audit re-keying stands. Two
new tables; nothing existing changes (values already stored stay `v2:` and open with any configured key).

Revision ID: f15d4e5f6a73
Revises: e12a7b8c9d94
Create Date: 2026-12-03 10:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f15d4e5f6a73"
down_revision: str | None = "e12a7b8c9d94"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "encryption_key",
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("canary", sa.Text(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_encryption_key")),
    )
    op.create_table(
        "key_rotation",
        sa.Column("part", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("old_link", sa.String(length=64), nullable=False),
        sa.Column("new_link", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("part", name=op.f("pk_key_rotation")),
    )


def downgrade() -> None:
    op.drop_table("key_rotation")
    op.drop_table("encryption_key")
