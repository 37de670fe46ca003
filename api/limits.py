"""Rate limits on the doors attackers knock on: login, registration, token refresh.

Counted in memory for a single process, in Redis when ``REDIS_URL`` is set (then all
workers share one count). Login is limited per client address and, separately, per
email, so spreading a password-guessing run over many addresses does not help.
"""

from __future__ import annotations

from typing import Callable

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(key_func=get_remote_address, default_limits=[])


def setting(name: str) -> Callable[[], str]:
    return lambda: getattr(current_app.config["SETTINGS"], name)


def email_key() -> str:
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    if isinstance(email, str) and email.strip():
        return "email:" + email.strip().lower()[:254]
    return "addr:" + get_remote_address()


def init_app(app: Flask) -> None:
    settings = app.config["SETTINGS"]
    app.config.setdefault("RATELIMIT_STORAGE_URI", settings.redis_url or "memory://")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "pw-limits")
    limiter.init_app(app)
