"""Running jobs: claim one, run its handler, record what came of it.

One code path runs every job, whoever delivers it: the embedded ``Worker`` claims due rows
itself (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers share the table; on
SQLite the write lock serialises claims), and a Celery task runs the job whose id Redis
handed it (``run_job``). Either way the claim is one conditional UPDATE, so a job delivered
twice runs once, and the outcome is written only by the claim that still holds the job.

Failures are retried with exponential backoff and jitter (10 s, 20 s, 40 s ... at most an
hour) up to the handler's ``max_attempts``, then the job is ``failed`` and listed by
``flask jobs failed``. A worker that dies leaves its job ``running`` until the lease runs
out (a heartbeat renews it while the handler runs); then it is queued again. So a handler
may run twice and must be idempotent: that is the rule of every job here.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from dataclasses import dataclass, replace
from typing import Any, Callable

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from infra import logs
from infra.db import among, is_postgres
from infra.jobs.models import Job
from infra.jobs.queue import PENDING, enqueue
from infra.jobs.registry import Again, JobContext, handler, recurring

logger = logging.getLogger(__name__)

LEASE = dt.timedelta(seconds=60)
BASE_DELAY = dt.timedelta(seconds=10)
MAX_DELAY = dt.timedelta(hours=1)
KEEP_FINISHED = dt.timedelta(days=7)


@dataclass(frozen=True)
class Claimed:
    id: int
    name: str
    args: dict[str, Any]
    attempts: int
    max_attempts: int


def _claim_values(now: dt.datetime, lease: dt.timedelta) -> dict[str, Any]:
    return dict(status="running", attempts=Job.attempts + 1, lease_until=now + lease, started_at=now)


def _returning() -> tuple[Any, ...]:
    return Job.id, Job.name, Job.args, Job.attempts, Job.max_attempts


def requeue_expired(session: Session, now: dt.datetime) -> int:
    """Jobs whose worker stopped renewing the lease (it died) go back to the queue."""
    return session.execute(
        update(Job).where(Job.status == "running", Job.lease_until < now)
        .values(status="queued", lease_until=None).execution_options(synchronize_session=False)
    ).rowcount


def claim_next(session: Session, now: dt.datetime, *, lease: dt.timedelta = LEASE,
               names: list[str] | None = None) -> Claimed | None:
    """Take the next due job (oldest ``run_at`` first), or None. The caller commits."""
    due = select(Job.id).where(Job.status == "queued", Job.run_at <= now)
    if names is not None:
        due = due.where(Job.name.in_(names))
    due = due.order_by(Job.run_at, Job.id).limit(1)
    if is_postgres(session):
        due = due.with_for_update(skip_locked=True)
    row = session.execute(
        update(Job).where(Job.id == due.scalar_subquery(), Job.status == "queued")
        .values(**_claim_values(now, lease)).returning(*_returning())
        .execution_options(synchronize_session=False)
    ).first()
    return Claimed(*row) if row else None


def claim(session: Session, job_id: int, now: dt.datetime, *, lease: dt.timedelta = LEASE) -> Claimed | None:
    """Take the job ``job_id`` if it is queued and due (a Celery delivery); None otherwise."""
    row = session.execute(
        update(Job).where(Job.id == job_id, Job.status == "queued", Job.run_at <= now)
        .values(**_claim_values(now, lease)).returning(*_returning())
        .execution_options(synchronize_session=False)
    ).first()
    return Claimed(*row) if row else None


def backoff(attempts: int, jitter: float) -> dt.timedelta:
    delay = min(MAX_DELAY, BASE_DELAY * 2 ** max(attempts - 1, 0))
    return delay * (0.5 + jitter / 2)


def _finish(session: Session, job: Claimed, **values: Any) -> bool:
    # Only the claim that still holds the job writes its outcome: after a lease ran out and
    # another worker took the job over, the first one's late answer changes nothing.
    return session.execute(
        update(Job).where(Job.id == job.id, Job.status == "running", Job.attempts == job.attempts)
        .values(**values).execution_options(synchronize_session=False)
    ).rowcount == 1


def execute(context: JobContext, job: Claimed, *, jitter: Callable[[], float] = random.random
            ) -> tuple[str, dt.datetime | None]:
    """Run a claimed job's handler and record the outcome. Returns the new status and, when the
    job is queued again (a retry or ``Again``), when it is due. Never raises for the handler's error."""
    registered = handler(job.name)
    ctx = replace(context, job_id=job.id, attempt=job.attempts)
    error: str | None = None
    result: Any = None
    if registered is None:
        error = f"no handler for the job {job.name!r} in this worker"
    else:
        try:
            result = registered.run(ctx, **job.args)
        except Exception as exc:  # a handler's failure is the job's outcome, not the worker's
            error = logs.summary(exc)
            logger.warning("job %s %s (attempt %d of %d) failed:\n%s", job.id, job.name, job.attempts,
                           job.max_attempts, logs.describe(exc))
    now = context.clock()
    with context.factory() as session:
        if error is None and isinstance(result, Again):
            status, due = "queued", result.at
            # Not a failure: the attempt does not count against max_attempts.
            _finish(session, job, status=status, run_at=due, lease_until=None, attempts=job.attempts - 1)
        elif error is None:
            status, due = "done", None
            _finish(session, job, status=status, lease_until=None, finished_at=now, last_error=None)
        elif job.attempts < job.max_attempts:
            status, due = "queued", now + backoff(job.attempts, jitter())
            _finish(session, job, status=status, run_at=due, lease_until=None, last_error=error[:4000])
        else:
            status, due = "failed", None
            _finish(session, job, status=status, lease_until=None, finished_at=now, last_error=error[:4000])
            logger.error("job %s %s failed for good after %d attempts: %s", job.id, job.name, job.attempts, error)
        session.commit()
    return status, due


