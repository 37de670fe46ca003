"""The wallet's recurring jobs: nightly expiry and tier recalculation.

Each is safe to run twice or at the same time as another worker: expiry locks each
account and sweeps only what is still live; the tier run sets tiers from the ledger.
The same work is on the command line (``flask wallet expire``, ``flask wallet tiers``).
"""

from __future__ import annotations

import datetime as dt

from infra.jobs import JobContext, job
from wallet import ledger
from wallet.earning import tiers

EXPIRE_BATCH = 1000


def expire_all(factory, now: dt.datetime, *, batch: int = EXPIRE_BATCH) -> int:  # type: ignore[no-untyped-def]
    """Expire what is left of every lot due by ``now``, ``batch`` accounts per commit; returns accounts touched."""
    total = 0
    while True:
        with factory() as session:
            done = ledger.expire_due(session, now=now, limit=batch)
            session.commit()
        total += done
        if done < batch:
            return total


@job("wallet.expire", every=dt.timedelta(days=1), offset=dt.timedelta(hours=1))
def expire(ctx: JobContext) -> int:
    return expire_all(ctx.factory, ctx.clock())


@job("wallet.tiers", every=dt.timedelta(days=1), offset=dt.timedelta(hours=2))
def recalculate_tiers(ctx: JobContext) -> dict[str, int]:
    with ctx.factory() as session:
        changes = tiers.recalculate_all(session, now=ctx.clock())
        session.commit()
    return changes
