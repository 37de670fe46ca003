"""Where one till purchase's time goes, in process, and what the ledger's guards cost it.

Runs on the database that ``bench/wallet.py`` seeded (``bench_wallet``; its purchases add
entries to ordinary members only). Through the Flask test client, one request at a time:

1. **The guards** (issue #13): ``POST /api/v1/pos/purchases`` by three apps on the same
   database, taking turns in batches of 20 so that noise falls on all alike:
   - ``app role``: as ``partner_wallet_app``, every trigger on (what production runs);
   - ``owner, triggers on``: as the superuser ``postgres``;
   - ``owner, replica``: as ``postgres`` with ``session_replication_role = replica``,
     which switches off every trigger: the ledger's guards *and* the foreign-key checks.
   Reported: wall ms per purchase (median), the part spent in SQL statements and COMMIT,
   and, from ``pg_stat_user_functions`` (``track_functions = pl`` on the owner's
   connections), the time PostgreSQL spent in each guard function per purchase.
2. **The profile**: cProfile over ``--profile-requests`` purchases by the app role, self
   time grouped by package (psycopg, SQLAlchemy, Flask, ...), and the top functions.

    .venv/bin/python bench/purchase_profile.py [--requests 200] [--profile-requests 300]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import re
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import app_environment, log  # noqa: E402

OWNER = os.environ.get("BENCH_WALLET_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/bench_wallet")
APP_ROLE = "partner_wallet_app"
CASHIER_EMAIL = "cashier@bench-wallet.example.com"
PASSWORD = "bench-wallet-password"
HOT_LAST = 10
GUARDS = ("ledger_check_running_balance", "ledger_check_balanced", "ledger_check_cached_balance",
          "ledger_check_lot_remaining", "ledger_refuse_change", "ledger_refuse_lot_rewrite")


def with_options(url: str, user: str, options: str | None) -> str:
    from sqlalchemy.engine import make_url

    u = make_url(url).set(username=user, password=None)
    if options:
        u = u.update_query_dict({"options": options})
    return u.render_as_string(hide_password=False)


class Client:
    """One app (own engine) with its cashier's token, timing statements and COMMITs."""

    def __init__(self, name: str, url: str, env: dict[str, str]) -> None:
        from sqlalchemy import event

        os.environ.update(env)
        os.environ["DATABASE_URL"] = url
        from api import create_app

        self.name = name
        self.app = create_app()
        self.engine = self.app.extensions["engine"]
        self.sql = 0.0
        self.statements = 0
        start = {"t": 0.0}

        @event.listens_for(self.engine, "before_cursor_execute")
        def _before(*_a: Any) -> None:
            start["t"] = time.perf_counter()

        @event.listens_for(self.engine, "after_cursor_execute")
        def _after(*_a: Any) -> None:
            self.sql += time.perf_counter() - start["t"]
            self.statements += 1

        commit_start = {"t": 0.0}

        @event.listens_for(self.engine, "commit")
        def _commit(*_a: Any) -> None:
            commit_start["t"] = time.perf_counter()

        # The commit event fires before the DBAPI commit; time the DBAPI call itself instead.
        self.commit = 0.0
        original = self.engine.dialect.do_commit

        def do_commit(dbapi_connection: Any) -> None:
            t = time.perf_counter()
            original(dbapi_connection)
            self.commit += time.perf_counter() - t

        self.engine.dialect.do_commit = do_commit  # type: ignore[method-assign]
        self.client = self.app.test_client()
        r = self.client.post("/api/v1/auth/login", json={"email": CASHIER_EMAIL, "password": PASSWORD})
        assert r.status_code == 200, r.get_data(as_text=True)
        self.headers = {"Authorization": f"Bearer {r.get_json()['access_token']}"}

    def purchase(self, member_number: str) -> tuple[float, float]:
        self.sql = self.commit = 0.0
        t = time.perf_counter()
        r = self.client.post("/api/v1/pos/purchases", headers=self.headers, json={
            "member_number": member_number, "receipt_number": f"pp-{secrets.token_hex(8)}",
            "total": {"amount": "129.50", "currency": "AED"}})
        wall = time.perf_counter() - t
        if r.status_code != 201:
            raise RuntimeError(f"{self.name}: {r.status_code} {r.get_data(as_text=True)[:300]}")
        return wall, self.sql + self.commit


def function_times(conn: Any) -> dict[str, tuple[int, float]]:
    rows = conn.execute("SELECT funcname, calls, self_time FROM pg_stat_user_functions").fetchall()
    return {name: (calls, ms) for name, calls, ms in rows}


