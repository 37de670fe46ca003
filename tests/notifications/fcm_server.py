"""A local server that speaks FCM HTTP v1 and Google's OAuth token endpoint, for the real firebase-admin.

Token prefixes choose the answer: ``dead-`` -> 404 UNREGISTERED, ``bad-`` -> 400
INVALID_ARGUMENT (not a valid registration token), ``flaky-`` -> 503 with
``Retry-After: 7`` on the first try and success after, ``quota-`` -> 429
QUOTA_EXCEEDED with ``Retry-After`` as an HTTP date 30 s ahead on the first try and
success after, ``down-`` -> 503 always (no Retry-After), ``away-`` -> 503 always with
``Retry-After: 3600``, ``forbidden-`` -> 403 PERMISSION_DENIED naming no token (the
project's FCM API is off), ``other-`` -> 403 SENDER_ID_MISMATCH;
anything else -> 200 with a message name. Every request is recorded.

The token endpoint issues a new access token each time (``local-access-token-1``,
``-2``, ...); messages:send accepts only a token it issued and has not revoked
(``revoke_tokens``), and answers 401 UNAUTHENTICATED otherwise, as Google does.

``respond`` is the whole answer logic; the HTTP/1.1 server here and the HTTP/2 one in
``fcm_h2_server`` both call it, so they behave the same.
"""

from __future__ import annotations

import email.utils
import itertools
import json
import re
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Mapping

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

SEND = re.compile(r"^/v1/projects/([^/]+)/messages:send$")
TOKEN_PREFIX = "local-access-token-"


def _error(status: int, code: str, message: str, fcm_code: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": status, "message": message, "status": code}
    if fcm_code:
        error["details"] = [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": fcm_code}]
    return {"error": error}


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the default 5 drops the SYNs of a burst of connections: 1 s, 3 s, 7 s... stalls

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client killed mid-request (the worker tests kill theirs) resets its connections: not news.
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class FcmServer:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []  # accepted messages, as FCM received them
        self.requests: list[dict[str, Any]] = []  # every send request that passed authentication
        self.auth_headers: set[str] = set()  # every Authorization header a send request carried
        self.token_requests = 0
        self.issued: list[str] = []  # access tokens handed out, oldest first
        self.revoked: set[str] = set()
        self.revoke_new_tokens = False  # revoke each token as it is issued: every send is 401
        self.token_lifetime = 3600  # seconds, the token endpoint's expires_in
        self.token_endpoint_down = False  # /token answers 503
        self.tries: Counter[str] = Counter()
        self._ids = itertools.count(1)
        self._token_ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server = _HttpServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> "FcmServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        """Forget what was sent and asked (tokens issued and revoked stay so)."""
        with self._lock:
            self.messages.clear()
            self.requests.clear()
            self.auth_headers.clear()
            self.tries.clear()
            self.token_requests = 0
            self.revoke_new_tokens = False
            self.token_lifetime = 3600
            self.token_endpoint_down = False

    def sent_to(self, token: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["token"] == token]

    def revoke_tokens(self, *, also_new: bool = False) -> None:
        """Revoke every access token issued so far (and, with ``also_new``, every one issued later)."""
        with self._lock:
            self.revoked.update(self.issued)
            self.revoke_new_tokens = also_new

    def valid_authorizations(self) -> set[str]:
        """The Authorization headers this server accepts now."""
        with self._lock:
            return {f"Bearer {t}" for t in self.issued if t not in self.revoked}

    def service_account(self, project_id: str = "pw-test") -> str:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
        return json.dumps({
            "type": "service_account", "project_id": project_id, "private_key_id": "test-key",
            "private_key": pem, "client_email": f"fcm@{project_id}.iam.gserviceaccount.com", "client_id": "1",
            "token_uri": f"{self.url}/token",
        })

    def respond(self, method: str, path: str, headers: Mapping[str, str], raw: bytes) -> tuple[int, dict[str, str], bytes]:
        """One request (header names in lower case) -> status, headers, body."""
        status, answer, extra = self._respond(method, path, headers, raw)
        return status, {"content-type": "application/json", **extra}, json.dumps(answer).encode()

    def _respond(self, method: str, path: str, headers: Mapping[str, str],
                 raw: bytes) -> tuple[int, dict[str, Any], dict[str, str]]:
        if method != "POST":
            return 405, _error(405, "METHOD_NOT_ALLOWED", "POST only"), {}
        if path == "/token":
            with self._lock:
                self.token_requests += 1
                if b"grant_type" not in raw or b"assertion" not in raw:
                    return 400, {"error": "invalid_grant"}, {}
                if self.token_endpoint_down:
                    return 503, {"error": "temporarily_unavailable"}, {}
                token = f"{TOKEN_PREFIX}{next(self._token_ids)}"
                self.issued.append(token)
                if self.revoke_new_tokens:
                    self.revoked.add(token)
            return 200, {"access_token": token, "expires_in": self.token_lifetime, "token_type": "Bearer"}, {}
        if not SEND.match(path):
            return 404, _error(404, "NOT_FOUND", "no such path"), {}
        authorization = headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        with self._lock:
            self.auth_headers.add(authorization)
            authorized = scheme == "Bearer" and token in self.issued and token not in self.revoked
        if not authorized:
            return 401, _error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected "
                               "OAuth 2 access token, login cookie or other valid authentication credential."), {}
        body = json.loads(raw)
        with self._lock:
            self.requests.append(body)
        return self._answer(body["message"])

    def _answer(self, message: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        token = message.get("token", "")
        with self._lock:
            self.tries[token] += 1
            tries = self.tries[token]
        if token.startswith("dead-"):
            return 404, _error(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED"), {}
        if token.startswith("bad-"):
            return 400, _error(400, "INVALID_ARGUMENT", "The registration token is not a valid FCM registration token",
                               "INVALID_ARGUMENT"), {}
        if token.startswith("down-"):
            return 503, _error(503, "UNAVAILABLE", "The service is currently unavailable.", "UNAVAILABLE"), {}
        if token.startswith("flaky-") and tries == 1:
            return 503, _error(503, "UNAVAILABLE", "The service is currently unavailable.", "UNAVAILABLE"), {"Retry-After": "7"}
        if token.startswith("forbidden-"):  # the project has the FCM API off: names no token
            return 403, _error(403, "PERMISSION_DENIED", "Firebase Cloud Messaging API has not been used in project"), {}
        if token.startswith("other-"):
            return 403, _error(403, "PERMISSION_DENIED", "SenderId mismatch", "SENDER_ID_MISMATCH"), {}
        if token.startswith("away-"):
            return 503, _error(503, "UNAVAILABLE", "The service is currently unavailable.", "UNAVAILABLE"), {
                "Retry-After": "3600"}
        if token.startswith("quota-") and tries == 1:
            return 429, _error(429, "RESOURCE_EXHAUSTED", "Quota exceeded.", "QUOTA_EXCEEDED"), {
                "Retry-After": email.utils.formatdate(time.time() + 30, usegmt=True)}
        with self._lock:
            self.messages.append(message)
            return 200, {"name": f"projects/pw-test/messages/{next(self._ids)}"}, {}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, reply_headers, data = server.respond("POST", self.path, headers, raw)
                self.send_response(status)
                for k, v in reply_headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
