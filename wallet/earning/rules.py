"""Earning rules, set per country by admins, not in code.

A country's ``Program`` says how many points a unit of money earns, how to round,
the minimum purchase, the daily cap per member and how long points live. ``BonusRule``
rows add time-boxed offers ("double points on winter tyres from 1 Nov to 15 Dec"),
optionally for some SKUs or categories and some tiers.

``compute`` is pure: it takes the purchase and the rules and returns the points with
a breakdown (which rule gave how many), stored with the transaction and shown in the
partner's history.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Numeric, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from infra.cache import VersionedCache, bump
from infra.db import Base
from wallet.errors import InvalidInput, NotFound

ROUNDING = {"down": ROUND_DOWN, "half_up": ROUND_HALF_UP, "up": ROUND_UP}


class Program(Base):
    __tablename__ = "programs"
    __table_args__ = (
        CheckConstraint("rounding IN ('down', 'half_up', 'up')", name="rounding_known"),
        CheckConstraint("per_amount > 0 AND points_per_unit >= 0 AND expiry_months > 0", name="sane"),
    )

    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    points_per_unit: Mapped[int]
    per_amount: Mapped[Decimal] = mapped_column(Numeric(14, 3))
    rounding: Mapped[str] = mapped_column(String(8), default="down")
    min_purchase: Mapped[Decimal] = mapped_column(Numeric(14, 3), default=Decimal(0))
    daily_cap: Mapped[int | None]
    expiry_months: Mapped[int] = mapped_column(default=24)
    # What a marketer's bonus may give without an admin's approval, and what all bonuses
    # together may add to one purchase whoever made them (the last guard against minting).
    max_bonus_multiplier: Mapped[Decimal] = mapped_column(Numeric(10, 3), default=Decimal(3), server_default="3")
    max_bonus_per_item: Mapped[int] = mapped_column(default=50, server_default="50")
    max_bonus_per_purchase: Mapped[int] = mapped_column(default=10_000, server_default="10000")
    updated_at: Mapped[dt.datetime]


class Product(Base):
    """What a SKU is, so a bonus for a category can find it on a receipt."""

    __tablename__ = "products"

    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(64), index=True)


class BonusRule(Base):
    __tablename__ = "bonus_rules"
    __table_args__ = (
        CheckConstraint("kind IN ('multiplier', 'per_item')", name="kind_known"),
        CheckConstraint("value > 0", name="value_positive"),
        CheckConstraint("ends_at > starts_at", name="window_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    country: Mapped[str] = mapped_column(String(2), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    # multiplier: the eligible amount earns this many times the base rate (2 = double);
    # per_item: this many extra points per eligible item.
    value: Mapped[Decimal] = mapped_column(Numeric(10, 3))
    skus: Mapped[list[str]] = mapped_column(JSON, default=list)
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    tiers: Mapped[list[str]] = mapped_column(JSON, default=list)
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    active: Mapped[bool] = mapped_column(default=True)
    # Only for the members listed in bonus_audiences (a campaign's offer).
    audience_only: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime]
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    # None: waiting for an admin (a marketer's bonus above the program's limits); it gives nothing.
    approved_at: Mapped[dt.datetime | None]
    approved_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))

    @property
    def status(self) -> str:
        return "approved" if self.approved_at is not None else "pending_approval"


class BonusAudience(Base):
    """The members an audience-only bonus is for; written by the campaign that carries the offer."""

    __tablename__ = "bonus_audiences"

    rule_id: Mapped[int] = mapped_column(ForeignKey("bonus_rules.id", ondelete="CASCADE"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)


@dataclass(frozen=True)
class Line:
    sku: str
    quantity: int
    unit_price: Decimal
    category: str | None = None

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.quantity


@dataclass
class Result:
    points: int
    breakdown: list[dict[str, Any]] = field(default_factory=list)

    def add(self, rule: str, label: str, points: int, **extra: Any) -> None:
        self.breakdown.append({"rule": rule, "label": label, "points": points, **extra})
        self.points += points


def _plain(value: Decimal) -> str:
    """10.000 -> "10", 0.100 -> "0.1": for labels a partner reads."""
    return format(value.normalize(), "f")


def _base(program: Program, amount: Decimal) -> int:
    # Whole units of spend earn: "2 points per 5 AED" gives 38 for 99 AED, not 39.6.
    units = (amount / program.per_amount).quantize(Decimal(1), rounding=ROUNDING[program.rounding])
    return int(units) * program.points_per_unit


def compute(
    *,
    program: Program,
    bonuses: list[BonusRule],
    tier_code: str,
    tier_name: str,
    tier_multiplier: Decimal,
    total: Decimal,
    lines: list[Line],
    at: dt.datetime,
    earned_today: int,
) -> Result:
    """Points for a purchase of ``total`` made at ``at``. Never negative."""
    result = Result(points=0)
    if total < program.min_purchase:
        result.add("minimum_purchase", f"below the minimum purchase of {_plain(program.min_purchase)} {program.currency}", 0)
        return result
    base = _base(program, total)
    result.add("base", f"{program.points_per_unit} per {_plain(program.per_amount)} {program.currency}", base)
    if tier_multiplier != 1 and base:
        extra = int((base * (tier_multiplier - 1)).quantize(Decimal(1), rounding=ROUND_DOWN))
        if extra:
            result.add("tier", f"{tier_name} ×{_plain(tier_multiplier)}", extra)
    bonus_room = program.max_bonus_per_purchase
    for rule in bonuses:
        if not (rule.active and rule.approved_at is not None and rule.starts_at <= at < rule.ends_at) \
                or (rule.tiers and tier_code not in rule.tiers):
            continue
        targeted = bool(rule.skus or rule.categories)
        eligible = [ln for ln in lines if ln.sku in rule.skus or (ln.category and ln.category in rule.categories)]
        if rule.kind == "multiplier":
            amount = sum((ln.amount for ln in eligible), Decimal(0)) if targeted else total
            extra = int((_base(program, amount) * (rule.value - 1)).quantize(Decimal(1), rounding=ROUND_DOWN))
        else:
            # Items given away (a price of 0) earn no per-item points: 500 free lines are no purchase.
            paid = [ln for ln in (eligible if targeted else lines) if ln.unit_price > 0]
            extra = int((rule.value * sum(ln.quantity for ln in paid)).quantize(Decimal(1), rounding=ROUND_DOWN))
        given = min(extra, bonus_room)
        if given > 0:
            result.add("bonus", rule.name, given, rule_id=rule.id)
            bonus_room -= given
        if given < extra:
            result.add("bonus_cap", f"bonuses capped at {program.max_bonus_per_purchase} points a purchase", 0,
                       rule_id=rule.id, withheld=extra - given)
    if program.daily_cap is not None and earned_today + result.points > program.daily_cap:
        allowed = max(program.daily_cap - earned_today, 0)
        result.add("daily_cap", f"daily cap of {program.daily_cap} points", allowed - result.points)
    return result


def get_program(session: Session, country: str) -> Program:
    """Raises ``NotFound`` when the country has no program."""
    program = session.get(Program, country)
    if program is None:
        raise NotFound(f"no earning program is set up for {country}")
    return program


# --- what every purchase reads, cached per process (infra.cache) ---------------------


@dataclass(frozen=True)
class ProgramTerms:
    """A program as purchases read it: the columns of ``Program``, detached from any session."""

    country: str
    currency: str
    points_per_unit: int
    per_amount: Decimal
    rounding: str
    min_purchase: Decimal
    daily_cap: int | None
    expiry_months: int
    max_bonus_multiplier: Decimal
    max_bonus_per_item: int
    max_bonus_per_purchase: int


@dataclass(frozen=True)
class BonusTerms:
    id: int
    name: str
    country: str
    kind: str
    value: Decimal
    skus: tuple[str, ...]
    categories: tuple[str, ...]
    tiers: tuple[str, ...]
    starts_at: dt.datetime
    ends_at: dt.datetime
    active: bool
    approved_at: dt.datetime | None
    audience_only: bool


def _load_programs(session: Session) -> dict[str, ProgramTerms]:
    return {p.country: ProgramTerms(**{f: getattr(p, f) for f in ProgramTerms.__dataclass_fields__})
            for p in session.scalars(select(Program))}


def _load_bonuses(session: Session) -> dict[str, list[BonusTerms]]:
    """Every rule that may still give points (switched on and approved), by country; a rule's time
    window is checked when it is used, so one that starts tomorrow is in the cache already."""
    by_country: dict[str, list[BonusTerms]] = {}
    rules = session.scalars(select(BonusRule).where(BonusRule.active.is_(True), BonusRule.approved_at.is_not(None))
                            .order_by(BonusRule.id))
    for r in rules:
        by_country.setdefault(r.country, []).append(BonusTerms(
            id=r.id, name=r.name, country=r.country, kind=r.kind, value=r.value, skus=tuple(r.skus),
            categories=tuple(r.categories), tiers=tuple(r.tiers), starts_at=r.starts_at, ends_at=r.ends_at,
            active=r.active, approved_at=r.approved_at, audience_only=r.audience_only))
    return by_country


PROGRAMS = VersionedCache("programs", _load_programs)
BONUSES = VersionedCache("bonus_rules", _load_bonuses)


def program_terms(session: Session, country: str) -> ProgramTerms:
    """The country's program from the process's cache. Raises ``NotFound`` when it has none."""
    terms = PROGRAMS.get(session).get(country)
    if terms is None:
        raise NotFound(f"no earning program is set up for {country}")
    return terms


def active_bonuses(session: Session, country: str, at: dt.datetime, member_id: int) -> list[BonusTerms]:
    """Bonuses running at ``at`` in ``country`` that apply to this member (open ones, and offers made
    to it). From the cache; only a running offer (an audience-only rule) asks the database whether
    this member is in its audience."""
    running = [r for r in BONUSES.get(session).get(country, ()) if r.starts_at <= at < r.ends_at]
    offers = [r.id for r in running if r.audience_only]
    member_offers: set[int] = set()
    if offers:
        member_offers = set(session.scalars(select(BonusAudience.rule_id).where(
            BonusAudience.member_id == member_id, BonusAudience.rule_id.in_(offers))))
    return [r for r in running if not r.audience_only or r.id in member_offers]


def categories_of(session: Session, skus: list[str]) -> dict[str, str]:
    if not skus:
        return {}
    return dict(session.execute(select(Product.sku, Product.category).where(Product.sku.in_(skus))).all())


def add_months(at: dt.datetime, months: int) -> dt.datetime:
    """``at`` plus whole months; the 31st becomes the month's last day."""
    month = at.month - 1 + months
    year, month = at.year + month // 12, month % 12 + 1
    day = min(at.day, calendar.monthrange(year, month)[1])
    return at.replace(year=year, month=month, day=day)