def renew_leases(session: Session, job_ids: list[int], now: dt.datetime, *, lease: dt.timedelta = LEASE) -> None:
    if job_ids:
        session.execute(update(Job).where(among(session, Job.id, job_ids), Job.status == "running")
                        .values(lease_until=now + lease).execution_options(synchronize_session=False))


def schedule_recurring(session: Session, now: dt.datetime) -> int:
    """Queue this slot's run of every recurring job (once per slot, however many workers ask)."""
    epoch = dt.datetime(2000, 1, 3, tzinfo=dt.timezone.utc)  # a Monday, so weekly slots start on Mondays
    made = 0
    for h in recurring():
        assert h.every is not None
        slots = (now - epoch - h.offset) // h.every
        slot = epoch + h.offset + slots * h.every
        if enqueue(session, h.name, now=now, run_at=slot, dedupe_key=f"{h.name}@{slot.isoformat()}") is not None:
            made += 1
    return made


def relay(session: Session, now: dt.datetime, *, older_than: dt.timedelta = dt.timedelta(minutes=2)
          ) -> list[tuple[int, dt.datetime]]:
    """Queued jobs due for longer than ``older_than``: their dispatch may have been lost (the
    queue was down at commit); the Celery tick hands them out again. A duplicate delivery is
    harmless (the claim is conditional)."""
    rows = session.execute(select(Job.id, Job.run_at).where(Job.status == "queued", Job.run_at <= now - older_than)
                           .order_by(Job.run_at, Job.id).limit(10_000)).all()
    return [(job_id, run_at) for job_id, run_at in rows]


def run_due(context: JobContext, *, limit: int = 1000, names: list[str] | None = None) -> int:
    """Run due jobs one after another in this thread until none is due (or ``limit``); returns how many ran.

    What tests and ``flask jobs work --once`` call; no heartbeat, so a job must finish within the lease.
    """
    ran = 0
    while ran < limit:
        with context.factory() as session:
            requeue_expired(session, context.clock())
            job = claim_next(session, context.clock(), names=names)
            session.commit()
        if job is None:
            break
        execute(context, job)
        ran += 1
    return ran


def failed(session: Session, *, limit: int = 100) -> list[Job]:
    return list(session.scalars(select(Job).where(Job.status == "failed").order_by(Job.finished_at.desc()).limit(limit)))


def retry(session: Session, job_id: int, now: dt.datetime) -> bool:
    """Queue a failed job again with fresh attempts (handed out after the commit). False when there
    is no failed job with this id."""
    queued = session.execute(
        update(Job).where(Job.id == job_id, Job.status == "failed")
        .values(status="queued", attempts=0, run_at=now, finished_at=None).execution_options(synchronize_session=False)
    ).rowcount == 1
    if queued:
        session.info.setdefault(PENDING, []).append((job_id, now))
    return queued


def forget_finished(session: Session, now: dt.datetime, *, keep: dt.timedelta = KEEP_FINISHED, limit: int = 10_000) -> int:
    """Delete up to ``limit`` done jobs finished before ``now - keep`` (failed ones stay until retried or read)."""
    oldest = (select(Job.id).where(Job.status == "done", Job.finished_at < now - keep)
              .order_by(Job.finished_at).limit(limit))
    return session.execute(delete(Job).where(Job.id.in_(oldest))).rowcount


def counts(session: Session) -> dict[str, int]:
    return {status: n for status, n in session.execute(select(Job.status, func.count()).group_by(Job.status))}
