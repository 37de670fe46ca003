"""Fixtures for the pass endpoints and updates: a local APNs over HTTP/2 and TLS, settings that use it."""

from __future__ import annotations

import io
import json
import threading
import zipfile
from pathlib import Path
from typing import Any, Iterator

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.notifications.fcm_h2_server import FcmH2Server, ThrowawayCa
from tests.passes.google.wallet_server import WalletServer

APNS_KEY_ID = "KEY1234567"
APNS_TEAM = "ABCDE12345"


class ApnsServer:
    """Answers as APNs does for pass updates: 200, or 410 Unregistered for the tokens in ``gone``.

    Checks what Apple checks: the path, the topic, the provider token's ES256 signature and
    ``kid``; records every push it accepted in ``pushes`` (token, headers, body).
    """

    def __init__(self, public_key: ec.EllipticCurvePublicKey, topic: str) -> None:
        self.public_key, self.topic = public_key, topic
        self.pushes: list[tuple[str, dict[str, str], bytes]] = []
        self.refused: list[str] = []
        self.gone: set[str] = set()
        self._lock = threading.Lock()

    def respond(self, method: str, path: str, headers: dict[str, str], body: bytes
                ) -> tuple[int, dict[str, str], bytes]:
        def refuse(status: int, reason: str) -> tuple[int, dict[str, str], bytes]:
            with self._lock:
                self.refused.append(reason)
            return status, {"content-type": "application/json"}, json.dumps({"reason": reason}).encode()

        if method != "POST" or not path.startswith("/3/device/"):
            return refuse(405, "MethodNotAllowed")
        scheme, _, token = headers.get("authorization", "").partition(" ")
        try:
            if jwt.get_unverified_header(token).get("kid") != APNS_KEY_ID:
                return refuse(403, "InvalidProviderToken")
            claims = jwt.decode(token, self.public_key, algorithms=["ES256"], options={"verify_iat": False})
        except jwt.PyJWTError:
            return refuse(403, "InvalidProviderToken")
        if scheme != "bearer" or claims.get("iss") != APNS_TEAM:
            return refuse(403, "InvalidProviderToken")
        if headers.get("apns-topic") != self.topic:
            return refuse(400, "TopicDisallowed")
        device = path.removeprefix("/3/device/")
        if device in self.gone:
            return 410, {"content-type": "application/json"}, json.dumps({"reason": "Unregistered"}).encode()
        with self._lock:
            self.pushes.append((device, headers, body))
        return 200, {"apns-id": "0"}, b""


@pytest.fixture(scope="session")
def apns_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ec.EllipticCurvePrivateKey]:
    """An APNs auth key as Apple hands it out (.p8: PKCS#8 PEM of a P-256 key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path_factory.mktemp("apns") / f"AuthKey_{APNS_KEY_ID}.p8"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return path, key


@pytest.fixture(scope="session")
def apns_ca(tmp_path_factory: pytest.TempPathFactory) -> ThrowawayCa:
    return ThrowawayCa(tmp_path_factory.mktemp("apns-tls"), "apns")


@pytest.fixture
def apns(apns_key: tuple[Path, ec.EllipticCurvePrivateKey], apns_ca: ThrowawayCa, settings: Any
         ) -> Iterator[tuple[ApnsServer, FcmH2Server]]:
    """A local APNs (HTTP/2 over TLS, ALPN h2) for the settings' pass type."""
    responder = ApnsServer(apns_key[1].public_key(), settings.apple_pass_type_id)
    server = FcmH2Server(responder, *apns_ca.issue()).start()  # type: ignore[arg-type]
    yield responder, server
    server.stop()


@pytest.fixture
def apns_settings(settings: Any, apns: tuple[ApnsServer, FcmH2Server], apns_key: Any, apns_ca: ThrowawayCa) -> Any:
    """The test settings with APNs token auth pointed at the local server."""
    return settings.with_overrides(apns_endpoint=apns[1].url, apns_key_id=APNS_KEY_ID, apns_team_id=APNS_TEAM,
                                   apns_key=str(apns_key[0]), apns_ca_file=str(apns_ca.cert_file))


def unzip(pkpass: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(pkpass)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


# --- Google Wallet: the local Google stand-in and a service account pointed at it ---------------

ISSUER = "3388000000012345678"


@pytest.fixture
def google() -> Iterator[WalletServer]:
    """The local OAuth token endpoint and Wallet API."""
    server = WalletServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def _account() -> tuple[dict[str, Any], rsa.RSAPrivateKey]:
    return WalletServer.service_account("http://127.0.0.1:9/token")  # token_uri replaced per test


@pytest.fixture
def account(_account: tuple[dict[str, Any], rsa.RSAPrivateKey], google: WalletServer) -> dict[str, Any]:
    """A service-account JSON whose token_uri is the local token endpoint (one RSA key per run)."""
    return {**_account[0], "token_uri": f"{google.url}/token"}


@pytest.fixture
def account_key(_account: tuple[dict[str, Any], rsa.RSAPrivateKey]) -> rsa.RSAPrivateKey:
    """The service account's private key."""
    return _account[1]
