"""The command line an operator uses on day one."""

from __future__ import annotations

from tests.conftest import PASSWORD


def test_create_admin_makes_an_admin_who_can_sign_in_and_open_stores(app, client):
    result = app.test_cli_runner().invoke(
        args=["users", "create-admin", "--email", "Boss@Example.com", "--password", PASSWORD]
    )
    assert result.exit_code == 0, result.output
    assert "admin boss@example.com created" in result.output
    token = client.post("/api/v1/auth/login", json={"email": "boss@example.com", "password": PASSWORD}).json
    response = client.post(
        "/api/v1/admin/stores",
        json={"name": "Dubai", "country": "AE", "currency": "AED"},
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )
    assert response.status_code == 201


def test_create_admin_refuses_a_short_password_and_a_taken_email(app):
    runner = app.test_cli_runner()
    short = runner.invoke(args=["users", "create-admin", "--email", "a@example.com", "--password", "short"])
    assert short.exit_code != 0
    assert "at least 10 characters" in short.output
    runner.invoke(args=["users", "create-admin", "--email", "a@example.com", "--password", PASSWORD])
    again = runner.invoke(args=["users", "create-admin", "--email", "a@example.com", "--password", PASSWORD])
    assert again.exit_code != 0
    assert "already exists" in again.output


def test_forget_idempotency_drops_week_old_responses_and_keeps_the_recent_ones(app, client, people, till, clock):
    partner = people.partner()
    old = till.buy(partner, "100.00", receipt="R-old", headers={"Idempotency-Key": "k-old"})
    clock.advance(days=6)
    till.headers = people.login(till.cashier["email"])  # a fresh access token, days on
    recent = till.buy(partner, "50.00", receipt="R-new", headers={"Idempotency-Key": "k-new"})
    clock.advance(days=2)  # k-old is 8 days old, k-new 2
    till.headers = people.login(till.cashier["email"])

    result = app.test_cli_runner().invoke(args=["wallet", "forget-idempotency"])

    assert result.exit_code == 0, result.output
    assert "forgotten: 1 (older than 7 days)" in result.output
    replay = till.buy(partner, "50.00", receipt="R-new", headers={"Idempotency-Key": "k-new"})
    assert replay.headers.get("Idempotent-Replayed") == "true" and replay.get_data() == recent.get_data()
    # the old key is forgotten, but the receipt number still books the purchase once
    again = till.buy(partner, "100.00", receipt="R-old", headers={"Idempotency-Key": "k-old"})
    assert "Idempotent-Replayed" not in again.headers and again.json["id"] == old.json["id"]
    partner["headers"] = people.login(partner["email"])
    assert client.get("/api/v1/me/wallet", headers=partner["headers"]).json["balance"] == 150


def test_forget_idempotency_refuses_a_window_under_a_day(app):
    result = app.test_cli_runner().invoke(args=["wallet", "forget-idempotency", "--days", "0"])
    assert result.exit_code != 0 and "--days" in result.output


def test_demo_seed_makes_a_program_a_newcomer_can_sign_in_to_and_a_second_run_adds_nothing(app, client, session):
    from sqlalchemy import func, select

    from wallet.members.models import Member, User

    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    counts = (session.scalar(select(func.count()).select_from(User)), session.scalar(select(func.count()).select_from(Member)))
    assert counts == (50 + 5, 50)  # partners; admin, marketer, three cashiers

    # the printed partner password signs partner1 in, and the wallet has a year behind it
    password = next(line.split()[-1] for line in first.output.splitlines() if "partners 1-50" in line)
    token = client.post("/api/v1/auth/login", json={"email": "partner1@demo.partnerwallet.example",
                                                    "password": password}).json["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    wallet = client.get("/api/v1/me/wallet", headers=headers).json
    assert wallet["balance"] > 0
    assert wallet["tier"]["name"] != "Blue" and wallet["expiring"], wallet
    history = client.get("/api/v1/me/wallet/transactions?limit=100", headers=headers).json["items"]
    assert {t["type"] for t in history} >= {"earn"} and len(history) >= 10

    # the catalog has something partner1 can redeem, and the voucher is in its wallet
    catalog = client.get("/api/v1/catalog/rewards?sort=points_cost", headers=headers).json["items"]
    assert {item["kind"] for item in catalog} >= {"voucher", "physical"}
    voucher = next(item for item in catalog if item["in_stock"] and item["affordable"] and item["kind"] == "voucher")
    redeemed = client.post("/api/v1/me/redemptions", json={"reward_id": voucher["id"]}, headers=headers)
    assert redeemed.status_code == 201, redeemed.json
    assert client.get("/api/v1/me/wallet", headers=headers).json["active_vouchers"] == 1

    # tiers are spread across the partners, and the marketer's draft waits
    tiers = set(session.scalars(select(Member.tier)))
    assert tiers == {"blue", "silver", "gold", "platinum"}, tiers

    second = runner.invoke(args=["demo", "seed"])
    assert second.exit_code == 0 and "nothing was added" in second.output
    assert password in second.output  # the credentials are printed again
    assert session.scalar(select(func.count()).select_from(Member)) == 50
