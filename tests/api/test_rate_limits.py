"""Login, registration and refresh are rate limited; a 429 says when to come back."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import PASSWORD, build_app, need_service


def _login(client, email, addr="10.0.0.1"):
    return client.post(
        "/api/v1/auth/login",
        json={"email": email, "password": "wrong password"},
        environ_base={"REMOTE_ADDR": addr},
    )


@pytest.fixture
def tight(connection, settings, clock):
    """An app that allows three login attempts a minute."""
    return build_app(connection, settings.with_overrides(login_limit="3 per minute"), clock)


def test_the_fourth_login_in_a_minute_is_429_with_retry_after(tight):
    client = tight.test_client()
    statuses = [_login(client, "a@example.com").status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    response = _login(client, "a@example.com")
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert response.json["code"] == 429
    assert "try again" in response.json["message"]


def test_guessing_one_accounts_password_from_many_addresses_is_still_limited(tight):
    client = tight.test_client()
    statuses = [_login(client, "victim@example.com", addr=f"10.0.0.{i}").status_code for i in range(1, 6)]
    assert statuses == [401, 401, 401, 429, 429]


def test_a_forwarded_for_header_does_not_reset_the_limit_without_a_trusted_proxy(tight):
    client = tight.test_client()
    for i in range(3):
        client.post("/api/v1/auth/login", json={"email": f"u{i}@example.com", "password": "x"},
                    headers={"X-Forwarded-For": f"192.0.2.{i}"})
    response = client.post("/api/v1/auth/login", json={"email": "other@example.com", "password": "x"},
                           headers={"X-Forwarded-For": "192.0.2.99"})
    assert response.status_code == 429


def test_registration_is_limited(connection, settings, clock):
    client = build_app(connection, settings.with_overrides(register_limit="2 per hour"), clock).test_client()
    statuses = [
        client.post("/api/v1/auth/register",
                    json={"email": f"r{i}@example.com", "password": PASSWORD, "name": "R", "country": "AE"}).status_code
        for i in range(3)
    ]
    assert statuses == [201, 201, 429]


def test_with_redis_two_workers_share_one_count(connection, settings, clock):
    redis_url = need_service("TEST_REDIS_URL")
    limited = settings.with_overrides(login_limit="3 per minute", redis_url=redis_url)
    prefix = f"pw-test-{uuid.uuid4().hex}"  # counts of other runs stay out of this one
    worker_a = build_app(connection, limited, clock, RATELIMIT_KEY_PREFIX=prefix).test_client()
    worker_b = build_app(connection, limited, clock, RATELIMIT_KEY_PREFIX=prefix).test_client()
    statuses = [_login(c, "shared@example.com").status_code for c in (worker_a, worker_b, worker_a, worker_b)]
    assert statuses == [401, 401, 401, 429]


def test_a_till_scanning_faster_than_a_queue_moves_is_429_and_other_tills_are_not(connection, settings, clock, people):
    from tests.conftest import Till

    app = build_app(connection, settings.with_overrides(scan_limit="2 per minute"), clock)
    first, second = Till(app.test_client(), people, app, clock), Till(app.test_client(), people, app, clock)
    scan = {"qr_payload": "PW1.k1.00000000000.0.X"}
    statuses = [first.client.post("/api/v1/pos/scan", json=scan, headers=first.headers).status_code for _ in range(3)]
    assert statuses == [422, 422, 429]
    assert second.client.post("/api/v1/pos/scan", json=scan, headers=second.headers).status_code == 422


def test_spelling_the_authorization_header_differently_does_not_reset_a_tills_limit(connection, settings, clock, people):
    app = build_app(connection, settings.with_overrides(scan_limit="2 per minute"), clock)
    client = app.test_client()
    people.client = client
    partner = people.partner()
    cashier = people.staff("cashier")
    token = cashier["headers"]["Authorization"].split(" ", 1)[1]
    spellings = [f"Bearer {token}", f"bearer {token}", f"BEARER   {token}  "]
    statuses = [client.post("/api/v1/pos/scan", json={"member_number": partner["member"]["member_number"]},
                            headers={"Authorization": spelling}).status_code for spelling in spellings]
    assert statuses == [200, 200, 429]


def test_purchases_are_limited_per_till(connection, settings, clock, people):
    app = build_app(connection, settings.with_overrides(purchase_limit="2 per minute"), clock)
    client = app.test_client()
    people.client = client
    partner = people.partner()
    cashier = people.staff("cashier")
    statuses = [client.post("/api/v1/pos/purchases", headers=cashier["headers"], json={
        "member_number": partner["member"]["member_number"], "receipt_number": f"R-{i}",
        "total": {"amount": "10.00", "currency": "AED"}}).status_code for i in range(3)]
    assert statuses[2] == 429 and all(s != 429 for s in statuses[:2])


def test_only_limited_endpoints_carry_the_limiters_headers(client, people):
    partner = people.partner()
    login = client.post("/api/v1/auth/login", json={"email": partner["email"], "password": PASSWORD})
    wallet = client.get("/api/v1/me/wallet", headers=partner["headers"])
    assert login.headers["X-RateLimit-Limit"] == "1000"
    assert "X-RateLimit-Limit" not in wallet.headers and wallet.status_code == 200
