"""The till's credit: a purchase's points into an account the caller holds locked, in Core.

A purchase is what the till does most, with a cashier's queue in front of it and one member's
row lock held until COMMIT. The ORM's unit of work (objects, identity map, flush ordering) cost
it more Python than the statements themselves (bench/README.md, "Where a purchase's time
goes"), and every round trip under the lock is time the next purchase of that member waits.
So this one posting is written as Core statements: on PostgreSQL the transaction, its two
entries, its lot, the day's qualifying points and the account's cached figures are one
statement of data-modifying CTEs, one round trip; on SQLite (one writer at a time, no
network) the same rows are written by seven statements (nine with a ``NewRow``: its INSERT, and
the UPDATE that gives it the transaction's id).

The row the credit is for (the till's receipt) can be inserted by the same statement
(``NewRow``): unless its unique key is taken, it is written already carrying the transaction's
id, and the transaction's idempotency key is made from its id. Both ids are drawn from their
sequences first, since each row names the other. That is a round trip fewer under the
member's lock, and no UPDATE of a row the transaction has just inserted.

The rows are exactly those of ``posting.earn`` with ``fresh_key``, and the database's guards
check them the same way (running balance per entry, cached balance and zero sum at COMMIT).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, String, Table, bindparam, func, insert, literal, literal_column, select, true, update
from sqlalchemy.dialects import postgresql
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
    row_id: int | None = None  # the ``NewRow``'s id, when one was inserted


@dataclass(frozen=True)
class NewRow:
    """A row of ``table`` to insert with the credit, unless a row with the same ``unique`` columns
    exists: it gets the transaction's id as its ``transaction_id``, and the transaction's
    idempotency key is ``key_prefix`` followed by the row's id. On PostgreSQL its id is drawn from
    the table's serial sequence, ``<table>_id_seq``."""

    table: Table
    values: dict[str, Any]
    unique: tuple[str, ...]
    key_prefix: str


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
    idempotency_key: str | None = None,
    reference: str | None = None,
    breakdown: list[dict[str, Any]] | None = None,
    type: TxType = TxType.EARN,
    new_row: NewRow | None = None,
    watched: bool = True,
) -> Credited | None:
    """Credit ``points`` (> 0, qualifying) to the member's account in a new lot.

    The caller holds the account's lock in this transaction and read ``balance`` under it, and
    ``idempotency_key`` is made from a row it has just inserted (no earlier posting can hold it,
    so none is looked for), as ``posting.earn``'s ``locked_account`` and ``fresh_key`` say.
    ``new_row``: instead of ``idempotency_key``, the row the credit is for, inserted here (the
    class says how; the till's receipt); None is returned, and nothing written, when its unique
    key is taken. ``watched``: False when the caller knows nothing outside the ledger shows this
    member's balance (no wallet pass): then no change is noted, and no pass update queued.
    """
    if points <= 0 or type not in QUALIFYING:
        raise ValueError("credit_locked takes a positive number of qualifying points")
    if (new_row is None) == (idempotency_key is None):
        raise ValueError("credit_locked takes an idempotency_key or a new_row")
    params = dict(
        p_type=str(type), p_account=account_id, p_counter=program_account_id(session, AccountKind.ISSUANCE, now),
        p_description=description, p_reference=reference, p_key=idempotency_key, p_breakdown=breakdown,
        p_now=now, p_points=points, p_taken=-points, p_balance_after=balance + points, p_day=now.date(),
        p_since=now.date() - dt.timedelta(days=364), p_expires_at=expires_at, p_link=None,
    )
    linked: Table | None = None  # on SQLite, the new row, whose transaction_id is set after
    conn = session.connection()
    row_id = None
    if new_row is not None:
        params.update({f"r_{name}": value for name, value in new_row.values.items()})
        params["p_key_prefix"] = new_row.key_prefix
        shape = (new_row.table, tuple(new_row.values), new_row.unique)
        if is_postgres(session):
            found = conn.execute(_postgres_statement_with_row(*shape), params).first()
            if found is None:
                return None
            row_id, transaction_id, new_balance, qualifying = found
            return _credited(session, member_id, account_id, balance, points, transaction_id, new_balance,
                             qualifying, watched, row_id)
        row_id = conn.scalar(_insert_row(*shape), params)
        if row_id is None:
            return None
        linked, params["p_link"], params["p_key"] = new_row.table, row_id, f"{new_row.key_prefix}{row_id}"
    if is_postgres(session):  # without a new row: with one, its own statement returned above
        transaction_id, new_balance, qualifying = conn.execute(_postgres_statement(), params).one()
    else:
        before, new_tx, *rows, moved = _sqlite_statements(linked)
        qualifying = conn.execute(before, params).scalar_one() + points
        transaction_id = conn.execute(new_tx, params).scalar_one()
        for statement in rows:
            conn.execute(statement, {**params, "p_tx": transaction_id})
        new_balance = conn.execute(moved, params).scalar_one()
    return _credited(session, member_id, account_id, balance, points, transaction_id, new_balance, qualifying,
                     watched, row_id)


