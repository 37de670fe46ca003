"""members.tier references tiers.code

A member's tier is one of the tiers, held by the database as well: the API shows its
code (``tier``) and its name (``tier_name``) from the one row.

Revision ID: 3b6e2d9f1a77
Revises: 8d1f0c2b7e41
Create Date: 2026-12-02 04:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "3b6e2d9f1a77"
down_revision = "8d1f0c2b7e41"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A tier code no tier row has (there were none, but the column allowed it) becomes the lowest.
    op.execute("UPDATE members SET tier = (SELECT code FROM tiers ORDER BY rank LIMIT 1)"
               " WHERE tier NOT IN (SELECT code FROM tiers)")
    with op.batch_alter_table("members") as batch_op:
        batch_op.create_foreign_key("fk_members_tier_tiers", "tiers", ["tier"], ["code"], ondelete="RESTRICT")


def downgrade() -> None:
    with op.batch_alter_table("members") as batch_op:
        batch_op.drop_constraint("fk_members_tier_tiers", type_="foreignkey")
