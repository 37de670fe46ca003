"""wallet passes and the phones registered for their updates

Revision ID: b8e4f1a6c2d9
Revises: a7c3e9d15b20
Create Date: 2026-12-02 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from infra.db import UTCDateTime

revision = "b8e4f1a6c2d9"
down_revision = "a7c3e9d15b20"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "wallet_passes",
        sa.Column("id", ID, nullable=False),
        sa.Column("serial_number", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("voucher_id", ID, nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=True),
        sa.Column("notified_hash", sa.String(64), nullable=True),
        sa.Column("google_hash", sa.String(64), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('member', 'voucher')", name=op.f("ck_wallet_passes_kind_known")),
        sa.CheckConstraint("(kind = 'voucher') = (voucher_id IS NOT NULL)",
                           name=op.f("ck_wallet_passes_voucher_pass_names_its_voucher")),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_wallet_passes_member_id_members"),
                                ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["voucher_id"], ["vouchers.id"], name=op.f("fk_wallet_passes_voucher_id_vouchers"),
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_passes")),
        sa.UniqueConstraint("serial_number", name=op.f("uq_wallet_passes_serial_number")),
        sa.UniqueConstraint("voucher_id", name=op.f("uq_wallet_passes_voucher_id")),
    )
    op.create_index(op.f("ix_wallet_passes_member_id"), "wallet_passes", ["member_id"])
    op.create_index(op.f("ix_wallet_passes_updated_at"), "wallet_passes", ["updated_at"])
    op.create_table(
        "pass_registrations",
        sa.Column("id", ID, nullable=False),
        sa.Column("device_library_id", sa.String(128), nullable=False),
        sa.Column("pass_id", ID, nullable=False),
        sa.Column("push_token", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["pass_id"], ["wallet_passes.id"],
                                name=op.f("fk_pass_registrations_pass_id_wallet_passes"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pass_registrations")),
        sa.UniqueConstraint("device_library_id", "pass_id", name="uq_pass_registrations_device_pass"),
    )
    op.create_index(op.f("ix_pass_registrations_pass_id"), "pass_registrations", ["pass_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_pass_registrations_pass_id"), table_name="pass_registrations")
    op.drop_table("pass_registrations")
    op.drop_index(op.f("ix_wallet_passes_updated_at"), table_name="wallet_passes")
    op.drop_index(op.f("ix_wallet_passes_member_id"), table_name="wallet_passes")
    op.drop_table("wallet_passes")
