"""The staff console: one-time login links and server-side sessions, the admins' second factor, and the commune
register's fields of a person (Mẫu 52: year of birth, sex, address, phone, decision number and date; the national ID's
keyed hash for finding duplicates). Existing rows keep everything; the new fields start empty.

Revision ID: d11f5a6b7c83
Revises: c10e4f5a6b72
Create Date: 2026-12-02 20:01:29.964202
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d11f5a6b7c83"
down_revision: str | None = "c10e4f5a6b72"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "console_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("second_factor_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_reason", sa.String(length=24), nullable=True),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_member.id"], name=op.f("fk_console_session_staff_id_staff_member")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_console_session_token_hash")),
    )
    op.create_index(op.f("ix_console_session_staff_id"), "console_session", ["staff_id"], unique=False)
    op.create_table(
        "login_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_member.id"], name=op.f("fk_login_link_staff_id_staff_member")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_link")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_login_link_token_hash")),
    )
    op.create_index(op.f("ix_login_link_staff_id"), "login_link", ["staff_id"], unique=False)
    with op.batch_alter_table("participant") as batch_op:
        batch_op.add_column(sa.Column("birth_year", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("sex", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("address_enc", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("phone_enc", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("decision_no_enc", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("decision_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("national_id_key", sa.String(length=64), nullable=True))
    op.create_index(op.f("ix_participant_national_id_key"), "participant", ["national_id_key"], unique=False)
    with op.batch_alter_table("staff_member") as batch_op:
        batch_op.add_column(sa.Column("totp_secret_enc", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+): a batch copy of `participant` would break the rows that point at it.
    op.drop_column("staff_member", "totp_last_step")
    op.drop_column("staff_member", "totp_secret_enc")
    op.drop_index(op.f("ix_participant_national_id_key"), table_name="participant")
    for column in ("national_id_key", "decision_date", "decision_no_enc", "phone_enc", "address_enc", "sex", "birth_year"):
        op.drop_column("participant", column)
    op.drop_index(op.f("ix_login_link_staff_id"), table_name="login_link")
    op.drop_table("login_link")
    op.drop_index(op.f("ix_console_session_staff_id"), table_name="console_session")
    op.drop_table("console_session")
