"""The declarative base, column types, engine set-up and dialect helpers shared by every domain package.

Times are stored in UTC and always come back timezone-aware, on SQLite too (which
has no timezone type). Constraint names follow one convention so that Alembic's
autogenerate and a hand-written migration name things the same way on both
databases.

On SQLite every transaction starts with ``BEGIN IMMEDIATE``: SQLite cannot upgrade
a read transaction to a write one when another writer got there first (it fails at
once, whatever the busy timeout), so a balance read followed by an entry write must
hold the write lock from the start. That serialises writers, which is what the
ledger needs; WAL mode keeps readers of committed data from blocking.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    TypeDecorator,
    any_,
    create_engine,
    event,
    literal,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.orm.util import identity_key

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware datetime stored as UTC.

    Refuses naive datetimes on the way in: a naive time is a bug that would
    silently shift by the server's offset.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC time is stored")
        value = value.astimezone(dt.timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        dt.datetime: UTCDateTime(),
        # SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
        int: BigInteger().with_variant(Integer(), "sqlite"),
        str: String(255),
        uuid.UUID: String(36),
    }


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Python's sqlite3 module opens transactions on its own, too late and without
    # IMMEDIATE; take that over (see the module docstring and SQLAlchemy's
    # "Serializable isolation / Savepoints / Transactional DDL" recipe).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA busy_timeout = 10000")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url`` with the per-dialect settings this program relies on.

    Statement parameters never reach an error message or a log (``hide_parameters``): they
    hold password hashes, names and phone numbers.
    """
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("sqlite"):
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # No ping before every checkout (a round trip per request): connections are recycled before
    # a server or a proxy would drop them, and a request that still meets a dead one is run
    # again once on a fresh connection (api/db.py).
    kwargs.setdefault("pool_recycle", 1800)
    # Dates taken from times (date(expires_at)) are UTC days whatever the server's zone.
    # No JIT: our statements are short, and a cost estimate inflated by lagging statistics
    # once made PostgreSQL spend 77 ms compiling a 2 ms query, on every batch of a campaign.
    connect_args = kwargs.setdefault("connect_args", {})
    # Added to what the URL's ?options= or the caller already asked (a search_path, say), not in its place.
    asked = connect_args.get("options") or make_url(url).query.get("options") or ""
    connect_args["options"] = (str(asked) + " -c timezone=UTC -c jit=off").strip()
    # No server-side prepared statements but those asked for. After 5 runs psycopg would prepare
    # any statement, and PostgreSQL may then switch to a generic plan, in which `status = $1` or
    # `remaining > $1` no longer matches a partial index (WHERE status = 'claimed', WHERE
    # remaining > 0). That turned the frequency-cap count of a 1M campaign from 2 ms into 20-30 s.
    # The few statements of the hot paths ask for it (``prepared``): psycopg prepares those at
    # once, and never counts its way to preparing another (a threshold no statement reaches;
    # None would refuse the asked ones too).
    connect_args.setdefault("prepare_threshold", 2**31 - 1)
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
    engine = create_engine(url, **kwargs)
    event.listen(engine, "do_execute", _execute_prepared)
    return engine


# An execution option: run the statement as a server-side prepared statement (PostgreSQL).
_PREPARED = "pw_prepared"


def prepared(statement: Any) -> Any:
    """``statement``, prepared on each PostgreSQL connection the first time it runs there and then
    only executed: PostgreSQL plans it once per connection instead of on every run. Planning was
    most of the database's time for the wallet's statement (0.4 of 0.55 ms).

    For statements built once, run on every request, whose plan does not depend on the values:
    after five runs PostgreSQL may keep a generic plan, which cannot use a partial index whose
    condition the statement compares with a parameter (``status = $1`` against ``WHERE status =
    'queued'``); spell such constants as literals (``literal_column``), as ``ledger.LIVE`` does.
    Elsewhere nothing is prepared (``prepare_threshold`` above)."""
    return statement.execution_options(**{_PREPARED: True})


def _execute_prepared(cursor: Any, statement: str, parameters: Any, context: Any) -> bool | None:
    if context.execution_options.get(_PREPARED):
        cursor.execute(statement, parameters, prepare=True)
        return True
    return None  # SQLAlchemy's own execute


@dataclass(frozen=True)
class _DriverStatement:
    sql: str
    compiled: Any
    bind: dict[str, Any]  # parameter name -> its type's bind processor
    results: list[Any]  # per column: its type's result processor, or None
    prepare: bool


