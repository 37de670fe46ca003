"""No voucher code or PIN can be found in plain text anywhere in the database: a dump of all of it,
after codes were uploaded, redeemed (with an Idempotency-Key, whose answer is stored), made by the
program, shown to their owner and taken at a till, holds none of them, in any spelling."""

from __future__ import annotations

import base64
import io
import shutil
import subprocess
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from api import create_app
from tests.conftest import IN_CI, PASSWORD, Clock
from wallet.members import accounts

VENDOR = [("AMZN-7Q2K-PLMX-0042", "8731"), ("steam-wallet-55rt-zz01", "0917"), ("Noon GC 99X1 A7B2", "")]
REWARD = {"kind": "voucher", "category": "retail", "country": "AE", "points_cost": 100,
          "names": {"en": "Gift card"}, "low_stock_threshold": 0}


def _login(client: FlaskClient, email: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.json
    return {"Authorization": f"Bearer {response.json['access_token']}"}


def _exercise(client: FlaskClient, factory: Any, clock: Clock) -> list[str]:
    """Every path a code travels, through the API; returns the secrets that went through."""
    with factory() as session:
        accounts.create_staff(session, email="admin@example.com", password=PASSWORD, name="A", role="admin", now=clock())
        store = accounts.create_store(session, name="Till", country="AE", currency="AED", now=clock())
        accounts.create_staff(session, email="till@example.com", password=PASSWORD, name="C", role="cashier",
                              store_id=store.id, now=clock())
        session.commit()
    admin, till = _login(client, "admin@example.com"), _login(client, "till@example.com")
    registered = client.post("/api/v1/auth/register", json={"email": "p@example.com", "password": PASSWORD,
                                                            "name": "P", "country": "AE"}).json
    partner = {"Authorization": f"Bearer {registered['access_token']}"}
    assert client.post("/api/v1/pos/purchases", headers=till, json={
        "member_number": registered["member"]["member_number"], "receipt_number": "R1",
        "total": {"amount": "1000.00", "currency": "AED"}}).status_code == 201

    pool = client.post("/api/v1/admin/rewards", json=REWARD, headers=admin).json
    csv = "code,pin\n" + "\n".join(f"{code},{pin}" for code, pin in VENDOR) + "\n"
    upload = client.post(f"/api/v1/admin/rewards/{pool['id']}/codes", headers=admin, content_type="multipart/form-data",
                         data={"file": (io.BytesIO(csv.encode()), "codes.csv")})
    assert upload.json["imported"] == 3
    made = client.post("/api/v1/admin/rewards", json={**REWARD, "code_source": "generated"}, headers=admin).json

    secrets: list[str] = []
    for reward_id, quantity, key in ((pool["id"], 3, "r-1"), (made["id"], 2, "r-2")):
        redeemed = client.post("/api/v1/me/redemptions", json={"reward_id": reward_id, "quantity": quantity},
                               headers={**partner, "Idempotency-Key": key})
        assert redeemed.status_code == 201, redeemed.json
        for voucher in redeemed.json["vouchers"]:
            shown = client.get(f"/api/v1/me/vouchers/{voucher['id']}", headers=partner).json
            secrets += [shown["code"]] + ([shown["pin"]] if shown["pin"] else [])
    assert sorted(s for s in secrets if "-" in s and len(s) == 19 and s.isupper()) != []
    assert client.get("/api/v1/me/vouchers", headers=partner).status_code == 200
    assert client.post("/api/v1/pos/vouchers/redeem", json={"code": secrets[0]}, headers=till).status_code == 200
    assert client.post("/api/v1/pos/vouchers/redeem", json={"code": secrets[0]}, headers=till).status_code == 409
    return secrets


def _spellings(secret: str) -> set[str]:
    """Ways a secret could sit in a dump: as written, normalised, and as hex or base64 of its bytes."""
    normal = "".join(secret.split()).replace("-", "").upper()
    found = set()
    for form in {secret, secret.upper(), secret.lower(), normal}:
        raw = form.encode()
        found |= {form, raw.hex(), raw.hex().upper(), base64.b64encode(raw).decode().rstrip("=")}
    return {f for f in found if len(f) >= 4}


def _assert_nowhere(dump: str, secrets: list[str]) -> None:
    assert len(dump) > 5_000, "the dump looks empty"
    for secret in secrets:
        for spelling in _spellings(secret):
            if len(spelling) >= 8 or not spelling.isdigit():
                assert spelling not in dump, f"{secret!r} found in the dump as {spelling!r}"
    for pin in (pin for _, pin in VENDOR if pin):  # short PINs: at least never beside the word pin
        assert f"pin', '{pin}" not in dump and f"pin\": \"{pin}" not in dump


def _dump_in_transaction(connection: Any) -> str:
    """Every row of every table as text, read on the test's own connection (what it wrote is not
    committed, so an outside pg_dump could not see it): SQLite's iterdump, or each PostgreSQL row
    cast to text (bytea as hex)."""
    if connection.dialect.name == "sqlite":
        return "\n".join(connection.connection.dbapi_connection.iterdump())
    tables = connection.execute(text("SELECT table_name FROM information_schema.tables "
                                     "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'")).scalars()
    lines = []
    for table in tables:
        lines.append(f"-- {table}")
        lines += connection.execute(text(f'SELECT CAST(t AS text) FROM "{table}" t')).scalars()
    return "\n".join(lines)


def test_a_dump_of_every_table_holds_no_code_in_plain_text(connection, app, client, clock, settings):
    # given every path a code travels
    secrets = _exercise(client, app.extensions["sessionmaker"], clock)
    assert len(secrets) == 7  # 3 vendor codes, 2 vendor PINs, 2 generated codes

    # when everything is dumped
    dump = _dump_in_transaction(connection)

    # then the codes are there only as their keyed hashes
    from wallet.rewards.codes import normalize, vault_from_settings

    vault = vault_from_settings(settings)
    assert all(vault.lookup_hash(normalize(code)) in dump for code, _ in VENDOR)
    assert "reward_codes" in dump and "idempotency_records" in dump
    _assert_nowhere(dump, secrets)


@pytest.mark.postgres_only
def test_a_pg_dump_of_the_postgresql_database_holds_no_code_in_plain_text(isolated_engine, settings):
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        message = "pg_dump is not installed (Debian: postgresql-client)"
        pytest.fail(message) if IN_CI else pytest.skip(message)
    # given everything a code goes through, committed for real
    clock = Clock()
    app = create_app({"SETTINGS": settings, "ENGINE": isolated_engine, "CLOCK": clock, "TESTING": True})
    secrets = _exercise(app.test_client(), app.extensions["sessionmaker"], clock)

    # when the whole schema is dumped, data and all
    with isolated_engine.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    url = make_url(isolated_engine.url.render_as_string(hide_password=False)).set(drivername="postgresql",
                                                                                 username="postgres")
    dump = subprocess.run([pg_dump, "--dbname", url.render_as_string(hide_password=False), "--schema", schema,
                           "--data-only", "--no-owner"], capture_output=True, text=True, check=True, timeout=120).stdout

    # then
    assert "COPY" in dump and "reward_codes" in dump
    _assert_nowhere(dump, secrets)
