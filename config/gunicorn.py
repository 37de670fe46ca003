"""gunicorn's settings (``gunicorn -c python:config.gunicorn``, as ``make run`` starts it).

gunicorn writes its own ``Server: gunicorn`` header, below anything the app can remove, and
has no setting to leave it out: the worker drops it from the lines it writes. It names the
server to anyone scanning for one, and helps no client.
"""

from __future__ import annotations

from typing import Any


def post_worker_init(worker: Any) -> None:
    from gunicorn.http import wsgi

    if getattr(wsgi.Response.default_headers, "drops_server", False):
        return
    original = wsgi.Response.default_headers

    def default_headers(self: Any) -> list[str]:
        return [line for line in original(self) if not line.lower().startswith("server:")]

    default_headers.drops_server = True  # type: ignore[attr-defined]
    wsgi.Response.default_headers = default_headers
