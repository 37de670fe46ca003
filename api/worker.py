"""The job worker's composition: which modules hold job handlers, and how a worker process
is started from the app (``flask --app wsgi jobs work``).

Without ``REDIS_URL`` that command runs the embedded worker on the database; with it, a
Celery worker (with beat, for recurring jobs and the relay) on Redis. Both take their
database, clock, settings and clients from the app, so a worker runs jobs exactly as the
web process would have, had it been allowed to.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib
from typing import Any

from celery import Celery
from celery.signals import worker_process_init
from flask import Flask

from infra.clock import utcnow
from infra.jobs import JobContext, with_dispatcher
from infra.jobs.celery_app import dispatcher, install_tasks, make_celery, run_worker, worker_argv
from infra.jobs.worker import Worker

# Every module that registers job handlers. A module missing here is a job no worker can run
# (it fails with "no handler"); tests/test_jobs.py checks that every job name enqueued is here.
JOB_MODULES = ("notifications.jobs", "notifications.messages", "notifications.voucher_reminders", "wallet.jobs",
               "wallet.receipts.recognition", "wallet.rewards.jobs", "infra.jobs.housekeeping", "passes.updates")


def load_job_modules() -> None:
    for name in JOB_MODULES:
        importlib.import_module(name)


@functools.cache
def celery_for(redis_url: str, queue: str) -> Celery:
    """One Celery app per process and broker (building it opens no connection)."""
    return make_celery(redis_url, queue)


def session_info(settings: Any) -> dict[str, Any]:
    """The sessionmaker ``info`` of a process: with Redis, sessions hand their jobs to Celery after commit."""
    if settings.redis_url:
        return with_dispatcher(None, dispatcher(celery_for(settings.redis_url, settings.job_queue)))
    return {}


def job_context(app: Flask) -> JobContext:
    """The app's database, clock (which tests move), settings and clients, for jobs."""
    return JobContext(factory=app.extensions["sessionmaker"], clock=app.extensions.get("clock") or utcnow,
                      settings=app.config["SETTINGS"], resources=app.extensions["resources"])


def run_embedded(app: Flask, *, threads: int, poll: float, lease_seconds: float) -> None:
    load_job_modules()
    Worker(job_context(app), threads=threads, poll=poll, lease=dt.timedelta(seconds=lease_seconds)).run()


def run_celery(app: Flask, *, beat: bool = True, concurrency: int | None = None, extra: list[str] | None = None) -> Any:
    load_job_modules()
    settings = app.config["SETTINGS"]
    celery = celery_for(settings.redis_url, settings.job_queue)
    context = functools.cache(lambda: job_context(app))
    install_tasks(celery, context)

    @worker_process_init.connect(weak=False)
    def _fresh_connections(**_: Any) -> None:
        # A forked child must not reuse its parent's database connections.
        engine = app.extensions.get("engine")
        if engine is not None:
            engine.dispose(close=False)

    settings.instance_dir.mkdir(parents=True, exist_ok=True)
    schedule = str(settings.instance_dir / "celerybeat-schedule") if beat else None
    return run_worker(celery, worker_argv(settings.job_queue, beat_schedule=schedule, concurrency=concurrency)
                      + (extra or []))