def _credited(session: Session, member_id: int, account_id: int, balance: int, points: int, transaction_id: int,
              new_balance: int, qualifying: Any, watched: bool, row_id: int | None) -> Credited:
    if new_balance != balance + points:  # the lock was not held: the guards would refuse it at COMMIT
        raise RuntimeError(f"account {account_id} moved under a lock the caller said it held")
    forget_loaded(session, LedgerAccount, account_id, ["balance", "lifetime_earned"])
    if watched:
        changes.note(session, "member", member_id)
    return Credited(transaction_id=transaction_id, balance=new_balance, qualifying_points=int(qualifying),
                    row_id=row_id)


# The statements are built once, with bound parameters (``p_*``, never a column's name): on the
# till's path, making a statement and its cache key cost more Python than running it.

def _p(name: str, column: Any) -> Any:
    """A parameter with its column's type: PostgreSQL cannot tell a bare one's in a SELECT list."""
    return bindparam(name, type_=column.type)


def _tx_values() -> dict[str, Any]:
    return dict(type=_p("p_type", _TX.c.type), account_id=_p("p_account", _TX.c.account_id),
                description=_p("p_description", _TX.c.description), reference=_p("p_reference", _TX.c.reference),
                idempotency_key=_p("p_key", _TX.c.idempotency_key), breakdown=_p("p_breakdown", _TX.c.breakdown),
                shortfall=literal(0), created_at=_p("p_now", _TX.c.created_at))


def _row_values(tx_id: Any) -> list[tuple[Table, dict[str, Any]]]:
    """The credit's rows but its transaction, given the transaction's id (a value or a CTE's column)."""
    return [
        # One entry a statement: a multi-row VALUES is compiled afresh every time (SQLAlchemy
        # does not cache it), which cost more than the statement.
        (_ENTRY, dict(transaction_id=tx_id, account_id=_p("p_account", _ENTRY.c.account_id),
                      amount=_p("p_points", _ENTRY.c.amount), balance_after=_p("p_balance_after", _ENTRY.c.balance_after),
                      created_at=_p("p_now", _ENTRY.c.created_at))),
        (_ENTRY, dict(transaction_id=tx_id, account_id=_p("p_counter", _ENTRY.c.account_id),
                      amount=_p("p_taken", _ENTRY.c.amount), created_at=_p("p_now", _ENTRY.c.created_at))),
        (_LOT, dict(account_id=_p("p_account", _LOT.c.account_id), transaction_id=tx_id,
                    points=_p("p_points", _LOT.c.points), remaining=_p("p_points", _LOT.c.remaining),
                    earned_at=_p("p_now", _LOT.c.earned_at), expires_at=_p("p_expires_at", _LOT.c.expires_at))),
        (_DAY, dict(account_id=_p("p_account", _DAY.c.account_id), day=_p("p_day", _DAY.c.day),
                    points=_p("p_points", _DAY.c.points))),
    ]


def _inserts(postgres: bool, tx_id: Any, source: Any = None) -> list[Any]:
    """The INSERTs of ``_row_values``; with ``source`` (a CTE) as INSERT ... SELECT from it, so
    they write nothing when it holds no row."""
    statements = []
    for table, values in _row_values(tx_id):
        if source is None:
            statement = insert_for(postgres)(table).values(values)
        else:
            statement = insert_for(postgres)(table).from_select(list(values), select(*values.values()).select_from(source))
        if table is _DAY:
            statement = statement.on_conflict_do_update(index_elements=["account_id", "day"],
                                                        set_={"points": _DAY.c.points + statement.excluded.points})
        statements.append(statement)
    return statements


