"""What change tracking costs a purchase, and what it queues."""

from __future__ import annotations

from sqlalchemy import select

from infra.jobs import Job
from tests.conftest import statements_of


def test_a_purchase_pays_one_statement_for_its_pass_update(client, people, till, connection):
    partner = people.partner()
    assert till.buy(partner, "10.00").status_code == 201  # warm caches (program, tiers)
    statements = statements_of(connection, lambda: till.buy(partner, "10.00"))
    passes = [s for s in statements if "jobs" in s and s.lstrip().upper().startswith("INSERT")]
    assert len(passes) == 1 and "ON CONFLICT" in passes[0].upper()
    # the 12 statements of a purchase before passes, plus this one enqueue
    assert len(statements) <= 13, statements


def test_a_purchase_queues_one_update_per_member_per_minute(client, people, till, session, clock):
    partner = people.partner()
    for _ in range(3):
        assert till.buy(partner, "10.00").status_code == 201
    keys = session.scalars(select(Job.dedupe_key).where(Job.name == "passes.member_changed")).all()
    assert len(keys) == 1 and keys[0].startswith(f"passes.member_changed:{partner['member']['id']}@")
    clock.advance(minutes=1)
    assert till.buy(partner, "10.00").status_code == 201
    assert len(session.scalars(select(Job.id).where(Job.name == "passes.member_changed")).all()) == 2


def test_a_renamed_member_gets_a_pass_update(client, people, session):
    partner = people.partner()
    assert client.patch("/api/v1/me", json={"name": "Layla H."}, headers=partner["headers"]).status_code == 200
    assert session.scalars(select(Job.args).where(Job.name == "passes.member_changed")).all() == [
        {"member_id": partner["member"]["id"]}]
