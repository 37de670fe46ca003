"""A minimal FCM v1 + OAuth token endpoint as a WSGI app, for benchmarks (serve it with gunicorn).

It accepts every message; the point is to measure our fan-out, not FCM. The tests use
the stricter server in tests/notifications/fcm_server.py.
"""

import itertools
import json

_ids = itertools.count(1)
TOKEN = json.dumps({"access_token": "bench-token", "expires_in": 3600, "token_type": "Bearer"}).encode()


def app(environ, start_response):  # type: ignore[no-untyped-def]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    environ["wsgi.input"].read(length)
    path = environ.get("PATH_INFO", "")
    if path == "/token":
        body = TOKEN
    elif path.endswith("/messages:send"):
        body = json.dumps({"name": f"projects/bench/messages/{next(_ids)}"}).encode()
    else:
        start_response("404 Not Found", [("Content-Type", "application/json"), ("Content-Length", "2")])
        return [b"{}"]
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
