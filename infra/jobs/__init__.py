"""Jobs: one mechanism for all long work (campaign fan-out, expiry, tier runs, receipts, passes).

``enqueue(session, "campaigns.send", now=..., campaign_id=7)`` writes a job row in the
caller's transaction; after the commit it is handed to a worker, never run inside the
request. Without ``REDIS_URL`` the embedded worker (``flask jobs work``, started by
``make run``) claims rows from the table; with it, Celery workers run the ids Redis hands
them. Both go through ``runner.execute``: retries with backoff, leases, ``failed`` rows.
"""

from infra.jobs.models import Job
from infra.jobs.queue import enqueue, queued_ids, with_dispatcher
from infra.jobs.registry import Again, JobContext, job
from infra.jobs.runner import run_due

__all__ = ["Again", "Job", "JobContext", "enqueue", "job", "queued_ids", "run_due", "with_dispatcher"]
