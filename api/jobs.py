"""Where the API hands long work to a job: a Celery worker when ``REDIS_URL`` is set,
otherwise the same job function in this process, after the request's commit."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from flask import current_app

from api.clock import now
from notifications import jobs
from notifications.campaigns import Policy

logger = logging.getLogger(__name__)


def push_sender() -> Any:
    sender = current_app.extensions.get("push_sender")
    if sender is None:
        settings = current_app.config["SETTINGS"]
        sender = jobs.sender_for(settings.fcm_credentials, settings.fcm_endpoint, settings.fcm_ca_file)
    return sender


def run_campaign(campaign_id: int, send_at: dt.datetime) -> None:
    """Start the fan-out. Called after the commit; a failure here is logged, not the caller's 500:
    the campaign is scheduled and the next tick (or a worker retry) picks it up."""
    settings = current_app.config["SETTINGS"]
    if settings.redis_url:
        from notifications import worker

        worker.configure(settings.redis_url, settings.job_queue)
        # Several tasks share the fan-out: each claims its own batches (SKIP LOCKED), so
        # a worker with N processes keeps N cores busy on one campaign.
        for _ in range(settings.fanout_tasks):
            worker.run_campaign.apply_async(args=[campaign_id], eta=send_at)
    elif send_at <= now():
        # In-process: runs now, in this request; a later send_at waits for `flask campaigns tick`.
        clock = current_app.extensions.get("clock") or now
        try:
            jobs.run_campaign(current_app.extensions["sessionmaker"], campaign_id, clock=clock, sender=push_sender(),
                              policy=Policy.from_settings(settings))
        except Exception:
            logger.exception("campaign %s: in-process fan-out failed; `flask campaigns tick` tries again", campaign_id)
