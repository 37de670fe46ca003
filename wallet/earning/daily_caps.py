"""What a member earned today, for a program's daily cap, read in one row whatever the day held.

A counter per points account and local day (the member's own midnight), kept by the postings
that count against the cap: a purchase's or a receipt's points add to the day they are booked,
a refund takes them off the day they were earned. Summing the day's ledger entries instead
grew with every purchase since midnight, under the account's lock.

Kept only while the country has a cap: a cap set during a day counts that day from then on.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import Date, ForeignKey, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from infra.db import Base, insert_ignoring


class DailyEarning(Base):
    __tablename__ = "daily_earnings"

    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id", ondelete="RESTRICT"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)  # the member's local day
    points: Mapped[int] = mapped_column(default=0)


def local_day(at: dt.datetime, timezone: str) -> dt.date:
    return at.astimezone(ZoneInfo(timezone)).date()


def earned_on(session: Session, account_id: int, day: dt.date) -> int:
    return int(session.scalar(select(DailyEarning.points).where(DailyEarning.account_id == account_id,
                                                                DailyEarning.day == day)) or 0)


def add(session: Session, account_id: int, day: dt.date, points: int) -> None:
    """Count ``points`` (negative for a refund) on the day; one upsert."""
    if not points:
        return
    insert = insert_ignoring(session, DailyEarning).values(account_id=account_id, day=day, points=points)
    session.execute(insert.on_conflict_do_update(
        index_elements=["account_id", "day"], set_={"points": DailyEarning.points + insert.excluded.points}))
