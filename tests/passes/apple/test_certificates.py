"""The signing identity: loading real-shaped PEMs with clear refusals, and the development identity."""

from __future__ import annotations

import datetime as dt
import os
import stat
import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from passes.apple import CertificateError, Identity, development_identity, load_identity
from passes.apple.certificates import CERT_FILE, KEY_FILE, ROOT_FILE, WWDR_FILE
from tests.passes.apple.conftest import NOW, PASS_TYPE, TEAM


def pems(directory: Path) -> tuple[bytes, bytes, bytes]:
    return ((directory / CERT_FILE).read_bytes(), (directory / KEY_FILE).read_bytes(),
            (directory / WWDR_FILE).read_bytes())


def test_the_development_identity_is_made_once_and_reused(tmp_path: Path) -> None:
    directory = tmp_path / "identity"

    first = development_identity(directory, pass_type_id=PASS_TYPE, team_id=TEAM)
    files = {name: (directory / name).read_bytes() for name in (ROOT_FILE, WWDR_FILE, KEY_FILE, CERT_FILE)}
    second = development_identity(directory, pass_type_id=PASS_TYPE, team_id=TEAM)

    assert second.certificate == first.certificate and second.wwdr == first.wwdr and second.root == first.root
    assert {name: (directory / name).read_bytes() for name in files} == files
    assert first.is_development and second.is_development


def test_the_development_files_are_private(identity: Identity, identity_dir: Path) -> None:
    assert stat.S_IMODE(os.stat(identity_dir).st_mode) == 0o700
    for name in (ROOT_FILE, WWDR_FILE, KEY_FILE, CERT_FILE):
        assert stat.S_IMODE(os.stat(identity_dir / name).st_mode) == 0o600, name


def test_the_development_certificate_is_shaped_like_apples(identity: Identity) -> None:
    subject = identity.certificate.subject

    assert subject.get_attributes_for_oid(NameOID.USER_ID)[0].value == PASS_TYPE
    assert subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == f"Pass Type ID: {PASS_TYPE}"
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == TEAM
    assert (identity.pass_type_id, identity.team_id) == (PASS_TYPE, TEAM)
    assert identity.certificate.issuer == identity.wwdr.subject
    assert identity.root is not None and identity.wwdr.issuer == identity.root.subject


def test_workers_starting_together_make_one_identity(tmp_path: Path) -> None:
    directory = tmp_path / "identity"
    made: list[Identity] = []

    threads = [threading.Thread(target=lambda: made.append(
        development_identity(directory, pass_type_id=PASS_TYPE, team_id=TEAM))) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(made) == 3 and len({m.certificate.serial_number for m in made}) == 1


def test_a_development_identity_for_another_pass_type_is_refused(identity_dir: Path, identity: Identity) -> None:
    with pytest.raises(CertificateError) as error:
        development_identity(identity_dir, pass_type_id="pass.com.example.other", team_id=TEAM)

    assert error.value.reason == "development_identity_mismatch"
    assert "pass.com.example.other" in error.value.message


def test_an_incomplete_development_identity_says_so(tmp_path: Path) -> None:
    directory = tmp_path / "identity"
    development_identity(directory, pass_type_id=PASS_TYPE, team_id=TEAM)
    (directory / KEY_FILE).unlink()

    with pytest.raises(CertificateError) as error:
        development_identity(directory, pass_type_id=PASS_TYPE, team_id=TEAM)

    assert error.value.reason == "development_identity_damaged"


def test_matching_pems_load_as_a_production_identity(identity_dir: Path, identity: Identity) -> None:
    cert, key, wwdr = pems(identity_dir)

    loaded = load_identity(cert, key, wwdr, now=NOW)

    assert loaded.certificate == identity.certificate and loaded.wwdr == identity.wwdr
    assert loaded.is_development is False and loaded.root is None
    assert (loaded.pass_type_id, loaded.team_id) == (PASS_TYPE, TEAM)


def test_the_key_may_come_in_the_certificate_file_and_encrypted(identity_dir: Path, identity: Identity) -> None:
    cert, _, wwdr = pems(identity_dir)
    encrypted = identity.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"))

    loaded = load_identity(cert + encrypted, cert + encrypted, wwdr, password=b"secret", now=NOW)

    assert loaded.certificate == identity.certificate


def test_a_key_that_is_not_the_certificates_is_refused(identity_dir: Path) -> None:
    cert, _, wwdr = pems(identity_dir)
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())

    with pytest.raises(CertificateError) as error:
        load_identity(cert, stranger, wwdr, now=NOW)

    assert error.value.reason == "key_mismatch"
    assert "does not belong" in error.value.message


def test_a_certificate_another_wwdr_issued_is_refused(identity_dir: Path, other_identity: Identity) -> None:
    cert, key, _ = pems(identity_dir)
    other_wwdr = other_identity.wwdr.public_bytes(serialization.Encoding.PEM)

    with pytest.raises(CertificateError) as error:
        load_identity(cert, key, other_wwdr, now=NOW)

    assert error.value.reason == "not_issued_by_wwdr"


def test_an_expired_certificate_is_refused_with_its_date(identity_dir: Path, identity: Identity) -> None:
    cert, key, wwdr = pems(identity_dir)
    later = identity.certificate.not_valid_after_utc + dt.timedelta(days=1)

    with pytest.raises(CertificateError) as error:
        load_identity(cert, key, wwdr, now=later)

    assert error.value.reason == "expired"
    assert identity.certificate.not_valid_after_utc.date().isoformat() in error.value.message


def test_a_certificate_not_yet_valid_is_refused(identity_dir: Path, identity: Identity) -> None:
    cert, key, wwdr = pems(identity_dir)

    with pytest.raises(CertificateError) as error:
        load_identity(cert, key, wwdr, now=identity.certificate.not_valid_before_utc - dt.timedelta(days=1))

    assert error.value.reason == "not_yet_valid"


@pytest.mark.parametrize("which, garbage, reason", [
    ("cert", b"not a certificate", "unreadable_certificate"),
    ("cert", b"", "unreadable_certificate"),
    ("cert", b"-----BEGIN CERTIFICATE-----\n" + b"A" * 70_000 + b"\n-----END CERTIFICATE-----\n",
     "unreadable_certificate"),
    ("key", b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "unreadable_key"),
    ("key", b"no key here", "unreadable_key"),
    ("wwdr", b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "unreadable_wwdr"),
])
def test_unreadable_pems_are_refused_with_the_part_at_fault(identity_dir: Path, which: str, garbage: bytes,
                                                            reason: str) -> None:
    parts = dict(zip(("cert", "key", "wwdr"), pems(identity_dir)))
    parts[which] = garbage

    with pytest.raises(CertificateError) as error:
        load_identity(parts["cert"], parts["key"], parts["wwdr"], now=NOW)

    assert error.value.reason == reason


def test_an_encrypted_key_without_its_password_says_so(identity_dir: Path, identity: Identity) -> None:
    cert, _, wwdr = pems(identity_dir)
    encrypted = identity.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"))

    with pytest.raises(CertificateError) as error:
        load_identity(cert, encrypted, wwdr, now=NOW)

    assert error.value.reason == "unreadable_key" and "password" in error.value.message
