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
