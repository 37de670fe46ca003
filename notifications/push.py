"""Push delivery through Firebase Cloud Messaging (HTTP v1).

One ``FcmSender`` per worker process, built lazily from settings. ``send`` takes up to
500 pushes and returns one ``Outcome`` per token, never raising for a single
device's failure:

- ``sent``: FCM accepted it (with its message id);
- ``invalid``: the token is dead (UNREGISTERED, a malformed token, another project's
  token): the caller deletes the device;
- ``failed``: anything else, after retries.

What firebase-admin does here: it reads the service account and gets the OAuth access
token (``credentials.Certificate``), and it builds, checks and encodes every message
(``messaging.Message``), so the JSON FCM receives is the SDK's. What it does not do is
the HTTP: both of its send paths (``send_each``: requests on 500 threads; the
``_async`` variants: httpx and h2 in pure Python) cost about 1.1 ms of CPU per message,
which caps one 2-core worker near 1,800 messages/s against FCM's quota of 10,000/s
(``bench/README.md``). libcurl (pycurl, ``infra.http2``) multiplexes the same requests
over HTTP/2 for about 20 µs each. FCM v1 has no batch endpoint, so it is one request per message either
way.

UNAVAILABLE, INTERNAL, quota and deadline errors and broken connections are retried
with exponential backoff and jitter, waiting at least what the provider's
``Retry-After`` asks; an expired access token is renewed once, at no backoff.

The endpoint comes from ``FCM_ENDPOINT`` (default: Google's); the OAuth token URL
from the service account's ``token_uri``. Both point at a local server in the tests.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import threading
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Literal

import firebase_admin
import google.auth.exceptions
from firebase_admin import credentials, messaging

from infra.http2 import SET_UP_WRONG, CurlTransport, Reply
from notifications.errors import PushUnavailable

logger = logging.getLogger(__name__)

FCM_ENDPOINT = "https://fcm.googleapis.com"
BATCH = 500
TOKEN_MARGIN = dt.timedelta(minutes=5)  # renew the access token this long before it expires


@dataclass(frozen=True)
class Push:
    token: str
    platform: str
    title: str
    body: str
    data: dict[str, str] = field(default_factory=dict)
    image_url: str | None = None
    collapse_key: str | None = None
    ttl_seconds: int = 3 * 24 * 3600
    badge: int | None = None


@dataclass(frozen=True)
class Outcome:
    token: str
    status: Literal["sent", "invalid", "failed"]
    message_id: str | None = None
    error: str | None = None


def build_message(push: Push) -> messaging.Message:
    apns_headers = {"apns-priority": "10", "apns-expiration": str(int(time.time()) + push.ttl_seconds)}
    if push.collapse_key:
        apns_headers["apns-collapse-id"] = push.collapse_key[:64]
    with warnings.catch_warnings():
        # The app registers FCM registration tokens; firebase-admin 7.7 deprecates
        # Message.token in favour of installation ids but sends it as FCM v1 expects.
        warnings.simplefilter("ignore", DeprecationWarning)
        return messaging.Message(
            token=push.token,
            notification=messaging.Notification(title=push.title, body=push.body, image=push.image_url),
            data=push.data,
            android=messaging.AndroidConfig(
                collapse_key=push.collapse_key,
                priority="high",
                ttl=push.ttl_seconds,
                notification=messaging.AndroidNotification(sound="default", image=push.image_url),
            ),
            apns=messaging.APNSConfig(
                headers=apns_headers,
                payload=messaging.APNSPayload(
                    aps=messaging.Aps(sound="default", badge=push.badge, mutable_content=bool(push.image_url))
                ),
                fcm_options=messaging.APNSFCMOptions(image=push.image_url) if push.image_url else None,
            ),
        )


def encode(push: Push) -> bytes:
    """The request body of FCM v1's messages:send, as firebase-admin encodes (and checks) the message."""
    return b'{"message":' + str(build_message(push)).encode() + b"}"


class FcmUnavailable(PushUnavailable):
    """A whole batch failed for reasons that are FCM's or ours, not the devices': FCM down or
    overloaded past every retry, unreachable, refusing our credentials or certificate, no
    OAuth token to be had, or every token "of another sender" (our service account belongs to
    another project: deleting all those devices would be the worst answer). The caller should
    put the batch back and pause, not mark a million deliveries failed."""

    def __init__(self, message: str, retry_after: float = 0.0) -> None:
        super().__init__(message, retry_after=retry_after)  # seconds FCM asked us to stay away, when it said


