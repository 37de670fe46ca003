"""Abuses an adversarial pass found, each refused with a 4xx and nothing half-written."""

from __future__ import annotations

import logging

import pytest
from flask.views import MethodView
from sqlalchemy import select

from tests.conftest import PASSWORD, build_app
from wallet.members.models import User

DEEP = "[" * 2000 + "]" * 2000


@pytest.mark.parametrize("path", ["/api/v1/auth/login", "/api/v1/auth/register", "/api/v1/segments",
                                  "/api/v1/pos/purchases/1/refund"])
def test_deeply_nested_json_is_a_400_not_a_500_even_signed_out(client, path):
    response = client.post(path, data=DEEP, content_type="application/json")
    assert response.status_code == 400
    assert "nests deeper than 32" in response.json["message"]


def test_json_nested_within_the_bound_still_reaches_the_schema(client):
    body = '{"email": "a@example.com", "password": ' + "[" * 30 + "]" * 30 + "}"
    response = client.post("/api/v1/auth/login", data=body, content_type="application/json")
    assert response.status_code == 422 and "password" in response.json["errors"]["json"]


@pytest.mark.parametrize("media_type", ["application/json", "application/merge-patch+json",
                                        "application/vnd.api+json", "application/json; charset=utf-8"])
def test_a_nul_in_any_json_media_type_is_refused_before_the_database(client, session, media_type):
    body = '{"email": "nul@example.com", "password": "%s", "name": "A\\u0000B", "country": "AE"}' % PASSWORD
    response = client.post("/api/v1/auth/register", data=body, content_type=media_type)
    assert response.status_code == 400 and "NUL" in response.json["message"]
    assert session.scalar(select(User).where(User.email == "nul@example.com")) is None


@pytest.mark.parametrize("method, path", [("delete", "/api/v1/me/devices/a%00b"), ("get", "/api/v1/admin/programs/A%00"),
                                          ("put", "/api/v1/admin/products/x%00"), ("get", "/api/v1/me/notifications?cursor=%00")])
def test_a_nul_in_the_url_is_a_400(client, people, method, path):
    partner = people.partner()
    response = getattr(client, method)(path, headers=partner["headers"], json={})
    assert response.status_code == 400 and "NUL" in response.json["message"]


def test_a_database_error_logs_no_statement_parameters(connection, settings, clock, caplog):
    # given an endpoint whose insert the database refuses, carrying a known password hash
    from api.db import commit_views, get_session
    from infra.clock import utcnow

    secret_hash = "$argon2id$v=19$m=65536,t=3,p=4$a-hash-that-must-never-be-logged"
    app = build_app(connection, settings, clock)

    class Refused(MethodView):
        def post(self):
            session = get_session()
            session.add(User(email="x@example.com", password_hash=secret_hash, name="Secret Name", role="bogus",
                             created_at=utcnow()))
            session.flush()  # the CHECK on role refuses it
            return {}, 201

    app.add_url_rule("/refused", view_func=Refused.as_view("refused"))
    commit_views(app)

    # when it fails
    with caplog.at_level(logging.INFO):
        response = app.test_client().post("/refused", json={})

    # then the client gets a bare 500 and the log names the error without the parameters
    assert response.status_code == 500 and response.json["message"] == "The server encountered an internal error " \
        "and was unable to complete your request. Either the server is overloaded or there is an error in the " \
        "application."
    assert "IntegrityError" in caplog.text or "CHECK" in caplog.text.upper()
    assert secret_hash not in caplog.text and "Secret Name" not in caplog.text


