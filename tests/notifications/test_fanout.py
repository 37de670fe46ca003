"""Fan-out at the edges: targeting in chunks while sending, and the frequency cap when
campaigns send at the same time, not only one after another."""

from __future__ import annotations

import datetime as dt
import socket

import pytest
from sqlalchemy import select, update

from infra.db import make_sessionmaker
from notifications import campaigns, devices, fanout, segments
from notifications.campaigns import Delivery
from notifications.policy import Policy
from notifications.push import Outcome
from tests.conftest import START
from wallet.members import accounts
from wallet.members.models import Member

ONE_A_WEEK = Policy(quiet_start=0, quiet_end=0, cap=1)
MESSAGE = {"title": {"en": "Winter tyres"}, "body": {"en": "Double points"}}


def member_with_phone(session, token):
    member = accounts.register_member(session, email=f"{token}@example.com", password="x" * 12, name="Busy",
                                      country="AE", now=START, marketing_opt_in=True)
    devices.register(session, member_id=member.id, token=token, platform="android", now=START)
    return member


def scheduled_campaigns(session, count):
    marketer = accounts.create_staff(session, email=f"marketer{count}@example.com", password="x" * 12, name="M",
                                     role="marketer", now=START)
    segment = segments.create(session, name="phones", rules={"all": [{"field": "has_device", "op": "is", "value": True}]},
                              created_by_user_id=marketer.id, now=START)
    ids = []
    for n in range(count):
        campaign = campaigns.create(session, name=f"c{n}", segment_id=segment.id, message=MESSAGE,
                                    created_by_user_id=marketer.id, now=START)
        campaigns.schedule(session, campaign.id, now=START)
        ids.append(campaign.id)
    return ids


def started_campaigns(session, count):
    ids = scheduled_campaigns(session, count)
    for campaign_id in ids:
        fanout.start(session, campaign_id, now=START)
    return ids


def sent(claimed):
    return [Outcome(p.token, "sent", message_id="projects/pw-test/messages/1") for p in claimed.pushes]


def test_targeting_goes_in_chunks_and_the_first_pushes_go_before_the_last_members_are_targeted(session):
    first, second, third = (member_with_phone(session, f"tok-{i}") for i in range(3))
    (campaign_id,) = scheduled_campaigns(session, 1)
    chunk = second.id - first.id + 1  # a chunk starts at the first member: first and second now, third next

    assert fanout.target_next(session, campaign_id, now=START, chunk=chunk) == "targeted"
    early = fanout.claim_due(session, campaign_id, now=START, policy=ONE_A_WEEK)
    assert sorted(p.token for p in early.pushes) == ["tok-0", "tok-1"]
    fanout.record(session, early, sent(early), now=START)
    assert not fanout.finish_if_done(session, campaign_id, now=START)  # the third is still to come

    assert fanout.target_next(session, campaign_id, now=START, chunk=chunk) == "targeted"
    assert fanout.target_next(session, campaign_id, now=START, chunk=chunk) == "done"
    late = fanout.claim_due(session, campaign_id, now=START, policy=ONE_A_WEEK)
    assert [p.token for p in late.pushes] == ["tok-2"]
    fanout.record(session, late, sent(late), now=START)
    assert fanout.finish_if_done(session, campaign_id, now=START)
    result = campaigns.stats(session, campaign_id)
    assert (result["targeted"], result["sent"], result["waiting"]) == (3, 3, 0)


def test_targeting_a_chunk_again_adds_nobody_twice(session):
    for i in range(3):
        member_with_phone(session, f"tok-{i}")
    (campaign_id,) = scheduled_campaigns(session, 1)
    fanout.start(session, campaign_id, now=START)
    campaign = campaigns.get(session, campaign_id)
    campaign.targeted_through, campaign.targeted_at = 0, None  # as if a worker died before its commit was seen

    assert fanout.start(session, campaign_id, now=START) == 3
    assert campaigns.stats(session, campaign_id)["waiting"] == 3


