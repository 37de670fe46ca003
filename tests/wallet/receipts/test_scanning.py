"""Receipt scanning end to end: photographed receipts rendered by the tests, sent, read by the job, decided."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from PIL import Image
from sqlalchemy import select

from tests.conftest import START, work
from tests.wallet.helpers import assert_consistent
from tests.wallet.receipts import corpus
from tests.wallet.receipts.fiscal import builders
from wallet import ledger
from wallet.receipts.models import Receipt, ReceiptDecision

VAT = builders.VAT_NUMBER  # a Saudi VAT number with a good shape
SOLD_AT = START - dt.timedelta(days=1)  # the day before the tests' "now"
TYRE = corpus.Item("Michelin Pilot Sport 5 205/55 R16 91W", 4, Decimal("450.00"))
FITTING = corpus.Item("Tyre fitting", 4, Decimal("25.00"))


@pytest.fixture(autouse=True)
def _needs_the_corpus_and_ocr(fonts, tessdata):
    """The receipts are drawn with Debian's fonts and read with Tesseract (tests/wallet/receipts/conftest.py)."""


@pytest.fixture
def saudi_rules(client, people):
    """The Saudi program counts tyres (by their size) from one distributor, receipts up to 14 days old."""
    admin = people.staff("admin")
    response = client.put("/api/v1/admin/receipt-programs/SA", headers=admin["headers"], json={
        "allowed_sellers": [VAT], "max_age_days": 14, "first_receipts_reviewed": 0, "review_above": "20000",
        "product_patterns": [{"pattern": r"\d{3}/\d{2} ?R\d{2}", "category": "tyres"}]})
    assert response.status_code == 200, response.json
    return admin


def zatca_text(*, total: Decimal, at: dt.datetime = SOLD_AT, vat_number: str = VAT) -> str:
    vat = (total * 15 / 115).quantize(Decimal("0.01"))
    return builders.zatca(builders.phase_1(vat_number=vat_number, total=str(total), vat=str(vat),
                                           timestamp=at.strftime("%Y-%m-%dT%H:%M:%SZ")))


def spec(**changes) -> corpus.ReceiptSpec:
    items = changes.pop("items", (TYRE, FITTING))
    total = sum((i.amount for i in items), Decimal(0))
    values = dict(language="en", merchant="AL NOOR TYRES TRADING LLC", address="Riyadh", tax_number=VAT,
                  receipt_number="INV-2026-0042", issued_at=SOLD_AT.replace(tzinfo=None) + dt.timedelta(hours=3),
                  items=items, currency="SAR", vat_rate=Decimal(15), date_style="%Y-%m-%d %H:%M",
                  qr_text=zatca_text(total=total), qr_box=6) | changes
    return corpus.ReceiptSpec(**values)


def photo(receipt: corpus.ReceiptSpec, *, seed: int = 1, **how) -> bytes:
    return corpus.photograph(corpus.render(receipt), seed, corpus.Degradation(**how))


def send(client, partner, data: bytes, name: str | None = None, content_type: str | None = None):
    jpeg = data.startswith(b"\xff\xd8")
    name = name or ("receipt.jpg" if jpeg else "receipt.png")
    return client.post("/api/v1/me/receipts", headers=partner["headers"],
                       data={"image": (io.BytesIO(data), name, content_type)}, content_type="multipart/form-data")


def sent_and_decided(client, app, partner, data: bytes, **kw) -> dict:
    response = send(client, partner, data, **kw)
    assert response.status_code == 202, response.json
    assert response.json["status"] == "processing"
    work(app)
    return client.get(f"/api/v1/me/receipts/{response.json['id']}", headers=partner["headers"]).json


def balance(client, partner) -> int:
    return client.get("/api/v1/me/wallet", headers=partner["headers"]).json["balance"]


