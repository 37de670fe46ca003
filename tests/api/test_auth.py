"""Signing up, signing in, staying signed in, signing out."""

from __future__ import annotations

import jwt

from tests.conftest import PASSWORD


def test_register_then_login_then_me_shows_the_profile(client, people):
    # given
    registered = people.partner(name="  Fatima Al Marri ", phone="+971501234567", company_name="Al Marri Tyres")

    # when
    headers = people.login(registered["email"].upper())
    me = client.get("/api/v1/me", headers=headers)

    # then
    assert me.status_code == 200
    profile = me.json
    assert profile["id"] == registered["member"]["id"]
    assert profile["name"] == "Fatima Al Marri"
    assert profile["email"] == registered["email"]
    assert profile["phone"] == "+971501234567"
    assert profile["country"] == "AE"
    assert profile["language"] == "en"
    assert profile["timezone"] == "Asia/Dubai"
    assert profile["tier"] == "blue"
    assert profile["marketing_opt_in"] is False
    assert profile["company_name"] == "Al Marri Tyres"
    assert len(profile["member_number"]) == 11
    assert "password" not in profile


def test_register_defaults_language_and_timezone_from_the_country(people):
    member = people.partner(country="PL")["member"]
    assert (member["language"], member["timezone"]) == ("pl", "Europe/Warsaw")


def test_register_with_a_taken_email_in_other_case_is_409_on_the_email(client, people):
    first = people.partner()
    response = client.post(
        "/api/v1/auth/register",
        json={"email": first["email"].upper(), "password": PASSWORD, "name": "Copy", "country": "AE"},
    )
    assert response.status_code == 409
    assert "email" in response.json["errors"]["json"]


def test_register_with_another_members_number_as_invite_code_records_the_referrer(client, people, session):
    from wallet.members.models import Member

    referrer = people.partner()["member"]
    invited = people.partner(invite_code=referrer["member_number"])["member"]
    assert session.get(Member, invited["id"]).referred_by_id == referrer["id"]


def test_register_with_an_invite_code_that_does_not_check_is_422_and_creates_nothing(client, people, session):
    from sqlalchemy import func, select

    from wallet.members.models import User

    referrer = people.partner()["member"]
    wrong = referrer["member_number"][:-1] + str((int(referrer["member_number"][-1]) + 1) % 10)
    before = session.scalar(select(func.count()).select_from(User))
    response = client.post(
        "/api/v1/auth/register",
        json={"email": "new@example.com", "password": PASSWORD, "name": "N", "country": "AE", "invite_code": wrong},
    )
    assert response.status_code == 422
    assert response.json["errors"]["json"] == {"invite_code": ["no member has this invite code"]}
    assert session.scalar(select(func.count()).select_from(User)) == before


def test_login_with_a_wrong_password_or_unknown_email_is_the_same_401(client, people):
    partner = people.partner()
    wrong_password = client.post("/api/v1/auth/login", json={"email": partner["email"], "password": "not it at all"})
    unknown = client.post("/api/v1/auth/login", json={"email": "nobody@example.com", "password": "not it at all"})
    assert wrong_password.status_code == unknown.status_code == 401
    assert wrong_password.json["message"] == unknown.json["message"]


def test_login_returns_a_bearer_pair_that_expires_in_fifteen_minutes(client, people, app):
    partner = people.partner()
    body = client.post("/api/v1/auth/login", json={"email": partner["email"], "password": PASSWORD}).json
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    claims = jwt.decode(body["access_token"], app.config["SETTINGS"].jwt_secret, algorithms=["HS256"],
                        options={"verify_exp": False, "verify_iat": False})
    assert set(claims) == {"sub", "role", "jti", "iat", "exp"}
    assert claims["role"] == "partner"
    assert claims["exp"] - claims["iat"] == 900


def test_refresh_rotates_the_pair_and_the_old_refresh_token_stops_working(client, people):
    # given
    partner = people.partner()

    # when
    first = client.post("/api/v1/auth/refresh", json={"refresh_token": partner["refresh_token"]})

    # then
    assert first.status_code == 200
    assert first.json["refresh_token"] != partner["refresh_token"]
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {first.json['access_token']}"}).status_code == 200
    second = client.post("/api/v1/auth/refresh", json={"refresh_token": first.json["refresh_token"]})
    assert second.status_code == 200


def test_reusing_a_spent_refresh_token_revokes_the_whole_family(client, people):
    # given: the owner refreshed once; a thief kept the first token
    partner = people.partner()
    stolen = partner["refresh_token"]
    owners = client.post("/api/v1/auth/refresh", json={"refresh_token": stolen}).json["refresh_token"]

    # when: the thief uses the spent token
    replay = client.post("/api/v1/auth/refresh", json={"refresh_token": stolen})

    # then: refused, and the owner's current token is dead too
    assert replay.status_code == 401
    assert "already used" in replay.json["message"]
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": owners}).status_code == 401


