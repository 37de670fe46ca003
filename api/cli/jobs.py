"""``flask jobs ...``: run the job worker, see what failed, retry it."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from api import worker
from api.clock import now
from infra.jobs import runner

cli = AppGroup("jobs", help="The job worker and its queue.")


@cli.command("work")
@click.option("--threads", default=2, show_default=True, type=click.IntRange(1, 64),
              help="Jobs run at once (embedded worker; Celery: worker processes).")
@click.option("--poll", default=0.5, show_default=True, type=click.FloatRange(0.05, 60), help="Seconds between looks.")
@click.option("--lease", "lease_seconds", default=runner.LEASE.total_seconds(), show_default=True,
              type=click.FloatRange(1, 3600), help="Seconds a dead worker's job waits before another takes it.")
@click.option("--once", is_flag=True, help="Run what is due now in this process, then stop.")
def work(threads: int, poll: float, lease_seconds: float, once: bool) -> None:
    """Run jobs: the embedded worker on the database, or a Celery worker when REDIS_URL is set."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if once:
        worker.load_job_modules()
        click.echo(f"jobs run: {runner.run_due(worker.job_context(app))}")
    elif app.config["SETTINGS"].redis_url:
        worker.run_celery(app, concurrency=threads)
    else:
        worker.run_embedded(app, threads=threads, poll=poll, lease_seconds=lease_seconds)


@cli.command("status")
def status() -> None:
    """How many jobs are queued, running, done and failed."""
    with current_app.extensions["sessionmaker"]() as session:
        counts = runner.counts(session)
    click.echo(", ".join(f"{status}: {counts.get(status, 0)}" for status in ("queued", "running", "done", "failed")))


@cli.command("failed")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000))
def failed(limit: int) -> None:
    """Jobs that failed for good, newest first, with their last error."""
    with current_app.extensions["sessionmaker"]() as session:
        rows = runner.failed(session, limit=limit)
    if not rows:
        click.echo("no failed jobs")
    for job in rows:
        click.echo(f"{job.id}\t{job.name}\t{job.args}\tattempts {job.attempts}\t{job.finished_at:%Y-%m-%d %H:%M}\t"
                   f"{(job.last_error or '').splitlines()[-1] if job.last_error else ''}")


@cli.command("retry")
@click.argument("job_id", type=click.IntRange(min=1))
def retry(job_id: int) -> None:
    """Queue a failed job again, with fresh attempts."""
    with current_app.extensions["sessionmaker"]() as session:
        ok = runner.retry(session, job_id, now())
        session.commit()
    if not ok:
        raise click.ClickException(f"no failed job {job_id}")
    click.echo(f"job {job_id} queued again")
