"""Accounts: signing up partners, creating staff and stores, signing in, profiles.

Emails are stored normalised (NFKC, case-folded) and unique across partners and staff, so
one login form serves everyone and a look-alike spelling finds the same account.
"""

from __future__ import annotations

import datetime as dt
import functools
import unicodedata
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from infra.db import prepared
from wallet import ledger
from wallet.errors import EmailTaken, InvalidCredentials, InvalidInput, NotFound
from wallet.members import numbers as member_numbers
from wallet.members.models import STAFF_ROLES, Member, Role, Store, User
from wallet.members.passwords import hash_password, needs_rehash, verify_password

__all__ = ["Member", "Role", "Store", "User", "STAFF_ROLES"]  # the models, for callers that hold this module


# Where a country speaks the app's language by default; English elsewhere.
_DEFAULT_LANGUAGE = {"PL": "pl"}
_DEFAULT_TIMEZONE = {
    "AE": "Asia/Dubai",
    "SA": "Asia/Riyadh",
    "QA": "Asia/Qatar",
    "KW": "Asia/Kuwait",
    "BH": "Asia/Bahrain",
    "OM": "Asia/Muscat",
    "PL": "Europe/Warsaw",
}


def normalize_email(email: str) -> str:
    """The form an email is stored and compared in: NFKC (a fullwidth ``ｐ`` is a ``p``) and case-folded."""
    return unicodedata.normalize("NFKC", email).strip().casefold()


def _scripts(text: str) -> set[str]:
    """The writing systems of the letters in ``text`` (LATIN, CYRILLIC, GREEK, ARABIC, ...)."""
    return {unicodedata.name(ch, "UNKNOWN").split()[0] for ch in text if ch.isalpha()}


def checked_email(email: str) -> str:
    """``email`` normalised, refused when a part of it mixes alphabets (``pаypal`` with a Cyrillic
    ``а``) or holds invisible characters: the look-alikes mail providers refuse too.

    Raises ``InvalidInput`` naming ``email``.
    """
    normal = normalize_email(email)
    if any(unicodedata.category(ch) in ("Cf", "Cc", "Zs") for ch in normal):
        raise InvalidInput("an email address cannot hold spaces or invisible characters", field="email")
    local, _, domain = normal.rpartition("@")
    for part in (local, *domain.split(".")):
        if len(_scripts(part)) > 1:
            raise InvalidInput("this email address mixes alphabets (such as Latin and Cyrillic letters "
                               "that look alike); use one alphabet per part", field="email")
    return normal


def _add_user(session: Session, user: User) -> None:
    """Insert ``user``; a concurrent sign-up with the same email loses with ``EmailTaken``."""
    if session.scalar(select(User.id).where(User.email == user.email)) is not None:
        raise EmailTaken()
    try:
        # A savepoint, so losing the race leaves the caller's transaction usable.
        with session.begin_nested():
            session.add(user)
            session.flush()
    except IntegrityError as exc:
        raise EmailTaken() from exc


def register_member(
    session: Session,
    *,
    email: str,
    password: str,
    name: str,
    country: str,
    now: dt.datetime,
    phone: str | None = None,
    language: str | None = None,
    timezone: str | None = None,
    company_name: str | None = None,
    city: str | None = None,
    invite_code: str | None = None,
    marketing_opt_in: bool = False,
) -> Member:
    """Create a partner and its user. Raises ``EmailTaken``, ``InvalidInput`` (invite_code)."""
    referrer_id = None
    if invite_code:
        number = member_numbers.normalize(invite_code)
        referrer_id = number and session.scalar(select(Member.id).where(Member.member_number == number))
        if not referrer_id:
            raise InvalidInput("no member has this invite code", field="invite_code")

    user = User(
        email=checked_email(email),
        password_hash=hash_password(password),
        name=name.strip(),
        role=Role.PARTNER.value,
        created_at=now,
    )
    _add_user(session, user)
    member = Member(
        user_id=user.id,
        phone=phone,
        country=country,
        city=city.strip() if city else None,
        language=language or _DEFAULT_LANGUAGE.get(country, "en"),
        timezone=timezone or _DEFAULT_TIMEZONE.get(country, "UTC"),
        company_name=company_name.strip() if company_name else None,
        marketing_opt_in=marketing_opt_in,
        referred_by_id=referrer_id,
        created_at=now,
    )
    _add_member(session, member)
    ledger.member_account(session, member.id, now)  # so reading the wallet never has to write
    return member


