"""The server as ``make run`` starts it: gunicorn with config/gunicorn.py, on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gunicorn_as_make_run_starts_it_names_no_server_and_sends_the_security_headers(tmp_path, settings):
    port = free_port()
    env = {**os.environ, "APP_ENV": "test", "INSTANCE_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/db",
           "SECRET_KEY": settings.secret_key, "JWT_SECRET": settings.jwt_secret, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "python:config.gunicorn", "--bind",
                               f"127.0.0.1:{port}", "--workers", "1", "wsgi:app"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
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
