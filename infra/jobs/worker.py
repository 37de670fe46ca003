"""The embedded worker: the process ``make run`` starts beside the web server (``flask jobs work``).

A few threads each claim a due job, run it and claim the next; with nothing due they wait
``poll`` seconds. A heartbeat renews the leases of the jobs in hand, and every half minute
one thread queues the recurring jobs whose slot has come (nightly expiry and tiers). On
SIGTERM or SIGINT the threads finish or hand back what they hold (a long handler sees
``context.stopping`` and returns ``Again``) and the process exits; SIGKILL leaves the
lease to run out, after which another worker takes the job over.
"""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import replace
from typing import Any

from infra.jobs import runner
from infra.jobs.registry import JobContext

logger = logging.getLogger(__name__)

RECURRING_EVERY = 30.0  # seconds between looks at the recurring jobs


class Worker:
    def __init__(self, context: JobContext, *, threads: int = 2, poll: float = 0.5,
                 lease: Any = runner.LEASE) -> None:
        self.context = replace(context, stopping=threading.Event())
        self.threads, self.poll, self.lease = threads, poll, lease
        self._held: set[int] = set()
        self._held_lock = threading.Lock()

    @property
    def stopping(self) -> threading.Event:
        return self.context.stopping

    def stop(self, *_: Any) -> None:
        self.stopping.set()

    def _work(self, recurring: bool) -> None:
        next_recurring = 0.0
        while not self.stopping.is_set():
            ctx = self.context
            try:
                with ctx.factory() as session:
                    now = ctx.clock()
                    if recurring and now.timestamp() >= next_recurring:
                        runner.schedule_recurring(session, now)
                        next_recurring = now.timestamp() + RECURRING_EVERY
                    runner.requeue_expired(session, now)
                    job = runner.claim_next(session, now, lease=self.lease)
                    session.commit()
            except Exception:
                logger.exception("jobs: could not claim a job; trying again shortly")
                self.stopping.wait(self.poll * 4)
                continue
            if job is None:
                self.stopping.wait(self.poll)
                continue
            with self._held_lock:
                self._held.add(job.id)
            try:
                status, due = runner.execute(ctx, job)
                logger.info("job %s %s: %s%s", job.id, job.name, status, f" (due {due:%H:%M:%S})" if due else "")
            finally:
                with self._held_lock:
                    self._held.discard(job.id)

    def _heartbeat(self) -> None:
        every = max(self.lease.total_seconds() / 3, 0.2)
        while not self.stopping.wait(every):
            with self._held_lock:
                held = sorted(self._held)
            if not held:
                continue
            try:
                with self.context.factory() as session:
                    runner.renew_leases(session, held, self.context.clock(), lease=self.lease)
                    session.commit()
            except Exception:
                logger.exception("jobs: could not renew leases; another worker may take these jobs over")

    def run(self, *, install_signals: bool = True) -> None:
        """Work until stopped (SIGTERM/SIGINT, or ``stop()``)."""
        if install_signals:
            signal.signal(signal.SIGTERM, self.stop)
            signal.signal(signal.SIGINT, self.stop)
        workers = [threading.Thread(target=self._work, args=(i == 0,), name=f"job-worker-{i}", daemon=True)
                   for i in range(self.threads)]
        beat = threading.Thread(target=self._heartbeat, name="job-heartbeat", daemon=True)
        for t in [*workers, beat]:
            t.start()
        logger.info("jobs: embedded worker with %d thread(s) running", self.threads)
        while any(t.is_alive() for t in workers):
            for t in workers:
                t.join(timeout=0.5)
        self.stopping.set()
        beat.join(timeout=5)
        logger.info("jobs: worker stopped")