# refused: failed for our reasons, not the device's (certificate, URL, project, credentials);
# gone: Retry-After past max_delay
Verdict = Literal["sent", "invalid", "retry", "renew", "failed", "refused", "gone"]
_RETRY_STATUSES = {429, 500, 502, 503, 504}
_RETRY_CODES = {"QUOTA_EXCEEDED", "UNAVAILABLE", "INTERNAL", "RESOURCE_EXHAUSTED", "DEADLINE_EXCEEDED"}


def judge(reply: Reply) -> tuple[Verdict, str | None]:
    """FCM v1's answer, read as the error codes of its reference (``FcmError.errorCode``, then the
    google.rpc status): the verdict and a short reason."""
    if reply.status == 200:
        return "sent", None
    if reply.status == 0:
        return ("refused" if reply.transport_code in SET_UP_WRONG else "retry"), reply.transport_error
    try:
        error = json.loads(reply.body)["error"]
        status, message = str(error.get("status", "")), str(error.get("message", ""))
        codes = {str(d.get("errorCode")) for d in error.get("details", ()) if isinstance(d, dict)}
    except (ValueError, KeyError, TypeError, AttributeError):
        status, message, codes = "", reply.body[:200].decode("utf-8", "replace"), set()
    reason = (next(iter(codes - {"None"}), None) or status or f"HTTP {reply.status}") + (f": {message}" if message else "")
    if codes & {"UNREGISTERED", "SENDER_ID_MISMATCH"}:
        return "invalid", reason
    if (status == "INVALID_ARGUMENT" or "INVALID_ARGUMENT" in codes) and "registration token" in message.lower():
        return "invalid", reason
    if reply.status == 401 and "THIRD_PARTY_AUTH_ERROR" not in codes:
        return "renew", reason
    if reply.status in _RETRY_STATUSES or codes & _RETRY_CODES or status in _RETRY_CODES:
        return "retry", reason
    if reply.status in (403, 404) and not codes - {"None"}:
        # A refusal that names no token: our project or endpoint is wrong (403 PERMISSION_DENIED
        # with the FCM API off, 404 for a wrong project), not the device.
        return "refused", reason
    return "failed", reason


