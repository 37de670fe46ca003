"""The request's database session and the one place a request commits.

The session is opened on first use and closed when the request ends, which rolls back
whatever was not committed. Every view is wrapped (``commit_views``): when it answers
with a success status its work is committed once, and the jobs it enqueued are handed to
the workers after that commit (``infra.jobs``); when it raises or answers with an error,
nothing it wrote is kept, and its jobs are never started. A domain error that must keep
its changes (``keeps_changes``: a reused refresh token revokes its family) is committed
before it is answered. Views never call ``commit()``.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from flask import Flask, current_app, g, request
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from infra.errors import DomainError


READS = frozenset({"GET", "HEAD"})
# In a session's info: its connections commit each statement as it runs (the read sessions).
AUTOCOMMITS = "autocommits"


def init_app(app: Flask, factory: sessionmaker[Session], read_factory: sessionmaker[Session] | None = None) -> None:
    """``read_factory``: sessions for GET requests, on connections that open no transaction (on
    PostgreSQL a read then costs no BEGIN and no ROLLBACK round trip). A GET writes nothing, and
    each of its statements sees committed data."""
    app.extensions["sessionmaker"] = factory
    if read_factory is not None:
        app.extensions["read_sessionmaker"] = read_factory
        app.extensions["read_engine"] = read_factory.kw["bind"]
    app.teardown_appcontext(_close)


def get_session() -> Session:
    if "db_session" not in g:
        factory = current_app.extensions["sessionmaker"]
        if request.method in READS and "read_engine" in current_app.extensions:
            # On the request's one read connection, which its hottest read also uses without it.
            g.db_session = current_app.extensions["read_sessionmaker"](bind=read_connection())
        else:
            g.db_session = factory()
    return g.db_session


def read_connection() -> Connection:
    """A GET's connection, for the hottest read to use without the session (the session's own reads
    go to the same connection): a statement that needs no transaction and no ORM. Where there is no
    read engine (SQLite, the tests' shared session), the session's connection."""
    if "db_connection" not in g:
        engine = current_app.extensions.get("read_engine")
        if engine is None or request.method not in READS:
            return get_session().connection()
        g.db_connection = engine.connect()
    return g.db_connection


def _commit() -> None:
    session = g.get("db_session")
    if session is None:
        return
    if session.info.get(AUTOCOMMITS):
        # Each statement was committed as it ran: only what is still pending is left to write
        # (usually nothing), and a commit would cost the read Python for nothing.
        session.flush()
    else:
        session.commit()


def _run(view: Callable[..., Any], args: Any, kwargs: Any) -> Any:
    try:
        response = current_app.make_response(view(*args, **kwargs))
    except DomainError as error:
        if error.keeps_changes:
            _commit()
        raise
    if response.status_code < 400:
        # Inside the view's call, so a failure to commit (a constraint checked at commit)
        # is answered by the error handlers like any other error.
        _commit()
    return response


def _committing(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return _run(view, args, kwargs)
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
            # The pool handed out a connection the server had closed (a restart, a failover, an
            # idle timeout): nothing of this request was committed, so run it once more on a
            # fresh one rather than ping before every request.
            _close(None)
            for loaded in ("user", "user_confirmed"):  # read on that connection: read again
                g.pop(loaded, None)
            return _run(view, args, kwargs)

    return wrapper


def commit_views(app: Flask) -> None:
    """Wrap every registered view; call after the blueprints are registered."""
    for endpoint, view in list(app.view_functions.items()):
        if endpoint != "static":
            app.view_functions[endpoint] = _committing(view)


def _close(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
    connection = g.pop("db_connection", None)
    if connection is not None:
        connection.close()
