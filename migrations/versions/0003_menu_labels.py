"""Menu labels in the conversation state, so a typed "2" or an option's words choose from the last menu.

Revision ID: 5b1f0c2a9d47
Revises: 14db8d2f9dbe
Create Date: 2026-11-23 10:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b1f0c2a9d47"
down_revision: str | None = "14db8d2f9dbe"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversation_state") as batch:
        batch.add_column(sa.Column("offered_labels", sa.JSON(), server_default="[]", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("conversation_state") as batch:
        batch.drop_column("offered_labels")
