"""Enqueueing: a job is a row written in the caller's transaction, handed to workers after commit.

``enqueue`` adds the row and remembers it on the session. When that session commits, the
session's dispatcher (if its sessionmaker was given one: Celery with ``REDIS_URL``) is told
which jobs now exist; without one (the embedded default) workers find the rows themselves.
A rollback forgets them, so a request that failed never starts its jobs: the same idea as
Warehouse's after-commit tasks and pretix's ``TransactionAwareTask``, with the row itself as
the proof that the job was meant.

A dispatch that fails (Redis down) loses nothing: the row stays queued and the relay
(``runner.relay``) hands it out again.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from typing import Any, Callable, Protocol

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from infra.db import insert_for, is_postgres, prepared
from infra.jobs.models import Job
from infra.jobs.registry import DEFAULT_ATTEMPTS, handler

logger = logging.getLogger(__name__)

PENDING = "jobs_pending_dispatch"
DISPATCHER = "job_dispatcher"


class Dispatcher(Protocol):
    def __call__(self, jobs: list[tuple[int, dt.datetime]]) -> None: ...


def enqueue(session: Session, name: str, *, now: dt.datetime, run_at: dt.datetime | None = None,
            dedupe_key: str | None = None, max_attempts: int | None = None, **args: Any) -> int | None:
    """Queue the job ``name`` with ``args`` (JSON values) to run at ``run_at`` (default: now),
    in the session's transaction. Returns its id, or None when ``dedupe_key`` is already taken.

    Raises ``ValueError`` for a job name no handler is registered for, when handlers are known.
    """
    registered = handler(name)
    attempts = max_attempts or (registered.max_attempts if registered else DEFAULT_ATTEMPTS)
    values = dict(name=name, args=args, status="queued", attempts=0, max_attempts=attempts,
                  run_at=run_at or now, dedupe_key=dedupe_key, created_at=now)
    if dedupe_key is None:
        row = Job(**values)
        session.add(row)
        session.flush()
        job_id: int | None = row.id
    else:
        job_id = session.connection().scalar(_insert_once(is_postgres(session)), values)
    if job_id is not None:
        session.info.setdefault(PENDING, []).append((job_id, values["run_at"]))
    return job_id


@functools.cache
def _insert_once(postgres: bool) -> Any:
    """INSERT ... ON CONFLICT (dedupe_key) DO NOTHING RETURNING id, built once: every purchase
    queues its pass update through it, and building it per call cost more than running it."""
    table = Job.__table__
    return prepared(insert_for(postgres)(table).on_conflict_do_nothing(index_elements=["dedupe_key"])
                    .returning(table.c.id))


def queued_ids(session: Session, name: str) -> list[int]:
    """Ids of the queued jobs called ``name`` (tests and the CLI look)."""
    return list(session.scalars(select(Job.id).where(Job.name == name, Job.status == "queued").order_by(Job.id)))


def with_dispatcher(info: dict[str, Any] | None, dispatcher: Callable[[list[tuple[int, dt.datetime]]], None] | None
                    ) -> dict[str, Any]:
    """The ``info`` for a sessionmaker whose sessions hand their jobs to ``dispatcher`` after commit."""
    info = dict(info or {})
    if dispatcher is not None:
        info[DISPATCHER] = dispatcher
    return info


@event.listens_for(Session, "after_commit")
def _dispatch(session: Session) -> None:
    pending = session.info.pop(PENDING, None)
    dispatcher = session.info.get(DISPATCHER)
    if not pending or dispatcher is None:
        return
    try:
        dispatcher(pending)
    except Exception:
        # The rows are committed: the relay hands them out later. The caller's work is done and
        # must not fail because a queue is briefly away.
        logger.exception("jobs: dispatch of %d job(s) failed; the relay will hand them out", len(pending))


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(PENDING, None)
