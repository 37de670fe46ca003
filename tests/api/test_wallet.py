"""What a partner sees on the phone: balance, expiry, tier progress, history, the card."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import jwt
import pytest
from hypothesis import given, settings, strategies as st

import zxingcpp
from PIL import Image

from sqlalchemy import select
from sqlalchemy.exc import StatementError

from api.schemas.wallet import WalletSchema, wallet_body
from tests.conftest import START, statements_of
from wallet import overview


def test_the_wallet_shows_balance_expiring_points_and_tier_progress(client, people, till, clock):
    # given: points live 24 months; 300 earned 700 days ago, 1,500 today
    partner = people.partner()
    assert till.buy(partner, "300.00").status_code == 201
    clock.advance(days=700)
    till.headers = people.login(till.cashier["email"])
    assert till.buy(partner, "1500.00").status_code == 201

    # when
    wallet = client.get("/api/v1/me/wallet", headers=people.login(partner["email"])).json

    # then
    assert wallet["balance"] == 1800
    assert wallet["lifetime_earned"] == 1800
    assert wallet["expiring"] == [{"points": 300, "expires_at": "2028-11-23T09:00:00+00:00"}]
    assert wallet["tier"] == {"code": "blue", "name": "Blue", "multiplier": "1.000", "qualifying_points": 1500,
                              "next_tier": "Silver", "points_to_next": 500}


_times = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1),
                      timezones=st.just(dt.timezone.utc))
_counts = st.integers(min_value=0, max_value=2**53)


@settings(max_examples=300, deadline=None)
@given(st.builds(
    overview.WalletOverview, balance=st.integers(min_value=-(2**53), max_value=2**53), pending=_counts,
    lifetime_earned=_counts, currency_value=st.none(),
    expiring=st.lists(st.builds(overview.Expiring, points=_counts, expires_at=_times), max_size=5),
    tier=st.builds(overview.TierStatus, code=st.sampled_from(["blue", "silver", "gold", "platinum"]),
                   name=st.text(max_size=20),
                   multiplier=st.decimals(min_value=Decimal("0.001"), max_value=Decimal("100"), places=3)
                   | st.sampled_from([Decimal("1"), Decimal("1.5"), Decimal("1.250"), Decimal("2E+0")]),
                   qualifying_points=_counts, next_tier=st.none() | st.text(max_size=20),
                   points_to_next=st.none() | _counts),
    active_vouchers=_counts))
def test_the_wallets_body_is_what_its_schema_would_write(wallet):
    """The view writes the body directly (it is the hottest read); the schema is the contract."""
    assert wallet_body(wallet) == WalletSchema().dump(wallet)


def test_the_wallet_is_one_statement_with_the_sign_in_and_lists_each_days_expiry_soonest_first(
        client, people, till, clock, connection):
    # given: three purchases on two days, 700 and 701 days ago (lots live 24 months), one today
    partner = people.partner()
    for points in ("100.00", "40.00"):
        assert till.buy(partner, points).status_code == 201
    clock.advance(days=1)
    till.headers = people.login(till.cashier["email"])
    assert till.buy(partner, "20.00").status_code == 201
    clock.advance(days=700)
    till.headers = people.login(till.cashier["email"])
    assert till.buy(partner, "7.00").status_code == 201
    headers = people.login(partner["email"])

    # when
    answers = []
    seen = statements_of(connection, lambda: answers.append(client.get("/api/v1/me/wallet", headers=headers)))

    # then: one statement checks the signed-in partner and reads the wallet
    assert len(seen) == 1, seen
    assert "users.is_active" in seen[0] and "users.role" in seen[0]
    wallet = answers[-1].json
    assert (wallet["balance"], wallet["lifetime_earned"]) == (167, 167)
    assert [e["points"] for e in wallet["expiring"]] == [140, 20]
    assert wallet["expiring"][0]["expires_at"] < wallet["expiring"][1]["expires_at"]
    assert wallet["tier"]["qualifying_points"] == 7

    # and the statement's rows, run on the driver itself, are what SQLAlchemy's execute gives,
    # times converted to UTC by their type even where the server's zone is not UTC
    from infra.db import driver_rows
    from wallet import overview

    now = clock()
    params = {"key_id": _user_id(partner), "now": now, "since": now.date() - dt.timedelta(days=364),
              "until": now + overview.EXPIRING_WITHIN}
    statement = overview._wallet_query("user")
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL TIME ZONE 'Asia/Dubai'")
    rows = driver_rows(connection, statement, params)
    assert rows == [tuple(row) for row in connection.execute(statement, params)] and len(rows) == 3
    assert [row[6].utcoffset() for row in rows[1:]] == [dt.timedelta(0)] * 2
    with pytest.raises(StatementError, match="naive"):
        driver_rows(connection, statement, {**params, "now": now.replace(tzinfo=None)})


def _user_id(partner):
    return int(jwt.decode(partner["access_token"], options={"verify_signature": False})["sub"])


def test_a_partner_deactivated_or_made_staff_after_signing_in_gets_no_wallet(client, people, till, session):
    from wallet.members.models import User

    partner, other = people.partner(), people.partner()
    assert till.buy(partner, "100.00").status_code == 201
    assert till.buy(other, "100.00").status_code == 201
    user = session.get(User, _user_id(partner))
    user.is_active = False
    session.commit()
    gone = client.get("/api/v1/me/wallet", headers=partner["headers"])
    assert gone.status_code == 401 and "balance" not in gone.json
    assert gone.json["message"] == "this account no longer exists or was deactivated"

    # a token that still says "partner" for a user who no longer is one
    staff = session.get(User, _user_id(other))
    staff.role = "marketer"
    session.commit()
    refused = client.get("/api/v1/me/wallet", headers=other["headers"])
    assert refused.status_code == 403 and "balance" not in refused.json


def test_an_imported_member_without_a_points_account_gets_an_empty_wallet_and_then_an_account(
        client, people, session, clock):
    from wallet import ledger
    from wallet.members import numbers
    from wallet.members.models import Member, User
    from wallet.members.passwords import hash_password

    # given: a partner and its member row as an import writes them, with no points account
    user = User(email="imported@example.com", password_hash=hash_password("imported-password-1"), name="Imported",
                role="partner", created_at=clock())
    session.add(user)
    session.flush()
    member = Member(user_id=user.id, country="AE", language="en", timezone="Asia/Dubai", created_at=clock(),
                    member_number=numbers.generate())
    session.add(member)
    session.commit()
    account_of = lambda: session.scalar(select(ledger.LedgerAccount.id).where(  # noqa: E731
        ledger.LedgerAccount.owner_type == "member", ledger.LedgerAccount.owner_id == member.id))
    assert account_of() is None
    headers = people.login("imported@example.com", "imported-password-1")

    # when
    wallet = client.get("/api/v1/me/wallet", headers=headers)

    # then
    assert wallet.status_code == 200
    assert (wallet.json["balance"], wallet.json["expiring"], wallet.json["tier"]["code"]) == (0, [], "blue")
    session.expire_all()
    assert account_of() is not None


def test_a_purchase_that_crosses_a_threshold_lifts_the_tier_and_the_next_earns_more(client, people, till):
    partner = people.partner()
    assert till.buy(partner, "2000.00").json["tier"] == "silver"
    second = till.buy(partner, "100.00").json
    assert second["points_earned"] == 125
    assert second["breakdown"][1] == {"rule": "tier", "label": "Silver ×1.25", "points": 25}
    assert client.get("/api/v1/me", headers=partner["headers"]).json["tier"] == "silver"


def test_history_pages_newest_first_without_repeats(client, people, till):
    partner = people.partner()
    for i in range(5):
        till.buy(partner, f"{10 + i}.00")
    seen, cursor = [], None
    while True:
        query = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get("/api/v1/me/wallet/transactions", query_string=query, headers=partner["headers"]).json
        seen += [t["points"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [14, 13, 12, 11, 10]


def test_a_made_up_cursor_or_limit_is_422(client, people):
    partner = people.partner()
    for query, field in (({"cursor": "not-ours"}, "cursor"), ({"limit": 101}, "limit"), ({"limit": 0}, "limit")):
        response = client.get("/api/v1/me/wallet/transactions", query_string=query, headers=partner["headers"])
        assert response.status_code == 422
        assert field in response.json["errors"]["query"]


def test_a_partner_sees_only_its_own_history(client, people, till):
    rich, other = people.partner(), people.partner()
    till.buy(rich, "500.00")
    assert client.get("/api/v1/me/wallet/transactions", headers=other["headers"]).json["items"] == []
    assert client.get("/api/v1/me/wallet", headers=other["headers"]).json["balance"] == 0


def test_the_card_payload_rotates_and_says_when_it_expires(client, people, clock):
    partner = people.partner()
    first = client.get("/api/v1/me/card", headers=partner["headers"]).json
    assert first["member_number"] == partner["member"]["member_number"]
    assert dt.datetime.fromisoformat(first["expires_at"]) - START == dt.timedelta(minutes=4)
    clock.advance(minutes=1)
    assert client.get("/api/v1/me/card", headers=partner["headers"]).json["qr_payload"] != first["qr_payload"]


def test_the_qr_png_decodes_to_the_payload_a_till_accepts(client, people, till):
    partner = people.partner()
    response = client.get("/api/v1/me/card/qr.png", headers=partner["headers"])
    assert response.mimetype == "image/png"
    assert response.headers["Cache-Control"] == "no-store"
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(response.data)))
    assert len(decoded) == 1 and decoded[0].format == zxingcpp.BarcodeFormat.QRCode
    scan = client.post("/api/v1/pos/scan", json={"qr_payload": decoded[0].text}, headers=till.headers)
    assert scan.json["member_number"] == partner["member"]["member_number"]


def test_the_qr_svg_is_an_svg_image(client, people):
    response = client.get("/api/v1/me/card/qr.svg", headers=people.partner()["headers"])
    assert response.mimetype == "image/svg+xml"
    assert response.data.lstrip().startswith(b"<?xml") and b"<svg" in response.data


def test_staff_have_no_wallet_or_card(client, people):
    cashier = people.staff("cashier")
    for path in ("/api/v1/me/wallet", "/api/v1/me/wallet/transactions", "/api/v1/me/card", "/api/v1/me/card/qr.png"):
        assert client.get(path, headers=cashier["headers"]).status_code == 403, path

