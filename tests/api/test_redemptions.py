"""Redeeming: points out through the ledger, codes out of the pool, vouchers in, or a refusal with its reason
and nothing half-written."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from sqlalchemy import select

from tests.conftest import work
from tests.wallet.helpers import assert_consistent
from wallet import ledger
from wallet.ledger import LotMovement, PointLot
from wallet.rewards.models import RewardCode, Voucher


def _account_id(session, partner) -> int:
    return ledger.member_account(session, partner["member"]["id"], dt.datetime.now(dt.timezone.utc)).id


def test_a_redemption_spends_the_points_takes_the_codes_and_fills_the_wallet(kit, client, session):
    # given a partner with 500 points and a reward of 100 with three codes
    reward, codes = kit.voucher_reward(3)
    partner = kit.partner(500, language="pl")

    # when it redeems two
    response = kit.redeem(partner, reward["id"], quantity=2)

    # then
    assert response.status_code == 201, response.json
    body = response.json
    assert (body["points_spent"], body["balance"], body["quantity"], body["order"]) == (200, 300, 2, None)
    assert [v["status"] for v in body["vouchers"]] == ["active", "active"]
    assert all("code" not in v for v in body["vouchers"])  # codes never in an answer stored for replays
    assert body["vouchers"][0]["reward"]["name"] == "Bon Carrefour 50 AED"
    wallet = client.get("/api/v1/me/vouchers", headers=partner["headers"]).json["items"]
    assert sorted(v["code"] for v in wallet) == codes[:2]
    history = client.get("/api/v1/me/wallet/transactions", headers=partner["headers"]).json["items"]
    assert [(h["type"], h["points"], h["description"]) for h in history[:2]] == [
        ("redeem", -100, "Redeemed: Bon Carrefour 50 AED")] * 2
    assert history[0]["reference"] == f"redemption:{body['id']}"
    assert kit.balance(partner) == 300
    assert assert_consistent(session, _account_id(session, partner)) == 300
    assert client.get("/api/v1/me/wallet", headers=partner["headers"]).json["active_vouchers"] == 2


def test_points_are_spent_from_the_oldest_lot_first(kit, session, clock):
    reward, _ = kit.voucher_reward(1, points_cost=150)
    partner = kit.partner(100)  # the older lot
    kit.later(partner, days=10)
    assert kit.till.buy(partner, "100.00").status_code == 201
    assert kit.redeem(partner, reward["id"]).status_code == 201
    account = _account_id(session, partner)
    lots = session.scalars(select(PointLot).where(PointLot.account_id == account).order_by(PointLot.earned_at)).all()
    assert [lot.remaining for lot in lots] == [0, 50]
    moved = session.scalars(select(LotMovement.amount).join(PointLot).where(PointLot.account_id == account)
                            .order_by(LotMovement.id)).all()
    assert moved == [-100, -50]


def _available(kit, reward_id) -> int:
    return kit.client.get(f"/api/v1/admin/rewards/{reward_id}", headers=kit.admin).json["counts"]["available"]


def _refused(kit, partner, reward_id, before_balance, **body):
    """Redeem, and check that nothing moved: the balance and the wallet are as they were."""
    held = kit.client.get("/api/v1/me/vouchers", headers=partner["headers"]).json["items"]
    response = kit.redeem(partner, reward_id, **body)
    assert kit.balance(partner) == before_balance
    assert kit.client.get("/api/v1/me/vouchers", headers=partner["headers"]).json["items"] == held
    return response


def test_too_few_points_is_409_saying_how_many_more_and_nothing_moves(kit):
    reward, _ = kit.voucher_reward(2, points_cost=300)
    partner = kit.partner(250)
    response = _refused(kit, partner, reward["id"], 250)
    assert response.status_code == 409
    assert response.json["reason"] == "insufficient_points"
    assert response.json["message"] == "not enough points: this needs 300, you have 250 (50 more to go)"
    assert response.json["details"] == {"needed": 300, "balance": 250}
    assert _available(kit, reward["id"]) == 2


def test_an_empty_pool_is_409_out_of_stock(kit):
    reward, _ = kit.voucher_reward(0)
    partner = kit.partner(500)
    response = _refused(kit, partner, reward["id"], 500)
    assert response.status_code == 409 and response.json["reason"] == "out_of_stock"
    assert response.json["message"] == "this reward is out of stock right now; try again later"


def test_asking_for_more_than_is_left_is_409_saying_how_many_are_left_and_takes_none(kit):
    reward, _ = kit.voucher_reward(1)
    partner = kit.partner(500)
    response = _refused(kit, partner, reward["id"], 500, quantity=3)
    assert response.status_code == 409 and response.json["reason"] == "out_of_stock"
    assert response.json["message"] == "only 1 of this reward left; you asked for 3"
    assert _available(kit, reward["id"]) == 1


def test_a_limit_per_day_is_409_until_the_members_own_midnight(kit, clock):
    # given a reward once a day, and a partner in Dubai (UTC+4) at 19:00 UTC, 23:00 local
    reward, _ = kit.voucher_reward(3, limit_per_day=1)
    partner = kit.partner(500, timezone="Asia/Dubai")
    kit.later(partner, hours=10)  # 19:00 UTC
    assert kit.redeem(partner, reward["id"]).status_code == 201

    # when it tries again within its day
    response = _refused(kit, partner, reward["id"], 400)

    # then
    assert response.status_code == 409 and response.json["reason"] == "limit_reached"
    assert response.json["message"] == ("this reward can be redeemed once a day and you have redeemed it 1 time; "
                                        "try again tomorrow")
    assert response.json["details"] == {"period": "day", "limit": 1, "already": 1}
    kit.later(partner, hours=1, minutes=1)  # 00:01 in Dubai, still the same UTC day
    assert kit.redeem(partner, reward["id"]).status_code == 201


def test_a_limit_per_month_and_ever_count_what_the_member_still_has(kit, clock):
    reward, _ = kit.voucher_reward(5, limit_per_month=2, limit_ever=3)
    partner = kit.partner(1000)
    assert kit.redeem(partner, reward["id"], quantity=2).status_code == 201
    month = kit.redeem(partner, reward["id"])
    assert (month.status_code, month.json["details"]["period"]) == (409, "month")
    kit.later(partner, days=31)
    assert kit.redeem(partner, reward["id"]).status_code == 201
    ever = kit.redeem(partner, reward["id"])
    assert (ever.status_code, ever.json["details"]) == (409, {"period": "ever", "limit": 3, "already": 3})
    assert ever.json["message"].endswith("it cannot be redeemed again")


def test_a_reward_of_another_tier_is_409_naming_the_tiers(kit):
    reward, _ = kit.voucher_reward(1, tiers=["gold", "platinum"])
    partner = kit.partner(500)
    response = _refused(kit, partner, reward["id"], 500)
    assert response.status_code == 409 and response.json["reason"] == "tier"
    assert response.json["message"] == "this reward is for Gold, Platinum partners only"


def test_a_reward_outside_its_window_is_409_saying_when(kit, clock):
    later, _ = kit.voucher_reward(1, available_from=(clock() + dt.timedelta(days=2)).isoformat())
    over, _ = kit.voucher_reward(1, available_until=(clock() - dt.timedelta(days=1)).isoformat())
    partner = kit.partner(500)
    response = _refused(kit, partner, later["id"], 500)
    assert (response.status_code, response.json["reason"]) == (409, "not_available")
    assert response.json["message"] == "this reward can be redeemed from 2026-11-25 09:00 UTC"
    assert _refused(kit, partner, over["id"], 500).json["message"].startswith("this reward could be redeemed until")


@pytest.mark.parametrize("fields", [{"country": "PL", "face_value": None}, {"active": False}])
def test_a_reward_not_offered_in_the_members_country_or_switched_off_is_404(kit, fields):
    reward, _ = kit.voucher_reward(1, **fields)
    partner = kit.partner(500)
    response = _refused(kit, partner, reward["id"], 500)
    assert (response.status_code, response.json["reason"]) == (404, "not_offered")
    assert _refused(kit, partner, 999_999, 500).status_code == 404


@pytest.mark.parametrize("body, field", [
    ({}, "reward_id"), ({"reward_id": "1"}, "reward_id"), ({"reward_id": 0}, "reward_id"),
    ({"reward_id": 1, "quantity": 0}, "quantity"), ({"reward_id": 1, "quantity": 11}, "quantity"),
    ({"reward_id": 1, "quantity": 1.5}, "quantity"), ({"reward_id": 1, "colour": "red"}, "colour"),
])
def test_a_malformed_redemption_is_422(kit, client, body, field):
    partner = kit.partner()
    response = client.post("/api/v1/me/redemptions", json=body, headers=partner["headers"])
    assert response.status_code == 422 and field in response.json["errors"]["json"]


def test_staff_cannot_redeem(kit, client, people):
    response = client.post("/api/v1/me/redemptions", json={"reward_id": 1}, headers=people.staff("cashier")["headers"])
    assert response.status_code == 403


def test_the_same_idempotency_key_redeems_once_and_answers_the_same(kit, client):
    reward, _ = kit.voucher_reward(3)
    partner = kit.partner(500)
    key = {"Idempotency-Key": "redeem-1"}
    first = kit.redeem(partner, reward["id"], headers=key)
    second = kit.redeem(partner, reward["id"], headers=key)
    assert first.status_code == second.status_code == 201
    assert second.get_data() == first.get_data() and second.headers["Idempotent-Replayed"] == "true"
    assert kit.balance(partner) == 400
    assert len(client.get("/api/v1/me/vouchers", headers=partner["headers"]).json["items"]) == 1
    other = kit.redeem(partner, reward["id"], headers=key, quantity=2)
    assert other.status_code == 409


def test_the_soonest_expiring_code_goes_first_and_the_voucher_dies_with_it(kit, client, clock):
    reward = kit.reward(validity_days=365)
    text = "code,expires_at\nLATE-1,2027-06-30\nNEVER-1,\nSOON-1,2027-01-31\nDYING-1,2026-11-23T20:00:00Z\n"
    assert kit.upload(reward["id"], text).json["imported"] == 4
    partner = kit.partner(500)
    vouchers = kit.redeem(partner, reward["id"], quantity=3).json["vouchers"]
    assert [v["expires_at"] for v in vouchers] == ["2027-02-01T00:00:00+00:00", "2027-07-01T00:00:00+00:00",
                                                  "2027-11-23T09:00:00+00:00"]
    # DYING-1 has under a day to live: never handed out, and counted apart
    admin = client.get(f"/api/v1/admin/rewards/{reward['id']}", headers=kit.admin).json
    assert admin["counts"] == {"available": 0, "issued": 3, "expired_unissued": 1}


def test_a_reward_without_a_pool_makes_its_codes_and_counts_its_stock(kit, client, session):
    reward = kit.reward(code_source="generated", stock=2)
    partner = kit.partner(500)
    body = kit.redeem(partner, reward["id"], quantity=2).json
    codes = [client.get(f"/api/v1/me/vouchers/{v['id']}", headers=partner["headers"]).json["code"]
             for v in body["vouchers"]]
    assert all(len(code) == 19 and code.count("-") == 3 for code in codes) and codes[0] != codes[1]
    assert kit.take(code=codes[0].lower().replace("-", " ")).status_code == 200
    left = client.get(f"/api/v1/admin/rewards/{reward['id']}", headers=kit.admin).json
    assert (left["stock"], left["counts"]["available"], left["counts"]["issued"]) == (0, 0, 2)
    again = kit.redeem(partner, reward["id"])
    assert (again.status_code, again.json["reason"]) == (409, "out_of_stock")
    stored = session.scalars(select(RewardCode).where(RewardCode.reward_id == reward["id"])).all()
    assert {(c.source, c.status) for c in stored} == {("generated", "issued")}


def test_a_pool_falling_below_its_threshold_warns_once_in_the_log(kit, app, caplog):
    reward, _ = kit.voucher_reward(5, low_stock_threshold=4)
    partner = kit.partner(1000)
    assert kit.redeem(partner, reward["id"]).status_code == 201  # 4 left: not below
    assert kit.redeem(partner, reward["id"]).status_code == 201  # 3 left
    assert kit.redeem(partner, reward["id"]).status_code == 201  # 2 left: the same warning, not a second
    with caplog.at_level(logging.WARNING, logger="wallet.rewards.stock"):
        assert work(app, names=["rewards.low_stock"]) == 1
    assert f"reward {reward['id']} (Carrefour voucher AED 50, AE) is running low: 2 left, below its threshold of 4" \
        in caplog.text
    assert "upload more codes" in caplog.text


def test_a_voucher_cannot_be_issued_twice_even_if_the_pool_said_so(kit, session):
    """The last word is the database's: a code has at most one voucher."""
    from sqlalchemy.exc import IntegrityError

    reward, _ = kit.voucher_reward(1)
    partner = kit.partner(500)
    first = kit.redeem(partner, reward["id"]).json["vouchers"][0]
    existing = session.get(Voucher, first["id"])
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(Voucher(member_id=existing.member_id, reward_id=existing.reward_id, code_id=existing.code_id,
                            country="AE", status="active", issued_at=existing.issued_at,
                            expires_at=existing.expires_at))
