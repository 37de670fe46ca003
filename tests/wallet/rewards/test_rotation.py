"""Rotating the code keys: a new key first, `flask rewards rotate-codes`, the old key dropped; every
code still opens for its owner and is still found at the till."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select

from tests.conftest import build_app
from wallet.rewards.models import RewardCode

OLD, NEW, OTHER = ("k1", os.urandom(32)), ("k2", os.urandom(32)), ("k3", os.urandom(32))


@pytest.fixture
def settings(settings):
    """The app of this module seals codes under k1."""
    return settings.with_overrides(voucher_code_keys=(OLD,))


def test_after_rotate_codes_the_old_key_can_go_and_every_code_still_works(kit, connection, settings, clock, session):
    # given three codes under k1, one of them in a partner's wallet
    reward, codes = kit.voucher_reward(3)
    partner = kit.partner(500)
    voucher = kit.redeem(partner, reward["id"]).json["vouchers"][0]
    assert set(session.scalars(select(RewardCode.key_id))) == {"k1"}

    # when k2 is put first and the codes are re-encrypted
    rotated = build_app(connection, settings.with_overrides(voucher_code_keys=(NEW, OLD)), clock)
    result = rotated.test_cli_runner().invoke(args=["rewards", "rotate-codes", "--batch", "2"])
    assert result.exit_code == 0, result.output
    assert "codes re-encrypted with key k2: 3" in result.output
    again = rotated.test_cli_runner().invoke(args=["rewards", "rotate-codes"])
    assert "codes re-encrypted with key k2: 0" in again.output

    # then an app that knows only k2 opens them all and the till finds them
    session.expire_all()
    assert set(session.scalars(select(RewardCode.key_id))) == {"k2"}
    only_new = build_app(connection, settings.with_overrides(voucher_code_keys=(NEW,)), clock).test_client()
    shown = only_new.get(f"/api/v1/me/vouchers/{voucher['id']}", headers=partner["headers"])
    assert shown.json["code"] == codes[0]
    taken = only_new.post("/api/v1/pos/vouchers/redeem", json={"code": codes[0]}, headers=kit.till.headers)
    assert taken.status_code == 200


def test_rotating_without_the_key_a_code_was_sealed_with_says_to_put_it_back(kit, connection, settings, clock):
    kit.voucher_reward(1)
    lost = build_app(connection, settings.with_overrides(voucher_code_keys=(OTHER,)), clock)
    result = lost.test_cli_runner().invoke(args=["rewards", "rotate-codes"])
    assert result.exit_code != 0
    assert "k1 is not configured" in result.output and "put the old key back" in result.output


def test_the_voucher_jobs_run_by_hand(kit, app):
    reward, codes = kit.voucher_reward(1, validity_days=2)
    partner = kit.partner(100)
    kit.redeem(partner, reward["id"])
    kit.later(partner, days=3)
    runner = app.test_cli_runner()
    assert "vouchers expired: 1" in runner.invoke(args=["rewards", "expire"]).output
    assert "vouchers reminded: 0 (pushed: 0)" in runner.invoke(args=["rewards", "remind"]).output