def test_a_push_in_flight_for_another_campaign_counts_toward_the_cap(session):
    member_with_phone(session, "tok-busy")
    first, second = started_campaigns(session, 2)
    # the first campaign's worker has claimed the push and is waiting for FCM
    in_flight = fanout.claim_due(session, first, now=START, policy=ONE_A_WEEK)
    assert [p.token for p in in_flight.pushes] == ["tok-busy"]
    # the second campaign, at the same moment, must not push too
    assert fanout.claim_due(session, second, now=START, policy=ONE_A_WEEK).pushes == []
    assert campaigns.stats(session, second)["skipped_capped"] == 1


def test_a_push_that_failed_does_not_count_toward_the_cap(session):
    member_with_phone(session, "tok-busy")
    first, second = started_campaigns(session, 2)
    claimed = fanout.claim_due(session, first, now=START, policy=ONE_A_WEEK)
    fanout.record(session, claimed, [Outcome("tok-busy", "failed", error="UNAVAILABLE")], now=START)
    assert [p.token for p in fanout.claim_due(session, second, now=START, policy=ONE_A_WEEK).pushes] == ["tok-busy"]


def test_a_push_claimed_by_a_worker_that_died_is_failed_on_a_later_run_and_never_sent_again(session):
    member_with_phone(session, "tok-0")
    (campaign_id,) = started_campaigns(session, 1)
    fanout.claim_due(session, campaign_id, now=START, policy=ONE_A_WEEK)  # and the worker dies before FCM answers

    assert fanout.fail_stale(session, campaign_id, now=START + dt.timedelta(minutes=14)) == 0  # may still be sending
    assert fanout.fail_stale(session, campaign_id, now=START + dt.timedelta(minutes=16)) == 1
    assert fanout.claim_due(session, campaign_id, now=START + dt.timedelta(minutes=16), policy=ONE_A_WEEK).pushes == []
    assert fanout.finish_if_done(session, campaign_id, now=START + dt.timedelta(minutes=16))
    assert campaigns.stats(session, campaign_id)["failed"] == 1


@pytest.mark.postgres_only
def test_a_second_worker_sends_while_the_first_targets(isolated_engine):
    factory = make_sessionmaker(isolated_engine)
    with factory() as s:
        member_with_phone(s, "tok-0")
        (campaign_id,) = scheduled_campaigns(s, 1)
        s.commit()
    with factory() as worker_a, factory() as worker_b:
        assert fanout.target_next(worker_a, campaign_id, now=START) == "targeted"  # not committed yet
        assert fanout.target_next(worker_b, campaign_id, now=START) == "busy"  # does not wait: goes to send
        worker_b.rollback()
        worker_a.commit()
        assert fanout.target_next(worker_b, campaign_id, now=START) == "done"


@pytest.mark.postgres_only
def test_two_workers_claiming_one_member_for_two_campaigns_at_once_push_once(isolated_engine):
    factory = make_sessionmaker(isolated_engine)
    with factory() as s:
        member_with_phone(s, "tok-busy")
        first, second = started_campaigns(s, 2)
        s.commit()
    with factory() as worker_a, factory() as worker_b:
        # worker A has claimed the member for the first campaign and not committed yet
        assert len(fanout.claim_due(worker_a, first, now=START, policy=ONE_A_WEEK).pushes) == 1
        # worker B, on the second campaign, passes the member by instead of counting a cap without A's claim
        assert fanout.claim_due(worker_b, second, now=START, policy=ONE_A_WEEK).pushes == []
        worker_b.commit()
        worker_a.commit()
        # once A's claim is visible, B's next batch sees the push in flight
        assert fanout.claim_due(worker_b, second, now=START, policy=ONE_A_WEEK).pushes == []
        worker_b.commit()
    with factory() as s:
        statuses = dict(s.execute(select(Delivery.campaign_id, Delivery.status)).all())
    assert statuses == {first: "claimed", second: "capped"}


