"""The request's database session: opened on first use, closed (rolled back unless
committed) when the request ends."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session, sessionmaker


def init_app(app: Flask, factory: sessionmaker[Session]) -> None:
    app.extensions["sessionmaker"] = factory
    app.teardown_appcontext(_close)


def get_session() -> Session:
    if "db_session" not in g:
        g.db_session = current_app.extensions["sessionmaker"]()
    return g.db_session


def _close(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