def test_a_body_that_is_not_json_is_415_naming_the_type(client):
    response = client.post("/api/v1/auth/login", data="email=a&password=b",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert response.json["errors"] == {"headers": {"Content-Type": ["use application/json"]}}


def test_token_responses_and_the_card_are_never_cached(client, people):
    partner = people.partner()
    login = client.post("/api/v1/auth/login", json={"email": partner["email"], "password": PASSWORD})
    refresh = client.post("/api/v1/auth/refresh", json={"refresh_token": login.json["refresh_token"]})
    card = client.get("/api/v1/me/card", headers=partner["headers"])
    register = client.post("/api/v1/auth/register", json={"email": "new@example.com", "password": PASSWORD,
                                                           "name": "N", "country": "AE"})
    for response in (login, refresh, card, register):
        assert response.headers["Cache-Control"] == "no-store", response.request.path


def test_every_response_refuses_sniffing_and_framing_and_names_no_server(client):
    for response in (client.get("/healthz"), client.get("/api/v1/openapi.json"), client.get("/api/v1/nowhere")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert "Server" not in response.headers


def test_the_docs_page_loads_its_scripts_from_this_server_only(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "cdn" not in html and "https://" not in html
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-standalone-preset.js"):
        assert f"/api/v1/docs/assets/{asset}" in html
        served = client.get(f"/api/v1/docs/assets/{asset}")
        assert served.status_code == 200 and len(served.data) > 10_000
    assert client.get("/api/v1/docs/assets/index.html").status_code == 404


def test_retry_after_is_sent_only_with_a_429(client, people, till):
    register = client.post("/api/v1/auth/register", json={"email": "r@example.com", "password": PASSWORD,
                                                           "name": "R", "country": "AE"})
    assert register.status_code == 201 and "Retry-After" not in register.headers
    partner = people.partner()
    scan = client.post("/api/v1/pos/scan", json={"member_number": partner["member"]["member_number"]},
                       headers=till.headers)
    assert scan.status_code == 200 and "Retry-After" not in scan.headers


@pytest.mark.parametrize("length, status", [(3000, 201), (4096, 201), (4097, 422)])
def test_a_long_device_token_registers_up_to_its_bound(client, people, length, status):
    partner = people.partner()
    token = "t" * length
    response = client.post("/api/v1/me/devices", json={"token": token, "platform": "android"},
                           headers=partner["headers"])
    assert response.status_code == status, response.json
    if status == 201:
        again = client.post("/api/v1/me/devices", json={"token": token, "platform": "ios"}, headers=partner["headers"])
        assert again.status_code == 201 and again.json["id"] == response.json["id"]  # the same phone, upserted
        assert client.delete(f"/api/v1/me/devices/{token}", headers=partner["headers"]).status_code == 204


@pytest.mark.parametrize("mangle", [
    lambda p: p[:-1] + "é",  # a non-ASCII signature character
    lambda p: p[:-2] + "١٢",  # Arabic-Indic digits where the MAC is
    lambda p: p.replace(".", ".١", 1),  # and in the key id
    lambda p: p + "\u200b",  # an invisible character after it
    lambda p: p[:-26] + "0" * 26,  # outside base32
])
def test_a_qr_payload_outside_its_alphabet_is_a_422_at_scan_and_purchase(client, people, till, mangle):
    partner = people.partner()
    payload = mangle(till.card(partner))
    scan = client.post("/api/v1/pos/scan", json={"qr_payload": payload}, headers=till.headers)
    buy = client.post("/api/v1/pos/purchases", headers=till.headers, json={
        "qr_payload": payload, "receipt_number": "R-1", "total": {"amount": "10.00", "currency": "AED"}})
    for response in (scan, buy):
        assert response.status_code == 422
        assert response.json["errors"]["json"]["qr_payload"] == ["this member code is not genuine"]


@pytest.mark.parametrize("email", ["ｐartner@example.com", "PARTNER@EXAMPLE.COM", "partner@ｅxample.com"])
def test_a_look_alike_of_a_registered_email_is_the_same_account(client, people, email):
    people.partner(email="partner@example.com")
    again = client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD, "name": "P",
                                                        "country": "AE"})
    assert again.status_code == 409 and again.json["errors"]["json"] == {"email": [
        "an account with this email already exists"]}
    # and it signs in the one account
    login = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200


@pytest.mark.parametrize("email", ["pаypal@example.com",  # Cyrillic а among Latin letters
                                   "partner@exаmple.com",  # in the domain
                                   "part\u200bner@example.com"])  # a zero-width space
def test_an_email_that_mixes_alphabets_or_hides_characters_is_refused(client, session, email):
    response = client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD, "name": "P",
                                                           "country": "AE"})
    assert response.status_code == 422 and "email" in response.json["errors"]["json"]
    assert session.scalar(select(User).where(User.name == "P")) is None