class FcmSender:
    def __init__(
        self,
        service_account_json: str,
        *,
        endpoint: str | None = None,
        ca_file: str | None = None,
        max_attempts: int = 5,
        base_delay: float = 0.5,
        max_delay: float = 60.0,
        outage_batch: int = 20,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        info = json.loads(service_account_json)
        self._credential = credentials.Certificate(info)
        endpoint = (endpoint or FCM_ENDPOINT).rstrip("/")
        self.url = f"{endpoint}/v1/projects/{info['project_id']}/messages:send"
        self._transport = CurlTransport(ca_file=ca_file)
        self._token: credentials.AccessTokenInfo | None = None
        self._token_lock = threading.Lock()
        self.max_attempts, self.base_delay, self.max_delay = max_attempts, base_delay, max_delay
        # A batch at least this big failing only for FCM's or our reasons is an outage
        # (FcmUnavailable); a smaller one may just be a device or two.
        self.outage_batch = outage_batch
        self._sleep, self._jitter = sleep, jitter

    def close(self) -> None:
        self._transport.close()

    def _access_token(self) -> str:
        """The cached OAuth token; a new one when it is about to expire or was forgotten."""
        with self._token_lock:
            token = self._token
            expiring = token is None or token.expiry is None or \
                token.expiry.replace(tzinfo=dt.timezone.utc) - dt.datetime.now(dt.timezone.utc) < TOKEN_MARGIN
            if expiring:
                try:
                    self._token = token = self._credential.get_access_token()
                except (google.auth.exceptions.GoogleAuthError, ValueError) as error:
                    # No token, nothing sent: the token endpoint is down or the key was revoked.
                    raise FcmUnavailable(f"no OAuth access token: {error}") from error
            return token.access_token

    def _forget_token(self, stale: str) -> None:
        """FCM refused ``stale``: the next send fetches a new one (unless another thread already has)."""
        with self._token_lock:
            if self._token is not None and self._token.access_token == stale:
                self._token = None

    def _headers(self, access_token: str) -> list[str]:
        return [f"Authorization: Bearer {access_token}", "Content-Type: application/json; charset=UTF-8",
                "X-GOOG-API-FORMAT-VERSION: 2", f"X-Firebase-Client: fire-admin-python/{firebase_admin.__version__}"]

    def send(self, pushes: list[Push]) -> list[Outcome]:
        """One outcome per push, in order. Never raises for a device's failure; raises
        ``FcmUnavailable`` when a whole batch (``outage_batch`` or more) got nowhere."""
        outcomes: dict[int, Outcome] = {}
        not_the_devices = 0  # pushes that failed for FCM's or our reasons
        mismatched = 0  # pushes whose token FCM says belongs to another sender
        longest_wait = 0.0
        bodies: dict[int, bytes] = {}
        for i, push in enumerate(pushes):
            try:
                bodies[i] = encode(push)
            except ValueError as error:  # firebase-admin refused the message itself: no retry will help
                outcomes[i] = Outcome(push.token, "failed", error=f"message: {error}"[:500])
        pending = sorted(bodies)
        renewed = False
        attempt = 0
        while pending and attempt < self.max_attempts:
            try:
                token = self._access_token()
            except FcmUnavailable as error:
                if not any(o.status in ("sent", "invalid") for o in outcomes.values()):
                    raise  # FCM has taken none of it: the whole batch can wait
                # Some of the batch may be out already: only what is left fails (never sent twice).
                for i in pending:
                    outcomes[i] = Outcome(pushes[i].token, "failed", error=str(error)[:500])
                not_the_devices += len(pending)
                break
            replies = self._transport.post_all(self.url, self._headers(token), [bodies[i] for i in pending])
            retry, renew, wait = [], [], 0.0
            for i, reply in zip(pending, replies):
                push = pushes[i]
                verdict, reason = judge(reply)
                if verdict == "retry" and reply.retry_after > self.max_delay:
                    # FCM wants us gone for longer than a job should block: give these up now.
                    verdict, reason = "gone", f"{reason} (Retry-After {reply.retry_after:.0f} s)"
                if verdict == "sent":
                    outcomes[i] = Outcome(push.token, "sent", message_id=_message_id(reply.body))
                elif verdict == "renew" and not renewed:
                    renew.append(i)
                elif verdict == "retry" and attempt + 1 < self.max_attempts:
                    retry.append(i)
                    wait = max(wait, reply.retry_after)
                elif verdict == "invalid":
                    outcomes[i] = Outcome(push.token, "invalid", error=(reason or "")[:500])
                else:
                    outcomes[i] = Outcome(push.token, "failed", error=(reason or "")[:500])
                    not_the_devices += verdict in ("retry", "renew", "gone", "refused")
                if verdict == "invalid" and (reason or "").startswith("SENDER_ID_MISMATCH"):
                    mismatched += 1
                longest_wait = max(longest_wait, reply.retry_after)
            if renew:
                # FCM said the access token is no good (revoked, or the clock is off): one new
                # token and at once, for these only; a second 401 is a failure. (A new token
                # that cannot be had is handled at the top of the loop.)
                self._forget_token(token)
                renewed = True
            if retry:
                backoff = min(self.max_delay, self.base_delay * 2**attempt) * (0.5 + self._jitter() / 2)
                self._sleep(max(wait, backoff))
                attempt += 1
            elif not renew:
                attempt += 1
            pending = sorted(retry + renew)
        failures = Counter(o.error for o in outcomes.values() if o.status == "failed")
        if bodies and len(bodies) >= self.outage_batch and not_the_devices == len(bodies):
            raise FcmUnavailable(f"{len(bodies)} pushes got nowhere: {failures.most_common(1)[0][0]}", longest_wait)
        if bodies and len(bodies) >= self.outage_batch and mismatched == len(bodies):
            raise FcmUnavailable(f"all {len(bodies)} tokens are another sender's: is FCM_CREDENTIALS the app's project?")
        # One line per kind of failure, not one per device: a wrong CA bundle is 500 lines otherwise.
        for reason, count in failures.most_common():
            logger.warning("FCM: %d of %d pushes failed: %s", count, len(pushes), reason)
        return [outcomes[i] for i in range(len(pushes))]


def _message_id(body: bytes) -> str | None:
    try:
        return str(json.loads(body)["name"])
    except (ValueError, KeyError, TypeError):
        return None