def _add_member(session: Session, member: Member, attempts: int = 5) -> None:
    # Ten random digits collide rarely, but they do collide; draw again.
    for _ in range(attempts):
        member.member_number = member_numbers.generate()
        try:
            with session.begin_nested():
                session.add(member)
                session.flush()
            return
        except IntegrityError:
            continue
    raise RuntimeError("could not draw a free member number")


def create_staff(
    session: Session,
    *,
    email: str,
    password: str,
    name: str,
    role: str,
    now: dt.datetime,
    store_id: int | None = None,
) -> User:
    """Create a cashier, marketer or admin. A cashier needs an active ``store_id``; others take none.

    Raises ``EmailTaken`` and ``InvalidInput`` (role, store_id).
    """
    if role not in STAFF_ROLES:
        raise InvalidInput("role must be cashier, marketer or admin", field="role")
    if role == Role.CASHIER:
        if store_id is None:
            raise InvalidInput("a cashier needs a store", field="store_id")
        store = session.get(Store, store_id)
        if store is None or not store.is_active:
            raise InvalidInput("no such store", field="store_id")
    elif store_id is not None:
        raise InvalidInput("only a cashier belongs to a store", field="store_id")
    user = User(
        email=checked_email(email),
        password_hash=hash_password(password),
        name=name.strip(),
        role=role,
        store_id=store_id,
        created_at=now,
    )
    _add_user(session, user)
    return user


def create_store(
    session: Session, *, name: str, country: str, currency: str, now: dt.datetime, city: str | None = None
) -> Store:
    store = Store(name=name.strip(), country=country, city=city, currency=currency, created_at=now)
    session.add(store)
    session.flush()
    return store


def authenticate(session: Session, *, email: str, password: str, now: dt.datetime) -> User:
    """The active user with this email and password. Raises ``InvalidCredentials`` otherwise."""
    user = session.scalar(select(User).where(User.email == normalize_email(email)))
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        raise InvalidCredentials()
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    session.flush()
    return user


def get_active_user(session: Session, user_id: int, role: str | None = None) -> User | None:
    """The user, or None when it does not exist or was deactivated. ``role`` (what the access token
    says) loads in the same statement what that role's requests read: a partner's member, a
    cashier's store; the other is loaded only if asked for."""
    user = session.scalar(_user_query(role if role in (Role.PARTNER, Role.CASHIER) else None), {"user_id": user_id})
    return user if user is not None and user.is_active else None


@functools.cache
def _user_query(role: str | None) -> Any:
    # Built once per role: every authenticated request runs it, and making the statement (and
    # its cache key) cost more Python than the query.
    query = select(User).where(User.id == bindparam("user_id"))
    if role == Role.PARTNER:
        query = query.options(joinedload(User.member))
    elif role == Role.CASHIER:
        query = query.options(joinedload(User.store))
    return prepared(query)


def get_member(session: Session, member_id: int) -> Member:
    """Raises ``NotFound``."""
    member = session.get(Member, member_id)
    if member is None:
        raise NotFound("no such member")
    return member


def find_active_by_number(session: Session, number: str, *, field: str = "member_number") -> Member:
    """The active member with this (normalised) member number. Raises ``NotFound`` naming ``field``."""
    member = session.scalar(select(Member).where(Member.member_number == number))
    if member is None or not member.user.is_active:
        raise NotFound("no active member with this number", field=field)
    return member


def normalize_typed_number(typed: str) -> str:
    """A member number as a cashier typed it, checked. Raises ``InvalidInput`` when a digit is
    wrong or two are swapped (the check digit says so)."""
    number = member_numbers.normalize(typed)
    if number is None:
        raise InvalidInput("this member number is mistyped: a digit is wrong or two are swapped",
                           field="member_number")
    return number


PROFILE_FIELDS = frozenset({"name", "phone", "city", "language", "timezone", "marketing_opt_in", "company_name"})


def update_profile(session: Session, member: Member, changes: dict[str, Any]) -> Member:
    """Apply what a partner may change about itself; anything else is a programming error."""
    unknown = set(changes) - PROFILE_FIELDS
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    for key, value in changes.items():
        if key == "name":
            member.user.name = value.strip()
        elif key in ("company_name", "city"):
            setattr(member, key, value.strip() if value else None)
        else:
            setattr(member, key, value)
    session.flush()
    return member