def test_an_email_in_one_other_alphabet_is_welcome(client):
    response = client.post("/api/v1/auth/register", json={"email": "محمد@example.com", "password": PASSWORD,
                                                           "name": "Mohammed", "country": "AE"})
    assert response.status_code == 201, response.json


@pytest.mark.parametrize("amount", ["1e7", "1_000", " 100 ", "+5", ".5", "1,000.00", "0x10", "١e٢"])
def test_amounts_in_other_number_syntaxes_are_refused(client, people, till, amount):
    partner = people.partner()
    response = till.buy(partner, amount)
    assert response.status_code == 422 and "amount" in response.json["errors"]["json"]["total"]


def test_an_amount_in_arabic_indic_digits_is_read(client, people, till):
    partner = people.partner()
    response = till.buy(partner, "١٢٩٫٥٠")  # 129.50
    assert response.status_code == 201, response.json
    assert response.json["points_earned"] == 129


@pytest.mark.parametrize("value", ["yes", 1, "true", None])
def test_booleans_are_json_booleans_only(client, people, value):
    partner = people.partner()
    response = client.patch("/api/v1/me", json={"marketing_opt_in": value}, headers=partner["headers"])
    assert response.status_code == 422 and "marketing_opt_in" in response.json["errors"]["json"]


@pytest.mark.parametrize("name", ["\u200b\u200b", " \u2060 ", "\u00ad", "A\x07B"])
def test_a_name_of_only_invisible_or_control_characters_is_refused(client, name):
    response = client.post("/api/v1/auth/register", json={"email": "inv@example.com", "password": PASSWORD,
                                                           "name": name, "country": "AE"})
    assert response.status_code == 422 and "name" in response.json["errors"]["json"]


def test_logout_without_a_token_is_401_not_422(client):
    response = client.post("/api/v1/auth/logout", json={})
    assert response.status_code == 401


def test_a_total_sent_as_a_string_is_explained(client, people, till):
    partner = people.partner()
    response = client.post("/api/v1/pos/purchases", headers=till.headers, json={
        "member_number": partner["member"]["member_number"], "receipt_number": "R-1", "total": "129.50"})
    assert response.status_code == 422
    assert response.json["errors"]["json"] == {"total": {"_schema": [
        'Must be an object such as {"amount": "129.50", "currency": "AED"}.']}}


def test_the_tier_is_spelled_one_way_everywhere_a_code_and_a_name(client, people, till):
    partner = people.partner()
    till.buy(partner, "2500.00")  # Silver
    me = client.get("/api/v1/me", headers=partner["headers"]).json
    scan = client.post("/api/v1/pos/scan", json={"member_number": partner["member"]["member_number"]},
                       headers=till.headers).json
    wallet = client.get("/api/v1/me/wallet", headers=partner["headers"]).json
    assert (me["tier"], me["tier_name"]) == (scan["tier"], scan["tier_name"]) == \
        (wallet["tier"]["code"], wallet["tier"]["name"]) == ("silver", "Silver")


PER_ITEM = {"name": "10 points a tyre", "country": "AE", "kind": "per_item", "value": "10",
            "starts_at": "2026-11-01T00:00:00+04:00", "ends_at": "2026-12-31T00:00:00+04:00"}


def test_points_cannot_be_minted_with_free_lines_on_a_small_receipt(client, people, till):
    # given a per-item bonus running
    admin = people.staff("admin")
    assert client.post("/api/v1/admin/bonus-rules", json=PER_ITEM, headers=admin["headers"]).status_code == 201
    partner = people.partner()

    # when a till sends the receipt of the adversarial pass: 500 free lines of 10,000 on 1.00 AED
    mint = [{"sku": f"X{i}", "quantity": 10_000, "unit_price": "0"} for i in range(500)]
    refused = till.buy(partner, "1.00", items=mint)
    # or the same within the bounds, but with lines that do not add up to the total
    bounded = till.buy(partner, "1.00", items=[{"sku": f"X{i}", "quantity": 1000, "unit_price": "0"} for i in range(200)])
    # or free lines beside one real one that does add up
    honest = till.buy(partner, "1.00", items=[{"sku": "GIFT", "quantity": 1000, "unit_price": "0"},
                                               {"sku": "CAP", "quantity": 1, "unit_price": "1.00"}])

    # then the first two are refused naming the items, and the third earns for the one paid item
    assert refused.status_code == 422 and "items" in refused.json["errors"]["json"]
    assert bounded.status_code == 422 and "add up to 0" in bounded.json["errors"]["json"]["items"][0]
    assert honest.status_code == 201 and honest.json["points_earned"] == 1 + 10
    assert client.get("/api/v1/me/wallet", headers=partner["headers"]).json["balance"] == 11


