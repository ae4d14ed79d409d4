"""Reports: a province's own targets for the plans' indicators, the number of people the rehabilitation facilities
handed over to a commune (the 'managed' indicator's denominator), and settled months' figures per commune (a trend's
points, counts only). Three new tables; nothing existing changes.

Revision ID: e12a7b8c9d94
Revises: d11f5a6b7c83
Create Date: 2026-12-03 07:44:07.898533
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e12a7b8c9d94"
down_revision: str | None = "d11f5a6b7c83"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "handover_count",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("set_by", sa.Integer(), nullable=True),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["set_by"], ["staff_member.id"], name=op.f("fk_handover_count_set_by_staff_member")),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_handover_count_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handover_count")),
        sa.UniqueConstraint("unit_id", "month", name=op.f("uq_handover_count_unit_id_month")),
    )
    op.create_table(
        "indicator_target",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("indicator", sa.String(length=32), nullable=False),
        sa.Column("target", sa.Float(), nullable=True),
        sa.Column("set_by", sa.Integer(), nullable=True),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["set_by"], ["staff_member.id"], name=op.f("fk_indicator_target_set_by_staff_member")),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_indicator_target_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_target")),
        sa.UniqueConstraint("unit_id", "indicator", name=op.f("uq_indicator_target_unit_id_indicator")),
    )
    op.create_table(
        "report_month",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_report_month_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_month")),
        sa.UniqueConstraint("unit_id", "month", name=op.f("uq_report_month_unit_id_month")),
    )


def downgrade() -> None:
    op.drop_table("report_month")
    op.drop_table("indicator_target")
    op.drop_table("handover_count")