@functools.lru_cache(maxsize=64)
def _for_driver(statement: Any, dialect: Any) -> _DriverStatement:
    compiled = statement.compile(dialect=dialect)
    bind = {name: processor for name, param in compiled.binds.items()
            if (processor := param.type.dialect_impl(dialect).bind_processor(dialect)) is not None}
    results = [column.type.dialect_impl(dialect).result_processor(dialect, None)
               for column in statement.selected_columns]
    return _DriverStatement(compiled.string, compiled, bind, results,
                            bool(statement.get_execution_options().get(_PREPARED)))


def driver_rows(connection: Connection, statement: Any, parameters: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The rows of a SELECT built once (``prepared``), run on the PostgreSQL driver's connection
    under ``connection``, as tuples: for the hottest read, where SQLAlchemy's execution (compiled
    cache, parameter and result set-up, its Row objects) cost about as much Python as psycopg's
    whole share (bench/README.md). The values are converted as SQLAlchemy would convert them
    (each type's bind and result processors), the statement is seen by the engine's
    ``before/after_cursor_execute`` listeners (statement counts, logs), and a driver error is
    raised as SQLAlchemy's, a lost connection invalidated. Elsewhere (SQLite, a connection in no
    transaction SQLAlchemy began, where psycopg would begin one behind its back, unless it commits
    each statement), ``connection.execute``."""
    driver = connection.connection.driver_connection
    if connection.dialect.name != "postgresql" or not (connection.in_transaction() or driver.autocommit):
        return [tuple(row) for row in connection.execute(statement, parameters)]
    prepared_statement = _for_driver(statement, connection.dialect)
    values = prepared_statement.compiled.construct_params(parameters)
    try:
        for name, processor in prepared_statement.bind.items():
            values[name] = processor(values[name])
    except Exception as error:  # a value its type refuses (a naive time): as SQLAlchemy says it
        raise StatementError(str(error), prepared_statement.sql, None, error, hide_parameters=True) from error
    cursor = driver.cursor()
    sql = prepared_statement.sql
    connection.dispatch.before_cursor_execute(connection, cursor, sql, values, None, False)
    try:
        cursor.execute(sql, values, prepare=prepared_statement.prepare)
        rows = cursor.fetchall()
    except connection.dialect.loaded_dbapi.Error as error:
        lost = connection.dialect.is_disconnect(error, driver, cursor)
        if lost:
            connection.invalidate(error)
        raise DBAPIError.instance(sql, values, error, connection.dialect.loaded_dbapi.Error, hide_parameters=True,
                                  connection_invalidated=lost, dialect=connection.dialect) from error
    finally:
        cursor.close()
    connection.dispatch.after_cursor_execute(connection, cursor, sql, values, None, False)
    if any(prepared_statement.results):
        convert = prepared_statement.results
        rows = [tuple(value if f is None else f(value) for f, value in zip(convert, row)) for row in rows]
    return rows


def make_sessionmaker(bind: Any, **kwargs: Any) -> sessionmaker[Session]:
    # expire_on_commit=False: a view serialises what it just committed without
    # another round trip.
    kwargs.setdefault("expire_on_commit", False)
    return sessionmaker(bind=bind, **kwargs)


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def insert_ignoring(session: Session, model: Any) -> Any:
    """An INSERT that can say ON CONFLICT DO NOTHING, in the session's dialect."""
    return insert_for(is_postgres(session))(model)


def insert_for(postgres: bool) -> Any:
    """``insert_ignoring``'s constructor for a dialect, for statements built once per dialect."""
    return postgresql.insert if postgres else sqlite.insert


def among(session: Session, column: Any, ids: list[int]) -> Any:
    """``column IN ids``. On PostgreSQL as ``= ANY`` of one array parameter: one placeholder to
    send and parse instead of 500 (psycopg's query conversion was 3 ms a statement at 500)."""
    if is_postgres(session):
        return column == any_(literal(ids, type_=postgresql.ARRAY(BigInteger)))
    return column.in_(ids)


def forget_loaded(session: Session, model: Any, row_id: int, attributes: list[str]) -> None:
    """After a Core UPDATE of ``attributes`` of a row: an object of it this session loaded earlier
    would show their old values, so they are expired (read again when next used); its other
    attributes, changed or not, are left as they are."""
    loaded = session.identity_map.get(identity_key(model, row_id))
    if loaded is not None:
        session.expire(loaded, attributes)