def save_program(session: Session, *, country: str, now: dt.datetime, **values: Any) -> Program:
    """Create or replace a country's program."""
    program = session.get(Program, country) or Program(country=country)
    for key, value in values.items():
        setattr(program, key, value)
    program.updated_at = now
    session.add(program)
    session.flush()
    bump(session, "programs")
    return program


def bonus_rules(session: Session, *, before_id: int | None = None, limit: int = 500) -> list[BonusRule]:
    """Bonus offers, newest first; ``before_id`` continues a page (those with a smaller id)."""
    query = select(BonusRule).order_by(BonusRule.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(BonusRule.id < before_id)
    return list(session.scalars(query))


def within_limits(program: Program, kind: str, value: Decimal) -> bool:
    """Whether a bonus of this kind and value is one a marketer may run without an admin."""
    if kind == "multiplier":
        return value <= program.max_bonus_multiplier
    return value <= program.max_bonus_per_item


def create_bonus_rule(session: Session, *, now: dt.datetime, created_by_user_id: int, approved: bool,
                      **terms: Any) -> BonusRule:
    """A bonus rule. ``approved``: the creator may approve it (an admin); otherwise it is approved
    only when it is within the country's limits, and waits for an admin when it is not.

    Raises ``NotFound`` for a country without a program.
    """
    program = get_program(session, terms["country"])
    rule = BonusRule(created_at=now, created_by_user_id=created_by_user_id, **terms)
    if approved or within_limits(program, rule.kind, rule.value):
        rule.approved_at, rule.approved_by_user_id = now, created_by_user_id
    session.add(rule)
    session.flush()
    bump(session, "bonus_rules")
    return rule


def approve_bonus_rule(session: Session, rule_id: int, *, approved_by_user_id: int, now: dt.datetime) -> BonusRule:
    """An admin lets a bonus above the limits run. Raises ``NotFound``; approving twice changes nothing."""
    rule = session.get(BonusRule, rule_id)
    if rule is None:
        raise NotFound("no such bonus rule")
    if rule.approved_at is None:
        rule.approved_at, rule.approved_by_user_id = now, approved_by_user_id
        session.flush()
        bump(session, "bonus_rules")
    return rule


BONUS_CHANGES = frozenset({"active", "ends_at", "name"})


def update_bonus_rule(session: Session, rule_id: int, changes: dict[str, Any]) -> BonusRule:
    """Switch a bonus off, end it early or rename it. Raises ``NotFound`` and ``InvalidInput`` (ends_at)."""
    unknown = set(changes) - BONUS_CHANGES
    if unknown:
        raise ValueError(f"not changeable: {sorted(unknown)}")
    rule = session.get(BonusRule, rule_id)
    if rule is None:
        raise NotFound("no such bonus rule")
    if "ends_at" in changes and changes["ends_at"] <= rule.starts_at:
        raise InvalidInput("ends_at must be after starts_at", field="ends_at")
    for key, value in changes.items():
        setattr(rule, key, value)
    session.flush()
    bump(session, "bonus_rules")
    return rule


def save_product(session: Session, *, sku: str, name: str, category: str) -> Product:
    """Create or replace what a SKU is and its category."""
    product = session.get(Product, sku) or Product(sku=sku)
    product.name, product.category = name, category
    session.add(product)
    session.flush()
    return product
