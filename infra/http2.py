"""One HTTP/2 client for the outside services we push to (FCM today, APNs for pass updates).

libcurl (pycurl) multiplexes many requests over HTTP/2 streams on a few TLS connections
for about 20 µs of CPU each, where the pure-Python clients cost about 1 ms
(``bench/README.md``). A plain ``http://`` URL (a local test server) gets HTTP/1.1 on a few
keep-alive connections. Every request gets a ``Reply``: the HTTP answer, or status 0 with
libcurl's error when none came; ``SET_UP_WRONG`` tells the failures that retrying cannot
fix (a certificate or URL problem) from those that may pass a moment later.
"""

from __future__ import annotations

import email.utils
import io
import os
import threading
import time
from dataclasses import dataclass, field

import certifi
import pycurl


@dataclass(frozen=True)
class Request:
    url: str
    headers: list[str]
    body: bytes


@dataclass(frozen=True)
class Reply:
    """What came back for one request: an HTTP answer, or ``status`` 0 and curl's error when none did."""

    status: int
    body: bytes = b""
    retry_after: float = 0.0
    transport_error: str | None = None
    transport_code: int = 0  # libcurl's CURLcode when no answer came
    headers: dict[str, str] = field(default_factory=dict)  # response headers, names lower-cased


# No answer because of how we are set up (the certificate, the CA bundle, the URL), not
# because of the network: trying again in a second cannot help, and must not go on for a
# million pushes. The rest (refused, reset, timed out) may well pass a moment later.
SET_UP_WRONG = frozenset({
    pycurl.E_PEER_FAILED_VERIFICATION, pycurl.E_SSL_CERTPROBLEM, pycurl.E_SSL_CACERT_BADFILE,
    pycurl.E_SSL_ISSUER_ERROR, pycurl.E_SSL_PINNEDPUBKEYNOTMATCH, pycurl.E_SSL_INVALIDCERTSTATUS,
    pycurl.E_UNSUPPORTED_PROTOCOL, pycurl.E_URL_MALFORMAT,
})


def retry_after_seconds(value: str, now: float) -> float:
    """Seconds from a Retry-After header: a number of seconds or an HTTP date (0 when absent or unreadable)."""
    if not value:
        return 0.0
    try:
        seconds = float(value)
        return seconds if seconds > 0 else 0.0  # also NaN -> 0
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return 0.0
        return max(when.timestamp() - now, 0.0) if when.tzinfo else 0.0


