"""The identity that signs Apple Wallet passes: pass certificate, its private key, Apple's WWDR intermediate.

Wallet accepts a pass only if its ``signature`` is a PKCS#7 signature over ``manifest.json``
made with a "Pass Type ID" certificate that Apple's WWDR intermediate issued, and only if
that certificate names the pass's ``passTypeIdentifier`` (subject UID) and
``teamIdentifier`` (subject OU). ``load_identity`` therefore refuses, with a reason, a key
that is not the certificate's, a certificate the given WWDR did not issue, and either
certificate out of its validity at ``now``: better a clear error at start-up than passes
that every iPhone silently rejects.

Without real certificates (a laptop, CI, a demo), ``development_identity`` makes a
stand-in chain once into a directory: a development root CA, a "WWDR-like" intermediate
and a pass certificate shaped like Apple's, and reloads it on later calls. Passes signed
with it verify with ``openssl cms -verify`` against that root but are NOT accepted by a
real iPhone; ``Identity.is_development`` says so, and the pass builder prints a note on
the back of such passes. Only the pass key is kept on disk (the CA keys are thrown away
after issuing), every file is 0600 in a 0700 directory, and generation holds a file lock
so two workers starting together make one identity, not two.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Union

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from passes.apple.errors import CertificateError

SigningKey = Union[rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey]

MAX_PEM_BYTES = 64 * 1024  # a certificate chain is a few KB; refuse anything that is clearly not one

# The files of a development identity, all 0600. pass.pem is written last: it marks a complete identity.
ROOT_FILE = "root.pem"
WWDR_FILE = "wwdr.pem"
KEY_FILE = "pass.key"
CERT_FILE = "pass.pem"
LOCK_FILE = ".lock"

DEVELOPMENT_ORGANIZATION = "Partner Wallet development (not Apple)"

_KEY_BLOCK = re.compile(rb"-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----.+?-----END \1-----", re.S)


@dataclass(frozen=True)
class Identity:
    """What signs passes. Build with ``load_identity`` or ``development_identity``, not by hand.

    ``pass_type_id`` and ``team_id`` are read from the certificate's subject (UID and OU,
    as Apple issues them; None when absent). ``root`` is the development root CA that
    anchors a development identity (None for a real one: Apple's root is the anchor).
    """

    certificate: x509.Certificate
    private_key: SigningKey
    wwdr: x509.Certificate
    is_development: bool
    pass_type_id: str | None
    team_id: str | None
    root: x509.Certificate | None = None

    @property
    def expires_at(self) -> dt.datetime:
        """When the pass certificate (or the WWDR, if sooner) stops being valid."""
        return min(self.certificate.not_valid_after_utc, self.wwdr.not_valid_after_utc)

    def sign(self, data: bytes) -> bytes:
        """A detached PKCS#7 (CMS SignedData) signature of ``data`` in DER, SHA-256, carrying the WWDR."""
        options = [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]
        return (
            pkcs7.PKCS7SignatureBuilder()
            .set_data(data)
            .add_signer(self.certificate, self.private_key, hashes.SHA256())
            .add_certificate(self.wwdr)
            .sign(serialization.Encoding.DER, options)
        )


def _limit(pem: bytes, what: str, reason: str) -> bytes:
    if not isinstance(pem, (bytes, bytearray)) or not pem.strip():
        raise CertificateError(f"the {what} is empty", reason=reason)
    if len(pem) > MAX_PEM_BYTES:
        raise CertificateError(f"the {what} is {len(pem)} bytes: not a PEM certificate or key", reason=reason)
    return bytes(pem)


def _certificate(pem: bytes, what: str, reason: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificates(_limit(pem, what, reason))[0]
    except CertificateError:
        raise
    except (ValueError, IndexError) as exc:
        raise CertificateError(f"the {what} is not a PEM certificate ({exc})", reason=reason) from exc


def _private_key(pem: bytes, password: bytes | None) -> SigningKey:
    data = _limit(pem, "pass private key", "unreadable_key")
    block = _KEY_BLOCK.search(data)  # the key may come in one file with the certificate
    if block is None:
        raise CertificateError("no PEM private key found in the pass private key", reason="unreadable_key")
    try:
        key = serialization.load_pem_private_key(block.group(0), password=password)
    except (ValueError, TypeError) as exc:
        hint = " (wrong or missing password?)" if b"ENCRYPTED" in block.group(0) else ""
        raise CertificateError(f"the pass private key cannot be read{hint}: {exc}", reason="unreadable_key") from exc
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        raise CertificateError("the pass private key is neither RSA nor EC", reason="unreadable_key")
    return key


def _spki(public_key: object) -> bytes:
    return public_key.public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _subject(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> str | None:
    values = cert.subject.get_attributes_for_oid(oid)
    return str(values[0].value) if values else None


def _check_validity(cert: x509.Certificate, now: dt.datetime, name: str, expired_reason: str) -> None:
    if now < cert.not_valid_before_utc:
        raise CertificateError(
            f"the {name} is not valid before {cert.not_valid_before_utc.isoformat()} (now {now.isoformat()})",
            reason="not_yet_valid",
        )
    if now > cert.not_valid_after_utc:
        raise CertificateError(
            f"the {name} expired on {cert.not_valid_after_utc.isoformat()}: renew it in Apple's developer portal",
            reason=expired_reason,
        )


def _assemble(cert: x509.Certificate, key: SigningKey, wwdr: x509.Certificate, *, now: dt.datetime,
              is_development: bool, root: x509.Certificate | None = None) -> Identity:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if _spki(cert.public_key()) != _spki(key.public_key()):
        raise CertificateError("the private key does not belong to the pass certificate", reason="key_mismatch")
    try:
        cert.verify_directly_issued_by(wwdr)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise CertificateError(
            f"the pass certificate ({cert.subject.rfc4514_string()}) was not issued by the WWDR certificate given "
            f"({wwdr.subject.rfc4514_string()}); Apple's pass certificates come from the WWDR G4 intermediate",
            reason="not_issued_by_wwdr",
        ) from exc
    _check_validity(cert, now, "pass certificate", "expired")
    _check_validity(wwdr, now, "WWDR certificate", "wwdr_expired")
    return Identity(
        certificate=cert,
        private_key=key,
        wwdr=wwdr,
        is_development=is_development,
        pass_type_id=_subject(cert, NameOID.USER_ID),
        team_id=_subject(cert, NameOID.ORGANIZATIONAL_UNIT_NAME),
        root=root,
    )


def load_identity(certificate_pem: bytes, private_key_pem: bytes, wwdr_pem: bytes, *,
                  password: bytes | None = None, now: dt.datetime) -> Identity:
    """The signing identity from PEM bytes (the contents of the APPLE_PASS_* files).

    ``private_key_pem`` may be the certificate's PEM file itself when it holds the key too;
    ``password`` decrypts an encrypted key. Raises ``CertificateError`` (see its reasons) when
    a part cannot be read, the key is not the certificate's, the WWDR did not issue the
    certificate, or either certificate is not valid at ``now``.
    """
    cert = _certificate(certificate_pem, "pass certificate", "unreadable_certificate")
    wwdr = _certificate(wwdr_pem, "WWDR certificate", "unreadable_wwdr")
    key = _private_key(private_key_pem, password)
    return _assemble(cert, key, wwdr, now=now, is_development=False)


def _name(**parts: str) -> x509.Name:
    oids = {"uid": NameOID.USER_ID, "cn": NameOID.COMMON_NAME, "ou": NameOID.ORGANIZATIONAL_UNIT_NAME,
            "o": NameOID.ORGANIZATION_NAME}
    return x509.Name([x509.NameAttribute(oids[k], v) for k, v in parts.items()])


def _issue(subject: x509.Name, public_key: rsa.RSAPublicKey, issuer: x509.Name, issuer_key: rsa.RSAPrivateKey, *,
           now: dt.datetime, years: int, ca: bool, path_length: int | None = None) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=not ca, content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=ca, crl_sign=ca, encipher_only=False, decipher_only=False,
        ), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    )
    return builder.sign(issuer_key, hashes.SHA256())


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, 0600 from the first byte (never world-readable, even briefly)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, path)


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _generate(directory: Path, *, pass_type_id: str, team_id: str, now: dt.datetime) -> None:
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root_name = _name(cn="Partner Wallet Development Root CA", o=DEVELOPMENT_ORGANIZATION)
    root = _issue(root_name, root_key.public_key(), root_name, root_key, now=now, years=20, ca=True, path_length=1)
    wwdr_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    wwdr_name = _name(cn="Partner Wallet Development WWDR-like Intermediate", ou="G4", o=DEVELOPMENT_ORGANIZATION)
    wwdr = _issue(wwdr_name, wwdr_key.public_key(), root_name, root_key, now=now, years=15, ca=True, path_length=0)
    pass_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    # Shaped like Apple's: UID = pass type id, CN = "Pass Type ID: <id>", OU = team id.
    pass_name = _name(uid=pass_type_id, cn=f"Pass Type ID: {pass_type_id}", ou=team_id, o=DEVELOPMENT_ORGANIZATION)
    cert = _issue(pass_name, pass_key.public_key(), wwdr_name, wwdr_key, now=now, years=10, ca=False)
    _write_private(directory / ROOT_FILE, _pem(root))
    _write_private(directory / WWDR_FILE, _pem(wwdr))
    _write_private(directory / KEY_FILE, pass_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    _write_private(directory / CERT_FILE, _pem(cert))  # last: its presence means the identity is complete


def _reload(directory: Path, *, now: dt.datetime) -> Identity:
    try:
        cert_pem, key_pem, wwdr_pem, root_pem = (
            (directory / name).read_bytes() for name in (CERT_FILE, KEY_FILE, WWDR_FILE, ROOT_FILE))
    except FileNotFoundError as exc:
        raise CertificateError(
            f"the development identity in {directory} is incomplete ({exc.filename} is missing): delete the "
            "directory to make a new one", reason="development_identity_damaged") from exc
    cert = _certificate(cert_pem, "development pass certificate", "development_identity_damaged")
    wwdr = _certificate(wwdr_pem, "development WWDR certificate", "development_identity_damaged")
    root = _certificate(root_pem, "development root certificate", "development_identity_damaged")
    key = _private_key(key_pem, None)
    return _assemble(cert, key, wwdr, now=now, is_development=True, root=root)


def development_identity(directory: Path, *, pass_type_id: str, team_id: str,
                         now: dt.datetime | None = None) -> Identity:
    """A development signing identity kept in ``directory``: made on the first call, reloaded after.

    The directory is created 0700 if missing; the files (``root.pem``, ``wwdr.pem``,
    ``pass.key``, ``pass.pem``) are 0600. ``now`` (default: the current time) dates new
    certificates and checks the validity of stored ones. Raises ``CertificateError`` with
    reason ``development_identity_mismatch`` when the stored certificate names another pass
    type id or team id (delete the directory, or point at another one), and
    ``development_identity_damaged`` when its files cannot be read back.
    """
    if not pass_type_id or not team_id:
        raise ValueError("pass_type_id and team_id are required")
    now = now or dt.datetime.now(dt.timezone.utc)
    directory = Path(directory)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    lock_fd = os.open(directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX)  # two workers starting at once: one generates, the other reloads
        if not (directory / CERT_FILE).exists():
            _generate(directory, pass_type_id=pass_type_id, team_id=team_id, now=now)
        identity = _reload(directory, now=now)
    finally:
        fcntl.flock(lock_fd, fcntl.LOCK_UN)
        os.close(lock_fd)
    if (identity.pass_type_id, identity.team_id) != (pass_type_id, team_id):
        raise CertificateError(
            f"the development identity in {directory} is for pass type {identity.pass_type_id!r} and team "
            f"{identity.team_id!r}, not {pass_type_id!r} / {team_id!r}: delete the directory or use another",
            reason="development_identity_mismatch",
        )
    return identity
