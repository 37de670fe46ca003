"""The job table: the queue of the embedded default, and the record of every job in production.

A row is written in the same transaction as the change that caused it (``enqueue``), so a
request that rolls back leaves no job, and a job outlives the process that queued it.

Life of a job: ``queued`` -> ``running`` (claimed, with a lease) -> ``done``, or back to
``queued`` with a later ``run_at`` after a failure (backoff), or ``failed`` after its last
attempt. A running job whose lease ran out (its worker died) is queued again.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from infra.db import Base

STATUSES = ("queued", "running", "done", "failed")


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status_known"),
        CheckConstraint("attempts >= 0 AND max_attempts >= 1", name="attempts_sane"),
        # Workers look only at what is due or stuck; both stay small however long the history.
        Index("ix_jobs_due", "run_at", "id", postgresql_where=text("status = 'queued'"),
              sqlite_where=text("status = 'queued'")),
        Index("ix_jobs_leased", "lease_until", postgresql_where=text("status = 'running'"),
              sqlite_where=text("status = 'running'")),
        Index("ix_jobs_status_finished_at", "status", "finished_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    args: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(8), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=5)
    run_at: Mapped[dt.datetime]
    lease_until: Mapped[dt.datetime | None]
    # At most one job per key: periodic jobs use "<name>@<slot>", so several workers
    # scheduling the same nightly run make one job.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
