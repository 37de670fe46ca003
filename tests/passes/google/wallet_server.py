"""A local server that speaks Google's OAuth token endpoint and the Wallet REST API, for the real google-auth.

``POST /token`` takes the service account's signed assertion (``grant_type`` JWT bearer)
and issues a new access token each time (``wallet-access-token-1``, ``-2``...).
``/walletobjects/v1/{loyalty,offer}{Class,Object}`` accept only a token it issued
(otherwise 401 UNAUTHENTICATED, as Google answers):
- ``POST`` inserts; an id it already holds is 409 ALREADY_EXISTS;
- ``PATCH .../<id>`` merges the top-level fields given; an unknown id is 404 NOT_FOUND;
- ``GET .../<id>`` returns it or 404.
``fail_next`` makes the next API request answer a chosen status and Google error. Every
request (token requests too) is recorded with its method, path, headers and body.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

RESOURCE = re.compile(r"^/walletobjects/v1/(loyaltyClass|loyaltyObject|offerClass|offerObject)(?:/([^/]+))?$")


def _error(status: int, code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": status, "message": message, "status": code}}


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True


class WalletServer:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []  # every request: method, path, headers (lower case), body
        self.issued: list[str] = []
        self.stored: dict[str, dict[str, dict[str, Any]]] = {}  # resource type -> id -> resource
        self.fail_next: tuple[int, str, str] | None = None  # (status, Google error status, message)
        self._tokens = itertools.count(1)
        self._lock = threading.Lock()
        self._server = _HttpServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> "WalletServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def api_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"] != "/token"]

    def token_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"] == "/token"]

    @staticmethod
    def service_account(token_uri: str) -> tuple[dict[str, Any], rsa.RSAPrivateKey]:
        """A service-account JSON (as a dict) with a fresh RSA key, its token_uri pointing at ``token_uri``."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
        return {
            "type": "service_account", "project_id": "pw-wallet-test", "private_key_id": "test-key-1",
            "private_key": pem, "client_email": "wallet@pw-wallet-test.iam.gserviceaccount.com",
            "client_id": "1", "token_uri": token_uri,
        }, key

    def respond(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests.append({"method": method, "path": path, "headers": headers,
                                  "body": raw.decode() if path == "/token" else (json.loads(raw) if raw else None)})
        if path == "/token":
            if method != "POST":
                return 405, {"error": "method_not_allowed"}
            form = urllib.parse.parse_qs(raw.decode())
            if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"] or "assertion" not in form:
                return 400, {"error": "invalid_grant"}
            with self._lock:
                token = f"wallet-access-token-{next(self._tokens)}"
                self.issued.append(token)
            return 200, {"access_token": token, "expires_in": 3600, "token_type": "Bearer"}
        match = RESOURCE.match(path)
        if not match:
            return 404, _error(404, "NOT_FOUND", "no such path")
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme != "Bearer" or token not in self.issued:
            return 401, _error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        with self._lock:
            failure, self.fail_next = self.fail_next, None
        if failure:
            return failure[0], _error(*failure)
        kind, resource_id = match.group(1), match.group(2)
        resource_id = urllib.parse.unquote(resource_id) if resource_id else None
        body = json.loads(raw) if raw else {}
        with self._lock:
            store = self.stored.setdefault(kind, {})
            if method == "POST" and resource_id is None:
                if body.get("id") in store:
                    return 409, _error(409, "ALREADY_EXISTS", f"Resource already exists: {body.get('id')}")
                store[body["id"]] = body
                return 200, body
            if resource_id is None:
                return 405, _error(405, "METHOD_NOT_ALLOWED", "no method here")
            if resource_id not in store:
                return 404, _error(404, "NOT_FOUND", f"Resource not found: {resource_id}")
            if method == "PATCH":
                store[resource_id] = {**store[resource_id], **body}
            elif method != "GET":
                return 405, _error(405, "METHOD_NOT_ALLOWED", "no method here")
            return 200, store[resource_id]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, answer = server.respond(self.command, self.path, headers, raw)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = _serve  # noqa: N815

        return Handler