def test_a_saudi_tax_invoice_with_its_zatca_qr_earns_for_the_tyres_on_it(client, app, people, saudi_rules, session):
    # given a partner in Saudi Arabia and a photo of a distributor's receipt: four tyres and their fitting
    partner = people.partner(country="SA")

    # when it is sent and the worker reads it
    receipt = sent_and_decided(client, app, partner, photo(spec(), rotation=6, jpeg_quality=70))

    # then what the QR says is shown, and the tyres (1,800 SAR, not the fitting) earn 1 point a riyal
    assert receipt["status"] == "approved", receipt
    assert (receipt["format"], receipt["seller_tax_number"]) == ("zatca", VAT)
    assert receipt["total"] == {"amount": "1900", "currency": "SAR"}
    assert dt.datetime.fromisoformat(receipt["purchased_at"]) == SOLD_AT
    assert [line["category"] for line in receipt["lines"]] == ["tyres"]
    assert receipt["points"] == 1800 and balance(client, partner) == 1800
    account = ledger.member_account(session, partner["member"]["id"], START)
    assert assert_consistent(session, account.id) == 1800
    history = client.get("/api/v1/me/wallet/transactions", headers=partner["headers"]).json["items"]
    assert history[0]["points"] == 1800 and "receipt" in history[0]["reference"]
    # and the partner is told, in the inbox
    inbox = client.get("/api/v1/me/notifications", headers=partner["headers"]).json["items"]
    assert [n["title"] for n in inbox] == ["Your receipt counted"]


def test_the_same_photo_sent_again_is_the_same_receipt(client, app, people, saudi_rules):
    partner = people.partner(country="SA")
    data = photo(spec())
    first = send(client, partner, data)
    again = send(client, partner, data)
    assert again.status_code == 202 and again.json["id"] == first.json["id"]
    work(app)
    assert balance(client, partner) == 1800


def test_the_same_receipt_photographed_again_or_by_another_member_counts_once(client, app, people, saudi_rules):
    partner, colleague = people.partner(country="SA"), people.partner(country="SA")
    first = sent_and_decided(client, app, partner, photo(spec(), seed=1))
    other_angle = sent_and_decided(client, app, partner, photo(spec(), seed=2, rotation=-9, perspective=0.05))
    someone_else = sent_and_decided(client, app, colleague, photo(spec(), seed=3, rotation=4))
    assert first["status"] == "approved"
    for later in (other_angle, someone_else):
        assert (later["status"], later["reason_code"]) == ("rejected", "already_claimed"), later
        assert later["reason"] == "this receipt was already sent, by you or another member"
        assert later["seller_tax_number"] == VAT  # what was read is shown even so
    assert balance(client, partner) == 1800 and balance(client, colleague) == 0


@pytest.mark.parametrize("changes, code, words", [
    ({"issued_at": (SOLD_AT - dt.timedelta(days=30)).replace(tzinfo=None),
      "qr_text": zatca_text(total=Decimal("1900.00"), at=SOLD_AT - dt.timedelta(days=30))},
     "too_old", "receipts count for 14 days"),
    ({"tax_number": "300000000000003", "qr_text": zatca_text(total=Decimal("1900.00"), vat_number="300000000000003")},
     "seller_not_allowed", "not one of the program's distributors"),
    ({"items": (FITTING,), "qr_text": zatca_text(total=Decimal("100.00"))},
     "no_eligible_products", "none of the products on this receipt earn points"),
])
def test_a_receipt_that_cannot_count_is_rejected_with_a_reason_and_what_was_read(client, app, people, saudi_rules,
                                                                                  changes, code, words):
    partner = people.partner(country="SA")
    receipt = sent_and_decided(client, app, partner, photo(spec(**changes)))
    assert (receipt["status"], receipt["reason_code"]) == ("rejected", code), receipt
    assert words in receipt["reason"]
    assert receipt["format"] == "zatca" and receipt["total"] is not None
    assert balance(client, partner) == 0


def test_a_qr_whose_total_differs_from_the_print_goes_to_review_with_the_points_pending(client, app, people,
                                                                                        saudi_rules):
    partner = people.partner(country="SA")
    receipt = sent_and_decided(client, app, partner, photo(spec(qr_text=zatca_text(total=Decimal("9900.00")))))
    assert receipt["status"] == "review", receipt
    wallet = client.get("/api/v1/me/wallet", headers=partner["headers"]).json
    assert wallet["balance"] == 0 and wallet["pending"] == receipt["points_pending"] > 0


