"""Recurring jobs that keep the shared tables small: stored idempotent responses past their
window, and finished jobs older than a week (failed ones stay until someone retries them)."""

from __future__ import annotations

import datetime as dt

from infra import idempotency
from infra.jobs.registry import JobContext, job
from infra.jobs.runner import forget_finished


@job("idempotency.forget", every=dt.timedelta(days=1), offset=dt.timedelta(hours=3))
def forget_idempotency(ctx: JobContext) -> int:
    return idempotency.forget_all_before(ctx.factory, ctx.clock() - idempotency.KEEP)


@job("jobs.forget", every=dt.timedelta(days=1), offset=dt.timedelta(hours=3, minutes=30))
def forget_jobs(ctx: JobContext) -> int:
    total = 0
    while True:
        with ctx.factory() as session:
            done = forget_finished(session, ctx.clock())
            session.commit()
        total += done
        if not done:
            return total