def test_reuse_in_one_family_leaves_the_members_other_devices_signed_in(client, people):
    partner = people.partner()
    other_device = client.post("/api/v1/auth/login", json={"email": partner["email"], "password": PASSWORD}).json
    client.post("/api/v1/auth/refresh", json={"refresh_token": partner["refresh_token"]})
    client.post("/api/v1/auth/refresh", json={"refresh_token": partner["refresh_token"]})
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": other_device["refresh_token"]}).status_code == 200


def test_a_refresh_token_past_its_lifetime_is_refused(client, people, clock):
    partner = people.partner()
    clock.advance(days=61)
    response = client.post("/api/v1/auth/refresh", json={"refresh_token": partner["refresh_token"]})
    assert response.status_code == 401


def test_an_unknown_refresh_token_is_401(client):
    response = client.post("/api/v1/auth/refresh", json={"refresh_token": "made-up"})
    assert response.status_code == 401
    assert response.json["message"] == "the refresh token is unknown, expired or revoked"


def test_logout_revokes_the_refresh_token(client, people):
    partner = people.partner()
    response = client.post("/api/v1/auth/logout", json={"refresh_token": partner["refresh_token"]},
                           headers=partner["headers"])
    assert response.status_code == 204
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": partner["refresh_token"]}).status_code == 401


def test_logout_cannot_revoke_another_members_refresh_token(client, people):
    victim, attacker = people.partner(), people.partner()
    client.post("/api/v1/auth/logout", json={"refresh_token": victim["refresh_token"]}, headers=attacker["headers"])
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": victim["refresh_token"]}).status_code == 200


def test_an_expired_access_token_is_401(client, people, clock):
    partner = people.partner()
    clock.advance(minutes=15, seconds=31)  # past the lifetime and the 30 s leeway
    response = client.get("/api/v1/me", headers=partner["headers"])
    assert response.status_code == 401
    assert response.json["message"] == "the access token has expired"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_an_access_token_still_works_just_before_it_expires(client, people, clock):
    partner = people.partner()
    clock.advance(minutes=14, seconds=59)
    assert client.get("/api/v1/me", headers=partner["headers"]).status_code == 200


def _forge(claims, key="not the server's secret", algorithm="HS256"):
    return {"Authorization": "Bearer " + jwt.encode(claims, key, algorithm=algorithm)}


def test_forged_access_tokens_are_401(client, people, app, clock):
    partner = people.partner()
    genuine = jwt.decode(partner["access_token"], options={"verify_signature": False})
    admin_claims = {**genuine, "role": "admin"}
    header, payload, signature = partner["access_token"].split(".")
    tampered = jwt.encode(admin_claims, "x", algorithm="HS256").split(".")[1]
    forgeries = [
        _forge(admin_claims),  # signed with a guessed key
        _forge(admin_claims, key="", algorithm="none"),  # no signature at all
        {"Authorization": f"Bearer {header}.{tampered}.{signature}"},  # payload swapped under a real signature
        {"Authorization": "Bearer not.a.jwt"},
        {"Authorization": f"Token {partner['access_token']}"},  # wrong scheme
        {},
    ]
    for headers in forgeries:
        response = client.get("/api/v1/me", headers=headers)
        assert response.status_code == 401, headers


def test_a_token_of_a_deactivated_user_stops_working_at_once(client, people, session):
    from wallet.members.models import User

    partner = people.partner()
    user = session.get(User, int(jwt.decode(partner["access_token"], options={"verify_signature": False})["sub"]))
    user.is_active = False
    session.commit()
    assert client.get("/api/v1/me", headers=partner["headers"]).status_code == 401
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": partner["refresh_token"]}).status_code == 401


def test_patch_me_changes_only_what_was_sent(client, people):
    partner = people.partner(phone="+971501234567")
    response = client.patch("/api/v1/me", json={"language": "ar", "marketing_opt_in": True}, headers=partner["headers"])
    assert response.status_code == 200
    assert response.json["language"] == "ar"
    assert response.json["marketing_opt_in"] is True
    assert response.json["phone"] == "+971501234567"
    assert client.get("/api/v1/me", headers=partner["headers"]).json["language"] == "ar"


def test_patch_me_cannot_change_email_country_or_tier(client, people):
    partner = people.partner()
    for field, value in (("email", "new@example.com"), ("country", "PL"), ("tier", "platinum")):
        response = client.patch("/api/v1/me", json={field: value}, headers=partner["headers"])
        assert response.status_code == 422
        assert field in response.json["errors"]["json"]
    assert client.get("/api/v1/me", headers=partner["headers"]).json["tier"] == "blue"
