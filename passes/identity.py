"""The signing identity of this installation's Apple passes, from settings.

With APPLE_PASS_CERTIFICATE and APPLE_PASS_KEY (and APPLE_PASS_WWDR, Apple's intermediate)
the real identity; without them a development identity made once into
``instance/apple-pass-dev`` (its passes verify against that directory's root but no iPhone
accepts them, and they say so on their back). Built once per process (``infra.resources``):
reading and checking the chain costs milliseconds, every pass needs it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from config.values import ConfigError
from infra.errors import Unavailable
from passes.apple import Identity, development_identity, load_identity
from passes.apple.errors import CertificateError

DEVELOPMENT_DIR = "apple-pass-dev"


def identity_from_settings(settings: Any, now: dt.datetime | None = None) -> Identity:
    """The identity settings describe. Raises ``CertificateError`` for unusable APPLE_PASS_* files."""
    now = now or dt.datetime.now(dt.timezone.utc)
    if settings.apple_pass_certificate or settings.apple_pass_key:
        if not (settings.apple_pass_certificate and settings.apple_pass_key and settings.apple_pass_wwdr):
            raise CertificateError("APPLE_PASS_CERTIFICATE, APPLE_PASS_KEY and APPLE_PASS_WWDR go together",
                                   reason="incomplete_configuration")
        password = settings.apple_pass_key_password.encode() if settings.apple_pass_key_password else None
        return load_identity(Path(settings.apple_pass_certificate).read_bytes(),
                             Path(settings.apple_pass_key).read_bytes(),
                             Path(settings.apple_pass_wwdr).read_bytes(), password=password, now=now)
    return development_identity(Path(settings.instance_dir) / DEVELOPMENT_DIR,
                                pass_type_id=settings.apple_pass_type_id, team_id=settings.apple_pass_team_id,
                                now=now)


class AppleWalletUnavailable(Unavailable):
    service = "Apple Wallet"
    message = "Apple Wallet passes cannot be signed on this server"


def apple_identity(resources: Any) -> Identity:
    """The process's identity, built on first use. Raises ``AppleWalletUnavailable`` (a 503 naming
    what is wrong) when the APPLE_PASS_* files cannot be used: a certificate that expired while
    the server ran is the operator's to renew, not a server error."""
    try:
        return resources.get("apple_pass_identity", identity_from_settings)
    except CertificateError as exc:
        raise AppleWalletUnavailable(f"Apple Wallet passes cannot be signed on this server: {exc.message}") from exc


def check_configured(settings: Any) -> None:
    """At start: refuse to serve with APPLE_PASS_* files that cannot sign a pass (``ConfigError``
    naming the problem), rather than answer every pass request with an error later."""
    if not (settings.apple_pass_certificate or settings.apple_pass_key):
        return
    try:
        identity_from_settings(settings)
    except CertificateError as exc:
        raise ConfigError(f"APPLE_PASS_*: {exc.message}") from exc
