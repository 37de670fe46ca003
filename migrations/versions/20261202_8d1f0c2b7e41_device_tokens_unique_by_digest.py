"""device tokens unique by their SHA-256, not their text

A B-tree index entry holds at most about 2.7 KB on PostgreSQL, so a unique index on a
3,000-character token failed at insert (a 500). The digest is what is unique now.

Revision ID: 8d1f0c2b7e41
Revises: 5c8baef34548
Create Date: 2026-12-02 04:10:00
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "8d1f0c2b7e41"
down_revision = "5c8baef34548"
branch_labels = None
depends_on = None

devices = sa.table("devices", sa.column("id", sa.BigInteger), sa.column("token", sa.String),
                   sa.column("token_digest", sa.String))


def upgrade() -> None:
    with op.batch_alter_table("devices") as batch_op:
        batch_op.add_column(sa.Column("token_digest", sa.String(length=64), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(sa.select(devices.c.id, devices.c.token)).all()
    for device_id, token in rows:
        conn.execute(devices.update().where(devices.c.id == device_id)
                     .values(token_digest=hashlib.sha256(token.encode()).hexdigest()))
    with op.batch_alter_table("devices") as batch_op:
        batch_op.alter_column("token_digest", existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_constraint("uq_devices_token", type_="unique")
        batch_op.create_unique_constraint("uq_devices_token_digest", ["token_digest"])


def downgrade() -> None:
    with op.batch_alter_table("devices") as batch_op:
        batch_op.drop_constraint("uq_devices_token_digest", type_="unique")
        batch_op.create_unique_constraint("uq_devices_token", ["token"])
        batch_op.drop_column("token_digest")
