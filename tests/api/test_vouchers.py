"""The voucher wallet, the till that takes a voucher exactly once, and an admin's cancel with its refund."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from PIL import Image

from tests.conftest import Till
from tests.wallet.helpers import assert_consistent
from wallet import ledger


def _holding(kit, count=2, points=500, **reward_fields):
    reward, codes = kit.voucher_reward(count, **reward_fields)
    partner = kit.partner(points)
    redeemed = kit.redeem(partner, reward["id"], quantity=count)
    assert redeemed.status_code == 201, redeemed.json
    return reward, codes, partner, [v["id"] for v in redeemed.json["vouchers"]]


def test_the_wallet_lists_vouchers_newest_first_with_codes_and_filters_by_status(kit, client):
    reward, codes, partner, ids = _holding(kit, 3)
    assert kit.take(code=codes[0]).status_code == 200
    everything = client.get("/api/v1/me/vouchers", headers=partner["headers"]).json
    assert [v["id"] for v in everything["items"]] == sorted(ids, reverse=True)
    assert {v["code"]: v["status"] for v in everything["items"]} == {codes[0]: "used", codes[1]: "active",
                                                                     codes[2]: "active"}
    used = client.get("/api/v1/me/vouchers?status=used", headers=partner["headers"]).json["items"]
    assert [v["code"] for v in used] == [codes[0]]
    assert used[0]["used_store"]["name"] == "Store AE" and used[0]["used_at"] == "2026-11-23T09:00:00+00:00"
    paged = client.get("/api/v1/me/vouchers?limit=2", headers=partner["headers"]).json
    rest = client.get(f"/api/v1/me/vouchers?limit=2&cursor={paged['next_cursor']}", headers=partner["headers"]).json
    assert [v["id"] for v in paged["items"] + rest["items"]] == sorted(ids, reverse=True)
    assert client.get("/api/v1/me/vouchers?status=lost", headers=partner["headers"]).status_code == 422


def test_a_voucher_past_its_time_reads_expired_before_the_sweep_and_after(kit, client, app, session):
    from infra.jobs import runner
    from tests.conftest import work

    reward, codes, partner, ids = _holding(kit, 1, validity_days=10)
    kit.later(partner, days=11)
    assert client.get(f"/api/v1/me/vouchers/{ids[0]}", headers=partner["headers"]).json["status"] == "expired"
    assert client.get("/api/v1/me/vouchers?status=active", headers=partner["headers"]).json["items"] == []
    assert client.get("/api/v1/me/wallet", headers=partner["headers"]).json["active_vouchers"] == 0
    runner.schedule_recurring(session, kit.till.clock())
    session.commit()
    assert work(app, names=["rewards.expire_vouchers"]) == 1
    expired = client.get("/api/v1/me/vouchers?status=expired", headers=partner["headers"]).json["items"]
    assert [v["id"] for v in expired] == ids


def test_one_voucher_with_its_code_for_its_owner_only(kit, client):
    reward, codes, partner, ids = _holding(kit, 1)
    mine = client.get(f"/api/v1/me/vouchers/{ids[0]}", headers=partner["headers"])
    assert (mine.status_code, mine.json["code"], mine.json["points"]) == (200, codes[0], 100)
    other = kit.partner()
    for path in (f"/api/v1/me/vouchers/{ids[0]}", f"/api/v1/me/vouchers/{ids[0]}/qr.png"):
        response = client.get(path, headers=other["headers"])
        assert response.status_code == 404
        assert codes[0] not in response.get_data(as_text=True)


def test_the_vouchers_qr_decodes_to_a_payload_the_till_takes(kit, client):
    reward, codes, partner, ids = _holding(kit, 1)
    png = client.get(f"/api/v1/me/vouchers/{ids[0]}/qr.png", headers=partner["headers"])
    assert (png.mimetype, png.headers["Cache-Control"]) == ("image/png", "no-store")
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.data)))
    assert len(decoded) == 1 and decoded[0].text.startswith("PWV1.k1.")
    taken = kit.take(qr_payload=decoded[0].text)
    assert taken.status_code == 200
    assert (taken.json["id"], taken.json["status"], taken.json["member"]["member_number"]) == (
        ids[0], "used", partner["member"]["member_number"])
    assert taken.json["reward"]["face_value"] == {"amount": "50.00", "currency": "AED"}


def test_the_till_marks_a_voucher_used_once_and_a_second_scan_says_when_and_where(kit, client, people, till):
    # given a voucher used at one store
    reward, codes, partner, ids = _holding(kit, 1)
    first = kit.take(code=codes[0].lower())
    assert first.status_code == 200 and first.json["store"]["name"] == "Store AE"

    # when another till of another store scans it later
    other = Till(client, people, kit.till.app, kit.till.clock)
    kit.later(partner, hours=2)
    second = kit.take(code=codes[0], headers=people.login(other.cashier["email"]))

    # then
    assert second.status_code == 409
    assert second.json["reason"] == "already_used"
    assert second.json["message"] == "this voucher was already used on 2026-11-23 09:00 UTC at Store AE"
    assert second.json["details"] == {"used_at": "2026-11-23T09:00:00+00:00", "store_id": till.store.id,
                                      "store_name": "Store AE"}
    assert client.get(f"/api/v1/me/vouchers/{ids[0]}", headers=partner["headers"]).json["used_at"] == \
        "2026-11-23T09:00:00+00:00"


def test_an_expired_voucher_is_409_with_the_date_it_expired(kit):
    reward, codes, partner, ids = _holding(kit, 1, validity_days=3)
    kit.later(partner, days=4)
    response = kit.take(code=codes[0])
    assert (response.status_code, response.json["reason"]) == (409, "expired")
    assert response.json["message"] == "this voucher expired on 2026-11-26 09:00 UTC"


def test_a_voucher_of_another_country_is_409_naming_both(kit, client, people):
    reward, codes, partner, ids = _holding(kit, 1)
    poland = Till(client, people, kit.till.app, kit.till.clock, country="PL", currency="PLN")
    response = kit.take(code=codes[0], headers=poland.headers)
    assert (response.status_code, response.json["reason"]) == (409, "other_country")
    assert response.json["message"] == "this voucher is for AE; this store is in PL"
    assert kit.take(code=codes[0]).status_code == 200  # still good in the UAE


@pytest.mark.parametrize("typed, status, words", [
    ("NO-SUCH-CODE", 404, "no voucher has this code"),
    ("", 422, None),
    ("كود", 422, "this is not a voucher code"),
])
def test_an_unknown_or_impossible_code_is_refused(kit, typed, status, words):
    response = kit.take(code=typed)
    assert response.status_code == status
    if words:
        assert response.json["message"] == words


def test_a_code_sitting_in_the_pool_is_not_a_voucher_yet(kit):
    reward, codes = kit.voucher_reward(2)
    assert kit.take(code=codes[1]).status_code == 404


def test_a_generated_code_with_one_symbol_wrong_is_called_mistyped(kit, client):
    reward = kit.reward(code_source="generated")
    partner = kit.partner(500)
    voucher = kit.redeem(partner, reward["id"]).json["vouchers"][0]
    code = client.get(f"/api/v1/me/vouchers/{voucher['id']}", headers=partner["headers"]).json["code"]
    wrong = ("1" if code[0] != "1" else "2") + code[1:]
    response = kit.take(code=wrong)
    assert response.status_code == 422
    assert "mistyped" in response.json["errors"]["json"]["code"][0]
    typed_with_o = code.replace("0", "O")
    assert kit.take(code=typed_with_o).status_code == 200


@pytest.mark.parametrize("payload", [
    "PWV1.k1.1.AAAAAAAAAAAAAAAAAAAAAAAAAA",  # a made-up MAC
    "PWV1.k9.1.AAAAAAAAAAAAAAAAAAAAAAAAAA",  # an unknown key
    "PWV1.k1.١.AAAAAAAAAAAAAAAAAAAAAAAAAA",  # Arabic-Indic digits never reach int()
    "PW1.k1.00000000000.0.AAAAAAAAAAAAAAAAAAAAAAAAAA",  # a member card
    "hello",
])
def test_a_forged_voucher_qr_is_422(kit, payload):
    response = kit.take(qr_payload=payload)
    assert response.status_code == 422 and "qr_payload" in response.json["errors"]["json"]


def test_the_qr_of_a_voucher_id_signed_elsewhere_does_not_pass(kit, client):
    from passes import voucher_card

    reward, codes, partner, ids = _holding(kit, 1)
    forged = voucher_card.issue(ids[0], keys=[("k1", b"not the program's key" * 2)])
    assert kit.take(qr_payload=forged).status_code == 422


@pytest.mark.parametrize("body", [{}, {"code": "A", "qr_payload": "B"}, {"code": 5}, {"code": "X" * 101}])
def test_the_till_wants_exactly_one_of_code_or_qr_payload(kit, body):
    response = kit.client.post("/api/v1/pos/vouchers/redeem", json=body, headers=kit.till.headers)
    assert response.status_code == 422


@pytest.mark.parametrize("role", ["partner", "marketer", "admin"])
def test_only_a_cashier_takes_vouchers(kit, people, role):
    who = people.partner() if role == "partner" else people.staff(role)
    assert kit.take(code="X", headers=who["headers"]).status_code == 403


def test_a_retried_scan_with_the_same_idempotency_key_gets_the_first_answer(kit):
    reward, codes, partner, ids = _holding(kit, 1)
    key = {**kit.till.headers, "Idempotency-Key": "till-42"}
    first, second = kit.take(code=codes[0], headers=key), kit.take(code=codes[0], headers=key)
    assert first.status_code == second.status_code == 200 and second.get_data() == first.get_data()


def test_an_admin_cancelling_an_unused_voucher_refunds_its_points_with_a_reversal(kit, client, session):
    # given two vouchers of 100 points each and 300 left
    reward, codes, partner, ids = _holding(kit, 2)
    assert kit.balance(partner) == 300

    # when an admin cancels one
    response = client.post(f"/api/v1/admin/vouchers/{ids[0]}/cancel", json={"reason": "sent twice by mistake"},
                           headers=kit.admin)

    # then its points, and only its, come back
    assert response.status_code == 200, response.json
    assert (response.json["points_refunded"], response.json["balance"]) == (100, 400)
    assert response.json["voucher"]["status"] == "cancelled" and "code" not in response.json["voucher"]
    history = client.get("/api/v1/me/wallet/transactions", headers=partner["headers"]).json["items"]
    assert (history[0]["type"], history[0]["points"]) == ("reversal", 100)
    assert history[0]["description"] == "Refund: Carrefour voucher AED 50 (voucher cancelled)"
    account = ledger.member_account(session, partner["member"]["id"], kit.till.clock())
    assert assert_consistent(session, account.id) == 400
    # and the cancelled voucher is dead at the till
    taken = kit.take(code=codes[0])
    assert (taken.status_code, taken.json["reason"]) == (409, "cancelled")
    assert client.get("/api/v1/me/wallet", headers=partner["headers"]).json["active_vouchers"] == 1


def test_a_used_voucher_cannot_be_cancelled_and_keeps_its_points_spent(kit, client):
    reward, codes, partner, ids = _holding(kit, 1)
    assert kit.take(code=codes[0]).status_code == 200
    response = client.post(f"/api/v1/admin/vouchers/{ids[0]}/cancel", json={"reason": "customer asked"},
                           headers=kit.admin)
    assert (response.status_code, response.json["reason"]) == (409, "already_used")
    assert kit.balance(partner) == 400
    again = client.post(f"/api/v1/admin/vouchers/{ids[0] + 100}/cancel", json={"reason": "x" * 5}, headers=kit.admin)
    assert again.status_code == 404


def test_cancelling_twice_refunds_once(kit, client):
    reward, codes, partner, ids = _holding(kit, 1)
    url = f"/api/v1/admin/vouchers/{ids[0]}/cancel"
    assert client.post(url, json={"reason": "duplicate"}, headers=kit.admin).status_code == 200
    second = client.post(url, json={"reason": "duplicate"}, headers=kit.admin)
    assert (second.status_code, second.json["reason"]) == (409, "cancelled")
    assert kit.balance(partner) == 500


@pytest.mark.parametrize("role", ["partner", "cashier", "marketer"])
def test_only_admins_cancel_vouchers(kit, client, people, role):
    who = people.partner() if role == "partner" else people.staff(role)
    response = client.post("/api/v1/admin/vouchers/1/cancel", json={"reason": "because"}, headers=who["headers"])
    assert response.status_code == 403


def test_the_database_refuses_to_change_a_voucher_that_is_used(kit, session):
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    reward, codes, partner, ids = _holding(kit, 1)
    assert kit.take(code=codes[0]).status_code == 200
    with pytest.raises(DBAPIError, match="never changes"), session.begin_nested():
        session.execute(text("UPDATE vouchers SET status = 'active', used_at = NULL, used_store_id = NULL, "
                             "used_by_user_id = NULL WHERE id = :id"), {"id": ids[0]})
    with pytest.raises(DBAPIError, match="stays issued"), session.begin_nested():
        session.execute(text("UPDATE reward_codes SET status = 'available', issued_at = NULL WHERE reward_id = :r"),
                        {"r": reward["id"]})
