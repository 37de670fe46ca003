"""the index of an account's live lots also holds what is left of each

The wallet's "expiring soon" sums ``remaining`` over a member's live lots of the next 90 days.
With (account_id, expires_at) alone, PostgreSQL fetched every such lot's row from the heap:
for a member with thousands of purchases that was 8,579 random reads and 37 ms of a wallet
request (bench/README.md). With ``remaining`` in the index it is an index-only scan (9 ms for
the same member). A plain key column, not INCLUDE, so SQLite covers it too.

Built before the old one is dropped, so the lots are never without an index. Not CONCURRENTLY:
on a million lots the build takes a second or two, during which purchases wait.

Revision ID: d2b7c9e4f6a1
Revises: b8e4f1a6c2d9
Create Date: 2026-12-02 15:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "d2b7c9e4f6a1"
down_revision = "b8e4f1a6c2d9"
branch_labels = None
depends_on = None

LIVE = sa.text("remaining > 0")


def upgrade() -> None:
    op.create_index("ix_point_lots_live_expiring", "point_lots", ["account_id", "expires_at", "remaining"],
                    postgresql_where=LIVE, sqlite_where=LIVE)
    op.drop_index("ix_point_lots_live_by_account", table_name="point_lots")


def downgrade() -> None:
    op.create_index("ix_point_lots_live_by_account", "point_lots", ["account_id", "expires_at"],
                    postgresql_where=LIVE, sqlite_where=LIVE)
    op.drop_index("ix_point_lots_live_expiring", table_name="point_lots")