def test_a_campaign_pauses_while_fcm_is_down_and_sends_everything_once_it_is_back(
        client, people, app, fcm, service_account, clock, sleeps, session):
    from notifications import jobs
    from notifications.jobs import push_sender
    from notifications.push import FcmSender
    from tests.notifications.test_campaigns import WINTER, launch, partner_with_phone, stats

    marketer = people.staff("marketer")
    for i in range(3):
        partner_with_phone(people, client, f"tok-{i}")
    send_at = START + dt.timedelta(hours=1)
    campaign_id = launch(client, marketer, {"all": [{"field": "has_device", "op": "is", "value": True}]},
                         WINTER, send_at=send_at.isoformat())
    factory, policy = app.extensions["sessionmaker"], Policy(quiet_start=0, quiet_end=0)
    clock.at = send_at
    with socket.socket() as closed:  # FCM unreachable
        closed.bind(("127.0.0.1", 0))
        down = FcmSender(service_account, endpoint=f"http://127.0.0.1:{closed.getsockname()[1]}", sleep=sleeps,
                         jitter=lambda: 1.0, outage_batch=2)
        jobs.run_campaign(factory, campaign_id, clock=clock, sender=down, policy=policy, batch=2)
        down.close()
    marketer["headers"] = people.login(marketer["email"])  # an hour on: a fresh access token
    paused = stats(client, marketer, campaign_id)
    assert (paused["sent"], paused["failed"], paused["waiting"]) == (0, 0, 3)  # nothing given up
    assert jobs.next_due(factory, campaign_id) == send_at + jobs.OUTAGE_PAUSE  # the whole campaign waits
    clock.at = send_at + dt.timedelta(seconds=30)  # a tick during the pause sends nothing, FCM or not
    jobs.run_campaign(factory, campaign_id, clock=clock, sender=push_sender(app.extensions["resources"]), policy=policy)
    assert fcm.messages == []

    clock.at = send_at + jobs.OUTAGE_PAUSE  # FCM is back; the Celery task (or the tick) comes back
    jobs.run_campaign(factory, campaign_id, clock=clock, sender=push_sender(app.extensions["resources"]), policy=policy)
    assert sorted(m["token"] for m in fcm.messages) == ["tok-0", "tok-1", "tok-2"]
    done = stats(client, marketer, campaign_id)
    assert (done["sent"], done["failed"], done["waiting"]) == (3, 0, 0)


def test_a_claim_left_by_a_worker_that_died_brings_the_job_back_when_it_turns_stale(session):
    """Celery redelivers a dead worker's task at once, before the claim is stale: next_due must bring it back later."""
    member_with_phone(session, "tok-0")
    (campaign_id,) = started_campaigns(session, 1)
    fanout.claim_due(session, campaign_id, now=START, policy=ONE_A_WEEK)  # and the worker dies
    assert fanout.next_due(session, campaign_id) == START + fanout.STALE_AFTER


def test_an_evening_campaign_puts_members_off_a_few_at_a_time_not_the_whole_segment_in_one_claim(session):
    """Most members in quiet hours: one claim must not walk (and lock) the whole segment."""
    for i in range(6):
        member_with_phone(session, f"tok-{i}")
    (campaign_id,) = started_campaigns(session, 1)
    night = Policy(quiet_start=0, quiet_end=23, cap=10)  # 13:00 in Dubai: quiet
    first = fanout.claim_due(session, campaign_id, now=START, policy=night, limit=1)
    assert (first.pushes, first.more) == ([], True)  # looked at 4 (4 x limit), put them off, more to see
    second = fanout.claim_due(session, campaign_id, now=START, policy=night, limit=1)
    assert (second.pushes, second.more) == ([], False)  # the last 2
    assert campaigns.stats(session, campaign_id)["skipped_quiet_hours"] == 6



def test_targeting_skips_gaps_in_member_ids_instead_of_walking_them(session):
    """Members imported with ids far apart: one chunk each, not a million empty ones."""
    first = member_with_phone(session, "tok-0")
    far = accounts.register_member(session, email="far@example.com", password="x" * 12, name="Far", country="AE",
                                   now=START, marketing_opt_in=True)
    far_id = first.id + 10_000_000
    session.execute(update(Member).where(Member.id == far.id).values(id=far_id))
    session.expunge(far)
    devices.register(session, member_id=far_id, token="tok-far", platform="android", now=START)
    (campaign_id,) = scheduled_campaigns(session, 1)
    steps = []
    while (step := fanout.target_next(session, campaign_id, now=START, chunk=1_000)) != "done":
        steps.append(step)
    assert steps == ["targeted", "targeted"]
    assert campaigns.stats(session, campaign_id)["targeted"] == 2
