"""The server as ``make run`` starts it: gunicorn with config/gunicorn.py, on loopback."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def listening_port(server: subprocess.Popen) -> int:
    """The port gunicorn bound for ``--bind 127.0.0.1:0``, from its "Listening at" line: asking the
    kernel for a free port first and handing it over would leave a moment in which another process
    (the other CI suite, running at the same time) could take it."""
    assert server.stderr is not None
    said = []
    for line in iter(server.stderr.readline, b""):
        said.append(line.decode(errors="replace"))
        found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", said[-1])
        if found:
            return int(found.group(1))
    raise AssertionError(f"gunicorn exited ({server.wait()}) before listening: {''.join(said)[-2000:]}")


def gunicorn(tmp_path: Path, settings, bind: str, *, workers: int = 1, threads: int = 1,
             log: Path | None = None) -> subprocess.Popen:
    """``log``: where its stderr goes (else a pipe, which ``listening_port`` reads)."""
    env = {**os.environ, "APP_ENV": "test", "INSTANCE_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/db",
           "SECRET_KEY": settings.secret_key, "JWT_SECRET": settings.jwt_secret, "PYTHONPATH": str(ROOT)}
    stderr = open(log, "ab") if log else subprocess.PIPE
    try:
        return subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "python:config.gunicorn", "--bind", bind,
                                 "--workers", str(workers), "--threads", str(threads), "wsgi:app"], cwd=ROOT,
                                env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    finally:
        if log:
            stderr.close()  # the server has its own copy


def healthz(server: subprocess.Popen, port: int) -> urllib.response.addinfourl:
    deadline = time.monotonic() + 30
    while True:
        try:
            return urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
        except OSError:
            assert server.poll() is None, f"gunicorn exited with {server.returncode}"
            assert time.monotonic() < deadline, "gunicorn did not answer"
            time.sleep(0.1)


def on_a_free_port(tmp_path: Path, settings, **kwargs) -> tuple[subprocess.Popen, int, Path]:
    """A server answering on a port the kernel found free a moment before; another port when
    another process (the other CI suite) took that one in between."""
    for attempt in range(3):
        with socket.socket() as free:
            free.bind(("127.0.0.1", 0))
            port = free.getsockname()[1]
        log = tmp_path / f"gunicorn-{port}.log"
        server = gunicorn(tmp_path, settings, f"127.0.0.1:{port}", log=log, **kwargs)
        try:
            assert healthz(server, port).status == 200
            return server, port, log
        except AssertionError:
            server.kill()
            server.wait(timeout=30)
            if "Connection in use" not in log.read_text() or attempt == 2:
                raise AssertionError(log.read_text()[-3000:]) from None
    raise AssertionError("unreachable")


def listeners(port: int) -> int:
    """Sockets listening on 127.0.0.1:``port``, from the kernel's table (state 0A is LISTEN)."""
    local = f"0100007F:{port:04X}"
    rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(1 for row in rows if row.split()[1] == local and row.split()[3] == "0A")


def workers(master: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rpartition(")")[2].split()[1]) == master:
                found.add(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


def until(condition, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_gunicorn_as_make_run_starts_it_names_no_server_and_sends_the_security_headers(tmp_path, settings):
    server = gunicorn(tmp_path, settings, "127.0.0.1:0")
    try:
        response = healthz(server, listening_port(server))
        assert response.status == 200
        assert response.headers.get("Server") is None
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_each_worker_listens_on_its_own_socket_and_a_taken_port_still_fails(tmp_path, settings):
    """Two workers as `make run` starts them, two sockets on the port: the kernel spreads connections
    over them, so a burst of connections cannot all land on the one worker that happened to be running
    (config/gunicorn.py). A second server on the same port must not join them, but stop as gunicorn
    does."""
    server, port, _ = on_a_free_port(tmp_path, settings, workers=2, threads=4)
    try:
        until(lambda: listeners(port) == 2, f"{listeners(port)} socket(s) listen on {port}")  # the second may be booting
        second = gunicorn(tmp_path, settings, f"127.0.0.1:{port}", workers=2, threads=4)
        _, said = second.communicate(timeout=60)
        assert second.returncode == 1
        assert f"Connection in use: ('127.0.0.1', {port})" in said.decode()
        assert listeners(port) == 2
        assert healthz(server, port).status == 200
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_reload_keeps_a_socket_per_worker_and_a_new_master_is_refused(tmp_path, settings):
    """HUP runs config/gunicorn.py again; the new workers must still listen each on its own socket.
    USR2 would start a master with no socket to take over: the running one refuses and goes on."""
    server, port, log = on_a_free_port(tmp_path, settings, workers=2, threads=4)
    try:
        until(lambda: len(workers(server.pid)) == 2 and listeners(port) == 2, "two workers listening")
        old = workers(server.pid)
        server.send_signal(signal.SIGHUP)
        until(lambda: len(workers(server.pid)) == 2 and not workers(server.pid) & old and listeners(port) == 2,
              f"after the reload: workers {workers(server.pid)} (were {old}), {listeners(port)} socket(s)")
        assert healthz(server, port).status == 200

        server.send_signal(signal.SIGUSR2)
        until(lambda: "USR2 cannot hand over a socket per worker" in log.read_text(), "USR2 refused")
        assert healthz(server, port).status == 200 and server.poll() is None
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_sync_workers_share_one_socket_and_keep_it_across_a_reload(tmp_path, settings):
    """A sync worker serves one connection at a time: the next belongs to whichever worker is free.
    After HUP (which sets ``reuse_port`` again) the new workers must take the master's socket, not
    try to bind their own."""
    server, port, _ = on_a_free_port(tmp_path, settings, workers=2)
    try:
        until(lambda: len(workers(server.pid)) == 2, "two workers")
        assert listeners(port) == 1
        old = workers(server.pid)
        server.send_signal(signal.SIGHUP)
        until(lambda: len(workers(server.pid)) == 2 and not workers(server.pid) & old,
              f"after the reload: workers {workers(server.pid)} (were {old})")
        assert healthz(server, port).status == 200
        assert listeners(port) == 1
    finally:
        server.terminate()
        server.wait(timeout=30)
