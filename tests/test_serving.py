"""The server as ``make run`` starts it: gunicorn with config/gunicorn.py, on loopback."""

from __future__ import annotations

import os
import re
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


def test_gunicorn_as_make_run_starts_it_names_no_server_and_sends_the_security_headers(tmp_path, settings):
    env = {**os.environ, "APP_ENV": "test", "INSTANCE_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/db",
           "SECRET_KEY": settings.secret_key, "JWT_SECRET": settings.jwt_secret, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "python:config.gunicorn", "--bind",
                               "127.0.0.1:0", "--workers", "1", "wsgi:app"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        port = listening_port(server)
        deadline = time.monotonic() + 30
        while True:
            try:
                response = urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()[-2000:]
                assert time.monotonic() < deadline, "gunicorn did not answer"
                time.sleep(0.1)
        assert response.status == 200
        assert response.headers.get("Server") is None
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"
    finally:
        server.terminate()
        server.wait(timeout=30)
