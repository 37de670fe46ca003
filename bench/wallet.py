"""Benchmark of the points wallet on PostgreSQL: till purchases, the wallet, and its history.

What it measures (gunicorn on 127.0.0.1, wrk -t1 --latency, a fixed time per point)
    1. ``POST /api/v1/pos/purchases`` with a cashier's token, every request with its own
       receipt number, at 16 and 64 connections: spread over ~100,000 members at random
       ("many members"), and all on one member ("hot member", which serialises on that
       member's account row lock; a fresh member for each point).
    2. ``GET /api/v1/me/wallet`` at 16 and 64 connections, 32 ordinary members' tokens in turn.
    3. ``GET /api/v1/me/wallet`` and ``GET /api/v1/me/wallet/transactions?limit=10`` for a
       member with 10 ledger entries and for one with 100,000 (same server, same run), at
       1 and 16 connections; and a history page from the middle of the long history.
    ``GET /healthz`` (no auth, no database) is measured at the start and at the end at 16
    and 64 connections; the machine is small and shared, so every req/s is also given as
    a ratio to /healthz req/s at the same connection count (the mean of the two /healthz
    runs), and every latency as a multiple of /healthz's at the same percentile.
    Responses are counted by status; the gunicorn log is searched for exceptions. After
    the runs, the ledger invariants are checked again, and in-process (Flask test client,
    one request at a time) the script counts the SQL statements and the database time of
    each endpoint and runs EXPLAIN ANALYZE on every SELECT of the wallet endpoints for
    both members (raw plans under bench/results/).

Data (``--skip-seed`` reuses it)
    Drops and recreates the database ``bench_wallet`` on 127.0.0.1:5432 (user postgres,
    trust auth), migrates it with ``flask --app wsgi db upgrade``, and bulk-loads with SQL:
    100,000 partners (users + members, AE; one argon2 hash shared by all; member numbers
    of 10 random digits + Damm check digit, made in Python and COPYed in), a store (AE,
    AED) and its cashier, and 1,000,000 earn transactions of two entries each (the
    member's points account +points, the program's issuance account -points), spread
    evenly over the last 700 days, with one point lot per earn (24 months to expiry,
    nothing spent), qualifying_days, cached balances and lifetime_earned, and each
    member's tier from its last 12 months. Member 1 has 100,000 entries, member 2 has 10,
    the others ~9 each. Triggers are off for the load (session_replication_role =
    replica); the invariants (every transaction sums to zero; balance = sum of entries =
    sum of lots' remaining) are checked afterwards, then VACUUM ANALYZE and CHECKPOINT.
    Takes a few minutes.

How
    Waits (polling every 30 s, 20 minutes at most) until no other wrk, gunicorn, celery or
    bench/*.py (bench/me.py, bench/campaign.py, ...) runs on the machine. Starts gunicorn on 127.0.0.1:PORT (default 8093)
    with DATABASE_URL, fresh 40-character SECRET_KEY and JWT_SECRET,
    ACCESS_TOKEN_SECONDS=3600 and RATE_LIMIT_LOGIN/RATE_LIMIT_SCAN at 100000 per minute,
    signs in through ``POST /api/v1/auth/login``, warms up, runs the points above, and
    stops the server (also on an error, Ctrl-C or SIGTERM). Configurations: ``gthread``
    (``--workers 2 --threads 4``, what ``make run`` uses) and ``sync`` (``--workers 4``).
    Prints markdown tables; raw results, gunicorn logs and plans go to
    bench/results/wallet-<time>/ (git-ignored).

Run from the project root::

    .venv/bin/python bench/wallet.py                      # seed + both configs: ~20 minutes
    .venv/bin/python bench/wallet.py --skip-seed --configs gthread --duration 5
    .venv/bin/python bench/wallet.py --seed-only

Purchases add entries to members 3.. (never to members 1 and 2), so a ``--skip-seed``
run measures a slightly grown database; the recorded figures come from a fresh seed.
Needs wrk (``apt-get install wrk``; installed by the script when run as root).
``BENCH_WALLET_DATABASE_URL`` overrides the database URL.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import random
import re
import resource
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import (  # noqa: E402  (bench/ is on sys.path when the script runs)
    CONFIGS,
    HOST,
    ROOT,
    app_environment,
    children,
    ensure_wrk,
    git_revision,
    http,
    log,
    machine_cpu,
    migrate,
    port_in_use,
    proc_cpu,
    run_wrk,
    start_server,
    stop_server,
    wait_ready,
)

BENCH = Path(__file__).resolve().parent
READ_LUA = BENCH / "wallet_read.lua"
PURCHASE_LUA = BENCH / "wallet_purchase.lua"
sys.path.insert(0, str(ROOT))

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/bench_wallet"
PROTECTED_DATABASES = {"test", "devtest", "postgres", "template0", "template1", "bench"}
DEFAULT_PORT = 8093  # bench/me.py uses 8077 and 8078

MEMBERS = 100_000
TRANSACTIONS = 1_000_000
HEAVY, LIGHT = 1, 2  # member ids (= user ids = points account ids)
HOT_FIRST = 3  # members 3..10: one fresh "hot" member per hot purchase point
HOT_LAST = 10
ISSUANCE_ACCOUNT = MEMBERS + 1
CASHIER_USER = MEMBERS + 1
PASSWORD = "bench-wallet-password"
PARTNER_EMAIL = "partner-{}@bench-wallet.example.com"
CASHIER_EMAIL = "cashier@bench-wallet.example.com"
TYPICAL_TOKENS = 32
APP_ROLE = "partner_wallet_app"  # made by the migrations; owns nothing


def as_role(url: str, role: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(username=role, password=None).render_as_string(hide_password=False)







# --- waiting for a quiet machine ------------------------------------------------------


def _ancestors() -> set[int]:
    pids, pid = set(), os.getpid()
    for _ in range(64):
        pids.add(pid)
        try:
            pid = int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            break
        if pid <= 1:
            break
    return pids


def other_benchmarks() -> list[str]:
    """Command lines of other wrk, gunicorn, celery or bench/*.py processes on the machine."""
    out = subprocess.run(["pgrep", "-af", r"wrk|gunicorn|celery|bench/[A-Za-z_]+\.py"], capture_output=True, text=True,
                         timeout=10).stdout
    mine = _ancestors()
    found = []
    for line in out.splitlines():
        pid, _, cmd = line.partition(" ")
        if pid.isdigit() and int(pid) not in mine:
            found.append(line[:160])
    return found


# --max-wait: the seconds all the waits of one run may take together (None: each wait as below).
WAIT_BUDGET: dict[str, float | None] = {"left": None}


def wait_for_quiet(poll: int = 30, limit: int = 20 * 60, load_grace: int = 3 * 60) -> str:
    """Wait until no other benchmark runs; returns the load averages when it went.

    Polls every ``poll`` s for at most ``limit`` s. Once no other benchmark is seen, also
    waits (at most ``load_grace`` s) for the 1-minute load to fall below 1.5, since a
    benchmark that just ended leaves it high; other work (tests, builds) may keep it up,
    so after the grace it goes anyway. Gives up (exits) after ``limit``.
    """
    budget = WAIT_BUDGET["left"]
    if budget is not None:
        return _wait_within_budget(poll, budget, load_grace)
    deadline = time.monotonic() + limit
    quiet_since = None
    for _ in range(limit // poll + load_grace // poll + 2):
        busy = other_benchmarks()
        load = os.getloadavg()
        if busy:
            quiet_since = None
            log(f"another benchmark is running (load {load[0]:.2f}); waiting {poll} s: {busy[0]}")
        else:
            quiet_since = quiet_since or time.monotonic()
            if load[0] < 1.5 or time.monotonic() - quiet_since >= load_grace:
                return f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
            log(f"no other benchmark, but the 1-min load is {load[0]:.2f}; waiting {poll} s")
        if time.monotonic() > deadline:
            break
        time.sleep(poll)
    sys.exit(f"the machine is still busy after {limit // 60} minutes: {other_benchmarks()}")


def _wait_within_budget(poll: int, budget: float, load_grace: int) -> str:
    """wait_for_quiet under --max-wait: the same conditions, but when the run's budget is
    spent it goes anyway (and says so in the returned load string) instead of exiting."""
    started = time.monotonic()
    quiet_since = None
    while True:
        busy = other_benchmarks()
        load = os.getloadavg()
        figures = f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
        waited = time.monotonic() - started
        if busy:
            quiet_since = None
        else:
            quiet_since = quiet_since or time.monotonic()
            if load[0] < 1.5 or time.monotonic() - quiet_since >= load_grace:
                WAIT_BUDGET["left"] = max(0.0, budget - waited)
                return figures
        if waited + poll > budget:
            WAIT_BUDGET["left"] = 0.0
            what = f"another benchmark running: {busy[0]}" if busy else "load above 1.5"
            log(f"--max-wait spent; going on although the machine is busy ({what}; load {figures})")
            return f"{figures} (not quiet: {what[:80]})"
        log(f"{'another benchmark is running' if busy else 'the 1-min load is ' + f'{load[0]:.2f}'}; waiting {poll} s"
            + (f": {busy[0]}" if busy else ""))
        time.sleep(poll)


# --- set-up ---------------------------------------------------------------------------






def recreate_database(database_url: str) -> None:
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = conninfo_to_dict(database_url)["dbname"]
    if name in PROTECTED_DATABASES:
        sys.exit(f"refusing to drop the database {name!r}")
    admin = make_conninfo(database_url, dbname="postgres", connect_timeout=5)
    with psycopg.connect(admin, autocommit=True) as conn:
        log(f"dropping and creating database {name}")
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))




def member_numbers_for(count: int) -> list[str]:
    """``count`` distinct valid member numbers (10 digits, no leading zero, + Damm), reproducibly."""
    from wallet.members import numbers as member_numbers

    rng = random.Random(20261123)
    seen: set[str] = set()
    out = []
    for _ in range(count * 2):  # collisions among 9e9 bodies are rare; bounded anyway
        if len(out) == count:
            break
        body = str(rng.randrange(10 ** 9, 10 ** 10))
        if body in seen:
            continue
        seen.add(body)
        number = body + str(member_numbers.damm_digit(body))
        assert member_numbers.normalize(number) == number
        out.append(number)
    assert len(out) == count
    return out


SEED_SQL = [
    # The store and its cashier; the partners. One argon2 hash for everyone.
    """INSERT INTO stores (id, name, country, city, currency, is_active, created_at)
       VALUES (1, 'Bench Store Dubai', 'AE', 'Dubai', 'AED', true, %(t0)s - interval '800 days')""",
    """INSERT INTO users (id, email, password_hash, name, role, store_id, is_active, created_at)
       SELECT g, replace(%(email)s, '{}', g::text), %(hash)s, 'Bench Partner ' || g, 'partner', NULL, true,
              %(t0)s - interval '800 days'
       FROM generate_series(1, %(members)s) AS g""",
    """INSERT INTO users (id, email, password_hash, name, role, store_id, is_active, created_at)
       VALUES (%(cashier)s, %(cashier_email)s, %(hash)s, 'Bench Cashier', 'cashier', 1, true,
               %(t0)s - interval '800 days')""",
    # The earn transactions: every 10th is the heavy member's (100,000), ten are the light
    # member's, the rest spread over members 3.. (a bijection mod 99,998, so ~9 each).
    """CREATE TEMP TABLE seed_tx AS
       SELECT g::bigint AS id,
              CASE WHEN g %% 10 = 0 THEN %(heavy)s
                   WHEN g %% 100000 = 7 THEN %(light)s
                   ELSE 3 + (g::bigint * 48271) %% (%(members)s - 2) END::bigint AS account_id,
              (10 + (g::bigint * 7919) %% 491)::bigint AS points,
              %(t0)s - (%(transactions)s - g) * (interval '700 days' / %(transactions)s) AS created_at
       FROM generate_series(1, %(transactions)s) AS g""",
    "CREATE INDEX ON seed_tx (account_id)",
    """CREATE TEMP TABLE seed_sums AS
       SELECT account_id, sum(points) AS total,
              sum(points) FILTER (WHERE (created_at AT TIME ZONE 'UTC')::date
                                        >= (%(t0)s AT TIME ZONE 'UTC')::date - 364) AS qualifying
       FROM seed_tx GROUP BY account_id""",
    # The migrations make the program's four accounts (ids 1-4): move them past the members',
    # so that member i keeps account id i and issuance is %(issuance)s.
    """UPDATE ledger_accounts SET id = %(issuance)s + CASE kind WHEN 'issuance' THEN 0 WHEN 'redemption' THEN 1
                                                            WHEN 'expiry' THEN 2 ELSE 3 END
       WHERE owner_type = 'program'""",
    """INSERT INTO ledger_accounts (id, owner_type, owner_id, kind, balance, lifetime_earned, created_at)
       SELECT g, 'member', g, 'points', coalesce(s.total, 0), coalesce(s.total, 0), %(t0)s - interval '800 days'
       FROM generate_series(1, %(members)s) AS g LEFT JOIN seed_sums s ON s.account_id = g
       ORDER BY g""",
    """INSERT INTO members (id, user_id, member_number, phone, country, language, timezone, company_name,
                            marketing_opt_in, tier, referred_by_id, created_at)
       SELECT n.id, n.id, n.member_number, NULL, 'AE', 'en', 'Asia/Dubai', 'Bench Trading ' || n.id, false,
              (SELECT t.code FROM tiers t WHERE t.min_points <= coalesce(s.qualifying, 0)
               ORDER BY t.rank DESC LIMIT 1),
              NULL, %(t0)s - interval '800 days'
       FROM seed_numbers n LEFT JOIN seed_sums s ON s.account_id = n.id
       ORDER BY n.id""",
    """INSERT INTO ledger_transactions (id, type, account_id, idempotency_key, description, reference,
                                        reverses_id, reason, actor_user_id, breakdown, shortfall, created_at)
       SELECT id, 'earn', account_id, NULL, 'Purchase at Bench Store Dubai', 'receipt S' || id, NULL, NULL,
              NULL, json_build_array(json_build_object('rule', 'base', 'label', '1 per 1 AED', 'points', points)),
              0, created_at
       FROM seed_tx ORDER BY id""",
    """INSERT INTO ledger_entries (id, transaction_id, account_id, amount, balance_after, created_at)
       SELECT * FROM (
           SELECT 2 * id - 1 AS id, id AS transaction_id, account_id, points AS amount,
                  sum(points) OVER (PARTITION BY account_id ORDER BY id) AS balance_after, created_at
           FROM seed_tx
           UNION ALL
           SELECT 2 * id, id, %(issuance)s, -points, NULL, created_at FROM seed_tx
       ) AS e ORDER BY id""",
    """INSERT INTO point_lots (id, account_id, transaction_id, points, remaining, earned_at, expires_at)
       SELECT id, account_id, id, points, points, created_at, created_at + interval '24 months'
       FROM seed_tx ORDER BY id""",
    """INSERT INTO qualifying_days (account_id, day, points)
       SELECT account_id, (created_at AT TIME ZONE 'UTC')::date, sum(points) FROM seed_tx GROUP BY 1, 2 ORDER BY 1, 2""",
]
SEQUENCED = ("stores", "users", "members", "ledger_accounts", "ledger_transactions", "ledger_entries", "point_lots")

INVARIANTS = {
    "transactions whose entries do not sum to zero":
        "SELECT count(*) FROM (SELECT transaction_id FROM ledger_entries GROUP BY 1 HAVING sum(amount) <> 0) AS x",
    "member accounts whose balance is not the sum of entries and of lots' remaining": """
        SELECT count(*) FROM ledger_accounts a
        LEFT JOIN (SELECT account_id, sum(amount) AS s FROM ledger_entries GROUP BY 1) e ON e.account_id = a.id
        LEFT JOIN (SELECT account_id, sum(remaining) AS s FROM point_lots GROUP BY 1) l ON l.account_id = a.id
        WHERE a.owner_type = 'member' AND (a.balance <> coalesce(e.s, 0) OR a.balance <> coalesce(l.s, 0)
                                           OR a.balance < 0)""",
    "member accounts whose latest entry's balance_after is not the balance": """
        SELECT count(*) FROM ledger_accounts a
        JOIN LATERAL (SELECT balance_after FROM ledger_entries WHERE account_id = a.id ORDER BY id DESC LIMIT 1) le
          ON true
        WHERE a.owner_type = 'member' AND le.balance_after IS DISTINCT FROM a.balance""",
}


def check_invariants(database_url: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(database_url, connect_timeout=5) as conn:
        conn.execute("SET work_mem = '256MB'")
        return {name: conn.execute(query).fetchone()[0] for name, query in INVARIANTS.items()}


def seed(database_url: str, env: dict[str, str]) -> dict[str, Any]:
    import psycopg

    from wallet.members.passwords import hash_password

    recreate_database(database_url)
    migrate(env)
    started = time.monotonic()
    t0 = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(hours=1)
    params = {
        "t0": t0, "email": PARTNER_EMAIL, "cashier_email": CASHIER_EMAIL, "hash": hash_password(PASSWORD),
        "members": MEMBERS, "transactions": TRANSACTIONS, "heavy": HEAVY, "light": LIGHT,
        "issuance": ISSUANCE_ACCOUNT, "cashier": CASHIER_USER,
    }
    numbers = member_numbers_for(MEMBERS)
    with psycopg.connect(database_url, connect_timeout=5) as conn:
        conn.execute("SET session_replication_role = replica")  # no triggers (nor FK checks) during the load
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET work_mem = '256MB'")
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute("SET TimeZone = 'UTC'")
        conn.execute("CREATE TEMP TABLE seed_numbers (id bigint PRIMARY KEY, member_number text NOT NULL)")
        with conn.cursor().copy("COPY seed_numbers (id, member_number) FROM STDIN") as copy:
            for i, number in enumerate(numbers, start=1):
                copy.write_row((i, number))
        for statement in SEED_SQL:
            step = time.monotonic()
            conn.execute(statement, params)
            log(f"seed: {' '.join(statement.split())[:70]}... {time.monotonic() - step:.1f} s")
        for table in SEQUENCED:
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        conn.execute("SET session_replication_role = DEFAULT")
        conn.commit()
    log("checking the invariants")
    broken = check_invariants(database_url)
    if any(broken.values()):
        raise RuntimeError(f"the seeded ledger breaks its invariants: {broken}")
    with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as conn:
        log("VACUUM ANALYZE, CHECKPOINT")
        conn.execute("VACUUM ANALYZE")
        conn.execute("CHECKPOINT")
        counts = dict(conn.execute(
            "SELECT account_id, count(*) FROM ledger_entries WHERE account_id IN (%s, %s) GROUP BY 1",
            (HEAVY, LIGHT)).fetchall())
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
    info = {"seconds": round(time.monotonic() - started), "heavy_entries": counts.get(HEAVY),
            "light_entries": counts.get(LIGHT), "database_size": size}
    log(f"seeded in {info['seconds']} s: {info}")
    return info


# --- the server -----------------------------------------------------------------------












def login(base: str, email: str) -> str:
    status, body = http("POST", f"{base}/api/v1/auth/login", {"email": email, "password": PASSWORD})
    if status != 200:
        raise RuntimeError(f"login {email} answered {status}: {body[:300]!r}")
    return json.loads(body)["access_token"]


def encode_cursor(before: int) -> str:
    raw = json.dumps({"before": before}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# --- measuring ------------------------------------------------------------------------








class CpuMeter:
    """CPU taken during a run by the gunicorn workers, this database's PostgreSQL backends,
    wrk, and the rest of the machine (others' noise, plus PostgreSQL's WAL writer etc.)."""

    def __init__(self, server: subprocess.Popen[bytes], database_url: str) -> None:
        import psycopg

        self.server = server
        self.monitor = psycopg.connect(database_url, autocommit=True, connect_timeout=5)

    def close(self) -> None:
        self.monitor.close()

    def _snapshot(self) -> dict[str, Any]:
        db = [r[0] for r in self.monitor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")]
        return {
            "master": proc_cpu(self.server.pid) or 0.0,
            "workers": {pid: proc_cpu(pid) or 0.0 for pid in children(self.server.pid)},
            "db": {pid: proc_cpu(pid) or 0.0 for pid in db},
            "wrk": resource.getrusage(resource.RUSAGE_CHILDREN),
            "machine": machine_cpu(),
        }

    def start(self) -> None:
        self.before = self._snapshot()

    def stop(self) -> dict[str, Any]:
        after, before = self._snapshot(), self.before
        app = sum(v - before["workers"].get(pid, 0.0) for pid, v in after["workers"].items())
        app += after["master"] - before["master"]
        db = sum(v - before["db"].get(pid, 0.0) for pid, v in after["db"].items())
        wrk = sum(getattr(after["wrk"], f) - getattr(before["wrk"], f) for f in ("ru_utime", "ru_stime"))
        busy = after["machine"][0] - before["machine"][0]
        total = after["machine"][1] - before["machine"][1]
        return {"app_cpu_s": app, "db_cpu_s": db, "wrk_cpu_s": wrk,
                "machine_busy": busy / total if total else None,
                "rest_cpu": max(0.0, busy - app - db - wrk) / total if total else None}




def bench_config(config: str, *, wrk: str, port: int, duration: int, env: dict[str, str], database_url: str,
                 workdir: Path, hot_members: list[str], many_file: Path, heavy_mid_entry: int) -> dict[str, Any]:
    """Every point for one gunicorn configuration, on one server."""
    base = f"http://{HOST}:{port}"
    log_path = workdir / f"gunicorn-{config}.log"
    load = wait_for_quiet()
    log(f"{config}: machine quiet, load averages {load}")
    if port_in_use(port):  # checked right before starting: /healthz must be our server's
        raise RuntimeError(f"something already listens on {HOST}:{port}; pass --port")
    proc = start_server(config, port, env, log_path)
    meter = None
    runs: list[dict[str, Any]] = []
    try:
        wait_ready(proc, base, log_path)
        cashier = login(base, CASHIER_EMAIL)
        heavy = login(base, PARTNER_EMAIL.format(HEAVY))
        light = login(base, PARTNER_EMAIL.format(LIGHT))
        rng = random.Random(7)
        typical_ids = rng.sample(range(HOT_LAST + 1, MEMBERS + 1), TYPICAL_TOKENS)
        typical = [login(base, PARTNER_EMAIL.format(i)) for i in typical_ids]
        files = {}
        for name, tokens in (("none", []), ("typical", typical), ("heavy", [heavy]), ("light", [light])):
            files[name] = workdir / f"tokens-{name}.txt"
            files[name].write_text("".join(t + "\n" for t in tokens))

        # Sanity: every endpoint answers as expected before anything is timed.
        sizes = {}
        deep = f"/api/v1/me/wallet/transactions?limit=10&cursor={encode_cursor(heavy_mid_entry)}"
        for label, path, token in (("wallet light", "/api/v1/me/wallet", light),
                                   ("wallet heavy", "/api/v1/me/wallet", heavy),
                                   ("transactions light", "/api/v1/me/wallet/transactions?limit=10", light),
                                   ("transactions heavy", "/api/v1/me/wallet/transactions?limit=10", heavy),
                                   ("transactions heavy, middle page", deep, heavy)):
            status, body = http("GET", base + path, token=token)
            if status != 200:
                raise RuntimeError(f"{label}: {status} {body[:300]!r}")
            doc = json.loads(body)
            sizes[label] = {"bytes": len(body), "items": len(doc.get("items", doc.get("expiring", [])))}
        if sizes["transactions light"]["items"] != 10 or sizes["transactions heavy"]["items"] != 10:
            raise RuntimeError(f"unexpected history pages: {sizes}")
        status, body = http("POST", f"{base}/api/v1/pos/purchases", {
            "member_number": hot_members[-1], "receipt_number": f"check-{config}-{secrets.token_hex(4)}",
            "total": {"amount": "129.50", "currency": "AED"}}, token=cashier)
        if status != 201:
            raise RuntimeError(f"a purchase answered {status}: {body[:300]!r}")
        log(f"{config}: sanity checks passed; response sizes {sizes}")

        log(f"{config}: warming up")
        run_wrk(wrk, READ_LUA, f"{base}/api/v1/me/wallet", 16, 3, {"BENCH_TOKENS_FILE": str(files["typical"])})
        run_wrk(wrk, PURCHASE_LUA, f"{base}/api/v1/pos/purchases", 16, 3, {
            "BENCH_TOKEN": cashier, "BENCH_MEMBERS_FILE": str(many_file),
            "BENCH_RECEIPT_PREFIX": f"warm-{config}-{int(time.time())}"})
        run_wrk(wrk, READ_LUA, f"{base}/healthz", 16, 2, {"BENCH_TOKENS_FILE": str(files["none"])})

        hot_files = []
        for i, number in enumerate(hot_members[:4]):
            path = workdir / f"hot-{config}-{i}.txt"
            path.write_text(number + "\n")
            hot_files.append(path)
        wallet = f"{base}/api/v1/me/wallet"
        history = f"{base}/api/v1/me/wallet/transactions?limit=10"
        points: list[tuple[str, str, Path, str, int, dict[str, str]]] = []

        def read(name: str, url: str, tokens: str, conns: int) -> None:
            points.append((name, "read", READ_LUA, url, conns, {"BENCH_TOKENS_FILE": str(files[tokens])}))

        def buy(name: str, members: Path, conns: int) -> None:
            points.append((name, "purchase", PURCHASE_LUA, f"{base}/api/v1/pos/purchases", conns, {
                "BENCH_TOKEN": cashier, "BENCH_MEMBERS_FILE": str(members),
                "BENCH_RECEIPT_PREFIX": f"{config}-{int(time.time())}-{secrets.token_hex(3)}-{conns}"}))

        for c in (1, 16, 64):
            read("healthz (start)", f"{base}/healthz", "none", c)
        for c in (16, 64):
            read("wallet, 32 members", wallet, "typical", c)
        for c in (1, 16):
            read("wallet, 10 entries", wallet, "light", c)
            read("wallet, 100k entries", wallet, "heavy", c)
            read("transactions, 10 entries", history, "light", c)
            read("transactions, 100k entries", history, "heavy", c)
            read("transactions, 100k entries, middle page", base + deep, "heavy", c)
        for c in (16, 64):
            buy("purchase, many members", many_file, c)
        for i, c in enumerate((16, 64)):
            buy("purchase, one hot member", hot_files[i], c)
        for c in (1, 16, 64):
            read("healthz (end)", f"{base}/healthz", "none", c)

        meter = CpuMeter(proc, database_url)
        for name, kind, lua, url, conns, extra in points:
            time.sleep(1)
            meter.start()
            result = run_wrk(wrk, lua, url, conns, duration, extra)
            result.update(meter.stop(), config=config, name=name, kind=kind, connections=conns)
            bad = {k: v for k, v in result["statuses"].items() if not k.startswith("2")}
            sock = sum(result[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts"))
            log(f"{config} {name:42} c={conns:<3} {result['rps']:7.1f} req/s  p50 {result['p50_us'] / 1000:7.2f} ms"
                f"  p99 {result['p99_us'] / 1000:7.2f} ms  statuses {result['statuses']}"
                + (f"  socket errors {sock}" if sock else ""))
            if bad:
                log(f"  non-2xx responses: {bad}")
            runs.append(result)
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn died during the run:\n{log_path.read_text()[-3000:]}")
        return {"config": config, "load_before": load, "sizes": sizes, "runs": runs,
                "log_findings": scan_log(log_path), "tokens": {"heavy": heavy, "light": light, "cashier": cashier,
                                                               "typical": typical[0]}}
    finally:
        if meter is not None:
            meter.close()
        stop_server(proc)


def scan_log(log_path: Path) -> list[str]:
    """Exception lines (and the first line of each traceback) in the gunicorn log, counted."""
    if not log_path.exists():
        return []
    counts: dict[str, int] = {}
    lines = log_path.read_text(errors="replace").splitlines()
    for i, line in enumerate(lines):
        if re.search(r"Traceback|ERROR|CRITICAL|WORKER TIMEOUT|Exception|Error:", line):
            if line.startswith("Traceback"):
                # The exception itself is the last line of the traceback block.
                j = i + 1
                while j < len(lines) and (lines[j].startswith(" ") or lines[j].startswith("Traceback")):
                    j += 1
                key = "Traceback -> " + (lines[j] if j < len(lines) else "?")
            else:
                key = re.sub(r"\[\d+\]", "[pid]", re.sub(r"^\[[^\]]*\] ", "", line))
            counts[key[:400]] = counts.get(key[:400], 0) + 1
    return [f"{n} x {k}" for k, n in sorted(counts.items(), key=lambda kv: -kv[1])][:40]


# --- in-process: statements, database time, plans --------------------------------------


def profile(env: dict[str, str], tokens: dict[str, str], heavy_mid_entry: int, many: list[str],
            workdir: Path, requests: int = 60) -> dict[str, Any]:
    """Per endpoint, one request at a time through the Flask test client: wall time, SQL
    statements and the time spent in them; then EXPLAIN ANALYZE of every SELECT the
    wallet endpoints send, for the heavy and the light member."""
    os.environ.update({k: env[k] for k in ("APP_ENV", "DATABASE_URL", "INSTANCE_DIR", "SECRET_KEY", "JWT_SECRET",
                                           "ACCESS_TOKEN_SECONDS", "RATE_LIMIT_LOGIN", "RATE_LIMIT_SCAN",
                                           "RATE_LIMIT_PURCHASE", "MIGRATION_DATABASE_URL")})
    from sqlalchemy import event

    from api import create_app

    app = create_app()
    engine = app.extensions["engine"]
    current: list[tuple[str, Any, float]] = []
    timing = {"start": 0.0}

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        timing["start"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        current.append((statement, parameters, time.perf_counter() - timing["start"]))

    client = app.test_client()
    deep = f"/api/v1/me/wallet/transactions?limit=10&cursor={encode_cursor(heavy_mid_entry)}"
    cases = [
        ("healthz", "GET", "/healthz", None),
        ("wallet, 10 entries", "GET", "/api/v1/me/wallet", tokens["light"]),
        ("wallet, 100k entries", "GET", "/api/v1/me/wallet", tokens["heavy"]),
        ("transactions, 10 entries", "GET", "/api/v1/me/wallet/transactions?limit=10", tokens["light"]),
        ("transactions, 100k entries", "GET", "/api/v1/me/wallet/transactions?limit=10", tokens["heavy"]),
        ("transactions, 100k entries, middle page", "GET", deep, tokens["heavy"]),
        ("wallet, ordinary member", "GET", "/api/v1/me/wallet", tokens["typical"]),
        ("purchase, many members", "POST", "/api/v1/pos/purchases", tokens["cashier"]),
    ]
    rng = random.Random(11)
    out: dict[str, Any] = {"endpoints": [], "statements": {}}
    for name, method, path, token in cases:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        walls, dbs, counts = [], [], []
        per_statement: dict[str, list[float]] = {}
        for i in range(requests + 10):
            current.clear()
            kwargs: dict[str, Any] = {"headers": headers}
            if method == "POST":
                kwargs["json"] = {"member_number": rng.choice(many), "receipt_number": f"prof-{secrets.token_hex(8)}",
                                  "total": {"amount": "129.50", "currency": "AED"}}
            started = time.perf_counter()
            response = client.open(path, method=method, **kwargs)
            wall = time.perf_counter() - started
            if response.status_code >= 300:
                raise RuntimeError(f"{name}: {response.status_code} {response.get_data(as_text=True)[:300]}")
            if i < 10:
                continue  # warm-up
            walls.append(wall)
            dbs.append(sum(t for _, _, t in current))
            counts.append(len(current))
            for statement, _, t in current:
                per_statement.setdefault(statement, []).append(t)
        out["endpoints"].append({
            "name": name, "wall_ms": 1000 * statistics.median(walls), "db_ms": 1000 * statistics.median(dbs),
            "statements": statistics.median(counts),
        })
        out["statements"][name] = {s: {"n": len(ts) / requests, "median_ms": 1000 * statistics.median(ts)}
                                   for s, ts in per_statement.items()}
        log(f"profile {name:42} {out['endpoints'][-1]['wall_ms']:7.2f} ms/request, "
            f"{out['endpoints'][-1]['db_ms']:7.2f} ms in {statistics.median(counts):.0f} statements")

    # EXPLAIN ANALYZE of each SELECT the wallet endpoints send, heavy vs light.
    plans: dict[str, Any] = {}
    for who in ("light", "heavy"):
        for path in ("/api/v1/me/wallet", "/api/v1/me/wallet/transactions?limit=10"):
            current.clear()
            client.get(path, headers={"Authorization": f"Bearer {tokens[who]}"})
            captured = [(s, p) for s, p, _ in current if s.lstrip().upper().startswith("SELECT")]
            raw = engine.raw_connection()
            try:
                cur = raw.cursor()
                for statement, parameters in captured:
                    cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                    plan = "\n".join(r[0] for r in cur.fetchall())
                    ms = re.search(r"Execution Time: ([\d.]+) ms", plan)
                    plans.setdefault(statement, {})[who] = {"plan": plan, "execution_ms": float(ms.group(1)) if ms else None,
                                                          "path": path}
                raw.rollback()
            finally:
                raw.close()
    # The daily-cap query of a purchase (it runs even when the program has no cap): an
    # ordinary member vs the hot member that took the most purchases today.
    current.clear()
    client.post("/api/v1/pos/purchases", headers={"Authorization": f"Bearer {tokens['cashier']}"},
                json={"member_number": rng.choice(many), "receipt_number": f"prof-{secrets.token_hex(8)}",
                      "total": {"amount": "129.50", "currency": "AED"}})
    found = [(s, p) for s, p, _ in current if "sum(ledger_entries.amount)" in s]
    out["earned_since"] = []
    if found:
        statement, parameters = found[0]
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            cur.execute(
                "SELECT account_id, count(*) FROM ledger_entries WHERE account_id BETWEEN %s AND %s"
                " AND created_at >= now() - interval '1 day' GROUP BY 1 ORDER BY 2 DESC LIMIT 1",
                (HOT_FIRST, HOT_LAST))
            hot = cur.fetchone()
            key = next(k for k in parameters if k.startswith("account_id"))
            for who, account in (("ordinary member", parameters[key]), ("hot member", hot[0] if hot else None)):
                if account is None:
                    continue
                cur.execute("SELECT count(*) FROM ledger_entries WHERE account_id = %s"
                            " AND created_at >= now() - interval '1 day'", (account,))
                today = cur.fetchone()[0]
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, {**parameters, key: account})
                plan = "\n".join(r[0] for r in cur.fetchall())
                ms = re.search(r"Execution Time: ([\d.]+) ms", plan)
                out["earned_since"].append({"who": who, "account": account, "entries_last_24h": today,
                                            "execution_ms": float(ms.group(1)) if ms else None, "plan": plan})
                plans.setdefault(statement, {})[f"{who} (account {account}, {today} entries in 24 h)"] = {
                    "plan": plan, "execution_ms": float(ms.group(1)) if ms else None, "path": "POST purchases"}
            raw.rollback()
        finally:
            raw.close()
    with open(workdir / "plans.txt", "w") as fh:
        for statement, by_who in plans.items():
            fh.write("=" * 100 + "\n" + statement + "\n")
            for who, p in by_who.items():
                fh.write(f"--- {who} ({p['path']}): {p['execution_ms']} ms\n{p['plan']}\n")
    out["plans"] = [
        {"statement": " ".join(s.split()), "light_ms": p.get("light", {}).get("execution_ms"),
         "heavy_ms": p.get("heavy", {}).get("execution_ms"), "heavy_plan": p.get("heavy", {}).get("plan"),
         "light_plan": p.get("light", {}).get("plan")}
        for s, p in plans.items() if "light" in p or "heavy" in p
    ]
    engine.dispose()
    return out


# --- report ---------------------------------------------------------------------------


def _f(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def report(results: list[dict[str, Any]], prof: dict[str, Any] | None, seed_info: dict[str, Any] | None,
           duration: int) -> str:
    lines: list[str] = []
    for res in results:
        runs = res["runs"]
        config = res["config"]
        by = {(r["name"], r["connections"]): r for r in runs}

        def healthz(c: int) -> dict[str, float]:
            hs = [by[(n, c)] for n in ("healthz (start)", "healthz (end)") if (n, c) in by]
            return {k: statistics.mean(h[k] for h in hs) for k in ("rps", "p50_us", "p99_us")}

        lines += [f"### {config}: gunicorn {' '.join(CONFIGS[config])} (load averages before: {res['load_before']})", "",
                  f"wrk -t1 -d{duration}s --latency; ratios against /healthz at the same connection count "
                  "(mean of the start and end runs): req/s ÷ /healthz req/s, latency ÷ /healthz latency "
                  "at the same percentile.", "",
                  "| point | conns | req/s | ÷ healthz req/s | p50 ms | p99 ms | p50 ÷ healthz | p99 ÷ healthz "
                  "| statuses | app CPU ms/req | PG CPU ms/req |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|"]
        for r in runs:
            h = healthz(r["connections"])
            statuses = ", ".join(f"{k}: {v}" for k, v in sorted(r["statuses"].items()))
            sock = sum(r[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts"))
            if sock:
                statuses += f"; socket errors {sock}"
            lines.append(
                f"| {r['name']} | {r['connections']} | {r['rps']:.1f} | {_f(r['rps'] / h['rps'] if h else None, 3)} "
                f"| {r['p50_us'] / 1000:.2f} | {r['p99_us'] / 1000:.2f} "
                f"| {_f(r['p50_us'] / h['p50_us'] if h else None, 1)} | {_f(r['p99_us'] / h['p99_us'] if h else None, 1)} "
                f"| {statuses} | {_f(1000 * r['app_cpu_s'] / max(r['requests'], 1))} "
                f"| {_f(1000 * r['db_cpu_s'] / max(r['requests'], 1))} |")
        lines += ["", f"History size, {config} (heavy = 100,000 entries, light = 10):", "",
                  "| endpoint | conns | light req/s | heavy req/s | heavy ÷ light req/s | light p50 ms | heavy p50 ms "
                  "| heavy ÷ light p50 | light p99 ms | heavy p99 ms | light ÷ healthz req/s | heavy ÷ healthz req/s |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for what in ("wallet", "transactions"):
            for c in (1, 16):
                lt, hv = by.get((f"{what}, 10 entries", c)), by.get((f"{what}, 100k entries", c))
                if not (lt and hv):
                    continue
                h = healthz(c)
                lines.append(
                    f"| {what} | {c} | {lt['rps']:.1f} | {hv['rps']:.1f} | {hv['rps'] / lt['rps']:.3f} "
                    f"| {lt['p50_us'] / 1000:.2f} | {hv['p50_us'] / 1000:.2f} | {hv['p50_us'] / lt['p50_us']:.2f} "
                    f"| {lt['p99_us'] / 1000:.2f} | {hv['p99_us'] / 1000:.2f} "
                    f"| {_f(lt['rps'] / h['rps'] if h else None, 3)} | {_f(hv['rps'] / h['rps'] if h else None, 3)} |")
        lines += ["", "Response sizes: " + "; ".join(f"{k}: {v['bytes']} bytes, {v['items']} items"
                                                       for k, v in res["sizes"].items()), ""]
        lines += [f"gunicorn log ({config}): " + ("no exceptions" if not res["log_findings"] else ""), ""]
        lines += [f"    {line}" for line in res["log_findings"]]
        lines.append("")
    if prof:
        lines += ["### In-process, one request at a time (median of 60)", "",
                  "| endpoint | ms/request | of which in SQL | SQL statements |", "|---|---:|---:|---:|"]
        for e in prof["endpoints"]:
            lines.append(f"| {e['name']} | {e['wall_ms']:.2f} | {e['db_ms']:.2f} | {e['statements']:.0f} |")
        lines += ["", "EXPLAIN ANALYZE of the wallet endpoints' SELECTs, execution ms (light → heavy):", ""]
        for p in sorted(prof["plans"], key=lambda p: -(p["heavy_ms"] or 0)):
            lines.append(f"- {_f(p['light_ms'], 3)} → {_f(p['heavy_ms'], 3)} ms: `{p['statement'][:160]}...`")
        lines.append("")
        if prof.get("earned_since"):
            lines += ["Daily-cap query of a purchase (`ledger.earned_since`, runs on every purchase):", ""]
            for e in prof["earned_since"]:
                lines.append(f"- {e['who']} (account {e['account']}, {e['entries_last_24h']} entries in the last 24 h): "
                             f"{_f(e['execution_ms'], 3)} ms")
            lines.append("")
    if seed_info:
        lines += [f"Seed: {seed_info}", ""]
    return "\n".join(lines)


def _interrupt(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", default="gthread,sync", help="comma-separated: gthread, sync (default both)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per point (default 10)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port on {HOST} (default {DEFAULT_PORT})")
    parser.add_argument("--skip-seed", action="store_true", help="reuse the database as it is")
    parser.add_argument("--seed-only", action="store_true", help="seed, then stop")
    parser.add_argument("--no-profile", action="store_true", help="skip the in-process statements/plans step")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--max-wait", type=int, metavar="SECONDS",
                        help="all the waits for a quiet machine together take at most this long, then the run goes on "
                             "anyway (default: each wait up to 20 minutes, then exit)")
    args = parser.parse_args(argv)
    if args.max_wait is not None:
        WAIT_BUDGET["left"] = float(args.max_wait)
    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    if not configs or any(c not in CONFIGS for c in configs):
        parser.error(f"--configs takes {', '.join(CONFIGS)}")
    if not 1 <= args.duration <= 120:
        parser.error("--duration must be 1..120 seconds")
    if args.port in (8000, 8077, 8078):
        parser.error("port 8000 is the development server's, 8077 and 8078 bench/me.py's; pick another")
    try:
        import psycopg
    except ImportError:
        sys.exit("psycopg is missing: run this with the project's virtualenv, .venv/bin/python bench/wallet.py")

    signal.signal(signal.SIGTERM, _interrupt)
    database_url = os.environ.get("BENCH_WALLET_DATABASE_URL", DEFAULT_DATABASE_URL)
    wrk = ensure_wrk()
    started = dt.datetime.now(dt.timezone.utc)
    revision = git_revision()
    outdir = BENCH / "results" / f"wallet-{started:%Y%m%dT%H%M%S}"
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-wallet-") as tmp:
        workdir = Path(tmp)
        # Migrated and seeded as the owner; served as the application's role, as in production.
        env = app_environment(as_role(database_url, APP_ROLE), workdir / "instance")
        env["MIGRATION_DATABASE_URL"] = database_url
        seed_info = None
        if not args.skip_seed:
            log(f"seed: machine quiet, load averages {wait_for_quiet()}")
            seed_info = seed(database_url, env)
        if args.seed_only:
            return 0
        with psycopg.connect(database_url, connect_timeout=5) as conn:
            numbers = dict(conn.execute("SELECT id, member_number FROM members").fetchall())
            heavy_mid_entry = conn.execute(
                "SELECT id FROM ledger_entries WHERE account_id = %s ORDER BY id OFFSET 50000 LIMIT 1",
                (HEAVY,)).fetchone()[0]
        many = [n for i, n in sorted(numbers.items()) if i > HOT_LAST]
        many_file = workdir / "members-many.txt"
        many_file.write_text("".join(n + "\n" for n in many))
        results = []
        hot = [numbers[i] for i in range(HOT_FIRST, HOT_LAST + 1)]
        try:
            for k, config in enumerate(configs):
                results.append(bench_config(
                    config, wrk=wrk, port=args.port, duration=args.duration, env=env, database_url=database_url,
                    workdir=workdir, hot_members=hot[4 * k:4 * k + 4], many_file=many_file,
                    heavy_mid_entry=heavy_mid_entry))
        finally:
            for path in workdir.glob("gunicorn-*.log"):
                shutil.copy(path, outdir / path.name)
        log("checking the invariants after the runs")
        invariants = check_invariants(database_url)
        prof = None
        if not args.no_profile:
            log(f"profile: machine quiet, load averages {wait_for_quiet()}")
            prof = profile(env, results[0]["tokens"], heavy_mid_entry, many, outdir)
    for res in results:
        res.pop("tokens", None)
    text = report(results, prof, seed_info, args.duration)
    print(f"## Points wallet, {started:%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, commit {revision}\n")
    print(text)
    print(f"Invariants after the runs (violations): {invariants}")
    summary = {"started": started.isoformat(), "revision": revision, "duration": args.duration, "seed": seed_info, "results": results,
               "profile": prof, "invariants_after": invariants}
    (outdir / "results.json").write_text(json.dumps(summary, indent=1, default=str))
    (outdir / "report.md").write_text(text + f"\n\nInvariants after the runs (violations): {invariants}\n")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1, default=str))
    log(f"raw results in {outdir}")
    return 0 if not any(invariants.values()) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
