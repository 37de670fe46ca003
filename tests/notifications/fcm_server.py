"""A local server that speaks FCM HTTP v1 and Google's OAuth token endpoint, for the real firebase-admin.

Token prefixes choose the answer: ``dead-`` -> 404 UNREGISTERED, ``bad-`` -> 400
INVALID_ARGUMENT (not a valid registration token), ``flaky-`` -> 503 with
``Retry-After: 7`` on the first try and success after, ``down-`` -> 503 always (no
Retry-After);
anything else -> 200 with a message name. Every request is recorded.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

SEND = re.compile(r"^/v1/projects/([^/]+)/messages:send$")


def _error(status: int, code: str, message: str, fcm_code: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": status, "message": message, "status": code}
    if fcm_code:
        error["details"] = [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": fcm_code}]
    return {"error": error}


class FcmServer:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []  # accepted messages, as FCM received them
        self.requests: list[dict[str, Any]] = []  # every send request
        self.auth_headers: set[str] = set()
        self.token_requests = 0
        self.tries: Counter[str] = Counter()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
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

    def sent_to(self, token: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["token"] == token]

    def service_account(self, project_id: str = "pw-test") -> str:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
        return json.dumps({
            "type": "service_account", "project_id": project_id, "private_key_id": "test-key",
            "private_key": pem, "client_email": f"fcm@{project_id}.iam.gserviceaccount.com", "client_id": "1",
            "token_uri": f"{self.url}/token",
        })

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
        with self._lock:
            self.messages.append(message)
            return 200, {"name": f"projects/pw-test/messages/{next(self._ids)}"}, {}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path == "/token":
                    with server._lock:
                        server.token_requests += 1
                    if b"grant_type" not in raw or b"assertion" not in raw:
                        return self._reply(400, {"error": "invalid_grant"})
                    return self._reply(200, {"access_token": "local-access-token", "expires_in": 3600,
                                             "token_type": "Bearer"})
                if not SEND.match(self.path):
                    return self._reply(404, _error(404, "NOT_FOUND", "no such path"))
                with server._lock:
                    server.auth_headers.add(self.headers.get("Authorization", ""))
                if self.headers.get("Authorization") != "Bearer local-access-token":
                    return self._reply(401, _error(401, "UNAUTHENTICATED", "no valid token"))
                body = json.loads(raw)
                with server._lock:
                    server.requests.append(body)
                status, answer, headers = server._answer(body["message"])
                self._reply(status, answer, headers)

        return Handler
