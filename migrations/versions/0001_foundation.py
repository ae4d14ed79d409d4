"""Foundation: units, staff, counselling points, participants, identities, invites, consent, state, audit.

Revision ID: d24216558b34
Revises:
Create Date: 2026-11-23 09:09:05.933442
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'd24216558b34'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_type', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=48), nullable=False),
    sa.Column('subject_type', sa.String(length=16), nullable=True),
    sa.Column('subject_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    op.create_index(op.f('ix_audit_event_at'), 'audit_event', ['at'], unique=False)
    op.create_table('chat_lockout',
    sa.Column('chat_key', sa.String(length=64), nullable=False),
    sa.Column('until', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('chat_key', name=op.f('pk_chat_lockout'))
    )
    op.create_table('group_notice',
    sa.Column('chat_key', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('chat_key', name=op.f('pk_group_notice'))
    )
    op.create_table('link_failure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('chat_key', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_link_failure'))
    )
    op.create_index(op.f('ix_link_failure_chat_key'), 'link_failure', ['chat_key'], unique=False)
    op.create_table('unit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['unit.id'], name=op.f('fk_unit_parent_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit')),
    sa.UniqueConstraint('code', name=op.f('uq_unit_code'))
    )
    op.create_index(op.f('ix_unit_parent_id'), 'unit', ['parent_id'], unique=False)
    op.create_table('counselling_point',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('hours', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_counselling_point_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_counselling_point'))
    )
    op.create_index(op.f('ix_counselling_point_unit_id'), 'counselling_point', ['unit_id'], unique=False)
    op.create_table('staff_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('point_id', sa.Integer(), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['point_id'], ['counselling_point.id'], name=op.f('fk_staff_member_point_id_counselling_point')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_staff_member_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_member'))
    )
    op.create_index(op.f('ix_staff_member_unit_id'), 'staff_member', ['unit_id'], unique=False)
    op.create_table('participant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('name_enc', sa.Text(), nullable=False),
    sa.Column('national_id_enc', sa.Text(), nullable=True),
    sa.Column('term_start', sa.Date(), nullable=False),
    sa.Column('term_months', sa.Integer(), nullable=False),
    sa.Column('expected_end', sa.Date(), nullable=False),
    sa.Column('risk_level', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('cadre_id', sa.Integer(), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('wording', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cadre_id'], ['staff_member.id'], name=op.f('fk_participant_cadre_id_staff_member')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_participant_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participant'))
    )
    op.create_index(op.f('ix_participant_cadre_id'), 'participant', ['cadre_id'], unique=False)
    op.create_index(op.f('ix_participant_unit_id'), 'participant', ['unit_id'], unique=False)
    op.create_table('channel_identity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('external_id', sa.String(length=128), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=True),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('linked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('unreachable', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f('fk_channel_identity_participant_id_participant')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_member.id'], name=op.f('fk_channel_identity_staff_id_staff_member')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_identity')),
    sa.UniqueConstraint('channel', 'external_id', name=op.f('uq_channel_identity_channel_external_id'))
    )
    op.create_index(op.f('ix_channel_identity_participant_id'), 'channel_identity', ['participant_id'], unique=False)
    op.create_index(op.f('ix_channel_identity_staff_id'), 'channel_identity', ['staff_id'], unique=False)
    op.create_table('consent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('granted', sa.Boolean(), nullable=False),
    sa.Column('text_version', sa.String(length=32), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f('fk_consent_participant_id_participant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent'))
    )
    op.create_index(op.f('ix_consent_participant_id'), 'consent', ['participant_id'], unique=False)
    op.create_table('invite_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=True),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f('fk_invite_code_participant_id_participant')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_member.id'], name=op.f('fk_invite_code_staff_id_staff_member')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invite_code')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_invite_code_code_hash'))
    )
    op.create_index(op.f('ix_invite_code_participant_id'), 'invite_code', ['participant_id'], unique=False)
    op.create_index(op.f('ix_invite_code_staff_id'), 'invite_code', ['staff_id'], unique=False)
    op.create_table('conversation_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('identity_id', sa.Integer(), nullable=False),
    sa.Column('flow', sa.String(length=32), nullable=False),
    sa.Column('step', sa.String(length=32), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('offered', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['identity_id'], ['channel_identity.id'], name=op.f('fk_conversation_state_identity_id_channel_identity')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation_state')),
    sa.UniqueConstraint('identity_id', name=op.f('uq_conversation_state_identity_id'))
    )


def downgrade() -> None:
    op.drop_table('conversation_state')
    op.drop_index(op.f('ix_invite_code_staff_id'), table_name='invite_code')
    op.drop_index(op.f('ix_invite_code_participant_id'), table_name='invite_code')
    op.drop_table('invite_code')
    op.drop_index(op.f('ix_consent_participant_id'), table_name='consent')
    op.drop_table('consent')
    op.drop_index(op.f('ix_channel_identity_staff_id'), table_name='channel_identity')
    op.drop_index(op.f('ix_channel_identity_participant_id'), table_name='channel_identity')
    op.drop_table('channel_identity')
    op.drop_index(op.f('ix_participant_unit_id'), table_name='participant')
    op.drop_index(op.f('ix_participant_cadre_id'), table_name='participant')
    op.drop_table('participant')
    op.drop_index(op.f('ix_staff_member_unit_id'), table_name='staff_member')
    op.drop_table('staff_member')
    op.drop_index(op.f('ix_counselling_point_unit_id'), table_name='counselling_point')
    op.drop_table('counselling_point')
    op.drop_index(op.f('ix_unit_parent_id'), table_name='unit')
    op.drop_table('unit')
    op.drop_index(op.f('ix_link_failure_chat_key'), table_name='link_failure')
    op.drop_table('link_failure')
    op.drop_table('group_notice')
    op.drop_table('chat_lockout')
    op.drop_index(op.f('ix_audit_event_at'), table_name='audit_event')
    op.drop_table('audit_event')
