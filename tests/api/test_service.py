"""Health, readiness and the published contract."""

from __future__ import annotations

import pytest


def test_healthz_and_readyz_answer(client):
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/readyz").json == {"status": "ok", "database": "ok"}


def test_readyz_is_503_when_the_database_is_gone(settings, clock):
    from api import create_app
    from infra.db import make_engine

    app = create_app({"SETTINGS": settings, "ENGINE": make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none"),
                      "CLOCK": clock})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"


def test_the_openapi_document_lists_the_contracts_paths(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    for path in ("/api/v1/auth/register", "/api/v1/auth/login", "/api/v1/auth/refresh", "/api/v1/auth/logout",
                 "/api/v1/me", "/api/v1/admin/staff", "/api/v1/admin/stores", "/api/v1/me/wallet",
                 "/api/v1/me/wallet/transactions", "/api/v1/me/card", "/api/v1/me/card/qr.png", "/api/v1/me/card/qr.svg",
                 "/api/v1/pos/scan", "/api/v1/pos/purchases", "/api/v1/pos/purchases/{purchase_id}/refund"):
        assert path in spec["paths"], path
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_the_docs_page_is_served(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert "swagger" in response.get_data(as_text=True).lower()


def test_no_view_commits_by_itself():
    """The request commits once (api/db.py); a view that commits would break "an error keeps nothing"."""
    from pathlib import Path

    views = Path(__file__).resolve().parents[2] / "api" / "views"
    offenders = [p.name for p in views.glob("*.py") if ".commit(" in p.read_text()]
    assert offenders == []


@pytest.mark.postgres_only
def test_a_request_that_meets_a_connection_the_server_closed_is_run_again_on_a_fresh_one(owner_engine, settings, clock):
    """No ping before each request: a dead pooled connection costs that request a retry, not a 500."""
    from sqlalchemy import text

    from api import create_app
    from infra.db import make_engine
    from tests.conftest import PASSWORD, as_app_role

    engine = make_engine(as_app_role(owner_engine.url.render_as_string(hide_password=False)), pool_size=1,
                         max_overflow=0, connect_args={"application_name": "pw-retry-test"})
    app = create_app({"SETTINGS": settings, "ENGINE": engine, "CLOCK": clock})
    client = app.test_client()
    registered = client.post("/api/v1/auth/login", json={"email": "nobody@example.com", "password": PASSWORD})
    assert registered.status_code == 401  # the pool now holds one connection
    with owner_engine.connect() as conn:
        killed = conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                   "WHERE application_name = 'pw-retry-test'")).scalar()
    assert killed == 1

    response = client.post("/api/v1/auth/login", json={"email": "nobody@example.com", "password": PASSWORD})

    assert response.status_code == 401 and response.json["message"] == "email or password is wrong"
    engine.dispose()


@pytest.mark.postgres_only
def test_a_read_opens_no_transaction_and_a_write_opens_one(isolated_engine, settings, clock):
    from sqlalchemy import event

    from api import create_app
    from tests.conftest import PASSWORD

    app = create_app({"SETTINGS": settings, "ENGINE": isolated_engine, "CLOCK": clock})
    client = app.test_client()
    begins = []
    event.listen(isolated_engine, "begin", lambda conn: begins.append(conn.connection.dbapi_connection.autocommit))
    partner = client.post("/api/v1/auth/register", json={"email": "r@example.com", "password": PASSWORD,
                                                         "name": "R", "country": "AE"}).json
    headers = {"Authorization": f"Bearer {partner['access_token']}"}
    wrote = len(begins)
    wallet = client.get("/api/v1/me/wallet", headers=headers)
    history = client.get("/api/v1/me/wallet/transactions", headers=headers)
    assert (wallet.status_code, history.status_code) == (200, 200) and wallet.json["balance"] == 0
    assert not any(begins[:wrote]) and begins[wrote:] and all(begins[wrote:])  # a write in a transaction, reads not


@pytest.mark.postgres_only
def test_the_wallets_statement_is_prepared_once_per_connection_and_its_plan_kept(isolated_engine, settings, clock):
    """Planning it was most of the database's time for a wallet read (bench/README.md)."""
    from api import create_app
    from tests.conftest import PASSWORD

    client = create_app({"SETTINGS": settings, "ENGINE": isolated_engine, "CLOCK": clock}).test_client()
    partner = client.post("/api/v1/auth/register", json={"email": "prepared@example.com", "password": PASSWORD,
                                                         "name": "P", "country": "AE"}).json
    headers = {"Authorization": f"Bearer {partner['access_token']}"}
    for _ in range(8):
        assert client.get("/api/v1/me/wallet", headers=headers).json["balance"] == 0

    assert isolated_engine.pool.checkedin() == 1  # one request at a time: they all had this connection
    with isolated_engine.connect() as conn:
        plans = conn.exec_driver_sql("SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                                     "WHERE statement LIKE '%%anon_1.part%%'").all()
    assert plans == [(3, 5)]  # prepared once; five custom plans, then one generic plan kept


@pytest.mark.postgres_only
def test_a_wallet_read_that_meets_a_connection_the_server_closed_is_run_again_on_a_fresh_one(
        isolated_engine, owner_engine, settings, clock):
    """The wallet's statement runs on the driver itself (infra.db.driver_rows): its lost connection
    must still be thrown away and the read run again, as SQLAlchemy's own execute would have it."""
    from sqlalchemy import text

    from api import create_app
    from tests.conftest import PASSWORD

    client = create_app({"SETTINGS": settings, "ENGINE": isolated_engine, "CLOCK": clock}).test_client()
    partner = client.post("/api/v1/auth/register", json={"email": "lost@example.com", "password": PASSWORD,
                                                         "name": "L", "country": "AE"}).json
    headers = {"Authorization": f"Bearer {partner['access_token']}"}
    assert client.get("/api/v1/me/wallet", headers=headers).json["balance"] == 0
    assert isolated_engine.pool.checkedin() == 1
    with isolated_engine.connect() as conn:  # the pool's one connection, which the next request gets
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
    with owner_engine.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar() is True

    response = client.get("/api/v1/me/wallet", headers=headers)

    assert response.status_code == 200 and response.json["balance"] == 0
    with isolated_engine.connect() as conn:
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != pid