def _qualifying_before() -> Any:
    return (select(func.coalesce(func.sum(_DAY.c.points), 0))
            .where(_DAY.c.account_id == bindparam("p_account"), _DAY.c.day >= bindparam("p_since")).scalar_subquery())


def _moved() -> Any:
    """The account's UPDATE, returning its balance."""
    return (update(_ACCOUNT).where(_ACCOUNT.c.id == bindparam("p_account"))
            .values(balance=_ACCOUNT.c.balance + bindparam("p_points"),
                    lifetime_earned=_ACCOUNT.c.lifetime_earned + bindparam("p_points"))
            .returning(_ACCOUNT.c.balance))


def _linking(linked: Table | None, tx_id: Any) -> list[Any]:
    """On SQLite, the new row's UPDATE that gives it the transaction's id."""
    return [] if linked is None else [update(linked).where(linked.c.id == bindparam("p_link")).values(transaction_id=tx_id)]


@functools.cache
def _postgres_statement() -> Any:
    """One statement. One snapshot for all of it: the qualifying points are read as they were
    before its upsert, hence "+ points" (on SQLite they are read first)."""
    tx = insert(_TX).values(_tx_values()).returning(_TX.c.id).cte("tx")
    writes = [statement.cte(f"w{i}") for i, statement in enumerate(_inserts(True, select(tx.c.id).scalar_subquery()))]
    account = _moved().cte("account")
    return prepared(select(tx.c.id, account.c.balance, _qualifying_before() + bindparam("p_points"))
                    .select_from(tx.join(account, true()))  # one row each
                    .add_cte(*writes))


@functools.cache
def _postgres_statement_with_row(table: Table, columns: tuple[str, ...], unique: tuple[str, ...]) -> Any:
    """``_postgres_statement`` that also inserts a ``NewRow``: no row at all when its unique key
    is taken, and then nothing written (every write reads from the one before)."""
    ids = select(literal_column(f"nextval('{table.name}_id_seq')", BigInteger).label("row_id"),
                 literal_column(f"nextval('{_TX.name}_id_seq')", BigInteger).label("tx_id")).cte("ids")
    row = (postgresql.insert(table)
           .from_select(["id", *columns, "transaction_id"],
                        select(ids.c.row_id, *(_p(f"r_{name}", table.c[name]) for name in columns), ids.c.tx_id))
           .on_conflict_do_nothing(index_elements=list(unique))
           .returning(table.c.id.label("row_id"), table.c.transaction_id.label("tx_id"))).cte("new_row")
    values = _tx_values()
    values.update(id=row.c.tx_id,
                  idempotency_key=func.concat(bindparam("p_key_prefix", type_=String), row.c.row_id))
    tx = insert(_TX).from_select(list(values), select(*values.values()).select_from(row)).returning(_TX.c.id).cte("tx")
    writes = [statement.cte(f"w{i}") for i, statement in enumerate(_inserts(True, tx.c.id, tx))]
    account = _moved().where(select(tx.c.id).exists()).cte("account")
    return prepared(select(row.c.row_id, tx.c.id, account.c.balance, _qualifying_before() + bindparam("p_points"))
                    .select_from(row.join(tx, true()).join(account, true()))  # one row each, or none
                    .add_cte(*writes))


@functools.cache
def _insert_row(table: Table, columns: tuple[str, ...], unique: tuple[str, ...]) -> Any:
    """A ``NewRow``'s INSERT on SQLite, returning its id (nothing when its unique key is taken)."""
    return (insert_for(False)(table).values({name: _p(f"r_{name}", table.c[name]) for name in columns})
            .on_conflict_do_nothing(index_elements=list(unique)).returning(table.c.id))


@functools.cache
def _sqlite_statements(linked: Table | None) -> list[Any]:
    tx_id = bindparam("p_tx")
    return [select(_qualifying_before()), insert(_TX).values(_tx_values()).returning(_TX.c.id),
            *_inserts(False, tx_id), *_linking(linked, tx_id), _moved()]
