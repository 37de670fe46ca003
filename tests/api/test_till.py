"""The cashier's till: scan the member, book the purchase, refund it."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.conftest import Till, statements_of


def test_scanning_the_member_qr_shows_name_tier_and_balance(client, people, till):
    partner = people.partner(name="Omar")
    till.buy(partner, "250.00")
    response = client.post("/api/v1/pos/scan", json={"qr_payload": till.card(partner)}, headers=till.headers)
    assert response.status_code == 200
    assert response.json == {"member_number": partner["member"]["member_number"], "name": "Omar",
                             "tier": "blue", "tier_name": "Blue", "balance": 250}


def test_a_typed_member_number_works_with_spaces(client, people, till):
    partner = people.partner()
    number = partner["member"]["member_number_display"]
    response = client.post("/api/v1/pos/scan", json={"member_number": number}, headers=till.headers)
    assert response.json["member_number"] == partner["member"]["member_number"]


def test_a_mistyped_member_number_is_caught_by_its_check_digit(client, people, till):
    number = people.partner()["member"]["member_number"]
    # swap the first two neighbouring digits that differ (numbers are random: 11...88 happens)
    i = next(i for i in range(len(number) - 1) if number[i] != number[i + 1])
    swapped = number[:i] + number[i + 1] + number[i] + number[i + 2:]
    assert swapped != number
    response = client.post("/api/v1/pos/scan", json={"member_number": swapped}, headers=till.headers)
    assert response.status_code == 422
    assert "mistyped" in response.json["errors"]["json"]["member_number"][0]


def test_a_forged_qr_is_refused(client, people, till):
    payload = till.card(people.partner())
    scheme, kid, number, window, mac = payload.split(".")
    other = people.partner()["member"]["member_number"]
    for forged in (f"{scheme}.{kid}.{other}.{window}.{mac}",  # someone else's number under this signature
                   f"{scheme}.{kid}.{number}.{int(window) + 5}.{mac}",  # a later window
                   f"{scheme}.k9.{number}.{window}.{mac}",  # an unknown key
                   "hello", ""):
        response = client.post("/api/v1/pos/scan", json={"qr_payload": forged}, headers=till.headers)
        assert response.status_code == 422, forged
        assert "qr_payload" in response.json["errors"]["json"]


def test_a_qr_replayed_after_its_window_is_refused_with_a_reason(client, people, till, clock):
    payload = till.card(people.partner())
    clock.advance(minutes=3)
    assert client.post("/api/v1/pos/scan", json={"qr_payload": payload}, headers=till.headers).status_code == 200
    clock.advance(minutes=2)
    response = client.post("/api/v1/pos/scan", json={"qr_payload": payload}, headers=till.headers)
    assert response.status_code == 422
    assert response.json["message"] == "this member code has expired: ask the member to refresh the app"


def test_cards_signed_with_the_previous_key_still_work_after_rotation(connection, settings, clock, people, client):
    from tests.conftest import build_app

    old = settings.with_overrides(member_qr_keys=(("k1", "o" * 40),))
    rotated = settings.with_overrides(member_qr_keys=(("k2", "n" * 40), ("k1", "o" * 40)))
    partner = people.partner()
    old_app, new_app = build_app(connection, old, clock), build_app(connection, rotated, clock)
    payload = old_app.test_client().get("/api/v1/me/card", headers=partner["headers"]).json["qr_payload"]
    till = Till(new_app.test_client(), people, new_app, clock)
    response = till.client.post("/api/v1/pos/scan", json={"qr_payload": payload}, headers=till.headers)
    assert response.status_code == 200
    assert till.card(partner).split(".")[1] == "k2"


def test_a_purchase_earns_points_with_a_breakdown_and_shows_in_the_history(client, people, till):
    partner = people.partner()
    response = till.buy(partner, "129.50")
    assert response.status_code == 201
    assert (response.json["points_earned"], response.json["balance"]) == (129, 129)
    assert response.json["breakdown"] == [{"rule": "base", "label": "1 per 1 AED", "points": 129}]
    history = client.get("/api/v1/me/wallet/transactions", headers=partner["headers"]).json
    assert [(t["type"], t["points"], t["balance_after"], t["reference"]) for t in history["items"]] == [
        ("earn", 129, 129, f"receipt {response.json['receipt_number']}")]
    assert history["items"][0]["breakdown"][0]["rule"] == "base"


def test_a_purchase_is_two_statements_on_postgresql_and_lifts_the_tier_on_the_way(client, people, till, connection):
    """The till's budget (issue #17: at most 12): the cashier's sign-in and store with the member and
    its account locked, then the receipt and the whole ledger credit in one statement; one more
    only when the tier goes up, and one for a member who holds a wallet pass
    (its update's enqueue: tests/passes/test_tracking.py)."""
    partner = people.partner()
    assert till.buy(partner, "10.00").status_code == 201  # warm the process caches (program, tiers)

    def counted(amount):
        return statements_of(connection, lambda: responses.append(till.buy(partner, amount)))

    responses = []
    plain, lifting = counted("20.00"), counted("2000.00")  # 2,030 qualifying points: Silver
    assert [(r.json["balance"], r.json["tier"]) for r in responses] == [(30, "blue"), (2030, "silver")]
    postgres = connection.dialect.name == "postgresql"
    assert len(plain) == (2 if postgres else 10), plain
    assert "cashier.is_active" in plain[0] and "stores.is_active" in plain[0]
    assert "FOR UPDATE" in plain[0] or not postgres
    assert not postgres or ("INSERT INTO purchases" in plain[1] and "INSERT INTO ledger_entries" in plain[1])
    assert len(lifting) == len(plain) + 1 and "UPDATE members SET tier" in " ".join(lifting)
    me = client.get("/api/v1/me/wallet", headers=partner["headers"]).json
    assert (me["balance"], me["tier"]["code"], me["tier"]["qualifying_points"]) == (2030, "silver", 2030)


def test_a_retry_with_the_same_idempotency_key_returns_the_identical_response(client, people, till, session):
    partner = people.partner()
    key = {"Idempotency-Key": "till-7-0001"}
    first = till.buy(partner, "100.00", receipt="R-100", headers=key)
    again = till.buy(partner, "100.00", receipt="R-100", headers=key)
    assert again.status_code == 201
    assert again.get_data() == first.get_data()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert client.get("/api/v1/me/wallet", headers=partner["headers"]).json["balance"] == 100


def test_the_same_idempotency_key_with_another_body_is_409(people, till):
    partner = people.partner()
    key = {"Idempotency-Key": "till-7-0002"}
    till.buy(partner, "100.00", receipt="R-200", headers=key)
    response = till.buy(partner, "900.00", receipt="R-201", headers=key)
    assert response.status_code == 409
    assert "idempotency key" in response.json["message"]


def test_the_same_receipt_twice_books_once(client, people, till):
    partner = people.partner()
    first = till.buy(partner, "80.00", receipt="R-300")
    again = till.buy(partner, "80.00", receipt="R-300")
    assert again.json["id"] == first.json["id"]
    assert client.get("/api/v1/me/wallet", headers=partner["headers"]).json["balance"] == 80
    other = till.buy(people.partner(), "80.00", receipt="R-300")
    assert other.status_code == 409
    assert "receipt_number" in other.json["errors"]["json"]


def test_the_receipt_carries_its_transaction_and_the_transaction_is_keyed_by_the_receipt(client, people, till,
                                                                                        connection):
    # On PostgreSQL both rows are written by one statement, each naming the other.
    partner = people.partner()
    booked = till.buy(partner, "80.00", receipt="R-310").json
    till.buy(partner, "80.00", receipt="R-310")  # the retry writes nothing
    rows = connection.execute(text(
        "SELECT p.points_earned, t.idempotency_key, t.reference, t.account_id, e.amount FROM purchases p"
        " JOIN ledger_transactions t ON t.id = p.transaction_id JOIN ledger_entries e ON e.transaction_id = t.id"
        " WHERE p.receipt_number = 'R-310' AND e.balance_after IS NOT NULL")).all()
    assert [tuple(r)[:3] + (r[4],) for r in rows] == [(80, f"purchase:{booked['id']}", "receipt R-310", 80)]
    assert connection.scalar(text("SELECT count(*) FROM ledger_transactions WHERE reference = 'receipt R-310'")) == 1


def test_a_refund_reverses_the_points_and_a_second_refund_is_409(client, people, till):
    partner = people.partner()
    till.buy(partner, "40.00")
    purchase = till.buy(partner, "300.00").json
    refund = client.post(f"/api/v1/pos/purchases/{purchase['id']}/refund", headers=till.headers)
    assert refund.status_code == 201
    assert refund.json == {"purchase_id": purchase["id"], "points_reversed": 300, "shortfall": 0, "balance": 40}
    again = client.post(f"/api/v1/pos/purchases/{purchase['id']}/refund", headers=till.headers)
    assert again.status_code == 409
    types = [t["type"] for t in client.get("/api/v1/me/wallet/transactions", headers=partner["headers"]).json["items"]]
    assert types == ["reversal", "earn", "earn"]


def test_a_cashier_cannot_refund_another_stores_purchase(client, people, till, app, clock):
    partner = people.partner()
    purchase = till.buy(partner, "300.00").json
    other_store = Till(client, people, app, clock)
    response = client.post(f"/api/v1/pos/purchases/{purchase['id']}/refund", headers=other_store.headers)
    assert response.status_code == 404
    assert client.get("/api/v1/me/wallet", headers=partner["headers"]).json["balance"] == 300


def test_a_cashier_books_only_at_its_own_store_and_in_its_currency(client, people, till, app, clock):
    partner = people.partner()
    warsaw = Till(client, people, app, clock, country="PL", currency="PLN")
    response = warsaw.buy(partner, "100.00", total={"amount": "100.00", "currency": "AED"})
    assert response.status_code == 422
    assert response.json["errors"]["json"] == {"total": {"currency": ["this store takes PLN, not AED"]}}
    booked = warsaw.buy(partner, "100.00").json
    assert client.get("/api/v1/pos/store", headers=warsaw.headers).json["id"] == warsaw.store.id
    # the purchase belongs to the cashier's store, whatever the body says
    assert till.client.post(f"/api/v1/pos/purchases/{booked['id']}/refund", headers=till.headers).status_code == 404


@pytest.mark.parametrize("change, field", [
    ({"total": {"amount": 129.5, "currency": "AED"}}, "amount"),
    ({"total": {"amount": "12.345", "currency": "AED"}}, "amount"),
    ({"total": {"amount": "-5.00", "currency": "AED"}}, "amount"),
    ({"total": {"amount": "NaN", "currency": "AED"}}, "amount"),
    ({"total": {"amount": "10.00", "currency": "XXX"}}, "currency"),
    ({"receipt_number": ""}, "receipt_number"),
    ({"items": [{"sku": "T1", "quantity": 0, "unit_price": "10.00"}]}, "items"),
    ({"items": [{"sku": "T1", "quantity": 20, "unit_price": "10.00"}]}, "items"),
    ({"member_number": "12345"}, "member_number"),
])
def test_bad_purchases_name_the_field_and_book_nothing(client, people, till, change, field):
    partner = people.partner()
    body = {"member_number": partner["member"]["member_number"], "receipt_number": "R-1",
            "total": {"amount": "100.00", "currency": "AED"}, **change}
    response = client.post("/api/v1/pos/purchases", json=body, headers=till.headers)
    assert response.status_code == 422, response.json
    assert field in str(response.json["errors"])
    assert client.get("/api/v1/me/wallet", headers=partner["headers"]).json["balance"] == 0


def test_kuwaiti_dinars_take_three_decimals(client, people, app, clock):
    kuwait = Till(client, people, app, clock, country="KW", currency="KWD")
    response = kuwait.buy(people.partner(country="KW"), "12.345")
    assert response.status_code == 201
    assert response.json["points_earned"] == 123  # a point per 0.100 KWD, rounded down


def test_partners_and_marketers_cannot_use_the_till(client, people, till):
    partner = people.partner()
    for who in (partner, people.staff("marketer")):
        response = till.buy(partner, "10.00", headers=who["headers"])
        assert response.status_code == 403


def test_a_blank_receipt_number_is_422(client, people, till):
    response = till.buy(people.partner(), "10.00", receipt="   ")
    assert response.status_code == 422 and "receipt_number" in response.json["errors"]["json"]


def test_a_till_whose_cashier_was_deactivated_moved_to_another_role_or_whose_store_closed_books_nothing(
        client, people, till, session):
    """The purchase checks its cashier in its first statement, not before: each of these must still
    be refused, with nothing booked."""
    from wallet.earning.purchases import Purchase
    from wallet.members.models import Store, User

    partner = people.partner()
    assert till.buy(partner, "10.00").status_code == 201
    cashier = session.get(User, till.cashier["user"].id)

    def refused(expected_status):
        response = till.buy(partner, "500.00")
        assert response.status_code == expected_status, response.json
        assert "balance" not in response.json
        return response.json["message"]

    cashier.is_active = False
    session.commit()
    assert refused(401) == "this account no longer exists or was deactivated"
    cashier.is_active, cashier.role, cashier.store_id = True, "marketer", None  # only a cashier has a store
    session.commit()
    assert refused(403) == "this needs the role cashier"
    cashier.role, cashier.store_id = "cashier", till.store.id
    session.get(Store, till.store.id).is_active = False
    session.commit()
    assert refused(403) == "this store is closed"

    session.expire_all()
    assert session.query(Purchase).count() == 1
    wallet = client.get("/api/v1/me/wallet", headers=partner["headers"]).json
    assert wallet["balance"] == 10
