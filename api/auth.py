"""Access tokens and who may call what.

Access tokens are HS256 JWTs that live about fifteen minutes and carry ``sub``,
``role``, ``jti``, ``iat`` and ``exp``. Expiry is checked against the application's
clock, not PyJWT's, so tests can move time. The user is checked in the database on every
request: a deactivated account or a changed role takes effect at once, not when the token
runs out. Most views load the user before they run; a hot view may instead check it in its
own statement (``roles_required(..., checked_by_view=True)`` and ``confirm_signed_in``),
which saves a statement per request, and is checked after it otherwise: then nothing it did
is committed and its answer is replaced by the 401 or 403.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Mapping, TypeVar

import jwt
from flask import current_app, g, request
from flask_smorest import abort
from sqlalchemy.exc import DBAPIError

from api.clock import now
from api.db import get_session
from api.spec import marks
from wallet.members.accounts import get_active_user
from wallet.members.models import Member, Role, User

ALGORITHM = "HS256"
# Phones' clocks drift; a token minted a few seconds "in the future" is still fine.
LEEWAY = dt.timedelta(seconds=30)

F = TypeVar("F", bound=Callable[..., Any])

# The spec's default for every operation; the few that need no sign-in say ``PUBLIC``.
BEARER_SECURITY = [{"bearerAuth": []}]
PUBLIC: list[dict[str, list[str]]] = []


def issue_access_token(user: User, *, issued_at: dt.datetime) -> tuple[str, int]:
    """The token and its lifetime in seconds."""
    lifetime = current_app.config["SETTINGS"].access_token_seconds
    claims = {
        "sub": str(user.id),
        "role": user.role,
        "jti": uuid.uuid4().hex,
        "iat": int(issued_at.timestamp()),
        "exp": int(issued_at.timestamp()) + lifetime,
    }
    return jwt.encode(claims, current_app.config["SETTINGS"].jwt_secret, algorithm=ALGORITHM), lifetime


def _unauthorized(message: str) -> None:
    abort(401, message=message, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


@dataclass(frozen=True)
class SignedIn:
    """What a valid access token says: who, as which role. Not yet checked against the database."""

    user_id: int
    role: str


def signed_in() -> SignedIn:
    """The valid access token's user and role; aborts with 401 otherwise. Reads nothing from the
    database: a key for counting (rate limits, idempotency) and the input of a view's own check."""
    if "signed_in" not in g:
        claims = _claims_from_request()
        try:
            g.signed_in = SignedIn(int(claims["sub"]), claims["role"])
        except (TypeError, ValueError):
            _unauthorized("the access token is not valid")
    return g.signed_in


def confirm_signed_in() -> None:
    """Say that the view's own statement found the token's user active, in an allowed role."""
    g.user_confirmed = True


def _claims_from_request() -> Mapping[str, Any]:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        abort(401, message="sign in first: no bearer token", headers={"WWW-Authenticate": "Bearer"})
    try:
        claims = _verified(token.strip(), current_app.config["SETTINGS"].jwt_secret)
    except jwt.InvalidTokenError:
        _unauthorized("the access token is not valid")
    current = now()
    if dt.datetime.fromtimestamp(claims["exp"], dt.timezone.utc) + LEEWAY <= current:
        _unauthorized("the access token has expired")
    if dt.datetime.fromtimestamp(claims["iat"], dt.timezone.utc) - LEEWAY > current:
        _unauthorized("the access token is not valid yet")
    return claims


@functools.lru_cache(maxsize=4096)
def _verified(token: str, secret: str) -> Mapping[str, Any]:
    """The claims of a token signed with ``secret``, remembered: a phone or a till sends the same
    token for its whole life, and PyJWT took a twentieth of a purchase's CPU to check it again.
    The same bytes under the same secret verify the same way every time; expiry is not decided
    here but on each request, by the application's clock. A token that fails is not remembered."""
    return MappingProxyType(jwt.decode(
        token, secret, algorithms=[ALGORITHM],
        options={"require": ["sub", "role", "jti", "iat", "exp"], "verify_exp": False, "verify_iat": False}))


def current_user() -> User:
    """The signed-in, active user; aborts with 401 otherwise."""
    if "user" not in g:
        token = signed_in()
        user = get_active_user(get_session(), token.user_id, token.role)
        if user is None:
            _unauthorized("this account no longer exists or was deactivated")
        g.user = user
    return g.user


def current_member() -> Member:
    """The signed-in partner's member record; 403 for staff."""
    user = current_user()
    if user.role != Role.PARTNER or user.member is None:
        abort(403, message="only a partner has a wallet")
    return user.member


def roles_required(*roles: Role, checked_by_view: bool = False) -> Callable[[F], F]:
    """Let only these roles call the view; everyone else gets 403 (401 when not signed in).

    ``checked_by_view``: the view checks the user in its own statement and calls
    ``confirm_signed_in`` when that statement found it (an active user in one of these roles).
    Until then only the token is checked; a view that returns or raises without confirming is
    checked after, as any other is before. Such a view writes nothing before it confirms: a POST's
    writes would be rolled back, but a GET's statements commit one by one (``api.db``).
    """
    allowed = {r.value for r in roles}

    def refuse() -> None:
        abort(403, message=f"this needs the role {' or '.join(sorted(allowed))}")

    def check_user() -> None:
        if current_user().role not in allowed:
            refuse()

    def check_unless_confirmed() -> None:
        if not g.get("user_confirmed"):
            check_user()  # a 401 or 403 instead of what the view said

    def check_after(view: F, args: Any, kwargs: Any) -> Any:
        if signed_in().role not in allowed:
            refuse()
        try:
            result = view(*args, **kwargs)
        except DBAPIError:
            raise  # nothing to check the user with (api.db runs the request again on a dead connection)
        except BaseException:
            check_unless_confirmed()
            raise
        check_unless_confirmed()
        return result

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if checked_by_view:
                return check_after(view, args, kwargs)
            check_user()
            return view(*args, **kwargs)

        setattr(wrapper, marks.ROLES, frozenset(allowed))  # the OpenAPI document's 403s
        return wrapper  # type: ignore[return-value]

    return decorator