class CurlTransport:
    """POSTs many requests at once on one libcurl multi handle: HTTP/2 streams over a few TLS
    connections per host (HTTP/1.1 on a few keep-alive connections to a plain-http test server).

    A multi handle and its connections belong to one thread of one process, so each thread
    gets its own (a Celery prefork child must not reuse the parent's sockets).
    """

    def __init__(self, *, ca_file: str | None = None, timeout: float = 30.0, connect_timeout: float = 10.0,
                 max_connections: int = 16) -> None:
        self.ca_file = ca_file or certifi.where()
        self.timeout, self.connect_timeout, self.max_connections = timeout, connect_timeout, max_connections
        self._local = threading.local()
        self._all: list[pycurl.CurlMulti] = []
        self._closed: set[pycurl.CurlMulti] = set()
        self._lock = threading.Lock()

    def _state(self) -> tuple[pycurl.CurlMulti, list[pycurl.Curl]]:
        state = getattr(self._local, "state", None)
        if state is None or state[0] != os.getpid() or state[1] in self._closed:
            multi = pycurl.CurlMulti()
            multi.setopt(pycurl.M_PIPELINING, pycurl.PIPE_MULTIPLEX)
            multi.setopt(pycurl.M_MAX_HOST_CONNECTIONS, self.max_connections)
            with self._lock:
                self._all.append(multi)
            state = self._local.state = (os.getpid(), multi, [])
        return state[1], state[2]

    def _handle(self) -> pycurl.Curl:
        c = pycurl.Curl()
        c.setopt(pycurl.POST, 1)
        c.setopt(pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_2TLS)
        c.setopt(pycurl.PIPEWAIT, 1)  # wait to multiplex on an open connection rather than open 500
        c.setopt(pycurl.CAINFO, self.ca_file)
        c.setopt(pycurl.NOSIGNAL, 1)
        c.setopt(pycurl.TIMEOUT_MS, int(self.timeout * 1000))
        c.setopt(pycurl.CONNECTTIMEOUT_MS, int(self.connect_timeout * 1000))
        c.setopt(pycurl.TCP_KEEPALIVE, 1)
        c.setopt(pycurl.PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS)
        c.setopt(pycurl.MAXFILESIZE, 1 << 20)  # push services answer in bytes; anything near this is not theirs
        return c

    def post_all(self, url: str, headers: list[str], bodies: list[bytes]) -> list[Reply]:
        """The same URL and headers for every body (FCM's messages:send)."""
        return self.send([Request(url, headers, body) for body in bodies])

    def send(self, requests: list[Request]) -> list[Reply]:
        """POST every request at once; one ``Reply`` per request, in order. Never raises for a
        request that got no answer (its reply says why)."""
        multi, idle = self._state()
        replies: list[Reply | None] = [None] * len(requests)
        running: dict[pycurl.Curl, tuple[int, io.BytesIO, list[bytes]]] = {}
        try:
            for i, request in enumerate(requests):
                c = idle.pop() if idle else self._handle()
                c.setopt(pycurl.URL, request.url)
                c.setopt(pycurl.HTTPHEADER, request.headers)
                out, head = io.BytesIO(), []
                c.setopt(pycurl.POSTFIELDS, request.body)
                c.setopt(pycurl.WRITEDATA, out)
                c.setopt(pycurl.HEADERFUNCTION, head.append)
                multi.add_handle(c)
                running[c] = (i, out, head)
            while running:
                while multi.perform()[0] == pycurl.E_CALL_MULTI_PERFORM:
                    pass
                while True:
                    queued, done, failed = multi.info_read()
                    now = time.time()
                    for c in done:
                        i, out, head = running.pop(c)
                        headers = _headers(head)
                        replies[i] = Reply(c.getinfo(pycurl.RESPONSE_CODE), out.getvalue(),
                                           retry_after_seconds(headers.get("retry-after", ""), now), headers=headers)
                        multi.remove_handle(c)
                        idle.append(c)
                    for c, code, message in failed:
                        i, _, _ = running.pop(c)
                        replies[i] = Reply(0, transport_error=message or "no answer", transport_code=code)
                        multi.remove_handle(c)
                        c.close()  # its connection may be in any state; start the next request afresh
                    if not queued:
                        break
                if running:
                    wait = multi.timeout()
                    # -1: libcurl set no timer; it may still have requests waiting for a connection
                    # that only perform() moves on, so never sleep long on the sockets alone.
                    seconds = 0.01 if wait < 0 else min(wait / 1000, 0.1)
                    if any(multi.fdset()):
                        multi.select(seconds)
                    else:
                        time.sleep(seconds)  # select() on no sockets returns at once: do not spin
        finally:
            for c in running:  # only when something above raised: leave the multi handle clean
                multi.remove_handle(c)
                c.close()
        return [r if r is not None else Reply(0, transport_error="no answer") for r in replies]

    def close(self) -> None:
        """Close every thread's connections; only once no thread is sending any more. A later
        send opens new ones."""
        with self._lock:
            for multi in self._all:
                multi.close()
                self._closed.add(multi)
            self._all.clear()


def _headers(lines: list[bytes]) -> dict[str, str]:
    """The last response's headers (libcurl hands over every response's lines, 100-continue included)."""
    headers: dict[str, str] = {}
    for line in lines:
        if line[:5] == b"HTTP/":
            headers = {}
            continue
        name, sep, value = line.decode("latin-1").partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return headers


