"""Fixtures in layers: database -> connection -> session / app -> client -> people.

The real Alembic migrations build the test database once per run. Each test then
runs inside an outer transaction that is rolled back at the end; the code under
test commits into savepoints (``join_transaction_mode="create_savepoint"``), so it
behaves as in production and leaves nothing behind.

The database is SQLite (a fresh file) unless ``TEST_DATABASE_URL`` names another;
CI runs the whole suite twice, the second time on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import tempfile
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest
from alembic import command
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from api import create_app, worker
from api.migrate import alembic_config
from tests.api.contract.checker import ContractClient
from config import Settings
from infra.db import make_engine, make_sessionmaker
from infra.jobs import runner
from wallet.members import accounts

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
START = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)
PASSWORD = "a long enough password"


def need_service(env_name: str) -> str:
    """The URL of an outside service the test needs: a failure in CI when absent, a skip elsewhere."""
    url = os.environ.get(env_name)
    if not url:
        message = f"{env_name} is not set"
        if IN_CI:
            pytest.fail(message + " (CI must provide it)")
        pytest.skip(message)
    return url


class Clock:
    """A clock the test moves by hand; starts at ``START``."""

    def __init__(self, at: dt.datetime = START) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at

    def advance(self, **delta: float) -> dt.datetime:
        self.at += dt.timedelta(**delta)
        return self.at


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # PostgreSQL-only tests (row locks, triggers) run in the PostgreSQL pass; on the
    # SQLite pass they are deselected, not skipped, so a skip always means trouble.
    if not _database_url().startswith("postgresql"):
        keep = [item for item in items if "postgres_only" not in item.keywords]
        dropped = [item for item in items if "postgres_only" in item.keywords]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = keep


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgres_only: needs PostgreSQL; runs in the PostgreSQL pass")
    refuse_the_internet()
    # Every app's test client validates each response against the OpenAPI document it serves.
    Flask.test_client_class = ContractClient


def refuse_the_internet() -> None:
    """Tests never need the internet: a lookup of any host but this machine fails the test that made it."""
    real = socket.getaddrinfo

    def loopback_only(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in (None, "localhost", "127.0.0.1", "::1") and not str(host).endswith(".localhost"):
            raise OSError(f"tests must not reach the internet (looked up {host!r})")
        return real(host, *args, **kwargs)

    socket.getaddrinfo = loopback_only


_SQLITE_DIR = tempfile.mkdtemp(prefix="pw-test-")


def _database_url() -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{Path(_SQLITE_DIR) / 'test.sqlite3'}"


def reset_database(engine: Engine) -> None:
    """Empty the database, so the migrations run from nothing."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    else:
        Path(engine.url.database or "").unlink(missing_ok=True)


APP_ROLE = "partner_wallet_app"  # the role the migrations make for the application


def as_app_role(url: str) -> str:
    """The same PostgreSQL database, signed in as the application's role (trust auth here, as on
    the development machines; production gives it a password). SQLite has no roles."""
    if not url.startswith("postgresql"):
        return url
    return make_url(url).set(username=APP_ROLE, password=None).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def owner_engine() -> Iterator[Engine]:
    """The test database as its owner, brought to head by the real migrations (which the owner runs)."""
    url = _database_url()
    eng = make_engine(url)
    reset_database(eng)
    command.upgrade(alembic_config(url=url), "head")
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def engine(owner_engine: Engine) -> Iterator[Engine]:
    """The test database as the application sees it: on PostgreSQL as the role that owns nothing
    and may only insert into the ledger, as in production."""
    if owner_engine.dialect.name != "postgresql":
        yield owner_engine
        return
    eng = make_engine(as_app_role(owner_engine.url.render_as_string(hide_password=False)))
    yield eng
    eng.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """One connection with an outer transaction that is rolled back after the test."""
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        outer.rollback()


@pytest.fixture
def session(connection: Connection) -> Iterator[Session]:
    """A session whose commits go into savepoints of the test's transaction."""
    factory = make_sessionmaker(connection, join_transaction_mode="create_savepoint")
    with factory() as s:
        yield s


@pytest.fixture
def clock() -> Clock:
    """The application's clock, at ``START`` until the test moves it."""
    return Clock()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for tests: fixed secrets, generous rate limits (a test that needs a tight one sets it)."""
    return Settings(
        app_env="test",
        database_url=_database_url(),
        secret_key="test-secret-key-" + "x" * 32,
        jwt_secret="test-jwt-secret-" + "y" * 32,
        instance_dir=tmp_path / "instance",
        upload_dir=tmp_path / "uploads",
        login_limit="1000 per minute",
        register_limit="1000 per minute",
        refresh_limit="1000 per minute",
        scan_limit="1000 per minute",
        cache_check_seconds=0,  # each test's rolled-back changes must never linger in a cache
        purchase_limit="1000 per minute",
        receipt_limit="1000 per minute",
        voucher_redeem_limit="1000 per minute",
        redemption_limit="1000 per minute",
    )


def build_app(connection: Connection, settings: Settings, clock: Clock, **extra: Any) -> Flask:
    factory = make_sessionmaker(connection, join_transaction_mode="create_savepoint")
    return create_app({"SETTINGS": settings, "SESSIONMAKER": factory, "CLOCK": clock, "TESTING": True, **extra})


@pytest.fixture
def app(connection: Connection, settings: Settings, clock: Clock) -> Flask:
    """The application, on the test's connection and clock."""
    return build_app(connection, settings, clock)


