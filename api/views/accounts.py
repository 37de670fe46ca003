"""Sign-up, sign-in, token refresh and the partner's own profile."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import PUBLIC, current_member, current_user, issue_access_token, roles_required
from api.clock import now
from api.db import get_session
from api.spec.marks import may_answer
from api.schemas.accounts import (
    LoginSchema,
    MemberSchema,
    ProfileUpdateSchema,
    RefreshSchema,
    RegisteredSchema,
    RegisterSchema,
    TokenPairSchema,
)
from wallet.members import accounts, refresh_tokens
from wallet.members.models import Member, Role, User

auth_blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Sign-up and sign-in")
me_blp = Blueprint("me", __name__, url_prefix="/api/v1/me", description="The signed-in partner")


def _token_pair(user: User, issued_at: dt.datetime, family_id: str | None = None) -> dict[str, Any]:
    settings = current_app.config["SETTINGS"]
    refresh = refresh_tokens.issue(
        get_session(),
        user=user,
        now=issued_at,
        lifetime=dt.timedelta(days=settings.refresh_token_days),
        family_id=family_id,
    )
    access, lifetime = issue_access_token(user, issued_at=issued_at)
    return {"access_token": access, "refresh_token": refresh.token, "token_type": "Bearer", "expires_in": lifetime}


@auth_blp.route("/register")
class Register(MethodView):
    @auth_blp.arguments(RegisterSchema)
    @auth_blp.response(201, RegisteredSchema)
    @auth_blp.doc(security=PUBLIC)
    @may_answer(409)  # the email has an account
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create a partner account and sign it in"""
        at = now()
        member = accounts.register_member(get_session(), now=at, **body)
        return {"member": member, **_token_pair(member.user, at)}


@auth_blp.route("/login")
class Login(MethodView):
    @auth_blp.arguments(LoginSchema)
    @auth_blp.response(200, TokenPairSchema)
    @auth_blp.doc(security=PUBLIC)
    @may_answer(401)  # email or password wrong
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Sign in with email and password (partners and staff alike)"""
        at = now()
        user = accounts.authenticate(get_session(), email=body["email"], password=body["password"], now=at)
        return _token_pair(user, at)


@auth_blp.route("/refresh")
class Refresh(MethodView):
    @auth_blp.arguments(RefreshSchema)
    @auth_blp.response(200, TokenPairSchema)
    @auth_blp.doc(security=PUBLIC)
    @may_answer(401)  # unknown, expired, revoked or spent
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Trade a refresh token for a new pair; the old one stops working"""
        settings = current_app.config["SETTINGS"]
        at = now()
        # A spent token raises RefreshTokenReused, whose family revocation is kept (api/db.py).
        issued = refresh_tokens.rotate(get_session(), token=body["refresh_token"], now=at,
                                       lifetime=dt.timedelta(days=settings.refresh_token_days))
        access, lifetime = issue_access_token(issued.user, issued_at=at)
        return {"access_token": access, "refresh_token": issued.token, "token_type": "Bearer", "expires_in": lifetime}


@auth_blp.route("/logout")
class Logout(MethodView):
    # Signed in first: without a token the answer is 401, whatever the body says.
    decorators = [roles_required(*Role)]

    @auth_blp.arguments(RefreshSchema)
    @auth_blp.response(204)
    def post(self, body: dict[str, Any]) -> None:
        """Sign this device out: its refresh token and the ones rotated from it stop working"""
        refresh_tokens.revoke(get_session(), token=body["refresh_token"], user_id=current_user().id, now=now())


@me_blp.route("")
class Me(MethodView):
    decorators = [roles_required(Role.PARTNER)]

    @me_blp.response(200, MemberSchema)
    def get(self) -> Member:
        """The partner's profile"""
        return current_member()

    @me_blp.arguments(ProfileUpdateSchema)
    @me_blp.response(200, MemberSchema)
    def patch(self, changes: dict[str, Any]) -> Member:
        """Change name, phone, language, timezone, company or marketing consent"""
        return accounts.update_profile(get_session(), current_member(), changes)
