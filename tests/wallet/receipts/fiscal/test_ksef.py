"""Polish KSeF verification links: KOD I read, KOD II checked, every malformed part refused."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from zoneinfo import ZoneInfo

import pytest

from wallet.receipts.fiscal import FiscalCodeRefused, FiscalKeys, FiscalKeysInvalid, read

from .builders import INVOICE_FILE, NIP, NOW, invoice_hash, kod_i, kod_ii, offline_certificate, pem

WARSAW = ZoneInfo("Europe/Warsaw")
HASH = invoice_hash()


def refused(text: str) -> str:
    with pytest.raises(FiscalCodeRefused) as caught:
        read(text, now=NOW)
    assert caught.value.format == "ksef"
    return caught.value.reason


def test_kod_i_is_read_field_by_field():
    reading = read(kod_i(), now=NOW)

    assert reading is not None
    assert reading.format == "ksef"
    assert reading.country == "PL"
    assert reading.seller_tax_number == NIP
    assert reading.seller_name is None and reading.buyer_tax_number is None and reading.invoice_number is None
    assert reading.issued_at == dt.datetime(2026, 11, 20, tzinfo=WARSAW)
    assert reading.issued_at.utcoffset() == dt.timedelta(hours=1)
    assert (reading.total, reading.vat) == (None, None)  # KOD I carries no amount
    assert reading.currency == "PLN"
    assert reading.invoice_hash == HASH
    assert base64.urlsafe_b64decode(HASH + "=") == hashlib.sha256(INVOICE_FILE).digest()
    assert reading.signature == "absent"
    assert reading.warnings == ()
    assert reading.details == (("code", "KOD I"), ("environment", "production"))


def test_the_example_link_of_the_ministrys_documentation_is_read_as_a_test_invoice():
    link = "https://qr-test.ksef.mf.gov.pl/invoice/1111111111/01-02-2026/UtQp9Gpc51y-u3xApZjIjgkpZ01js-J8KflSPW8WzIE"

    reading = read(link, now=NOW)

    assert reading.seller_tax_number == "1111111111"
    assert reading.issued_at == dt.datetime(2026, 2, 1, tzinfo=WARSAW)
    assert reading.invoice_hash == "UtQp9Gpc51y-u3xApZjIjgkpZ01js-J8KflSPW8WzIE"
    assert reading.warning_codes == ("ksef.test_environment",)
    assert reading.detail("environment") == "test"


@pytest.mark.parametrize(
    "base, warnings, environment",
    [
        ("https://qr-demo.ksef.mf.gov.pl", ("ksef.test_environment",), "demo"),
        ("https://ksef.mf.gov.pl/client-app", ("ksef.legacy_address",), "production"),
        ("https://ksef-test.mf.gov.pl/client-app", ("ksef.legacy_address", "ksef.test_environment"), "test"),
        ("https://ksef-demo.mf.gov.pl/client-app", ("ksef.legacy_address", "ksef.test_environment"), "demo"),
    ],
)
def test_other_hosts_are_read_with_what_they_mean(base, warnings, environment):
    reading = read(kod_i(base=base), now=NOW)

    assert reading.warning_codes == warnings
    assert reading.detail("environment") == environment
    assert reading.content_key == read(kod_i(), now=NOW).content_key


@pytest.mark.parametrize(
    "link, reason",
    [
        pytest.param(kod_i().replace("https://", "http://"), "ksef.bad_url", id="http"),
        pytest.param(kod_i() + "/", "ksef.bad_url", id="trailing slash"),
        pytest.param(kod_i() + "?lang=pl", "ksef.bad_url", id="query"),
        pytest.param(kod_i() + "#top", "ksef.bad_url", id="fragment"),
        pytest.param(kod_i().replace("qr.ksef", "QR.KSEF"), "ksef.bad_url", id="upper-case host"),
        pytest.param(kod_i(base="https://ksef.mf.gov.pl"), "ksef.bad_url", id="legacy host without client-app"),
        pytest.param(kod_i(base="https://qr.ksef.mf.gov.pl/client-app"), "ksef.bad_url", id="new host with client-app"),
        pytest.param(f"https://qr.ksef.mf.gov.pl/invoice/{NIP}/20-11-2026", "ksef.bad_url", id="no hash"),
        pytest.param(kod_i() + "/extra", "ksef.bad_url", id="a segment too many"),
        pytest.param(kod_i(nip="526587763"), "ksef.nip_format", id="9-digit NIP"),
        pytest.param(kod_i(nip="526-587-76-35"), "ksef.nip_format", id="NIP with dashes"),
        pytest.param(kod_i(nip="PL5265877635"), "ksef.nip_format", id="NIP with country prefix"),
        pytest.param(kod_i(nip="5265877636"), "ksef.nip_checksum", id="NIP check digit"),
        pytest.param(kod_i(nip="1234567890"), "ksef.nip_checksum", id="weighted sum 10 mod 11"),
        pytest.param(kod_i(date="2026-11-20"), "ksef.bad_date", id="ISO date"),
        pytest.param(kod_i(date="20.11.2026"), "ksef.bad_date", id="dotted date"),
        pytest.param(kod_i(date="31-11-2026"), "ksef.bad_date", id="31 November"),
        pytest.param(kod_i(date="29-02-2027"), "ksef.bad_date", id="29 February 2027"),
        pytest.param(kod_i(date="20-11-1970"), "ksef.bad_date", id="1970"),
        pytest.param(kod_i(hash_=HASH + "="), "ksef.hash_padding", id="padding"),
        # The July 2025 draft of the documentation wrote the hash in standard base64.
        pytest.param(kod_i(hash_="KjUrcBrlJxBxPdRCV0gOuUmdm5dDEBbqkjN/C6dv2c8="), "ksef.hash_padding", id="draft's base64"),
        pytest.param(kod_i(hash_="KjUrcBrlJxBxPdRCV0gOuUmdm5dDEBbqkjN/C6dv2c8"), "ksef.hash_alphabet", id="/ in the hash"),
        pytest.param(kod_i(hash_="UtQp9Gpc51y+u3xApZjIjgkpZ01js+J8KflSPW8WzIE"), "ksef.hash_alphabet", id="+ instead of -"),
        pytest.param(kod_i(hash_=HASH[:-1]), "ksef.hash_length", id="42 characters"),
        pytest.param(kod_i(hash_=HASH + "A"), "ksef.hash_length", id="44 characters"),
        pytest.param(kod_i(hash_=base64.urlsafe_b64encode(b"\x01" * 20).decode().rstrip("=")), "ksef.hash_length", id="SHA-1"),
        pytest.param(kod_i(hash_=HASH[:-1] + "F"), "ksef.hash_noncanonical", id="stray bits in the last character"),
    ],
)
def test_a_malformed_link_is_refused_with_its_reason(link, reason):
    assert refused(link) == reason


def test_a_date_after_today_in_warsaw_is_read_with_a_warning():
    late_evening = dt.datetime(2026, 11, 22, 23, 30, tzinfo=dt.timezone.utc)  # already 23 November in Warsaw

    assert read(kod_i(date="23-11-2026"), now=late_evening).warning_codes == ()
    assert read(kod_i(date="24-11-2026"), now=late_evening).warning_codes == ("ksef.issued_in_future",)


def test_the_content_key_is_the_seller_and_the_invoice_file():
    same = read(kod_i(), now=NOW).content_key

    assert read(kod_i(), now=NOW).content_key == same
    assert read(kod_i(hash_=invoice_hash(b"<Faktura>another</Faktura>")), now=NOW).content_key != same
    assert read(kod_i(nip="7792438766"), now=NOW).content_key != same


@pytest.mark.parametrize(
    "kind, ec_format",
    [("rsa", None), ("ec", "p1363"), ("ec", "der")],
    ids=["RSA-PSS", "ECDSA P-256, IEEE P1363", "ECDSA P-256, DER"],
)
def test_kod_ii_signed_with_a_configured_offline_certificate_is_valid(kind, ec_format):
    _, certificate = offline_certificate(kind)
    keys = FiscalKeys(ksef_certificates=(pem(certificate),))

    reading = read(kod_ii(kind=kind, ec_format=ec_format or "p1363"), now=NOW, keys=keys)

    assert reading.signature == "valid"
    assert reading.seller_tax_number == NIP
    assert reading.invoice_hash == HASH
    assert reading.issued_at is None and reading.total is None
    assert reading.warning_codes == ("ksef.no_issue_date",)
    assert reading.detail("code") == "KOD II"
    assert reading.detail("certificate_serial") == "01F20A5D352AE590"
    assert reading.detail("context") == f"Nip:{NIP}"
    assert reading.content_key == read(kod_i(), now=NOW).content_key  # one invoice, both codes


@pytest.mark.parametrize(
    "host, warnings",
    [
        ("qr-test.ksef.mf.gov.pl", ("ksef.test_environment",)),
        ("ksef.mf.gov.pl/client-app", ("ksef.legacy_address",)),
    ],
)
def test_kod_ii_signs_the_link_as_written_whatever_the_host(host, warnings):
    _, certificate = offline_certificate("rsa")
    keys = FiscalKeys(ksef_certificates=(pem(certificate),))

    reading = read(kod_ii(host=host), now=NOW, keys=keys)

    assert reading.signature == "valid"
    assert reading.warning_codes == (*warnings, "ksef.no_issue_date")


def test_kod_ii_with_a_tampered_signature_is_invalid():
    _, certificate = offline_certificate("rsa")
    keys = FiscalKeys(ksef_certificates=(pem(certificate),))

    reading = read(kod_ii(tamper=True), now=NOW, keys=keys)

    assert reading.signature == "invalid"
    assert "ksef.signature_invalid" in reading.warning_codes


def test_kod_ii_for_another_invoice_does_not_check_against_the_signature_of_the_first():
    _, certificate = offline_certificate("rsa")
    keys = FiscalKeys(ksef_certificates=(pem(certificate),))
    genuine = kod_ii()
    other_hash = invoice_hash(b"<Faktura>another</Faktura>")

    reading = read(genuine.replace(HASH, other_hash), now=NOW, keys=keys)

    assert reading.signature == "invalid"


def test_kod_ii_without_its_certificate_is_unverifiable():
    reading = read(kod_ii(), now=NOW)

    assert reading.signature == "unverifiable"
    assert reading.warning_codes == ("ksef.no_issue_date", "ksef.certificate_unknown")


def test_the_documentations_kod_ii_example_is_read():
    link = (
        "https://qr-test.ksef.mf.gov.pl/certificate/Nip/1111111111/1111111111/01F20A5D352AE590/"
        "UtQp9Gpc51y-u3xApZjIjgkpZ01js-J8KflSPW8WzIE/mSkm_XmM9fq7PgAJwiL32L9ujhyguOEV48cDB0ncemD2r9TMGa3lr0iRoFk588agCi8Q"
        "PsOuscUY1rZ7ff76STbGquO-gZtQys5_fHdf2HUfDqPqVTnUS6HknBu0zLkyf9ygoW7WbH06Ty_8BgQTlOmJFzNWSt9WZa7tAGuAE9JOooNps-KG2PYk"
        "kIP4q4jPMp3FKypAygHVnXtS0RDGgOxhhM7LWtFP7D-dWINbh5yXD8Lr-JVbeOpyQjHa6WmMYavCDQJ3X_Z-iS01LZu2s1B3xuOykl1h0sLObCdADrbx"
        "OONsXrvQa61Xt_rxyprVraj2Uf9pANQgR4-12HEcMw"
    )

    reading = read(link, now=NOW)

    assert reading.seller_tax_number == "1111111111"
    assert reading.signature == "unverifiable"
    assert reading.detail("certificate_serial") == "01F20A5D352AE590"


@pytest.mark.parametrize(
    "link, reason",
    [
        pytest.param(kod_ii(context="Pesel/85010112345"), "ksef.bad_context", id="unknown context type"),
        pytest.param(kod_ii(context="Nip/1111111112"), "ksef.nip_checksum", id="context NIP check digit"),
        pytest.param(kod_ii(context="InternalId/5265877635 00001"), "ksef.bad_context", id="blank in an internal id"),
        pytest.param(kod_ii(nip="5265877636"), "ksef.nip_checksum", id="seller NIP check digit"),
        pytest.param(kod_ii().replace("/01F20A5D352AE590/", "/serial-01/"), "ksef.bad_certificate_serial", id="serial"),
        pytest.param(kod_ii(hash_=HASH + "="), "ksef.hash_padding", id="hash padding"),
        pytest.param(kod_ii() + "==", "ksef.bad_signature_encoding", id="signature padding"),
        pytest.param(kod_ii().rsplit("/", 1)[0] + "/", "ksef.bad_signature_encoding", id="empty signature"),
        pytest.param(kod_ii().rsplit("/", 1)[0], "ksef.bad_url", id="no signature segment"),
    ],
)
def test_a_malformed_kod_ii_is_refused_with_its_reason(link, reason):
    assert refused(link) == reason


def test_a_certificate_that_is_not_a_certificate_is_a_configuration_error():
    with pytest.raises(FiscalKeysInvalid):
        read(kod_ii(), now=NOW, keys=FiscalKeys(ksef_certificates=(b"not a certificate",)))


@pytest.mark.parametrize(
    "text",
    [
        "https://ksef.mf.gov.pl/",
        "https://ksef.mf.gov.pl/web/verify?nr=5265877635-20250826-0100001AF629-AF",
        "https://api.ksef.mf.gov.pl/v2/invoices",
        "https://qr.ksef.mf.gov.pl.evil.example/invoice/5265877635/20-11-2026/" + HASH,
        "https://qr.ksef.mf.gov.pl@evil.example/invoice/5265877635/20-11-2026/" + HASH,
        "https://qr.ksef.mf.gov.pl:8443/invoice/5265877635/20-11-2026/" + HASH,
    ],
)
def test_links_that_are_not_verification_links_are_not_kse_f_codes(text):
    assert read(text, now=NOW) is None
