"""Segments: who a campaign is for, as rules a marketer writes in JSON.

    {"all": [{"field": "country", "op": "in", "value": ["SA"]},
             {"field": "city", "op": "in", "value": ["Riyadh"]},
             {"field": "tier", "op": "in", "value": ["gold", "platinum"]},
             {"field": "last_activity", "op": "within_days", "value": 30}]}

``all`` and ``any`` nest. The rules compile to one SQL condition over members, so a
segment of a million members is counted and streamed by the database, never loaded
into Python. Relative dates ("within 30 days") are taken from the ``now`` given.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Callable

from sqlalchemy import JSON, ColumnElement, ForeignKey, String, and_, exists, false, func, or_, select, true
from sqlalchemy.orm import Mapped, Session, mapped_column

from infra.db import Base
from notifications.devices import Device
from notifications.errors import InvalidSegmentRules, NotFound
from wallet.earning.purchases import Purchase, PurchaseLine
from wallet.ledger import LedgerAccount, LedgerTransaction
from wallet.members.models import Member, User

MAX_DEPTH = 4
MAX_CONDITIONS = 50
MAX_POINTS = 10**15


class Segment(Base):
    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by_user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[dt.datetime]


def _account():  # type: ignore[no-untyped-def]
    return select(LedgerAccount).where(
        LedgerAccount.owner_type == "member", LedgerAccount.owner_id == Member.id
    ).correlate(Member)


def _balance() -> Any:
    return _account().with_only_columns(LedgerAccount.balance).scalar_subquery()


def _lifetime() -> Any:
    return _account().with_only_columns(LedgerAccount.lifetime_earned).scalar_subquery()


def _last_activity() -> Any:
    return (
        select(func.max(LedgerTransaction.created_at))
        .join(LedgerAccount, LedgerAccount.id == LedgerTransaction.account_id)
        .where(LedgerAccount.owner_type == "member", LedgerAccount.owner_id == Member.id)
        .correlate(Member)
        .scalar_subquery()
    )


def _last_purchase() -> Any:
    return select(func.max(Purchase.created_at)).where(Purchase.member_id == Member.id).correlate(Member).scalar_subquery()


def _bought(categories: list[str]) -> Any:
    return exists().where(
        PurchaseLine.category.in_(categories), PurchaseLine.purchase_id == Purchase.id,
        Purchase.member_id == Member.id, Purchase.refunded_at.is_(None),
    )


# field -> (kind, column factory)
FIELDS: dict[str, tuple[str, Callable[[], Any]]] = {
    "country": ("text", lambda: Member.country),
    "city": ("text", lambda: Member.city),
    "language": ("text", lambda: Member.language),
    "tier": ("text", lambda: Member.tier),
    "points_balance": ("number", _balance),
    "lifetime_points": ("number", _lifetime),
    "last_activity": ("time", _last_activity),
    "last_purchase": ("time", _last_purchase),
    "registered": ("time", lambda: Member.created_at),
    "categories_bought": ("categories", lambda: _bought),
    "has_device": ("flag", lambda: exists().where(Device.member_id == Member.id)),
    "marketing_opt_in": ("flag", lambda: Member.marketing_opt_in),
}
OPS = {
    "text": {"in", "not_in"},
    "number": {"gte", "lte", "between"},
    "time": {"within_days", "before_days"},
    "flag": {"is"},
    "categories": {"any_of", "none_of"},
}


def _condition(rule: dict[str, Any], now: dt.datetime) -> ColumnElement[bool]:
    name, op, value = rule.get("field"), rule.get("op"), rule.get("value")
    if not isinstance(name, str) or name not in FIELDS:
        raise InvalidSegmentRules(f"unknown field {name!r}; fields: {', '.join(sorted(FIELDS))}")
    kind, column = FIELDS[name]
    if not isinstance(op, str) or op not in OPS[kind]:
        raise InvalidSegmentRules(f"{name} takes the operators {', '.join(sorted(OPS[kind]))}, not {op!r}")
    col = column()
    if kind == "text":
        if not (isinstance(value, list) and value and len(value) <= 500 and all(isinstance(v, str) for v in value)):
            raise InvalidSegmentRules(f"{name} {op} takes a list of 1 to 500 strings")
        return col.in_(value) if op == "in" else or_(col.is_(None), col.not_in(value))
    if kind == "categories":
        if not (isinstance(value, list) and value and len(value) <= 100 and all(isinstance(v, str) for v in value)):
            raise InvalidSegmentRules(f"{name} {op} takes a list of 1 to 100 category names")
        bought = col(value)
        return bought if op == "any_of" else ~bought
    if kind == "number":
        bounds = value if op == "between" else [value]
        if (not all(type(v) is int and abs(v) <= MAX_POINTS for v in bounds)) or (op == "between" and len(bounds) != 2):
            raise InvalidSegmentRules(f"{name} {op} takes {'two whole numbers' if op == 'between' else 'a whole number'}")
        col = func.coalesce(col, 0)
        if op == "gte":
            return col >= value
        if op == "lte":
            return col <= value
        return col.between(bounds[0], bounds[1])
    if kind == "time":
        if not (type(value) is int and 0 <= value <= 36500):
            raise InvalidSegmentRules(f"{name} {op} takes a number of days")
        cutoff = now - dt.timedelta(days=value)
        return col >= cutoff if op == "within_days" else col < cutoff
    if not isinstance(value, bool):
        raise InvalidSegmentRules(f"{name} is takes true or false")
    return col if value else ~col


def compile_rules(rules: Any, now: dt.datetime, depth: int = 0, counter: list[int] | None = None) -> ColumnElement[bool]:
    """The SQL condition over ``Member`` for ``rules``. Raises ``InvalidSegmentRules`` naming what is wrong."""
    counter = counter if counter is not None else [0]
    if depth > MAX_DEPTH:
        raise InvalidSegmentRules(f"rules nest at most {MAX_DEPTH} deep")
    if not isinstance(rules, dict):
        raise InvalidSegmentRules("a rule is an object")
    if set(rules) in ({"all"}, {"any"}):
        (joiner, parts), = rules.items()
        if not isinstance(parts, list):
            raise InvalidSegmentRules(f"{joiner} takes a list of rules")
        compiled = [compile_rules(p, now, depth + 1, counter) for p in parts]
        if joiner == "all":
            return and_(true(), *compiled)
        return or_(false(), *compiled)
    if set(rules) != {"field", "op", "value"}:
        raise InvalidSegmentRules('a condition is {"field", "op", "value"}; a group is {"all": [...]} or {"any": [...]}')
    counter[0] += 1
    if counter[0] > MAX_CONDITIONS:
        raise InvalidSegmentRules(f"at most {MAX_CONDITIONS} conditions")
    return _condition(rules, now)


def members_query(rules: Any, now: dt.datetime):  # type: ignore[no-untyped-def]
    """``SELECT members.id`` of active members matching ``rules``, in id order."""
    return (
        select(Member.id)
        .join(User, User.id == Member.user_id)
        .where(User.is_active.is_(True), compile_rules(rules, now))
        .order_by(Member.id)
    )


MAX_RULES_CHARS = 20_000


def create(session: Session, *, name: str, rules: dict[str, Any], created_by_user_id: int, now: dt.datetime) -> Segment:
    """Raises ``InvalidSegmentRules`` naming what is wrong with the rules."""
    if len(json.dumps(rules)) > MAX_RULES_CHARS:
        raise InvalidSegmentRules(f"rules are too long: at most {MAX_RULES_CHARS:,} characters")
    compile_rules(rules, now)  # refuse bad rules now, not at send time
    segment = Segment(name=name.strip(), rules=rules, created_by_user_id=created_by_user_id, created_at=now)
    session.add(segment)
    session.flush()
    return segment


def get(session: Session, segment_id: int) -> Segment:
    segment = session.get(Segment, segment_id)
    if segment is None:
        raise NotFound("no such segment")
    return segment


def preview(session: Session, segment_id: int, *, now: dt.datetime, sample: int = 10) -> tuple[int, list[Member]]:
    """How many members the segment holds now, and the first few. Raises ``NotFound``."""
    segment = get(session, segment_id)
    query = members_query(segment.rules, now)
    count = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    ids = session.scalars(query.limit(sample)).all()
    members = list(session.scalars(select(Member).where(Member.id.in_(ids)).order_by(Member.id))) if ids else []
    return count, members
