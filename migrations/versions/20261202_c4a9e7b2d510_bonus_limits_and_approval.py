"""bonus limits per program, and approval of the bonuses above them

A marketer could create a country-wide x1,000 multiplier. Each program now says what a
marketer's bonus may give (multiplier, points per item) and what all bonuses may add to one
purchase; a bonus above the limits waits for an admin's approval and gives nothing until then.
Bonuses that exist are approved as they were made.

Revision ID: c4a9e7b2d510
Revises: 3b6e2d9f1a77
Create Date: 2026-12-02 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import infra.db

revision = "c4a9e7b2d510"
down_revision = "3b6e2d9f1a77"
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("programs") as batch_op:
        batch_op.add_column(sa.Column("max_bonus_multiplier", sa.Numeric(10, 3), nullable=False, server_default="3"))
        batch_op.add_column(sa.Column("max_bonus_per_item", BIG, nullable=False, server_default="50"))
        batch_op.add_column(sa.Column("max_bonus_per_purchase", BIG, nullable=False, server_default="10000"))
    with op.batch_alter_table("bonus_rules") as batch_op:
        batch_op.add_column(sa.Column("created_by_user_id", BIG, nullable=True))
        batch_op.add_column(sa.Column("approved_at", infra.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("approved_by_user_id", BIG, nullable=True))
        batch_op.create_foreign_key("fk_bonus_rules_created_by_user_id_users", "users", ["created_by_user_id"], ["id"],
                                    ondelete="RESTRICT")
        batch_op.create_foreign_key("fk_bonus_rules_approved_by_user_id_users", "users", ["approved_by_user_id"],
                                    ["id"], ondelete="RESTRICT")
    op.execute("UPDATE bonus_rules SET approved_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table("bonus_rules") as batch_op:
        batch_op.drop_constraint("fk_bonus_rules_approved_by_user_id_users", type_="foreignkey")
        batch_op.drop_constraint("fk_bonus_rules_created_by_user_id_users", type_="foreignkey")
        batch_op.drop_column("approved_by_user_id")
        batch_op.drop_column("approved_at")
        batch_op.drop_column("created_by_user_id")
    with op.batch_alter_table("programs") as batch_op:
        batch_op.drop_column("max_bonus_per_purchase")
        batch_op.drop_column("max_bonus_per_item")
        batch_op.drop_column("max_bonus_multiplier")
