"""devices, segments, campaigns, inbox, campaign offers

Revision ID: d7ef90c67173
Revises: b11b5f13be7e
Create Date: 2026-11-23 04:27:29.743353
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import infra.db


revision = 'd7ef90c67173'
down_revision = 'b11b5f13be7e'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('segments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.Column('created_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'], name=op.f('fk_segments_created_by_user_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_segments'))
    )
    op.create_table('bonus_audiences',
    sa.Column('rule_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_bonus_audiences_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['rule_id'], ['bonus_rules.id'], name=op.f('fk_bonus_audiences_rule_id_bonus_rules'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('rule_id', 'member_id', name=op.f('pk_bonus_audiences'))
    )
    op.create_table('campaigns',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('segment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('message', sa.JSON(), nullable=False),
    sa.Column('offer', sa.JSON(), nullable=True),
    sa.Column('bonus_rule_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('send_at', infra.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', infra.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', infra.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['bonus_rule_id'], ['bonus_rules.id'], name=op.f('fk_campaigns_bonus_rule_id_bonus_rules'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'], name=op.f('fk_campaigns_created_by_user_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['segment_id'], ['segments.id'], name=op.f('fk_campaigns_segment_id_segments'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns'))
    )
    op.create_table('devices',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('token', sa.String(length=4096), nullable=False),
    sa.Column('platform', sa.String(length=8), nullable=False),
    sa.Column('locale', sa.String(length=35), nullable=True),
    sa.Column('app_version', sa.String(length=32), nullable=True),
    sa.Column('created_at', infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("platform IN ('android', 'ios', 'web')", name=op.f('ck_devices_platform_known')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_devices_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_devices')),
    sa.UniqueConstraint('token', name=op.f('uq_devices_token'))
    )
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_devices_member_id'), ['member_id'], unique=False)

    op.create_table('notifications',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('campaign_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('deep_link', sa.String(length=500), nullable=True),
    sa.Column('image_url', sa.String(length=500), nullable=True),
    sa.Column('created_at', infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('pushed_at', infra.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('read_at', infra.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('opened_at', infra.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_notifications_campaign_id_campaigns'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_notifications_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('campaign_id', 'member_id', name='uq_notifications_campaign_member')
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_member_id_id', ['member_id', 'id'], unique=False)
        batch_op.create_index('ix_notifications_member_id_pushed_at', ['member_id', 'pushed_at'], unique=False)

    op.create_table('campaign_deliveries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('campaign_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('notification_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('device_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('token', sa.String(length=4096), nullable=False),
    sa.Column('platform', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('due_at', infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deferred', sa.Boolean(), nullable=False),
    sa.Column('claimed_at', infra.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', infra.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('message_id', sa.String(length=200), nullable=True),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_deliveries_campaign_id_campaigns'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['notification_id'], ['notifications.id'], name=op.f('fk_campaign_deliveries_notification_id_notifications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_deliveries')),
    sa.UniqueConstraint('campaign_id', 'device_id', name='uq_campaign_deliveries_campaign_device')
    )
    with op.batch_alter_table('campaign_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_campaign_deliveries_due', ['campaign_id', 'status', 'due_at', 'id'], unique=False)

    with op.batch_alter_table('bonus_rules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('audience_only', sa.Boolean(), nullable=False, server_default=sa.false()))

    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('city', sa.String(length=120), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_column('city')

    with op.batch_alter_table('bonus_rules', schema=None) as batch_op:
        batch_op.drop_column('audience_only')

    with op.batch_alter_table('campaign_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_campaign_deliveries_due')

    op.drop_table('campaign_deliveries')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_member_id_pushed_at')
        batch_op.drop_index('ix_notifications_member_id_id')

    op.drop_table('notifications')
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_devices_member_id'))

    op.drop_table('devices')
    op.drop_table('campaigns')
    op.drop_table('bonus_audiences')
    op.drop_table('segments')
