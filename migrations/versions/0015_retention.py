"""Retention: the day a person left the list (`participant.left_on`, backfilled from the completion day or, for
people moved out, the day their row last changed), when staff were deactivated and purged, the audit entries'
redaction MAC, and the anonymous rows the reports keep of purged people (`anonymous_person`, `anonymous_fact`).

Revision ID: f13b2c3d4e51
Revises: f14c3d4e5f62
Create Date: 2026-12-03 10:30:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "f13b2c3d4e51"
down_revision: str | None = "f14c3d4e5f62"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("participant") as batch:
        batch.add_column(sa.Column("left_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("retain_from", sa.Date(), nullable=True))
        batch.create_index(batch.f("ix_participant_left_on"), ["left_on"], unique=False)
        batch.create_index(batch.f("ix_participant_retain_from"), ["retain_from"], unique=False)
    with op.batch_alter_table("staff_member") as batch:
        batch.add_column(sa.Column("deactivated_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("audit_event") as batch:
        batch.add_column(sa.Column("redaction_mac", sa.String(length=64), nullable=True))
        # the purge's redaction finds a person's entries by these, not by reading the whole log
        batch.create_index("ix_audit_event_subject", ["subject_type", "subject_id"], unique=False)
        batch.create_index("ix_audit_event_actor", ["actor_type", "actor_id"], unique=False)
    # the purge deletes a person's obligations: without these, each delete scans every test result and alert for the
    # rows that point at it (the foreign keys' checks)
    op.create_index(op.f("ix_test_result_obligation_id"), "test_result", ["obligation_id"], unique=False)
    op.create_index(op.f("ix_escalation_obligation_id"), "escalation", ["obligation_id"], unique=False)
    op.create_table(
        "anonymous_person",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("term_start", sa.Date(), nullable=False),
        sa.Column("expected_end", sa.Date(), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("left_on", sa.Date(), nullable=True),
        sa.Column("chats_linked", sa.Integer(), nullable=False),
        sa.Column("chats_unreachable", sa.Integer(), nullable=False),
        sa.Column("last_entry_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("purged_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_anonymous_person_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_anonymous_person")),
    )
    op.create_index(op.f("ix_anonymous_person_unit_id"), "anonymous_person", ["unit_id"], unique=False)
    op.create_table(
        "anonymous_fact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("category", sa.String(length=24), nullable=True),
        sa.Column("label", sa.String(length=16), nullable=True),
        sa.Column("flag", sa.Boolean(), nullable=False),
        sa.Column("minutes", sa.Float(), nullable=True),
        sa.Column("from_unit", sa.Integer(), nullable=True),
        sa.Column("to_unit", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["anonymous_person.id"], name=op.f("fk_anonymous_fact_person_id_anonymous_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_anonymous_fact")),
    )
    op.create_index(op.f("ix_anonymous_fact_person_id"), "anonymous_fact", ["person_id"], unique=False)
    op.create_index("ix_anonymous_fact_kind_day", "anonymous_fact", ["kind", "day"], unique=False)

    participant = sa.table(
        "participant",
        sa.column("status", sa.String),
        sa.column("completed_on", sa.Date),
        sa.column("updated_at", sa.DateTime),
        sa.column("left_on", sa.Date),
        sa.column("retain_from", sa.Date),
    )
    op.execute(
        participant.update().where(participant.c.status == "completed").values(left_on=participant.c.completed_on)
    )
    op.execute(
        participant.update()
        .where(participant.c.status == "transferred")
        .values(left_on=sa.func.date(participant.c.updated_at))
    )
    # Retention counts from the later of leaving and the day it was recorded (the row's last change): a completion
    # recorded long after the term ended is not purged at the first run after the upgrade.
    recorded = sa.func.date(participant.c.updated_at)
    left = sa.func.coalesce(participant.c.left_on, participant.c.completed_on)
    op.execute(
        participant.update()
        .where(participant.c.status.in_(("completed", "transferred", "removed")), left.is_not(None))
        .values(retain_from=sa.case((left >= recorded, left), else_=recorded))
    )
    staff = sa.table(
        "staff_member", sa.column("active", sa.Boolean), sa.column("deactivated_at", sa.DateTime(timezone=True))
    )
    op.execute(staff.update().where(staff.c.active == sa.false()).values(deactivated_at=datetime.now(UTC)))


def downgrade() -> None:
    op.drop_index(op.f("ix_escalation_obligation_id"), table_name="escalation")
    op.drop_index(op.f("ix_test_result_obligation_id"), table_name="test_result")
    op.drop_index("ix_anonymous_fact_kind_day", table_name="anonymous_fact")
    op.drop_index(op.f("ix_anonymous_fact_person_id"), table_name="anonymous_fact")
    op.drop_table("anonymous_fact")
    op.drop_index(op.f("ix_anonymous_person_unit_id"), table_name="anonymous_person")
    op.drop_table("anonymous_person")
    # Plain DROP COLUMN (SQLite >= 3.35 has it): a batch's table copy would drop tables other rows point at.
    op.drop_index(op.f("ix_participant_left_on"), table_name="participant")
    op.drop_index(op.f("ix_participant_retain_from"), table_name="participant")
    op.drop_index("ix_audit_event_actor", table_name="audit_event")
    op.drop_index("ix_audit_event_subject", table_name="audit_event")
    for table, column in (
        ("audit_event", "redaction_mac"),
        ("staff_member", "purged_at"),
        ("staff_member", "deactivated_at"),
        ("participant", "retain_from"),
        ("participant", "left_on"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