def test_a_marketers_bonus_above_the_limits_waits_for_an_admin_and_all_bonuses_stay_capped(client, people, till):
    marketer, admin = people.staff("marketer"), people.staff("admin")
    huge = {**PER_ITEM, "name": "x1000", "kind": "multiplier", "value": "1000"}

    # when a marketer makes a x1,000 bonus, it is kept but gives nothing
    rule = client.post("/api/v1/admin/bonus-rules", json=huge, headers=marketer["headers"])
    assert rule.status_code == 201 and rule.json["status"] == "pending_approval"
    assert till.buy(people.partner(), "100.00").json["points_earned"] == 100
    # a marketer cannot approve it
    assert client.post(f"/api/v1/admin/bonus-rules/{rule.json['id']}/approve",
                       headers=marketer["headers"]).status_code == 403

    # once an admin approves it, it runs, but all bonuses on one purchase stop at the program's cap
    approved = client.post(f"/api/v1/admin/bonus-rules/{rule.json['id']}/approve", headers=admin["headers"])
    assert approved.status_code == 200 and approved.json["status"] == "approved"
    booked = till.buy(people.partner(), "100.00").json
    assert booked["points_earned"] == 100 + 10_000
    assert booked["breakdown"][-1]["rule"] == "bonus_cap"


def test_a_marketers_bonus_within_the_limits_runs_at_once(client, people, till):
    marketer = people.staff("marketer")
    rule = client.post("/api/v1/admin/bonus-rules", json={**PER_ITEM, "kind": "multiplier", "value": "2"},
                       headers=marketer["headers"])
    assert rule.json["status"] == "approved"
    assert till.buy(people.partner(), "100.00").json["points_earned"] == 200


def test_a_campaign_offer_above_the_limits_is_refused(client, people):
    marketer = people.staff("marketer")
    segment = client.post("/api/v1/segments", json={"name": "all", "rules": {"all": []}}, headers=marketer["headers"])
    offer = {"country": "AE", "kind": "multiplier", "value": "1000", "starts_at": "2026-11-01T00:00:00+04:00",
             "ends_at": "2026-12-31T00:00:00+04:00"}
    response = client.post("/api/v1/campaigns", headers=marketer["headers"], json={
        "name": "Mint", "segment_id": segment.json["id"], "offer": offer,
        "message": {"title": {"en": "t"}, "body": {"en": "b"}}})
    assert response.status_code == 422 and "value" in response.json["errors"]["json"]["offer"]


@pytest.mark.parametrize("name", ["A\\ud800B", "A\\udfffB", "\\udc00\\ud800"])
def test_half_a_surrogate_pair_is_a_400_not_a_500(client, session, name):
    body = '{"email": "s@example.com", "password": "%s", "name": "%s", "country": "AE"}' % (PASSWORD, name)
    response = client.post("/api/v1/auth/register", data=body, content_type="application/json")
    assert response.status_code == 400 and "surrogate" in response.json["message"]
    assert session.scalar(select(User).where(User.email == "s@example.com")) is None


def test_a_whole_surrogate_pair_is_a_character_like_any_other(client):
    body = '{"email": "e@example.com", "password": "%s", "name": "Tyres \\ud83d\\ude97", "country": "AE"}' % PASSWORD
    response = client.post("/api/v1/auth/register", data=body, content_type="application/json")
    assert response.status_code == 201 and response.json["member"]["name"] == "Tyres \U0001F697"


def test_a_segment_rule_naming_a_field_with_a_list_is_a_422(client, people):
    marketer = people.staff("marketer")
    response = client.post("/api/v1/segments", headers=marketer["headers"],
                           json={"name": "s", "rules": {"all": [{"field": [], "op": "in", "value": ["AE"]}]}})
    assert response.status_code == 422 and "rules" in response.json["errors"]["json"]
