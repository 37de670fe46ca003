"""Rate limits on the doors attackers knock on: login, registration, token refresh, QR scans,
vouchers taken at the till (guessing codes), redemptions (draining a pool by script), and
Apple's PassKit web service (its log takes no token; wrong pass tokens are counted).

Counted in memory for a single process, in Redis when ``REDIS_URL`` is set (then all
workers share one count). Login is limited per client address and, separately, per
email, so spreading a password-guessing run over many addresses does not help. Scans
and purchases are limited per signed-in till (by its user id, not by the spelling of its
Authorization header), so one store's tills behind one address do not throttle each
other, and a stolen till token cannot try payloads or member numbers at speed.

Each app gets its own ``Limiter``: Flask-Limiter keeps its storage and key prefix on
the instance, so one module-level instance shared by several apps (tests build many)
would count them all together.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from api.auth import signed_in


def email_key() -> str:
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    if isinstance(email, str) and email.strip():
        return "email:" + email.strip().lower()[:254]
    return "addr:" + get_remote_address()


def user_key() -> str:
    """The access token's user (401 without a valid one: the view would refuse it anyway); read from
    the token, so counting costs no statement."""
    return f"user:{signed_in().user_id}"


def _refused(response: Any) -> bool:
    return response.status_code == 401


# endpoint -> [(settings attribute holding the limit, key function; None counts by address[, methods
# (None: all)[, only the responses this says are counted]])]
LIMITED_ENDPOINTS = {
    "auth.Register": [("register_limit", None)],
    "auth.Login": [("login_limit", None), ("login_limit", email_key)],
    "auth.Refresh": [("refresh_limit", None)],
    "pos.Scan": [("scan_limit", user_key)],
    "pos.Purchases": [("purchase_limit", user_key)],
    "receipts.Receipts": [("receipt_limit", user_key, ["POST"])],
    "pos.VoucherRedeem": [("voucher_redeem_limit", user_key)],
    "rewards.Redemptions": [("redemption_limit", user_key)],
    # A phone knows its pass's token: the 401s are someone trying serials and tokens.
    "passkit.registration": [("passkit_token_failure_limit", None, None, _refused)],
    "passkit.latest_pass": [("passkit_token_failure_limit", None, None, _refused)],
    "passkit.log": [("passkit_log_limit", None)],
}


def _rules(endpoint: str) -> list[tuple[str, Any, list[str] | None, Any]]:
    """The endpoint's rules, each as (setting, key function, methods or None for all, what counts)."""
    return [(setting, key_func, *(list(rest) + [None, None])[:2])
            for setting, key_func, *rest in LIMITED_ENDPOINTS.get(endpoint, ())]


def is_limited(endpoint: str, method: str) -> bool:
    """Whether a limit applies to this endpoint's ``method`` (the API document declares its 429)."""
    return any(methods is None or method.upper() in methods for _, _, methods, _ in _rules(endpoint))


def init_app(app: Flask) -> Limiter:
    """Attach a limiter to ``app`` and limit the endpoints above; call after the blueprints are registered."""
    settings = app.config["SETTINGS"]
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=app.config.get("RATELIMIT_STORAGE_URI") or settings.redis_url or "memory://",
        key_prefix=app.config.get("RATELIMIT_KEY_PREFIX", "pw-limits"),
        headers_enabled=True,
    )
    for endpoint in LIMITED_ENDPOINTS:
        view = app.view_functions[endpoint]
        for setting, key_func, methods, counted in _rules(endpoint):
            view = limiter.limit(getattr(settings, setting), key_func=key_func, methods=methods,
                                 deduct_when=counted)(view)
        app.view_functions[endpoint] = view
    _only_where_limited(app, limiter)
    return limiter


def _only_where_limited(app: Flask, limiter: Limiter) -> None:
    """Run Flask-Limiter's request hooks on the limited endpoints only.

    It hangs a check before, headers after and a clean-up at the end of every request; with no
    default limits they find nothing to do on the other endpoints, at about 60-75 µs a request
    (a fifth of a /healthz), and the check before finds nothing on the limited ones either. The
    other hooks themselves are kept, so the limited endpoints behave as Flask-Limiter makes them.
    """
    limited = set(LIMITED_ENDPOINTS)

    def only_limited(hook: Callable[..., Any], passthrough: bool) -> Callable[..., Any]:
        @functools.wraps(hook)
        def guarded(*args: Any) -> Any:
            if request.endpoint in limited:
                return hook(*args)
            return args[0] if passthrough and args else None

        return guarded

    def ours(hook: Any) -> bool:
        owner = getattr(hook, "__self__", None) or getattr(getattr(hook, "func", None), "__self__", None)
        args = getattr(hook, "args", ())
        return owner is limiter or limiter in args

    # Every limit here is a decorator's, which checks it itself: the check before the view only
    # looks for application-wide and default limits, and there are none.
    manager = limiter.limit_manager
    needs_before = bool(manager.application_limits or manager.default_limits)
    for funcs, passthrough in ((app.before_request_funcs, False), (app.after_request_funcs, True),
                               (app.teardown_request_funcs, False)):
        hooks = funcs.get(None, [])
        if funcs is app.before_request_funcs and not needs_before:
            funcs[None] = [h for h in hooks if not ours(h)]
        else:
            funcs[None] = [only_limited(h, passthrough) if ours(h) else h for h in hooks]
