"""The Celery worker: ``celery -A notifications.worker worker`` with ``REDIS_URL`` set.

Builds its database engine and FCM sender from the environment once per process.
"""

from __future__ import annotations

import functools
from typing import Any

from celery import Celery

from config import load_settings
from notifications import jobs
from notifications.campaigns import Policy
from wallet.db import make_engine, make_sessionmaker, utcnow

celery = Celery("partner_wallet")


def configure(redis_url: str, queue: str) -> Celery:
    celery.conf.update(
        broker_url=redis_url,
        task_default_queue=queue,
        result_backend=None,
        task_acks_late=True,  # a worker that dies mid-job leaves it for another; the job is safe to rerun
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
    )
    return celery


@functools.cache
def _context() -> tuple[Any, Any, Policy]:
    settings = load_settings()
    factory = make_sessionmaker(make_engine(settings.database_url))
    return factory, jobs.sender_for(settings.fcm_credentials, settings.fcm_endpoint, settings.fcm_ca_file), Policy.from_settings(settings)


@celery.task(name="partner_wallet.run_campaign")
def run_campaign(campaign_id: int) -> dict[str, int]:
    factory, sender, policy = _context()
    stats = jobs.run_campaign(factory, campaign_id, clock=utcnow, sender=sender, policy=policy)
    later = jobs.next_due(factory, campaign_id)
    if later is not None:
        # Pushes put off by quiet hours: come back when the first of them falls due.
        # Running twice is harmless (claims are exclusive), so several tasks may each do this.
        run_campaign.apply_async(args=[campaign_id], eta=later)
    return stats


@celery.task(name="partner_wallet.run_due_campaigns")
def run_due_campaigns() -> list[int]:
    factory, sender, policy = _context()
    return jobs.run_due(factory, clock=utcnow, sender=sender, policy=policy)


_settings = load_settings()
if _settings.redis_url:
    configure(_settings.redis_url, _settings.job_queue)
