"""The till's credit: a purchase's points into an account the caller holds locked, in Core.

A purchase is what the till does most, with a cashier's queue in front of it and one member's
row lock held until COMMIT. The ORM's unit of work (objects, identity map, flush ordering) cost
it more Python than the statements themselves (bench/README.md, "Where a purchase's time
goes"), and every round trip under the lock is time the next purchase of that member waits.
So this one posting is written as Core statements: on PostgreSQL the transaction, its two
entries, its lot, the day's qualifying points and the account's cached figures are one
statement of data-modifying CTEs, one round trip; on SQLite (one writer at a time, no
network) the same rows are written by seven statements (eight with a ``link``).

The rows are exactly those of ``posting.earn`` with ``fresh_key``, and the database's guards
check them the same way (running balance per entry, cached balance and zero sum at COMMIT).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, bindparam, func, insert, select, true, update
from sqlalchemy.orm import Session

from infra import changes
from infra.db import forget_loaded, insert_for, is_postgres, prepared
from wallet.ledger.accounts import program_account_id
from wallet.ledger.models import QUALIFYING, AccountKind, LedgerAccount, LedgerEntry, LedgerTransaction, PointLot, QualifyingDay, TxType

_TX, _ENTRY, _LOT = LedgerTransaction.__table__, LedgerEntry.__table__, PointLot.__table__
_DAY, _ACCOUNT = QualifyingDay.__table__, LedgerAccount.__table__


@dataclass(frozen=True)
class Credited:
    transaction_id: int
    balance: int
    qualifying_points: int  # over the rolling 12 months, this credit included


def credit_locked(
    session: Session,
    *,
    member_id: int,
    account_id: int,
    balance: int,
    points: int,
    now: dt.datetime,
    expires_at: dt.datetime,
    description: str,
    idempotency_key: str,
    reference: str | None = None,
    breakdown: list[dict[str, Any]] | None = None,
    type: TxType = TxType.EARN,
    link: tuple[Table, int] | None = None,
    watched: bool = True,
) -> Credited:
    """Credit ``points`` (> 0, qualifying) to the member's account in a new lot.

    The caller holds the account's lock in this transaction and read ``balance`` under it, and
    ``idempotency_key`` is made from a row it has just inserted (no earlier posting can hold it,
    so none is looked for), as ``posting.earn``'s ``locked_account`` and ``fresh_key`` say.
    ``link``: that row (its table, its id), whose ``transaction_id`` is set to the new
    transaction in the same statement (the till's purchase). ``watched``: False when the caller
    knows nothing outside the ledger shows this member's balance (no wallet pass): then no
    change is noted, and no pass update queued.
    """
    if points <= 0 or type not in QUALIFYING:
        raise ValueError("credit_locked takes a positive number of qualifying points")
    params = dict(
        p_type=str(type), p_account=account_id, p_counter=program_account_id(session, AccountKind.ISSUANCE, now),
        p_description=description, p_reference=reference, p_key=idempotency_key, p_breakdown=breakdown,
        p_now=now, p_points=points, p_taken=-points, p_balance_after=balance + points, p_day=now.date(),
        p_since=now.date() - dt.timedelta(days=364), p_expires_at=expires_at, p_link=link[1] if link else None,
    )
    linked = link[0] if link else None
    conn = session.connection()
    if is_postgres(session):
        transaction_id, new_balance, qualifying = conn.execute(_postgres_statement(linked), params).one()
    else:
        before, new_tx, *rows, moved = _sqlite_statements(linked)
        qualifying = conn.execute(before, params).scalar_one() + points
        transaction_id = conn.execute(new_tx, params).scalar_one()
        for statement in rows:
            conn.execute(statement, {**params, "p_tx": transaction_id})
        new_balance = conn.execute(moved, params).scalar_one()
    if new_balance != balance + points:  # the lock was not held: the guards would refuse it at COMMIT
        raise RuntimeError(f"account {account_id} moved under a lock the caller said it held")
    forget_loaded(session, LedgerAccount, account_id, ["balance", "lifetime_earned"])
    if watched:
        changes.note(session, "member", member_id)
    return Credited(transaction_id=transaction_id, balance=new_balance, qualifying_points=int(qualifying))


# The statements are built once, with bound parameters (``p_*``, never a column's name): on the
# till's path, making a statement and its cache key cost more Python than running it.

def _parts(postgres: bool, linked: Table | None) -> tuple[Any, Any, Any, Any]:
    """The qualifying points before, the transaction's INSERT, the rest given the transaction's
    id (a value, or the CTE's column), the account's UPDATE returning its balance."""
    p = bindparam
    qualifying_before = (select(func.coalesce(func.sum(_DAY.c.points), 0))
                         .where(_DAY.c.account_id == p("p_account"), _DAY.c.day >= p("p_since")).scalar_subquery())
    new_tx = insert(_TX).values(type=p("p_type"), account_id=p("p_account"), description=p("p_description"),
                                reference=p("p_reference"), idempotency_key=p("p_key"),
                                breakdown=p("p_breakdown"), shortfall=0, created_at=p("p_now"))

    def rows(tx_id: Any) -> list[Any]:
        day = insert_for(postgres)(_DAY).values(account_id=p("p_account"), day=p("p_day"), points=p("p_points"))
        return [
            # One entry a statement: a multi-row VALUES is compiled afresh every time (SQLAlchemy
            # does not cache it), which cost more than the statement.
            insert(_ENTRY).values(transaction_id=tx_id, account_id=p("p_account"), amount=p("p_points"),
                                  balance_after=p("p_balance_after"), created_at=p("p_now")),
            insert(_ENTRY).values(transaction_id=tx_id, account_id=p("p_counter"), amount=p("p_taken"),
                                  created_at=p("p_now")),
            insert(_LOT).values(account_id=p("p_account"), transaction_id=tx_id, points=p("p_points"),
                                remaining=p("p_points"), earned_at=p("p_now"), expires_at=p("p_expires_at")),
            day.on_conflict_do_update(index_elements=["account_id", "day"],
                                      set_={"points": _DAY.c.points + day.excluded.points}),
        ] + ([update(linked).where(linked.c.id == p("p_link")).values(transaction_id=tx_id)] if linked is not None else [])

    moved = (update(_ACCOUNT).where(_ACCOUNT.c.id == p("p_account"))
             .values(balance=_ACCOUNT.c.balance + p("p_points"),
                     lifetime_earned=_ACCOUNT.c.lifetime_earned + p("p_points"))
             .returning(_ACCOUNT.c.balance))
    return qualifying_before, new_tx, rows, moved


@functools.cache
def _postgres_statement(linked: Table | None) -> Any:
    """One statement. One snapshot for all of it: the qualifying points are read as they were
    before its upsert, hence "+ points" (on SQLite they are read first)."""
    qualifying_before, new_tx, rows, moved = _parts(True, linked)
    tx = new_tx.returning(_TX.c.id).cte("tx")
    writes = [statement.cte(f"w{i}") for i, statement in enumerate(rows(select(tx.c.id).scalar_subquery()))]
    account = moved.cte("account")
    return prepared(select(tx.c.id, account.c.balance, qualifying_before + bindparam("p_points"))
                    .select_from(tx.join(account, true()))  # one row each
                    .add_cte(*writes))


@functools.cache
def _sqlite_statements(linked: Table | None) -> list[Any]:
    qualifying_before, new_tx, rows, moved = _parts(False, linked)
    return [select(qualifying_before), new_tx.returning(_TX.c.id), *rows(bindparam("p_tx")), moved]