def guards(env: dict[str, str], members: list[str], requests: int, rng: random.Random) -> list[str]:
    import psycopg

    clients = [
        Client("app role (production)", with_options(OWNER, APP_ROLE, None), env),
        Client("owner, triggers on", with_options(OWNER, "postgres", "-c track_functions=pl"), env),
        Client("owner, session_replication_role = replica",
               with_options(OWNER, "postgres", "-c track_functions=pl -c session_replication_role=replica"), env),
    ]
    for c in clients:  # warm-up: caches, connections
        for _ in range(10):
            c.purchase(rng.choice(members))
    walls: dict[str, list[float]] = {c.name: [] for c in clients}
    sqls: dict[str, list[float]] = {c.name: [] for c in clients}
    with psycopg.connect(OWNER, autocommit=True) as monitor:
        monitor.execute("SELECT pg_stat_clear_snapshot()")
        before = function_times(monitor)
        on_count = 0
        for batch in range(requests // 20):
            for c in clients:
                for _ in range(20):
                    wall, sql = c.purchase(rng.choice(members))
                    walls[c.name].append(wall)
                    sqls[c.name].append(sql)
                    on_count += c.name == "owner, triggers on"
        time.sleep(1)  # function statistics are flushed at most every 0.5 s (PostgreSQL 15)
        monitor.execute("SELECT pg_stat_clear_snapshot()")
        after = function_times(monitor)
    lines = ["| connection | purchases | wall ms (median) | in SQL + COMMIT ms (median) | mean wall ms |",
             "|---|---:|---:|---:|---:|"]
    for c in clients:
        lines.append(f"| {c.name} | {len(walls[c.name])} | {1000 * statistics.median(walls[c.name]):.2f} "
                     f"| {1000 * statistics.median(sqls[c.name]):.2f} | {1000 * statistics.mean(walls[c.name]):.2f} |")
    lines += ["", f"Guard functions on the owner's triggers-on connection ({on_count} purchases; "
                  "pg_stat_user_functions, self time):", "",
              "| function | calls per purchase | µs per purchase |", "|---|---:|---:|"]
    total = 0.0
    for name in GUARDS:
        calls = after.get(name, (0, 0.0))[0] - before.get(name, (0, 0.0))[0]
        ms = after.get(name, (0, 0.0))[1] - before.get(name, (0, 0.0))[1]
        if calls:
            total += ms
            lines.append(f"| {name} | {calls / on_count:.2f} | {1000 * ms / on_count:.0f} |")
    lines.append(f"| all guards | | {1000 * total / max(on_count, 1):.0f} |")
    for c in clients:
        c.engine.dispose()
    return lines


def package_of(filename: str) -> str:
    m = re.search(r"site-packages/([A-Za-z0-9_]+)", filename)
    if m:
        return m.group(1)
    if "/h-bench/" in filename or filename.startswith(str(Path(__file__).resolve().parent.parent)):
        root = Path(__file__).resolve().parent.parent
        try:
            rel = Path(filename).resolve().relative_to(root)
            return "project: " + "/".join(rel.parts[:2])
        except ValueError:
            pass
    if filename.startswith("~") or filename == "<built-in>":
        return "builtins (C)"
    return "stdlib" if "/lib/python3" in filename else filename[:40]


def profile(env: dict[str, str], members: list[str], requests: int, rng: random.Random) -> list[str]:
    c = Client("app role", with_options(OWNER, APP_ROLE, None), env)
    for _ in range(20):
        c.purchase(rng.choice(members))
    prof = cProfile.Profile()
    walls = []
    prof.enable()
    for _ in range(requests):
        walls.append(c.purchase(rng.choice(members))[0])
    prof.disable()
    stats = pstats.Stats(prof)
    by_package: dict[str, float] = {}
    total = 0.0
    for (filename, _line, func), (_cc, _nc, tt, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        key = package_of(filename)
        if key == "builtins (C)":
            # Attribute C calls by name: psycopg's C/socket work shows up as builtins.
            key = "builtins: " + (func.split(" of ")[0].strip("<>").split(".")[0][:40])
        by_package[key] = by_package.get(key, 0.0) + tt
        total += tt
    lines = [f"cProfile of {requests} purchases (app role), median wall {1000 * statistics.median(walls):.2f} ms "
             f"under the profiler; self time by package, per purchase:", "",
             "| package | ms per purchase | share |", "|---|---:|---:|"]
    for key, tt in sorted(by_package.items(), key=lambda kv: -kv[1])[:16]:
        lines.append(f"| {key} | {1000 * tt / requests:.2f} | {100 * tt / total:.0f}% |")
    cum = sorted(((ct, f"{Path(fn).name}:{ln} {func}") for (fn, ln, func), (_cc, _nc, _tt, ct, _c) in
                  stats.stats.items()), reverse=True)  # type: ignore[attr-defined]
    lines += ["", "Cumulative time of selected functions, ms per purchase:", ""]
    wanted = re.compile(r"pos\.py.*purchase|purchases\.py.*book|_flush|flush |do_commit|commit|execute|"
                        r"dump|jwt|decode|limiter|_check_request_limit|cached|compile|wsgi_app|full_dispatch")
    shown = 0
    for ct, name in cum:
        if wanted.search(name) and shown < 25:
            lines.append(f"- {1000 * ct / requests:.2f} `{name}`")
            shown += 1
    c.engine.dispose()
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="purchases per connection kind (default 200)")
    parser.add_argument("--profile-requests", type=int, default=300)
    args = parser.parse_args()
    import psycopg

    with psycopg.connect(OWNER) as conn:
        members = [r[0] for r in conn.execute("SELECT member_number FROM members WHERE id > %s", (HOT_LAST,))]
    rng = random.Random(5)
    with tempfile.TemporaryDirectory(prefix="bench-purchase-") as tmp:
        env = app_environment(OWNER, Path(tmp) / "instance")
        env = {k: v for k, v in env.items() if k != "DATABASE_URL"}
        log(f"guards: {args.requests} purchases per connection kind, load {os.getloadavg()[0]:.2f}")
        out = guards(env, members, args.requests, rng)
        print("\n".join(out) + "\n")
        log(f"profile: {args.profile_requests} purchases, load {os.getloadavg()[0]:.2f}")
        print("\n".join(profile(env, members, args.profile_requests, rng)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