def statements_of(connection: Connection, action: Any) -> list[str]:
    """The SQL statements ``action`` sends on the test's connection, without the fixture's
    savepoints and the cache checks tests force on every request (``cache_check_seconds=0``):
    what the request itself costs."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")) and "cache_versions" not in statement:
            seen.append(statement)

    event.listen(connection, "before_cursor_execute", record)
    try:
        action()
    finally:
        event.remove(connection, "before_cursor_execute", record)
    return seen


def work(app: Flask, **kwargs: Any) -> int:
    """Run the jobs that are due now, in this thread, as the worker would; returns how many ran."""
    return runner.run_due(worker.job_context(app), **kwargs)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of ``app``."""
    return app.test_client()


class People:
    """Makes the users a test needs and signs them in through the API."""

    def __init__(self, client: FlaskClient, session: Session, clock: Clock) -> None:
        self.client = client
        self.session = session
        self.clock = clock
        self._n = 0

    def _email(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}{self._n}@example.com"

    def partner(self, **fields: Any) -> dict[str, Any]:
        """Registers a partner; returns the register response plus ``headers``."""
        body = {"email": self._email("partner"), "password": PASSWORD, "name": "Partner", "country": "AE", **fields}
        response = self.client.post("/api/v1/auth/register", json=body)
        assert response.status_code == 201, response.json
        data = dict(response.json)
        data["headers"] = {"Authorization": f"Bearer {data['access_token']}"}
        data["email"] = body["email"]
        return data

    def store(self, country: str = "AE", currency: str = "AED") -> accounts.Store:
        store = accounts.create_store(
            self.session, name=f"Store {country}", country=country, currency=currency, now=self.clock()
        )
        self.session.commit()
        return store

    def staff(self, role: str, store: accounts.Store | None = None) -> dict[str, Any]:
        """Creates a staff user in the database and signs it in; returns ``user`` and ``headers``."""
        if role == "cashier" and store is None:
            store = self.store()
        email = self._email(role)
        user = accounts.create_staff(
            self.session,
            email=email,
            password=PASSWORD,
            name=role.title(),
            role=role,
            store_id=store.id if store else None,
            now=self.clock(),
        )
        self.session.commit()
        return {"user": user, "email": email, "headers": self.login(email)}

    def login(self, email: str, password: str = PASSWORD) -> dict[str, str]:
        response = self.client.post("/api/v1/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.json
        return {"Authorization": f"Bearer {response.json['access_token']}"}


@pytest.fixture
def people(client: FlaskClient, session: Session, clock: Clock) -> People:
    """Registers partners and creates staff, signed in."""
    return People(client, session, clock)


class Till:
    """A store with a signed-in cashier, and the member card a partner shows it."""

    def __init__(self, client: FlaskClient, people: People, app: Flask, clock: Clock, country: str = "AE",
                 currency: str = "AED") -> None:
        self.client, self.app, self.clock = client, app, clock
        self.store = people.store(country=country, currency=currency)
        self.cashier = people.staff("cashier", store=self.store)
        self.headers = self.cashier["headers"]
        self._receipts = 0

    def card(self, partner: dict[str, Any]) -> str:
        return self.client.get("/api/v1/me/card", headers=partner["headers"]).json["qr_payload"]

    def buy(self, partner: dict[str, Any], amount: str, *, receipt: str | None = None,
            headers: dict[str, str] | None = None, **extra: Any) -> Any:
        self._receipts += 1
        body = {
            "member_number": partner["member"]["member_number"],
            "receipt_number": receipt or f"R-{self._receipts}",
            "total": {"amount": amount, "currency": self.store.currency},
            **extra,
        }
        return self.client.post("/api/v1/pos/purchases", json=body, headers={**self.headers, **(headers or {})})


@pytest.fixture
def till(client: FlaskClient, people: People, app: Flask, clock: Clock) -> Till:
    """A UAE store (AED) with its cashier signed in."""
    return Till(client, people, app, clock)


@pytest.fixture
def kit(client: FlaskClient, people: People, till: Till) -> Any:
    """An admin who makes rewards and uploads codes, partners with points, the till (``tests.rewards_kit``)."""
    from tests.rewards_kit import Kit

    return Kit(client, people, till)


@pytest.fixture
def isolated_engine(owner_engine: Engine) -> Iterator[Engine]:
    """PostgreSQL only: an engine whose connections live in a fresh schema, migrated by the owner and
    used as the application's role, for tests that need real commits from several connections
    (the savepoint per test cannot give that)."""
    schema = f"concurrency_{uuid.uuid4().hex[:8]}"
    url = owner_engine.url.render_as_string(hide_password=False)
    with owner_engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    owner = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    with owner.connect() as conn:
        command.upgrade(alembic_config(connection=conn), "head")
        conn.commit()
    owner.dispose()
    eng = make_engine(as_app_role(url), pool_size=50, max_overflow=10, connect_args={"options": f"-csearch_path={schema}"})
    yield eng
    eng.dispose()
    with owner_engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
