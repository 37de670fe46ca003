"""A client generated from the document works: it has every operation with every response, and the
till and the partner app can do their day through it against the running app."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.api.contract.generated import Generated, generate
from tests.conftest import PASSWORD
from tests.wallet.helpers import assert_consistent
from wallet.ledger import member_account

METHODS = ("get", "put", "post", "patch", "delete")


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    """The client generated from the served document, once per session."""
    return generate(Path(tmp_path_factory.mktemp("generated-client")))


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def test_the_generator_leaves_nothing_out(generated):
    assert "Warning" not in generated.output and "omitted" not in generated.output, generated.output


def test_the_generated_client_has_every_operation_named_by_its_operation_id(generated):
    operations = {_snake(op["operationId"]): op["tags"][0] for item in generated.document["paths"].values()
                  for method, op in item.items() if method in METHODS}
    assert generated.operation_modules() == operations


def test_every_declared_response_is_parsed_by_the_generated_client(generated):
    for item in generated.document["paths"].values():
        for method, op in item.items():
            if method not in METHODS:
                continue
            source = (generated.directory / "api" / op["tags"][0] / f"{_snake(op['operationId'])}.py").read_text()
            for code in op["responses"]:
                if code != "default":
                    assert f"response.status_code == {code}" in source, (op["operationId"], code)
            assert "response_default" in source, op["operationId"]


def test_money_and_decimals_are_strings_in_the_generated_models(generated):
    models = generated.module("models")
    assert models.MoneyInput.__annotations__["amount"] == "str"
    assert models.Tier.__annotations__["multiplier"] == "str"


def test_the_till_scans_books_replays_and_refunds_through_the_generated_client(generated, app, people, session,
                                                                              clock):
    # given a partner with the app and a till signed in through the generated client
    pos, auth, wallet, models = (generated.module(m) for m in ("api.pos", "api.auth", "api.wallet", "models"))
    partner = people.partner()
    store = people.store()
    cashier = people.staff("cashier", store=store)
    anonymous = generated.client(app)
    tokens = auth.log_in.sync(client=anonymous, body=models.Login(email=cashier["email"], password=PASSWORD))
    assert isinstance(tokens, models.TokenPair) and tokens.token_type == models.TokenPairTokenType.BEARER
    till = generated.client(app, tokens.access_token)
    phone = generated.client(app, partner["access_token"])
    card = wallet.get_card.sync(client=phone)

    # when the till scans the member's QR
    scanned = pos.scan_member.sync(client=till, body=models.Scan(qr_payload=card.qr_payload))
    # then it shows who it is
    assert (scanned.member_number, scanned.balance, scanned.tier) == (card.member_number, 0, models.TierCode.BLUE)

    # when it books a purchase with an idempotency key, and sends it again after a "timeout"
    body = models.PurchaseCreate(receipt_number="R-900", qr_payload=card.qr_payload,
                                 total=models.MoneyInput(amount="250.00", currency=models.Currency.AED))
    first = pos.book_purchase.sync_detailed(client=till, body=body, idempotency_key="till-1-r900")
    again = pos.book_purchase.sync_detailed(client=till, body=body, idempotency_key="till-1-r900")
    # then it is booked once, and the retry is the first answer, marked as a replay
    assert first.status_code == 201 and isinstance(first.parsed, models.Purchase)
    assert (first.parsed.points_earned, first.parsed.balance) == (250, 250)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.parsed.to_dict() == first.parsed.to_dict()
    assert "Idempotent-Replayed" not in first.headers

    # when the same key comes with another body
    other = models.PurchaseCreate(receipt_number="R-901", qr_payload=card.qr_payload,
                                  total=models.MoneyInput(amount="1.00", currency=models.Currency.AED))
    clash = pos.book_purchase.sync_detailed(client=till, body=other, idempotency_key="till-1-r900")
    # then it is refused, in the shared error body
    assert clash.status_code == 409 and isinstance(clash.parsed, models.Error) and clash.parsed.code == 409

    # when it refunds the purchase (and retries the refund with its key)
    refund = pos.refund_purchase.sync_detailed(purchase_id=first.parsed.id, client=till, idempotency_key="till-1-rf")
    retry = pos.refund_purchase.sync_detailed(purchase_id=first.parsed.id, client=till, idempotency_key="till-1-rf")
    # then the points go back once
    assert refund.status_code == 201 and (refund.parsed.points_reversed, refund.parsed.balance) == (250, 0)
    assert retry.headers["Idempotent-Replayed"] == "true" and retry.parsed.to_dict() == refund.parsed.to_dict()
    twice = pos.refund_purchase.sync_detailed(purchase_id=first.parsed.id, client=till)
    assert twice.status_code == 409 and isinstance(twice.parsed, models.Error)
    account = member_account(session, partner["member"]["id"], clock())
    assert account.balance == 0
    assert_consistent(session, account.id)


def test_the_partner_registers_and_reads_wallet_card_and_history_through_the_generated_client(generated, app,
                                                                                              people):
    auth, wallet, me, models = (generated.module(m) for m in ("api.auth", "api.wallet", "api.me", "models"))
    anonymous = generated.client(app)

    # when a partner registers through the app
    registered = auth.register.sync(client=anonymous, body=models.Register(
        email="gen@example.com", password=PASSWORD, name="Generated Partner", country=models.Country.AE,
        phone="+971501234567", language=models.Language.AR))
    # then it is signed in, with its member record
    assert isinstance(registered, models.Registered)
    member = registered.member
    assert (member.email, member.country, member.language, member.tier) == (
        "gen@example.com", models.Country.AE, models.Language.AR, models.TierCode.BLUE)
    phone = generated.client(app, registered.access_token)
    assert me.get_profile.sync(client=phone).member_number == member.member_number

    # and it reads its wallet, its card, the card's QR and its history
    balance = wallet.get_wallet.sync(client=phone)
    assert (balance.balance, balance.pending, balance.currency_value, balance.tier.code) == (
        0, 0, None, models.TierCode.BLUE)
    assert balance.tier.multiplier == "1.000"
    card = wallet.get_card.sync(client=phone)
    assert card.member_number == member.member_number and card.qr_payload.startswith("PW1.")
    png = wallet.get_card_qr_png.sync(client=phone)
    assert png.payload.read().startswith(b"\x89PNG\r\n\x1a\n")
    svg = wallet.get_card_qr_svg.sync(client=phone)
    assert b"<svg" in svg.payload.read()

    # after a purchase, the history pages through the generated client too
    till = people.staff("cashier", store=people.store())
    for n, amount in enumerate(("10.00", "20.00", "30.00")):
        booked = app.test_client().post("/api/v1/pos/purchases", headers=till["headers"], json={
            "member_number": member.member_number, "receipt_number": f"G-{n}",
            "total": {"amount": amount, "currency": "AED"}})
        assert booked.status_code == 201
    first = wallet.list_transactions.sync(client=phone, limit=2)
    rest = wallet.list_transactions.sync(client=phone, limit=2, cursor=first.next_cursor)
    assert [t.points for t in first.items] == [30, 20] and [t.points for t in rest.items] == [10]
    assert rest.next_cursor is None
    assert all(t.type_ == models.TransactionType.EARN for t in first.items + rest.items)

    # and a wrong token is a 401 the client parses as the shared error
    stranger = generated.client(app, "not-a-token")
    refused = wallet.get_wallet.sync_detailed(client=stranger)
    assert refused.status_code == 401 and refused.parsed.code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
