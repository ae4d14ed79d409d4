"""Cadre workspace: in-person checks, test results, observations, quarterly reviews, field reports, transfers;
an escalation"s note of what was done.

Revision ID: 7d3e9f5b2c14
Revises: 6c2d8e4f1a03
Create Date: 2026-11-30 01:10:08.185992
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "7d3e9f5b2c14"
down_revision: str | None = "6c2d8e4f1a03"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "field_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("details_enc", sa.Text(), nullable=False),
        sa.Column("reported_by", sa.Integer(), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["staff_member.id"], name=op.f("fk_field_report_decided_by_staff_member")
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participant.id"], name=op.f("fk_field_report_participant_id_participant")
        ),
        sa.ForeignKeyConstraint(
            ["reported_by"], ["staff_member.id"], name=op.f("fk_field_report_reported_by_staff_member")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_field_report_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_field_report")),
    )
    op.create_index(op.f("ix_field_report_participant_id"), "field_report", ["participant_id"], unique=False)
    op.create_index(op.f("ix_field_report_unit_id"), "field_report", ["unit_id"], unique=False)
    op.create_table(
        "in_person_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason_enc", sa.Text(), nullable=True),
        sa.Column("checked_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participant.id"], name=op.f("fk_in_person_check_participant_id_participant")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["staff_member.id"], name=op.f("fk_in_person_check_recorded_by_staff_member")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_in_person_check")),
        sa.UniqueConstraint("participant_id", "month", name=op.f("uq_in_person_check_participant_id_month")),
    )
    op.create_table(
        "observation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("body_enc", sa.Text(), nullable=False),
        sa.Column("risk_flag", sa.Boolean(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participant.id"], name=op.f("fk_observation_participant_id_participant")
        ),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_member.id"], name=op.f("fk_observation_staff_id_staff_member")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observation")),
    )
    op.create_index(op.f("ix_observation_participant_id"), "observation", ["participant_id"], unique=False)
    op.create_table(
        "quarterly_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.String(length=7), nullable=False),
        sa.Column("cadre_id", sa.Integer(), nullable=False),
        sa.Column("assessment_enc", sa.Text(), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cadre_id"], ["staff_member.id"], name=op.f("fk_quarterly_review_cadre_id_staff_member")
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participant.id"], name=op.f("fk_quarterly_review_participant_id_participant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarterly_review")),
        sa.UniqueConstraint("participant_id", "quarter", name=op.f("uq_quarterly_review_participant_id_quarter")),
    )
    op.create_table(
        "transfer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("from_unit_id", sa.Integer(), nullable=False),
        sa.Column("to_unit_id", sa.Integer(), nullable=False),
        sa.Column("moved_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["staff_member.id"], name=op.f("fk_transfer_created_by_staff_member")),
        sa.ForeignKeyConstraint(["decided_by"], ["staff_member.id"], name=op.f("fk_transfer_decided_by_staff_member")),
        sa.ForeignKeyConstraint(["from_unit_id"], ["unit.id"], name=op.f("fk_transfer_from_unit_id_unit")),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participant.id"], name=op.f("fk_transfer_participant_id_participant")
        ),
        sa.ForeignKeyConstraint(["to_unit_id"], ["unit.id"], name=op.f("fk_transfer_to_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfer")),
    )
    op.create_index(op.f("ix_transfer_participant_id"), "transfer", ["participant_id"], unique=False)
    op.create_index(op.f("ix_transfer_to_unit_id"), "transfer", ["to_unit_id"], unique=False)
    op.create_table(
        "test_result",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("obligation_id", sa.Integer(), nullable=True),
        sa.Column("result_enc", sa.Text(), nullable=False),
        sa.Column("taken_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["obligation_id"], ["obligation.id"], name=op.f("fk_test_result_obligation_id_obligation")
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participant.id"], name=op.f("fk_test_result_participant_id_participant")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["staff_member.id"], name=op.f("fk_test_result_recorded_by_staff_member")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_test_result")),
    )
    op.create_index(op.f("ix_test_result_participant_id"), "test_result", ["participant_id"], unique=False)
    with op.batch_alter_table("escalation") as batch:
        batch.add_column(sa.Column("note_enc", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("escalation") as batch:
        batch.drop_column("note_enc")
    op.drop_index(op.f("ix_test_result_participant_id"), table_name="test_result")
    op.drop_table("test_result")
    op.drop_index(op.f("ix_transfer_to_unit_id"), table_name="transfer")
    op.drop_index(op.f("ix_transfer_participant_id"), table_name="transfer")
    op.drop_table("transfer")
    op.drop_table("quarterly_review")
    op.drop_index(op.f("ix_observation_participant_id"), table_name="observation")
    op.drop_table("observation")
    op.drop_table("in_person_check")
    op.drop_index(op.f("ix_field_report_unit_id"), table_name="field_report")
    op.drop_index(op.f("ix_field_report_participant_id"), table_name="field_report")
    op.drop_table("field_report")