def test_a_broken_fiscal_code_is_no_approval_and_says_why(client, app, people, saudi_rules, session):
    # a ZATCA code whose last record's length runs past the end
    broken = builders.b64(builders.tlv(*builders.phase_1()) + bytes([1, 40]) + b"short")
    partner = people.partner(country="SA")
    receipt = sent_and_decided(client, app, partner, photo(spec(qr_text=broken)))
    assert receipt["status"] in ("review", "rejected") and receipt["points"] == 0
    row = session.get(Receipt, receipt["id"])
    assert "zatca.length_past_end" in {s["code"] for s in row.signals}


def test_the_review_queue_shows_the_photo_and_signals_and_an_admin_decides_once(client, app, people, saudi_rules):
    # given a receipt above the review threshold
    partner = people.partner(country="SA")
    big = spec(items=(corpus.Item("Pirelli P Zero 245/40 R18 97Y XL", 30, Decimal("780.00")),),
               qr_text=zatca_text(total=Decimal("23400.00")))
    receipt = sent_and_decided(client, app, partner, photo(big))
    assert receipt["status"] == "review" and receipt["points_pending"] == 23400

    # when the admin opens the queue
    queue = client.get("/api/v1/admin/receipts?status=review", headers=saudi_rules["headers"]).json["items"]
    item = next(i for i in queue if i["id"] == receipt["id"])
    assert "high_value" in {s["code"] for s in item["signals"]}
    photo_link = item["photo_url"].split("localhost:8000", 1)[1]
    stored = client.get(photo_link)
    assert stored.status_code == 200 and stored.mimetype in ("image/jpeg", "image/png")
    assert not Image.open(io.BytesIO(stored.data)).getexif()  # stripped: no EXIF is kept
    # a partner cannot see the queue
    assert client.get("/api/v1/admin/receipts", headers=partner["headers"]).status_code == 403

    # then approving books the estimate once, and a second decision is refused
    approved = client.post(f"/api/v1/admin/receipts/{receipt['id']}/approve", headers=saudi_rules["headers"],
                           json={"reason": "invoice checked with the distributor"})
    assert approved.status_code == 200 and (approved.json["status"], approved.json["points"]) == ("approved", 23400)
    again = client.post(f"/api/v1/admin/receipts/{receipt['id']}/approve", headers=saudi_rules["headers"],
                        json={"reason": "twice"})
    reject = client.post(f"/api/v1/admin/receipts/{receipt['id']}/reject", headers=saudi_rules["headers"],
                         json={"reason": "too late"})
    assert (again.status_code, reject.status_code) == (409, 409)
    wallet = client.get("/api/v1/me/wallet", headers=partner["headers"]).json
    assert (wallet["balance"], wallet["pending"]) == (23400, 0)
    decided = client.get("/api/v1/admin/receipts?status=approved", headers=saudi_rules["headers"]).json["items"][0]
    assert [(d["status"], d["actor_user_id"] is not None) for d in decided["decisions"]] == [
        ("review", False), ("approved", True)]


def test_an_admin_rejects_a_receipt_in_review_with_a_reason_the_partner_reads(client, app, people, saudi_rules):
    partner = people.partner(country="SA")
    receipt = sent_and_decided(client, app, partner, photo(spec(qr_text=zatca_text(total=Decimal("9900.00")))))
    response = client.post(f"/api/v1/admin/receipts/{receipt['id']}/reject", headers=saudi_rules["headers"],
                           json={"reason": "the printed total does not match the tax code"})
    assert response.status_code == 200
    mine = client.get(f"/api/v1/me/receipts/{receipt['id']}", headers=partner["headers"]).json
    assert (mine["status"], mine["reason"]) == ("rejected", "the printed total does not match the tax code")
    assert client.get("/api/v1/me/wallet", headers=partner["headers"]).json["pending"] == 0


