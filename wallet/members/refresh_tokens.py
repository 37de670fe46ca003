"""Refresh tokens: opaque, stored only as a SHA-256 hash, rotated on every use.

A sign-in starts a family. Each refresh spends the token it was given and issues
the next one in the same family. A spent token that comes back means two parties
hold the same token (a thief and the owner), and nothing tells which is which, so
the whole family is revoked and both must sign in again (OAuth 2.0 Security BCP,
refresh token rotation).

Spending is one conditional UPDATE, so two requests racing with the same token
cannot both win: the loser sees a spent token.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import ForeignKey, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from infra.db import Base
from wallet.errors import InvalidRefreshToken, RefreshTokenReused
from wallet.members.accounts import get_active_user
from wallet.members.models import User


class RefreshToken(Base):
    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    family_id: Mapped[str] = mapped_column(String(36), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]


@dataclass(frozen=True)
class IssuedToken:
    token: str
    user: User
    family_id: str
    expires_at: dt.datetime


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(
    session: Session, *, user: User, now: dt.datetime, lifetime: dt.timedelta, family_id: str | None = None
) -> IssuedToken:
    """A new refresh token for ``user``, in a new family unless ``family_id`` is given."""
    token = secrets.token_urlsafe(32)
    family = family_id or str(uuid.uuid4())
    row = RefreshToken(
        user_id=user.id,
        family_id=family,
        token_hash=_digest(token),
        created_at=now,
        expires_at=now + lifetime,
    )
    session.add(row)
    session.flush()
    return IssuedToken(token=token, user=user, family_id=family, expires_at=row.expires_at)


def rotate(session: Session, *, token: str, now: dt.datetime, lifetime: dt.timedelta) -> IssuedToken:
    """Spend ``token`` and return its successor.

    Raises ``InvalidRefreshToken`` for an unknown, expired or revoked token or a
    deactivated user, and ``RefreshTokenReused`` (after revoking the family, which the
    caller must commit) for a token already spent.
    """
    digest = _digest(token)
    spent = session.execute(
        update(RefreshToken)
        .where(
            RefreshToken.token_hash == digest,
            RefreshToken.used_at.is_(None),
            RefreshToken.revoked_at.is_(None),
            RefreshToken.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    row = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == digest))
    if row is None:
        raise InvalidRefreshToken()
    if spent.rowcount != 1:
        if row.used_at is not None and row.revoked_at is None:
            revoke_family(session, family_id=row.family_id, now=now)
            raise RefreshTokenReused()
        raise InvalidRefreshToken()
    user = get_active_user(session, row.user_id)
    if user is None:
        raise InvalidRefreshToken()
    return issue(session, user=user, now=now, lifetime=lifetime, family_id=row.family_id)


def revoke_family(session: Session, *, family_id: str, now: dt.datetime) -> int:
    """Revoke every live token of the family; returns how many were live."""
    result = session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def revoke(session: Session, *, token: str, user_id: int, now: dt.datetime) -> bool:
    """Sign out the session ``token`` belongs to, if it is ``user_id``'s. True when it was."""
    row = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == _digest(token)))
    if row is None or row.user_id != user_id:
        return False
    revoke_family(session, family_id=row.family_id, now=now)
    return True
