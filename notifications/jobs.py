"""Campaign fan-out as a job (``campaigns.send``), and the push sender it uses.

The job takes a session factory, not a session: it commits after each step (see
``notifications.fanout``) so that it can stop anywhere and be run again. Pushes put off
by quiet hours bring the job back when they fall due (``Again``); so does an FCM outage,
when its pause ends.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Any, Callable

from sqlalchemy.orm import Session, sessionmaker

from infra.jobs import Again, JobContext, job
from infra.resources import Resources
from notifications import campaigns, fanout
from notifications.policy import Policy
from notifications.push import FcmSender, FcmUnavailable, Outcome, Push

logger = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
OUTAGE_PAUSE = dt.timedelta(minutes=1)  # the least a campaign waits when FCM is unavailable
MAX_PAUSE = dt.timedelta(hours=1)  # the most, whatever Retry-After asked


class LogSender:
    """Stands in for FCM when no credentials are configured: the message stays in the inbox, the log says so."""

    def send(self, pushes: list[Push]) -> list[Outcome]:
        for push in pushes:
            logger.info("push not configured (FCM_CREDENTIALS); inbox only: %s %r", push.platform, push.title)
        return [Outcome(p.token, "failed", error="push is not configured (no FCM_CREDENTIALS)") for p in pushes]


def build_sender(settings: Any) -> Any:
    """FCM when a service account is configured; otherwise the inbox and the log only."""
    if settings.fcm_credentials:
        return FcmSender(settings.fcm_credentials, endpoint=settings.fcm_endpoint, ca_file=settings.fcm_ca_file)
    return LogSender()


def push_sender(resources: Resources) -> Any:
    """The process's push sender, built on first use."""
    return resources.get("push_sender", build_sender)


def run_campaign(factory: sessionmaker[Session], campaign_id: int, *, clock: Clock, sender: Any,
                 policy: Policy, batch: int = fanout.BATCH, stopping: threading.Event | None = None) -> dict[str, int]:
    """Target a chunk, send what is due, again, committing each step. Safe to run twice or at once.

    Several workers on one campaign take turns: whoever finds the targeting lock free
    targets the next chunk while the others send; a worker with nothing to send waits
    for that lock rather than leaving early. ``stopping`` set: it stops between batches.
    """
    with factory() as session:
        fanout.fail_stale(session, campaign_id, now=clock())
        session.commit()
    targeting: str = "targeted"
    claimed_any = True
    while stopping is None or not stopping.is_set():
        if targeting != "done":
            with factory() as session:
                targeting = fanout.target_next(session, campaign_id, now=clock(), wait=not claimed_any)
                session.commit()
        with factory() as session:
            claimed = fanout.claim_due(session, campaign_id, now=clock(), policy=policy, limit=batch)
            session.commit()
        claimed_any = bool(claimed.pushes) or claimed.more
        if not claimed.pushes:
            if targeting == "done" and not claimed.more:
                break
            continue
        try:
            outcomes = sender.send(claimed.pushes)
        except FcmUnavailable as outage:
            # FCM is down or refuses us: pause the campaign instead of failing every delivery in
            # turn. The batch goes back; the Celery task comes back when the pause ends
            # (next_due), in-process the tick does.
            pause = max(OUTAGE_PAUSE, dt.timedelta(seconds=min(outage.retry_after, MAX_PAUSE.total_seconds())))
            with factory() as session:
                fanout.release(session, campaign_id, claimed, until=clock() + pause)
                session.commit()
            logger.warning("campaign %s: paused for %s, FCM unavailable: %s", campaign_id, pause, outage)
            break
        with factory() as session:
            fanout.record(session, claimed, outcomes, now=clock())
            session.commit()
    with factory() as session:
        fanout.finish_if_done(session, campaign_id, now=clock())
        session.commit()
        return campaigns.stats(session, campaign_id)


def next_due(factory: sessionmaker[Session], campaign_id: int) -> dt.datetime | None:
    """When the campaign's next put-off delivery falls due (None when nothing waits)."""
    with factory() as session:
        return fanout.next_due(session, campaign_id)


def run_due(factory: sessionmaker[Session], *, clock: Clock, sender: Any, policy: Policy) -> list[int]:
    """Work on every campaign that is due or still sending (the tick a scheduler calls every minute)."""
    with factory() as session:
        due = campaigns.due_campaigns(session, clock())
    for campaign_id in due:
        try:
            run_campaign(factory, campaign_id, clock=clock, sender=sender, policy=policy)
        except Exception:
            # One broken campaign must not hold back the others; it is tried again next tick.
            logger.exception("campaign %s: fan-out failed; the next tick tries again", campaign_id)
    return due


@job(campaigns.SEND_JOB)
def send_campaign(ctx: JobContext, *, campaign_id: int) -> Again | None:
    """Send what is due of the campaign; come back when put-off pushes fall due or a pause ends."""
    run_campaign(ctx.factory, campaign_id, clock=ctx.clock, sender=push_sender(ctx.resources),
                 policy=Policy.from_settings(ctx.settings), stopping=ctx.stopping)
    if ctx.stopping.is_set():
        return Again(ctx.clock())  # asked to stop between batches: the next worker goes on
    later = next_due(ctx.factory, campaign_id)
    return Again(later) if later is not None else None