def test_a_polish_invoice_with_its_ksef_code_reads_the_amount_from_the_print(client, app, people):
    partner = people.partner(country="PL")
    nip = builders.NIP
    receipt_spec = corpus.ReceiptSpec(
        language="pl", merchant="OPONY-SERWIS Sp. z o.o.", address="ul. Marszałkowska 10, Warszawa",
        tax_number=f"{nip[:3]}-{nip[3:6]}-{nip[6:8]}-{nip[8:]}", receipt_number="FV/2026/11/0042",
        issued_at=dt.datetime(2026, 11, 22, 10, 0), items=(corpus.Item("Opona Michelin 205/55 R16", 4,
                                                                      Decimal("450.00")),),
        currency="PLN", vat_rate=Decimal(23), date_style="%Y-%m-%d",
        qr_text=builders.kod_i(nip=nip, date="22-11-2026"), qr_box=6)
    receipt = sent_and_decided(client, app, partner, photo(receipt_spec))
    assert receipt["format"] == "ksef" and receipt["seller_tax_number"] == nip, receipt
    assert receipt["total"] == {"amount": "1800", "currency": "PLN"}
    assert receipt["status"] in ("approved", "review")


@pytest.mark.parametrize("data, name, content_type, status, words", [
    (b"GIF89a" + b"\x00" * 200, "receipt.gif", "image/gif", 415, "gif"),
    (b"%PDF-1.7\n" + b"\x00" * 200, "receipt.pdf", "application/pdf", 415, "pdf"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "receipt.svg", "image/svg+xml", 415, "svg"),
])
def test_a_file_that_is_not_a_photo_is_415_whatever_it_is_called(client, people, data, name, content_type, status,
                                                                   words, session):
    partner = people.partner(country="SA")
    response = send(client, partner, data, name=name, content_type=content_type)
    assert response.status_code == status and words in response.json["message"]
    assert session.scalar(select(Receipt)) is None


def test_a_png_sent_as_a_jpeg_is_415(client, people):
    png = io.BytesIO()
    Image.new("RGB", (50, 50), "white").save(png, "PNG")
    response = send(client, people.partner(country="SA"), png.getvalue(), name="receipt.jpg", content_type="image/jpeg")
    assert response.status_code == 415


def test_a_50_megapixel_photo_is_413_from_its_header_alone(client, people):
    header = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + (10_000).to_bytes(4, "big") + (5_000).to_bytes(4, "big") \
        + b"\x08\x02\x00\x00\x00" + b"\x00" * 4
    response = send(client, people.partner(country="SA"), header, name="big.png", content_type="image/png")
    assert response.status_code == 413 and "megapixels" in response.json["message"]


def test_more_than_10_mb_is_413(client, people, session):
    response = send(client, people.partner(country="SA"), b"\xff\xd8\xff" + b"x" * (11 * 1024 * 1024))
    assert response.status_code == 413
    assert session.scalar(select(Receipt)) is None


@pytest.mark.parametrize("body, content_type, status", [
    ({}, "multipart/form-data", 422),
    ({"photo": (io.BytesIO(b"x"), "a.jpg")}, "multipart/form-data", 422),
])
def test_an_upload_without_the_image_field_is_422(client, people, body, content_type, status):
    response = client.post("/api/v1/me/receipts", headers=people.partner()["headers"], data=body,
                           content_type=content_type)
    assert response.status_code == status and "image" in str(response.json["errors"])


def test_a_truncated_photo_is_taken_and_then_rejected_as_unreadable(client, app, people):
    whole = photo(spec(), jpeg_quality=80)
    receipt = sent_and_decided(client, app, people.partner(country="SA"), whole[: len(whole) // 3])
    assert (receipt["status"], receipt["reason_code"]) == ("rejected", "truncated")


def test_a_partner_sees_only_its_own_receipts(client, app, people, saudi_rules):
    partner, other = people.partner(country="SA"), people.partner(country="SA")
    receipt = sent_and_decided(client, app, partner, photo(spec()))
    assert client.get(f"/api/v1/me/receipts/{receipt['id']}", headers=other["headers"]).status_code == 404
    assert client.get("/api/v1/me/receipts", headers=other["headers"]).json["items"] == []
    assert [r["id"] for r in client.get("/api/v1/me/receipts", headers=partner["headers"]).json["items"]] == [
        receipt["id"]]


def test_every_decision_is_kept(session, client, app, people, saudi_rules):
    partner = people.partner(country="SA")
    receipt = sent_and_decided(client, app, partner, photo(spec()))
    assert [d.status for d in session.scalars(select(ReceiptDecision).where(
        ReceiptDecision.receipt_id == receipt["id"]))] == ["approved"]
