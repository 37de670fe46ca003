"""Jobs: written with the change that caused them, run after the commit, retried, never lost."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from flask.views import MethodView
from sqlalchemy import select

from api import worker
from infra.jobs import Again, Job, enqueue, job, queued_ids, runner
from infra.jobs.registry import handler
from tests.conftest import START, build_app, work

CALLS: list[tuple[str, dict]] = []


@job("test.record")
def record(ctx, **args):
    CALLS.append(("record", args))


@job("test.flaky", max_attempts=3)
def flaky(ctx, *, fail_times: int):
    CALLS.append(("flaky", {"attempt": ctx.attempt}))
    if ctx.attempt <= fail_times:
        raise RuntimeError(f"attempt {ctx.attempt} broke")


@job("test.again")
def again(ctx, *, until: str):
    CALLS.append(("again", {"at": ctx.clock().isoformat()}))
    if ctx.clock() < dt.datetime.fromisoformat(until):
        return Again(dt.datetime.fromisoformat(until))
    return None


@job("test.nightly", every=dt.timedelta(days=1), offset=dt.timedelta(hours=2))
def nightly(ctx):
    CALLS.append(("nightly", {}))


@pytest.fixture(autouse=True)
def calls():
    CALLS.clear()
    return CALLS


def jobs_named(session, name):
    return list(session.scalars(select(Job).where(Job.name == name).order_by(Job.id)))


def test_a_request_that_failed_leaves_nothing_written_and_its_job_never_runs(connection, settings, clock, session):
    # given an endpoint that writes a row, queues a job, and then fails
    from flask_smorest import abort

    from api.db import get_session
    from wallet.members import accounts
    from wallet.members.models import Store

    app = build_app(connection, settings, clock)

    class Broken(MethodView):
        def post(self):
            accounts.create_store(get_session(), name="Half-made", country="AE", currency="AED", now=clock())
            enqueue(get_session(), "test.record", now=clock(), note="from a failed request")
            abort(409, message="and then it failed")

    app.add_url_rule("/broken", view_func=Broken.as_view("broken"))
    from api.db import commit_views
    commit_views(app)

    # when it is called
    response = app.test_client().post("/broken")

    # then the error is answered, neither the row nor the job exists, and a worker finds nothing to run
    assert response.status_code == 409
    assert session.scalar(select(Store).where(Store.name == "Half-made")) is None
    assert jobs_named(session, "test.record") == []
    assert work(app) == 0
    assert CALLS == []


def test_a_job_enqueued_by_a_request_that_succeeded_runs_after_the_commit_once(connection, settings, clock, session):
    from api.db import get_session

    app = build_app(connection, settings, clock)

    class Fine(MethodView):
        def post(self):
            enqueue(get_session(), "test.record", now=clock(), note="from a good request")
            return {"ok": True}, 201

    app.add_url_rule("/fine", view_func=Fine.as_view("fine"))
    from api.db import commit_views
    commit_views(app)

    assert app.test_client().post("/fine").status_code == 201
    assert CALLS == []  # nothing ran inside the request
    assert work(app) == 1
    assert work(app) == 0  # and it does not run again
    assert CALLS == [("record", {"note": "from a good request"})]
    assert [j.status for j in jobs_named(session, "test.record")] == ["done"]


def test_a_failing_job_is_retried_with_growing_backoff_and_then_marked_failed(app, clock, session):
    # given a job that always fails, allowed three attempts
    enqueue(session, "test.flaky", now=clock(), fail_times=99)
    session.commit()

    # when the worker runs it, and again whenever it is due
    waits = []
    for _ in range(3):
        assert work(app) == 1
        row = jobs_named(session, "test.flaky")[0]
        session.refresh(row)
        if row.status == "queued":
            waits.append(row.run_at - clock())
            assert work(app) == 0  # not before its time
            clock.at = row.run_at

    # then it waited 10 s, then 20 s (each with up to half taken off by jitter), and failed for good
    assert [c[1]["attempt"] for c in CALLS] == [1, 2, 3]
    assert dt.timedelta(seconds=5) <= waits[0] <= dt.timedelta(seconds=10)
    assert dt.timedelta(seconds=10) <= waits[1] <= dt.timedelta(seconds=20)
    assert (row.status, row.attempts) == ("failed", 3)
    assert "attempt 3 broke" in row.last_error
    assert [j.id for j in runner.failed(session)] == [row.id]


def test_a_failed_job_can_be_retried_and_then_succeeds(app, clock, session):
    enqueue(session, "test.flaky", now=clock(), fail_times=3, max_attempts=3)
    session.commit()
    for _ in range(3):
        work(app)
        clock.advance(hours=1)
    (row,) = jobs_named(session, "test.flaky")
    session.refresh(row)
    assert row.status == "failed"

    assert runner.retry(session, row.id, clock()) is True
    session.commit()
    assert runner.retry(session, row.id, clock()) is False  # only a failed job can be retried
    # attempts start again at one, so with fail_times=3 the next three fail again, then ...
    work(app)
    session.refresh(row)
    assert (row.status, row.attempts) == ("queued", 1)


def test_a_job_that_asks_to_come_back_runs_again_at_that_time_without_using_an_attempt(app, clock, session):
    until = (START + dt.timedelta(hours=3)).isoformat()
    enqueue(session, "test.again", now=clock(), until=until)
    session.commit()

    assert work(app) == 1
    (row,) = jobs_named(session, "test.again")
    session.refresh(row)
    assert (row.status, row.attempts, row.run_at) == ("queued", 0, START + dt.timedelta(hours=3))
    clock.advance(hours=3)
    assert work(app) == 1
    session.refresh(row)
    assert row.status == "done"
    assert len(CALLS) == 2


def test_a_job_whose_worker_died_is_taken_over_when_its_lease_runs_out(app, clock, session):
    # given a job claimed by a worker that then died (nothing renews its lease)
    enqueue(session, "test.record", now=clock(), note="orphan")
    session.commit()
    claimed = runner.claim_next(session, clock(), lease=dt.timedelta(seconds=60))
    session.commit()
    assert claimed is not None

    # then no one else runs it while the lease holds ...
    assert work(app) == 0
    # ... and the next worker does once it has run out
    clock.advance(seconds=61)
    assert work(app) == 1
    assert CALLS == [("record", {"note": "orphan"})]

    # and the dead worker's late answer changes nothing
    assert runner._finish(session, claimed, status="failed") is False


def test_a_job_delivered_twice_runs_once(app, clock, session):
    job_id = enqueue(session, "test.record", now=clock(), note="twice")
    session.commit()
    first = runner.claim(session, job_id, clock())
    second = runner.claim(session, job_id, clock())
    session.commit()
    assert first is not None and second is None


def test_recurring_jobs_are_queued_once_per_slot_however_many_workers_ask(app, clock, session):
    clock.at = dt.datetime(2026, 11, 23, 2, 30, tzinfo=dt.timezone.utc)
    for _ in range(3):
        runner.schedule_recurring(session, clock())
    session.commit()
    nightly_jobs = jobs_named(session, "test.nightly")
    assert [(j.run_at, j.dedupe_key) for j in nightly_jobs] == [
        (dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.timezone.utc), "test.nightly@2026-11-23T02:00:00+00:00")]
    # the next night makes the next one
    clock.advance(days=1)
    runner.schedule_recurring(session, clock())
    assert len(jobs_named(session, "test.nightly")) == 2


def test_expiry_tiers_and_the_housekeeping_run_nightly():
    worker.load_job_modules()
    for name in ("wallet.expire", "wallet.tiers", "idempotency.forget", "jobs.forget"):
        assert handler(name) is not None and handler(name).every == dt.timedelta(days=1), name


def test_every_job_name_the_code_enqueues_has_a_handler_the_worker_loads():
    # given every job name written as enqueue(session, "<name>" ...) or a *_JOB constant
    worker.load_job_modules()
    root = Path(__file__).resolve().parents[2]
    names = set()
    for path in [*root.glob("wallet/**/*.py"), *root.glob("notifications/**/*.py"), *root.glob("passes/**/*.py")]:
        text = path.read_text()
        names |= set(re.findall(r'enqueue\(\s*\w+,\s*"([a-z_.]+)"', text))
        names |= set(re.findall(r'^[A-Z_]+_JOB = "([a-z_.]+)"', text, re.M))
    assert names, "found no job names"
    assert [n for n in sorted(names) if handler(n) is None] == []


def test_a_job_named_for_no_handler_fails_with_that_reason(app, clock, session):
    enqueue(session, "test.nobody-handles-this", now=clock(), max_attempts=1)
    session.commit()
    work(app)
    (row,) = jobs_named(session, "test.nobody-handles-this")
    session.refresh(row)
    assert row.status == "failed" and "no handler" in row.last_error


def test_queued_ids_lists_what_waits(app, clock, session):
    a = enqueue(session, "test.record", now=clock())
    b = enqueue(session, "test.record", now=clock(), run_at=clock() + dt.timedelta(days=1))
    assert queued_ids(session, "test.record") == [a, b]
