"""APPLE_PASS_* files that cannot sign: refused at start by name, a 503 if they break later."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from config import ConfigError
from passes.apple import development_identity
from passes.apple.certificates import CERT_FILE, KEY_FILE, WWDR_FILE
from tests.conftest import build_app


def stranger_key() -> bytes:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


@pytest.fixture
def real_files(tmp_path: Path, settings):
    """A signing identity's three files, configured as production configures Apple's."""
    directory = tmp_path / "identity"
    development_identity(directory, pass_type_id=settings.apple_pass_type_id, team_id=settings.apple_pass_team_id)
    configured = settings.with_overrides(apple_pass_certificate=str(directory / CERT_FILE),
                                         apple_pass_key=str(directory / KEY_FILE),
                                         apple_pass_wwdr=str(directory / WWDR_FILE))
    return directory, configured


def test_a_key_that_is_not_the_certificates_stops_the_server_from_starting_and_says_why(
        connection, clock, real_files):
    directory, configured = real_files
    (directory / KEY_FILE).write_bytes(stranger_key())
    with pytest.raises(ConfigError, match=r"APPLE_PASS_\*: .*does not belong"):
        build_app(connection, configured, clock)


def test_files_that_break_after_the_start_answer_503_naming_the_problem_not_500(
        connection, clock, real_files, people):
    directory, configured = real_files
    client = people.client = build_app(connection, configured, clock).test_client()
    (directory / KEY_FILE).write_bytes(stranger_key())  # replaced under the running server
    response = client.get("/api/v1/me/passes/apple", headers=people.partner()["headers"])
    assert response.status_code == 503
    assert "Apple Wallet passes cannot be signed" in response.json["message"]
    assert "does not belong" in response.json["message"]
