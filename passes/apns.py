"""APNs for Wallet pass updates: an empty push per registered phone, over HTTP/2.

A pass update push tells Wallet "ask the web service what changed": the payload is ``{}``,
the topic is the pass type id, and Wallet then calls ``GET .../registrations/...`` and
fetches the passes it names. Requests go through the shared libcurl HTTP/2 client
(``infra.http2``), many streams on one TLS connection, as Apple asks.

Token auth: an ES256 JWT (``kid`` = key id, ``iss`` = team id, ``iat``) signed with the .p8
key. Apple refuses a token older than an hour (``ExpiredProviderToken``) and one renewed
more often than every 20 minutes (``TooManyProviderTokenUpdates``), so one token is kept
per process and renewed after ``TOKEN_LIFETIME`` (40 minutes) by the clock it is given.
A 403 ``ExpiredProviderToken`` anyway (a clock off) renews it once and tries again.

Outcomes per phone: ``sent``; ``gone`` (410 Unregistered, or 400 BadDeviceToken: the caller
removes the registration); ``failed`` with Apple's reason (kept; the job tries again).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Literal

import jwt

from infra.http2 import CurlTransport, Request

logger = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "https://api.push.apple.com"
TOKEN_LIFETIME = dt.timedelta(minutes=40)  # within Apple's 20-60 minutes
GONE_REASONS = frozenset({"Unregistered", "BadDeviceToken", "DeviceTokenNotForTopic"})

Clock = Callable[[], dt.datetime]


@dataclass(frozen=True)
class Outcome:
    push_token: str
    status: Literal["sent", "gone", "failed"]
    reason: str | None = None


class ProviderToken:
    """The ES256 provider token, made once and renewed after ``TOKEN_LIFETIME``."""

    def __init__(self, *, key_pem: bytes, key_id: str, team_id: str, clock: Clock) -> None:
        self._key, self._key_id, self._team_id, self._clock = key_pem, key_id, team_id, clock
        self._token: str | None = None
        self._made_at: dt.datetime | None = None
        self._lock = threading.Lock()
        self.renewals = 0

    def get(self, *, force: bool = False) -> str:
        now = self._clock()
        with self._lock:
            if force or self._token is None or self._made_at is None or now - self._made_at >= TOKEN_LIFETIME:
                self._token = jwt.encode({"iss": self._team_id, "iat": int(now.timestamp())}, self._key,
                                         algorithm="ES256", headers={"kid": self._key_id})
                self._made_at = now
                self.renewals += 1
            return self._token


class ApnsSender:
    """Sends pass-update pushes. Build one per process (``pass_push_sender``)."""

    def __init__(self, *, token: ProviderToken, topic: str, endpoint: str | None = None,
                 ca_file: str | None = None, transport: CurlTransport | None = None) -> None:
        self._token, self._topic = token, topic
        self._endpoint = (endpoint or DEFAULT_ENDPOINT).rstrip("/")
        self._transport = transport or CurlTransport(ca_file=ca_file)

    def _requests(self, push_tokens: list[str], bearer: str) -> list[Request]:
        headers = [f"authorization: bearer {bearer}", f"apns-topic: {self._topic}", "apns-push-type: background",
                   "apns-priority: 5", "content-type: application/json"]
        return [Request(f"{self._endpoint}/3/device/{token}", headers, b"{}") for token in push_tokens]

    def send(self, push_tokens: list[str]) -> list[Outcome]:
        """One outcome per token, in order; never raises for a phone that failed."""
        if not push_tokens:
            return []
        replies = self._transport.send(self._requests(push_tokens, self._token.get()))
        expired = [i for i, r in enumerate(replies) if r.status == 403 and _reason(r.body) == "ExpiredProviderToken"]
        if expired:
            again = self._transport.send(self._requests([push_tokens[i] for i in expired], self._token.get(force=True)))
            for i, reply in zip(expired, again):
                replies[i] = reply
        outcomes = []
        for token, reply in zip(push_tokens, replies):
            reason = _reason(reply.body)
            if reply.status == 200:
                outcomes.append(Outcome(token, "sent"))
            elif reply.status == 410 or (reply.status == 400 and reason in GONE_REASONS):
                outcomes.append(Outcome(token, "gone", reason or "Unregistered"))
            else:
                why = reason or reply.transport_error or f"HTTP {reply.status}"
                logger.warning("APNs: pass update to %s... failed: %s", token[:8], why)
                outcomes.append(Outcome(token, "failed", why))
        return outcomes


class LogSender:
    """Stands in for APNs without APNS_* settings: the pass is current when the phone next asks."""

    def send(self, push_tokens: list[str]) -> list[Outcome]:
        for token in push_tokens:
            logger.info("APNs not configured (APNS_KEY_ID, APNS_TEAM_ID, APNS_KEY): no update push to %s...",
                        token[:8])
        return [Outcome(t, "failed", "APNs is not configured") for t in push_tokens]


def _reason(body: bytes) -> str | None:
    try:
        answer = json.loads(body) if body else None
    except ValueError:
        return None
    return answer.get("reason") if isinstance(answer, dict) and isinstance(answer.get("reason"), str) else None


def build_sender(settings: Any, clock: Clock | None = None) -> Any:
    """APNs when APNS_* are set, else the log. The clock renews the provider token (tests move it)."""
    if not settings.apns_configured:
        return LogSender()
    clock = clock or (lambda: dt.datetime.now(dt.timezone.utc))
    token = ProviderToken(key_pem=Path(settings.apns_key).read_bytes(), key_id=settings.apns_key_id,
                          team_id=settings.apns_team_id, clock=clock)
    return ApnsSender(token=token, topic=settings.apns_topic or settings.apple_pass_type_id,
                      endpoint=settings.apns_endpoint, ca_file=settings.apns_ca_file)
