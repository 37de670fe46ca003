"""Sign-up, sign-in, token refresh and the partner's own profile."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import BEARER_SECURITY, current_member, current_user, issue_access_token, roles_required
from api.clock import now
from api.db import get_session
from api.schemas.accounts import (
    LoginSchema,
    MemberSchema,
    ProfileUpdateSchema,
    RefreshSchema,
    RegisteredSchema,
    RegisterSchema,
    TokenPairSchema,
)
from wallet import accounts, refresh_tokens
from wallet.accounts import Role, User
from wallet.errors import RefreshTokenReused

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
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create a partner account and sign it in"""
        session = get_session()
        at = now()
        member = accounts.register_member(session, now=at, **body)
        result = {"member": member, **_token_pair(member.user, at)}
        session.commit()
        return result


@auth_blp.route("/login")
class Login(MethodView):
    @auth_blp.arguments(LoginSchema)
    @auth_blp.response(200, TokenPairSchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Sign in with email and password (partners and staff alike)"""
        session = get_session()
        at = now()
        user = accounts.authenticate(session, email=body["email"], password=body["password"], now=at)
        result = _token_pair(user, at)
        session.commit()
        return result


@auth_blp.route("/refresh")
class Refresh(MethodView):
    @auth_blp.arguments(RefreshSchema)
    @auth_blp.response(200, TokenPairSchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Trade a refresh token for a new pair; the old one stops working"""
        session = get_session()
        settings = current_app.config["SETTINGS"]
        at = now()
        try:
            issued = refresh_tokens.rotate(
                session, token=body["refresh_token"], now=at, lifetime=dt.timedelta(days=settings.refresh_token_days)
            )
        except RefreshTokenReused:
            session.commit()  # the family's revocation must stand although this request fails
            raise
        access, lifetime = issue_access_token(issued.user, issued_at=at)
        session.commit()
        return {"access_token": access, "refresh_token": issued.token, "token_type": "Bearer", "expires_in": lifetime}


@auth_blp.route("/logout")
class Logout(MethodView):
    @auth_blp.arguments(RefreshSchema)
    @auth_blp.response(204)
    @auth_blp.doc(security=BEARER_SECURITY)
    def post(self, body: dict[str, Any]) -> None:
        """Sign this device out: its refresh token and the ones rotated from it stop working"""
        user = current_user()
        session = get_session()
        refresh_tokens.revoke(session, token=body["refresh_token"], user_id=user.id, now=now())
        session.commit()


@me_blp.route("")
class Me(MethodView):
    decorators = [roles_required(Role.PARTNER)]

    @me_blp.response(200, MemberSchema)
    @me_blp.doc(security=BEARER_SECURITY)
    def get(self) -> accounts.Member:
        """The partner's profile"""
        return current_member()

    @me_blp.arguments(ProfileUpdateSchema)
    @me_blp.response(200, MemberSchema)
    @me_blp.doc(security=BEARER_SECURITY)
    def patch(self, changes: dict[str, Any]) -> accounts.Member:
        """Change name, phone, language, timezone, company or marketing consent"""
        session = get_session()
        member = accounts.update_profile(session, current_member(), changes)
        session.commit()
        return member
