"""gunicorn's settings (``gunicorn -c python:config.gunicorn``, as ``make run`` starts it).

gunicorn writes its own ``Server: gunicorn`` header, below anything the app can remove, and
has no setting to leave it out: the worker drops it from the lines it writes. It names the
server to anyone scanning for one, and helps no client.

Each threaded worker listens on a socket of its own (``SO_REUSEPORT``), and the kernel spreads
new connections over them. On the one socket that gunicorn otherwise shares, a connection goes
to whichever worker calls ``accept`` first. When connections arrive in a burst (a proxy's pool,
a till's reconnect after a network drop, a benchmark) on a machine whose cores are busy, the
worker that is running takes nearly all of them. The other one is idle and stays idle for as
long as they are kept alive. Measured with 2 workers, 64 connections and 2 cores: splits of
16/48, 1/63 and 0/64, and on 0/64 the wallet served half of its throughput
(``bench/README.md``). With a socket each, the splits were between 24/40 and 32/32. A sync
worker keeps the shared socket: it serves one connection at a time and closes it, so the next
should go to whichever worker is free. The price of a socket each: the connections waiting in
the queue of a worker that dies (a crash, its timeout) are reset rather than taken by another
worker, and while no worker is up the port refuses connections.

A port that another process is listening on must still fail at once, as gunicorn's own
"Connection in use" does. ``SO_REUSEPORT`` would otherwise let a second server of the same user
share the port silently with the first, and answer half of the requests with old code. The
master checks the port before any worker starts. Port 0 (any free port, used by tests), a Unix
socket, and sockets handed over by systemd keep the one shared socket: a socket per worker
would give each its own random port, or unlink the others' socket file. A reload (HUP) keeps
the way the master started; a new master (USR2) is refused with a socket per worker, since
there is no socket to hand over.
"""

from __future__ import annotations

import errno
import os
import socket
import sys
from typing import Any

reuse_port = True
# Whether the workers listen on a socket each, decided once when the master starts. A reload
# (HUP) runs this file again, and its ``reuse_port = True`` must not undo that decision.
_PER_WORKER = "partner_wallet_socket_per_worker"


def on_starting(server: Any) -> None:
    per_worker = server.cfg.worker_class_str == "gthread" and not _keeps_one_socket(server.cfg.address)
    setattr(server, _PER_WORKER, per_worker)
    server.cfg.set("reuse_port", per_worker)
    if per_worker:
        for host, port in server.cfg.address:
            _refuse_if_taken(server, host, port)


def on_reload(server: Any) -> None:
    """Keep the way of listening the master started with (moving between the two needs a restart).
    A bind changed by the reload made the master listen on it; with a socket per worker, the new
    workers listen instead."""
    per_worker = getattr(server, _PER_WORKER)
    server.cfg.set("reuse_port", per_worker)
    if per_worker and server.LISTENERS:
        for listener in server.LISTENERS:
            listener.close()
        server.LISTENERS = []


def pre_exec(server: Any) -> None:
    """A new master (USR2) is handed the old one's sockets, and with a socket per worker it has
    none to hand over: refuse in the child, which leaves the running master as it is."""
    if getattr(server, _PER_WORKER, False):
        server.log.error("USR2 cannot hand over a socket per worker to a new master: reload with HUP, or restart")
        os._exit(1)


def _keeps_one_socket(addresses: list[Any]) -> bool:
    """Port 0, a Unix socket, or sockets handed over (systemd, gunicorn's own re-exec)."""
    from gunicorn import systemd

    handed_over = systemd.listen_fds(unset_environment=False) > 0 or "GUNICORN_FD" in os.environ
    return handed_over or any(not isinstance(a, tuple) or int(a[1]) == 0 for a in addresses)


def _refuse_if_taken(server: Any, host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As gunicorn binds: a port whose last connections are in TIME_WAIT is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                return  # an address that cannot be bound at all: the workers say so, as gunicorn does
            server.log.error("Connection in use: %s", (host, port))
            sys.exit(1)
    server.log.info("Listening at: http://%s:%s, a socket in each worker (SO_REUSEPORT)",
                    f"[{host}]" if family == socket.AF_INET6 else host, port)


def post_worker_init(worker: Any) -> None:
    from gunicorn.http import wsgi

    if getattr(wsgi.Response.default_headers, "drops_server", False):
        return
    original = wsgi.Response.default_headers

    def default_headers(self: Any) -> list[str]:
        return [line for line in original(self) if not line.lower().startswith("server:")]

    default_headers.drops_server = True  # type: ignore[attr-defined]
    wsgi.Response.default_headers = default_headers
