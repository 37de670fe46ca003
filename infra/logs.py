"""Exceptions as the log may show them: the traceback, never the data.

``hide_parameters`` keeps SQLAlchemy from putting statement parameters into its errors,
but the database itself describes a refused row in its message (PostgreSQL's DETAIL:
"Failing row contains (..., $argon2id$..., Secret Name, ...)"). So an error from the
database driver is described by its kind, SQLSTATE, constraint and primary message only;
every other exception as usual. Used wherever our code logs or stores an unexpected error.
"""

from __future__ import annotations

import traceback

from sqlalchemy.exc import DBAPIError, StatementError


def _line(exc: BaseException) -> str:
    if isinstance(exc, StatementError):
        orig = exc.orig if isinstance(exc, DBAPIError) else None
        statement = (exc.statement or "").strip().splitlines()[0][:200] if exc.statement else ""
        return f"{type(exc).__name__} from {type(orig).__name__ if orig else 'the driver'}: " \
               f"{_driver_line(orig)} [SQL: {statement}]"
    if type(exc).__module__.startswith(("psycopg", "sqlite3")):
        return f"{type(exc).__name__}: {_driver_line(exc)}"
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()


def _driver_line(exc: BaseException | None) -> str:
    if exc is None:
        return ""
    diag = getattr(exc, "diag", None)
    if diag is not None:  # psycopg: the parts that name things, not the row
        parts = [f"sqlstate {diag.sqlstate}", diag.message_primary or ""]
        if diag.constraint_name:
            parts.append(f"constraint {diag.constraint_name}")
        return "; ".join(p for p in parts if p)
    # sqlite3 names the constraint ("CHECK constraint failed: role_known"), never the values.
    return str(exc).splitlines()[0][:300]


def describe(exc: BaseException) -> str:
    """The exception, its causes and where each was raised, safe to log or store."""
    chain: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    parts = []
    for item in reversed(chain):
        frames = "".join(traceback.format_tb(item.__traceback__)) if item.__traceback__ else ""
        parts.append(f"Traceback (most recent call last):\n{frames}{_line(item)}")
    return "\n\nThe above led to:\n\n".join(parts)


def summary(exc: BaseException) -> str:
    """One line for a job's ``last_error`` or a warning."""
    return _line(exc)
