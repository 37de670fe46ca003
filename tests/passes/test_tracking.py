"""What change tracking costs a purchase, and what it queues."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from infra.jobs import Job
from tests.conftest import statements_of


def _member_jobs(session):
    return session.scalars(select(Job.dedupe_key).where(Job.name == "passes.member_changed")).all()


def test_a_purchase_queues_a_pass_update_in_one_statement_and_none_for_a_member_without_a_pass(
        client, people, till, connection, session):
    partner = people.partner()
    assert till.buy(partner, "10.00").status_code == 201  # warm caches (program, tiers)

    # a member who was never served a pass: nothing to update, not one statement for it
    statements = statements_of(connection, lambda: till.buy(partner, "10.00"))
    assert not [s for s in statements if "jobs" in s], statements
    assert _member_jobs(session) == []

    # once its card's pass was served, each purchase queues its update: one statement
    assert client.get("/api/v1/me/passes/apple", headers=partner["headers"]).status_code == 200
    statements = statements_of(connection, lambda: till.buy(partner, "10.00"))
    passes = [s for s in statements if "jobs" in s and s.lstrip().upper().startswith("INSERT")]
    assert len(passes) == 1 and "ON CONFLICT" in passes[0].upper()
    assert len(statements) <= 13, statements
    # the purchase's, and the one the first serving queued for the next minute (a purchase that
    # read the flag just before it was set is caught by that one)
    assert len(_member_jobs(session)) == 2


def test_a_purchase_queues_one_update_per_member_per_minute(client, people, till, session, clock):
    partner = people.partner()
    assert client.get("/api/v1/me/passes/apple", headers=partner["headers"]).status_code == 200
    clock.advance(minutes=2)  # past the minute the first serving queued its catch-up for
    served = set(_member_jobs(session))
    for _ in range(3):
        assert till.buy(partner, "10.00").status_code == 201
    keys = set(_member_jobs(session)) - served
    assert len(keys) == 1 and keys.pop().startswith(f"passes.member_changed:{partner['member']['id']}@")
    clock.advance(minutes=1)
    assert till.buy(partner, "10.00").status_code == 201
    assert len(set(_member_jobs(session)) - served) == 2


def test_serving_a_members_first_pass_marks_it_held_and_queues_a_catch_up_for_the_next_minute(
        client, people, session, clock):
    from wallet.members.models import Member

    partner = people.partner()
    member = session.get(Member, partner["member"]["id"])
    assert member.holds_wallet_pass is False
    for _ in range(2):  # the second serving changes nothing
        assert client.get("/api/v1/me/passes/apple", headers=partner["headers"]).status_code == 200
    session.refresh(member)
    assert member.holds_wallet_pass is True
    jobs = session.scalars(select(Job).where(Job.name == "passes.member_changed")).all()
    assert [(j.args, j.run_at) for j in jobs] == [
        ({"member_id": member.id}, clock().replace(second=0, microsecond=0) + dt.timedelta(minutes=2))]


def test_a_renamed_member_gets_a_pass_update(client, people, session):
    partner = people.partner()
    assert client.patch("/api/v1/me", json={"name": "Layla H."}, headers=partner["headers"]).status_code == 200
    assert session.scalars(select(Job.args).where(Job.name == "passes.member_changed")).all() == [
        {"member_id": partner["member"]["id"]}]
