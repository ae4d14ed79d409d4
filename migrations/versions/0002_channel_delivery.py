"""Channel delivery: dedupe of platform updates, with replies kept until they are delivered.

Revision ID: 14db8d2f9dbe
Revises: d24216558b34
Create Date: 2026-11-23 09:29:16.650842
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '14db8d2f9dbe'
down_revision: str | None = 'd24216558b34'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('inbound_update',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=96), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('replies_enc', sa.Text(), nullable=True),
    sa.Column('replied_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_update')),
    sa.UniqueConstraint('key', name=op.f('uq_inbound_update_key'))
    )
    op.create_index(op.f('ix_inbound_update_received_at'), 'inbound_update', ['received_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_inbound_update_received_at'), table_name='inbound_update')
    op.drop_table('inbound_update')
