"""The passes a member asks for: a signed Apple pass, a Google save link (what the API serves).

Serving a pass also makes its row (``passes.registrations.ensure_pass``) with the hash of
what was served, so the update job knows the pass is held and what the holder has.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from infra.errors import NotFound, Unavailable
from passes import cards, registrations
from passes.apple import content_hash
from passes.google import save_url
from passes.updates import build, contents
from wallet.rewards.codes import CodeVault


class GoogleWalletNotConfigured(Unavailable):
    service = "Google Wallet"
    message = "Google Wallet is not configured on this server (GOOGLE_WALLET_ISSUER_ID, GOOGLE_WALLET_CREDENTIALS)"


class PassNotFound(NotFound):
    message = "there is no such pass"


@dataclass(frozen=True)
class ServedPass:
    data: bytes
    serial_number: str
    updated_at: dt.datetime


def apple_pass(session: Session, serial: str, *, settings: Any, identity: Any, vault: CodeVault,
               now: dt.datetime) -> ServedPass:
    """The signed ``.pkpass`` of ``serial`` as it is now. Raises ``PassNotFound``."""
    now_contents = contents(session, serial, settings=settings, vault=vault, now=now)
    if now_contents is None:
        raise PassNotFound()
    row = registrations.ensure_pass(session, serial, now=now,
                                    content_hash=content_hash(now_contents.apple, identity))
    assert row is not None
    return ServedPass(build(now_contents.apple, identity), serial, row.updated_at)


def google_link(session: Session, serial: str, *, settings: Any, vault: CodeVault, now: dt.datetime) -> str:
    """A "Save to Google Wallet" link carrying the pass's object. Raises ``GoogleWalletNotConfigured``
    (never a fake link) and ``PassNotFound``."""
    if not settings.google_wallet_configured:
        raise GoogleWalletNotConfigured()
    now_contents = contents(session, serial, settings=settings, vault=vault, now=now)
    if now_contents is None or now_contents.google is None:
        raise PassNotFound()
    obj = now_contents.google
    registrations.ensure_pass(session, serial, now=now, google_hash=cards.object_hash(obj))
    account = json.loads(settings.google_wallet_credentials)
    origins = list(settings.google_wallet_origins)
    if now_contents.google_kind == "loyalty":
        program = cards.google_loyalty_class(settings)
        return save_url(account, loyalty_objects=[obj], loyalty_classes=[program] if program else [],
                        origins=origins, now=now)
    facts = cards.voucher_facts(session, cards.parse_serial(serial)[1], vault, now)  # type: ignore[index]
    assert facts is not None
    return save_url(account, offer_objects=[obj], offer_classes=[cards.google_offer_class(facts, settings)],
                    origins=origins, now=now)
