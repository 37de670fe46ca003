"""Who uses the program: members (partners), stores, and staff users with roles.

Every person who signs in is a ``User`` with one role. A partner's user has a
``Member`` beside it: the loyalty identity with the member number, country and
language. Staff have no member; a cashier belongs to exactly one store, and the
database refuses a cashier without one.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from infra.db import Base
from wallet.members import numbers as member_numbers


class Role(enum.StrEnum):
    PARTNER = "partner"
    CASHIER = "cashier"
    MARKETER = "marketer"
    ADMIN = "admin"


STAFF_ROLES = (Role.CASHIER, Role.MARKETER, Role.ADMIN)
_ROLE_LIST = ", ".join(f"'{r.value}'" for r in Role)


class Store(Base):
    __tablename__ = "stores"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    country: Mapped[str] = mapped_column(String(2))
    city: Mapped[str | None] = mapped_column(String(120))
    currency: Mapped[str] = mapped_column(String(3))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime]


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(f"role IN ({_ROLE_LIST})", name="role_known"),
        CheckConstraint("(role = 'cashier') = (store_id IS NOT NULL)", name="cashier_has_store"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str]
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16))
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id", ondelete="RESTRICT"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime]
    last_login_at: Mapped[dt.datetime | None]

    # Loaded with the user by the role that needs it (``accounts.get_active_user``): a partner's
    # requests never join the stores, a cashier's never the members.
    store: Mapped[Store | None] = relationship()
    member: Mapped["Member | None"] = relationship(back_populates="user")


# The tiers' stable codes, lowest first: the migration that creates the tiers table seeds these rows
# (tests/api/contract checks the two agree); the API's ``tier`` fields hold one of them.
TIER_CODES = ("blue", "silver", "gold", "platinum")


class Tier(Base):
    """A tier: a stable ``code`` (what ``members.tier`` holds and the API's ``tier`` fields say)
    and the ``name`` a partner reads. The rules that move members between tiers are in
    ``wallet.earning.tiers``."""

    __tablename__ = "tiers"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    rank: Mapped[int] = mapped_column(unique=True)
    min_points: Mapped[int]
    multiplier: Mapped[Decimal] = mapped_column(Numeric(6, 3))


class Member(Base):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), unique=True)
    member_number: Mapped[str] = mapped_column(String(member_numbers.LENGTH), unique=True)
    phone: Mapped[str | None] = mapped_column(String(16))
    country: Mapped[str] = mapped_column(String(2), index=True)
    city: Mapped[str | None] = mapped_column(String(120))
    language: Mapped[str] = mapped_column(String(8))
    timezone: Mapped[str] = mapped_column(String(64))
    company_name: Mapped[str | None] = mapped_column(String(120))
    marketing_opt_in: Mapped[bool] = mapped_column(default=False)
    tier: Mapped[str] = mapped_column(ForeignKey("tiers.code", ondelete="RESTRICT"), default="blue")
    referred_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="RESTRICT"))
    # A pass of the member's card was served: its updates are worth queueing (passes.tracking).
    holds_wallet_pass: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[dt.datetime]

    user: Mapped[User] = relationship(back_populates="member", lazy="joined")
    tier_info: Mapped[Tier] = relationship(lazy="joined", viewonly=True)

    @property
    def tier_name(self) -> str:
        return self.tier_info.name

    @property
    def name(self) -> str:
        return self.user.name

    @property
    def email(self) -> str:
        return self.user.email
