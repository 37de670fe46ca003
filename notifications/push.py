"""Push delivery through Firebase Cloud Messaging (HTTP v1), with the real firebase-admin.

One ``FcmSender`` per worker process, built lazily from settings. ``send`` takes up to
500 pushes and returns one ``Outcome`` per token, never raising for a single
device's failure:

- ``sent``: FCM accepted it (with its message id);
- ``invalid``: the token is dead (UNREGISTERED, a malformed token, another project's
  token): the caller deletes the device;
- ``failed``: anything else, after retries.

UNAVAILABLE, INTERNAL and quota errors are retried with exponential backoff and
jitter, waiting at least what the provider's ``Retry-After`` asks. The SDK's own
per-request retry (urllib3, with its own sleeps) is replaced on our endpoint by one
without status retries, so there is one retry policy and tests can see its delays.

The endpoint comes from ``FCM_ENDPOINT`` (default: Google's); the OAuth token URL
from the service account's ``token_uri``. Both point at a local server in the tests.
"""

from __future__ import annotations

import itertools
import json
import logging
import random
import time
import warnings
from dataclasses import dataclass, field
from typing import Callable, Literal

import firebase_admin
import requests.adapters
from firebase_admin import credentials, exceptions, messaging
from urllib3.util.retry import Retry

logger = logging.getLogger(__name__)

FCM_ENDPOINT = "https://fcm.googleapis.com"
BATCH = 500
_apps = itertools.count()


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


def _classify(error: Exception) -> Literal["invalid", "retry", "failed"]:
    if isinstance(error, (messaging.UnregisteredError, messaging.SenderIdMismatchError)):
        return "invalid"
    if isinstance(error, exceptions.InvalidArgumentError) and "registration token" in str(error).lower():
        return "invalid"
    if isinstance(error, (exceptions.UnavailableError, exceptions.InternalError, exceptions.ResourceExhaustedError,
                          exceptions.DeadlineExceededError)):
        return "retry"
    return "failed"


def _retry_after(error: Exception) -> float:
    response = getattr(error, "http_response", None)
    value = response.headers.get("Retry-After") if response is not None else None
    try:
        return max(float(value), 0.0) if value is not None else 0.0
    except ValueError:
        return 0.0  # an HTTP date; the backoff alone will do


class FcmSender:
    def __init__(
        self,
        service_account_json: str,
        *,
        endpoint: str | None = None,
        max_attempts: int = 5,
        base_delay: float = 0.5,
        max_delay: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        info = json.loads(service_account_json)
        self._app = firebase_admin.initialize_app(
            credentials.Certificate(info), {"projectId": info["project_id"]}, name=f"partner-wallet-{next(_apps)}"
        )
        service = messaging._get_messaging_service(self._app)
        endpoint = (endpoint or FCM_ENDPOINT).rstrip("/")
        # Private API of firebase-admin 7.7 (pinned; covered by the tests against the local server).
        service._fcm_url = f"{endpoint}/v1/projects/{info['project_id']}/messages:send"
        adapter = requests.adapters.HTTPAdapter(
            pool_connections=4, pool_maxsize=BATCH,
            max_retries=Retry(connect=1, read=1, status=0, raise_on_status=False, allowed_methods=None),
        )
        service._client.session.mount(endpoint + "/", adapter)
        self.max_attempts, self.base_delay, self.max_delay = max_attempts, base_delay, max_delay
        self._sleep, self._jitter = sleep, jitter

    def close(self) -> None:
        firebase_admin.delete_app(self._app)

    def send(self, pushes: list[Push]) -> list[Outcome]:
        """One outcome per push, in order. Never raises for a device's failure."""
        outcomes: dict[int, Outcome] = {}
        pending = list(range(len(pushes)))
        for attempt in range(self.max_attempts):
            if not pending:
                break
            batch = messaging.send_each([build_message(pushes[i]) for i in pending], app=self._app)
            retry, wait = [], 0.0
            for i, response in zip(pending, batch.responses):
                push = pushes[i]
                if response.success:
                    outcomes[i] = Outcome(push.token, "sent", message_id=response.message_id)
                    continue
                error = response.exception
                kind = _classify(error)
                if kind == "retry" and attempt + 1 < self.max_attempts:
                    retry.append(i)
                    wait = max(wait, _retry_after(error))
                elif kind == "invalid":
                    outcomes[i] = Outcome(push.token, "invalid", error=getattr(error, "code", str(error)))
                else:
                    logger.warning("FCM: sending to a %s device failed: %s", push.platform, error)
                    outcomes[i] = Outcome(push.token, "failed", error=str(error)[:500])
            pending = retry
            if pending:
                backoff = min(self.max_delay, self.base_delay * 2**attempt) * (0.5 + self._jitter() / 2)
                self._sleep(max(wait, backoff))
        return [outcomes[i] for i in range(len(pushes))]
