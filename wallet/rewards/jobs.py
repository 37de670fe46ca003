"""The rewards' jobs: the hourly voucher expiry sweep, and the low-stock warning.

Both are safe to run twice or at once: the sweep's UPDATE re-checks every voucher it
changes, and the warning only reads and logs.
"""

from __future__ import annotations

import datetime as dt

from infra.jobs import JobContext, job
from wallet.rewards import stock, vouchers


def expire_all(factory, now: dt.datetime, *, batch: int = vouchers.EXPIRE_BATCH) -> int:  # type: ignore[no-untyped-def]
    """Expire every active voucher past its time, ``batch`` per commit; returns how many."""
    total = 0
    while True:
        with factory() as session:
            done = vouchers.expire_due(session, now=now, limit=batch)
            session.commit()
        total += done
        if done < batch:
            return total


@job("rewards.expire_vouchers", every=dt.timedelta(hours=1), offset=dt.timedelta(minutes=5))
def expire_vouchers(ctx: JobContext) -> int:
    return expire_all(ctx.factory, ctx.clock())


@job(stock.LOW_STOCK_JOB, max_attempts=3)
def low_stock(ctx: JobContext, *, reward_id: int) -> int | None:
    with ctx.factory() as session:
        return stock.report_low(session, reward_id, ctx.clock())
