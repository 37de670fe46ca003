"""Jobs on Celery workers with Redis (``REDIS_URL`` set): Redis carries job ids, the table the rest.

After a commit the dispatcher sends each new job's id to Redis (with its ``run_at`` as the
ETA); a Celery task claims that row and runs it through the same ``runner.execute`` the
embedded worker uses, so retries, leases and ``flask jobs failed`` work the same. A retry
is sent again with its due time. Celery beat ticks every 30 s: it queues the recurring
jobs of the slot and hands out again queued jobs whose dispatch was lost (``relay``).

Why not Celery's database transport for the embedded default as well: kombu's SQLAlchemy
transport marks a message invisible when a worker fetches it and keeps no lease, so a
worker killed mid-job loses the job for good (tried: README, "Jobs").
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Callable

from celery import Celery

from infra.jobs import runner
from infra.jobs.registry import JobContext

logger = logging.getLogger(__name__)

RUN_JOB = "partner_wallet.run_job"
TICK = "partner_wallet.tick"


def make_celery(redis_url: str, queue: str) -> Celery:
    app = Celery("partner_wallet")
    app.conf.update(
        broker_url=redis_url,
        task_default_queue=queue,
        result_backend=None,
        task_ignore_result=True,
        task_acks_late=True,  # a worker that dies mid-job leaves it for another; jobs are safe to rerun
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        beat_schedule={"tick": {"task": TICK, "schedule": 30.0}},
    )
    return app


def dispatcher(app: Celery) -> Callable[[list[tuple[int, dt.datetime]]], None]:
    """What a session calls after commit: one Celery message per job, due at its ``run_at``."""

    def dispatch(jobs: list[tuple[int, dt.datetime]]) -> None:
        for job_id, run_at in jobs:
            app.send_task(RUN_JOB, args=[job_id], eta=run_at)

    return dispatch


def install_tasks(app: Celery, context: Callable[[], JobContext]) -> None:
    """Register the two tasks; ``context()`` gives the worker process's job context (built once)."""
    send = dispatcher(app)

    @app.task(name=RUN_JOB)
    def run_job(job_id: int) -> str:
        ctx = context()
        with ctx.factory() as session:
            job = runner.claim(session, job_id, ctx.clock())
            early = None
            if job is None:
                # Delivered before its time (ETAs are approximate) or already taken: look once.
                early = session.get(runner.Job, job_id)
            session.commit()
        if job is None:
            if early is not None and early.status == "queued":
                send([(job_id, early.run_at)])
                return "early"
            return "not claimed"
        status, due = runner.execute(ctx, job)
        if status == "queued" and due is not None:
            send([(job_id, due)])
        return status

    @app.task(name=TICK)
    def tick() -> int:
        ctx = context()
        with ctx.factory() as session:
            now = ctx.clock()
            runner.schedule_recurring(session, now)
            runner.requeue_expired(session, now)
            lost = runner.relay(session, now)
            session.commit()
        send(lost)
        return len(lost)


def worker_argv(queue: str, *, beat_schedule: str | None = None, concurrency: int | None = None) -> list[str]:
    """``beat_schedule``: the file where beat keeps its state (beat runs in this worker when given)."""
    argv = ["worker", "--loglevel=INFO", "-Q", queue]
    if beat_schedule:
        argv += ["--beat", f"--schedule={beat_schedule}"]
    if concurrency:
        argv.append(f"--concurrency={concurrency}")
    return argv


def run_worker(app: Celery, argv: list[str]) -> Any:
    return app.worker_main(argv)
