"""Direct sends: how many replies each second went straight to people (not through the outbox), per channel, so
the one process sending the outbox keeps the bot's total under the platform's rate (bot/scheduler/budget.py).
UNLOGGED on PostgreSQL (no WAL: a count lost in a crash is worthless a minute later); a plain table on SQLite.

Revision ID: e16a4b5c6d73
Revises: f13b2c3d4e51
Create Date: 2026-12-03 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e16a4b5c6d73"
down_revision: str | None = "f13b2c3d4e51"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    unlogged = ["UNLOGGED"] if op.get_bind().dialect.name == "postgresql" else []
    op.create_table(
        "direct_send",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("second", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("channel", "second", name=op.f("pk_direct_send")),
        prefixes=unlogged,
    )


def downgrade() -> None:
    op.drop_table("direct_send")
