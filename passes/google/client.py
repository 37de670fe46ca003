"""A small client of the Google Wallet REST API (walletobjects v1) for the issuer's service account.

google-auth does the OAuth part, as in Google's own samples: service-account credentials
with the ``wallet_object.issuer`` scope, exchanged for an access token at the JSON's
``token_uri`` (so a test, or a proxy, can point it elsewhere), and an ``AuthorizedSession``
that adds the bearer token, renews it before it expires and retries once on a 401.

The session is built on first use, never at import or construction: a process that never
talks to Google never reads the key. Every call returns what Google answered (the resource
as JSON) or raises ``WalletApiError`` with the status and Google's own reason. There are no
retries here beyond google-auth's token renewal: the caller is a job that is retried and
safe to run twice, and ``upsert_*`` is itself idempotent (insert; on 409, patch).
"""

from __future__ import annotations

import threading
from typing import Any, Literal, Mapping
from urllib.parse import quote

import google.auth.exceptions
import requests
from google.auth.transport.requests import AuthorizedSession
from google.oauth2 import service_account

from passes.google.errors import ServiceAccountError, WalletApiError

SCOPE = "https://www.googleapis.com/auth/wallet_object.issuer"
DEFAULT_ENDPOINT = "https://walletobjects.googleapis.com"
MAX_ANSWER = 1024 * 1024  # a class or object is a few KB; more is not an answer we should parse

Kind = Literal["loyalty", "offer"]
_KINDS = ("loyalty", "offer")


class WalletClient:
    """Inserts and patches Google Wallet classes and objects. Build one per worker process.

    The session is made once under a lock; calls then share one ``requests`` session and
    its connection pool, as google-auth's ``AuthorizedSession`` is used in Google's samples.
    """

    def __init__(self, service_account_info: Mapping[str, Any], *, endpoint: str = DEFAULT_ENDPOINT,
                 timeout: float = 10.0) -> None:
        self._info = dict(service_account_info)
        self._base = endpoint.rstrip("/") + "/walletobjects/v1"
        self._timeout = timeout
        self._session: AuthorizedSession | None = None
        self._lock = threading.Lock()

    def _authorized(self) -> AuthorizedSession:
        with self._lock:
            if self._session is None:
                try:
                    credentials = service_account.Credentials.from_service_account_info(self._info, scopes=[SCOPE])
                except (ValueError, KeyError, TypeError) as exc:
                    raise ServiceAccountError(f"the service-account JSON cannot be used: {exc}",
                                              reason="bad_service_account") from exc
                self._session = AuthorizedSession(credentials, refresh_timeout=self._timeout)
            return self._session

    def close(self) -> None:
        """Close the HTTP session (a later call opens a new one)."""
        with self._lock:
            if self._session is not None:
                self._session.close()
                self._session = None

    def _url(self, kind: Kind, what: str, resource_id: str | None = None) -> str:
        if kind not in _KINDS:
            raise ValueError(f"kind must be one of {_KINDS}")
        url = f"{self._base}/{kind}{what}"
        return url if resource_id is None else f"{url}/{quote(resource_id, safe='')}"

    def _call(self, method: str, url: str, body: Mapping[str, Any] | None = None) -> tuple[int, Any]:
        try:
            response = self._authorized().request(method, url, json=body, timeout=self._timeout)
        except google.auth.exceptions.GoogleAuthError as exc:
            raise WalletApiError(f"Google Wallet: no access token ({exc})", reason="no_access_token",
                                 status=None) from exc
        except requests.RequestException as exc:
            raise WalletApiError(f"Google Wallet: {method} {url} got no answer ({exc.__class__.__name__})",
                                 reason="unreachable", status=None) from exc
        if len(response.content) > MAX_ANSWER:
            raise WalletApiError(f"Google Wallet: {method} {url} answered {len(response.content)} bytes",
                                 reason="bad_answer", status=response.status_code)
        try:
            answer = response.json() if response.content else {}
        except ValueError:
            answer = None
        if 200 <= response.status_code < 300 and isinstance(answer, dict):
            return response.status_code, answer
        if 200 <= response.status_code < 300:
            raise WalletApiError(f"Google Wallet: {method} {url} answered something other than a JSON object",
                                 reason="bad_answer", status=response.status_code)
        error = answer.get("error") if isinstance(answer, dict) else None
        reason = error.get("status") if isinstance(error, dict) and isinstance(error.get("status"), str) else None
        message = error.get("message") if isinstance(error, dict) else None
        return response.status_code, WalletApiError(
            f"Google Wallet: {method} {url} answered {response.status_code}"
            + (f" {reason}" if reason else "") + (f": {message}" if message else ""),
            reason=reason or f"http_{response.status_code}", status=response.status_code, body=answer)

    def _ok(self, method: str, url: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        status, answer = self._call(method, url, body)
        if isinstance(answer, WalletApiError):
            raise answer
        return answer

    def _upsert(self, kind: Kind, what: str, resource: Mapping[str, Any]) -> dict[str, Any]:
        resource_id = resource.get("id")
        if not isinstance(resource_id, str) or not resource_id:
            raise ValueError(f"a {kind}{what} needs its id")
        status, answer = self._call("POST", self._url(kind, what), resource)
        if status == 409:  # ALREADY_EXISTS: it was inserted before; bring it up to date instead
            return self._ok("PATCH", self._url(kind, what, resource_id), resource)
        if isinstance(answer, WalletApiError):
            raise answer
        return answer

    def upsert_class(self, cls: Mapping[str, Any], *, kind: Kind = "loyalty") -> dict[str, Any]:
        """Insert the class (``kind`` ``loyalty`` or ``offer``); if it exists (409), patch it with ``cls``.

        Returns the class as Google answered. Raises ``WalletApiError``.
        """
        return self._upsert(kind, "Class", cls)

    def upsert_object(self, obj: Mapping[str, Any], *, kind: Kind = "loyalty") -> dict[str, Any]:
        """Insert the object; if it exists (409), patch it with ``obj``. Returns Google's answer."""
        return self._upsert(kind, "Object", obj)

    def patch_object(self, object_id: str, changes: Mapping[str, Any], *, kind: Kind = "loyalty") -> dict[str, Any]:
        """Patch the fields in ``changes`` (for a new balance: ``{"loyaltyPoints": balance_points(n)}``).

        Returns the object as Google answered. Raises ``WalletApiError`` (``NOT_FOUND`` / 404
        when it was never inserted: saving a link inserts it, so does ``upsert_object``).
        """
        return self._ok("PATCH", self._url(kind, "Object", object_id), changes)

    def get_object(self, object_id: str, *, kind: Kind = "loyalty") -> dict[str, Any] | None:
        """The object as Google holds it, or None when Google has none with that id."""
        status, answer = self._call("GET", self._url(kind, "Object", object_id))
        if status == 404:
            return None
        if isinstance(answer, WalletApiError):
            raise answer
        return answer
