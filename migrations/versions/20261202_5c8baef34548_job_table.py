"""job table: the queue of the embedded worker and the record of every job

Revision ID: 5c8baef34548
Revises: b029cbe33e77
Create Date: 2026-12-02 03:10:44.236480
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import infra.db


revision = '5c8baef34548'
down_revision = 'b029cbe33e77'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('jobs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('args', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('attempts', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('max_attempts', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('run_at', infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('lease_until', infra.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('dedupe_key', sa.String(length=200), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', infra.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', infra.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name=op.f('ck_jobs_status_known')),
    sa.CheckConstraint('attempts >= 0 AND max_attempts >= 1', name=op.f('ck_jobs_attempts_sane')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_jobs_dedupe_key'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index('ix_jobs_due', ['run_at', 'id'], unique=False, postgresql_where=sa.text("status = 'queued'"), sqlite_where=sa.text("status = 'queued'"))
        batch_op.create_index('ix_jobs_leased', ['lease_until'], unique=False, postgresql_where=sa.text("status = 'running'"), sqlite_where=sa.text("status = 'running'"))
        batch_op.create_index('ix_jobs_status_finished_at', ['status', 'finished_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_status_finished_at')
        batch_op.drop_index('ix_jobs_leased', postgresql_where=sa.text("status = 'running'"), sqlite_where=sa.text("status = 'running'"))
        batch_op.drop_index('ix_jobs_due', postgresql_where=sa.text("status = 'queued'"), sqlite_where=sa.text("status = 'queued'"))

    op.drop_table('jobs')
