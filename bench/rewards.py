"""Benchmark of rewards on PostgreSQL: redemptions per second from a pool of 20,000 codes, and
the import of a 100,000-code CSV (its time and its peak memory).

What it measures
    1. ``POST /api/v1/me/redemptions`` (one voucher a request) at 64 connections, each request
       a partner taken in turn from ``--members`` partners, all redeeming one reward whose pool
       holds ``--codes`` vendor codes; and ``GET /healthz`` at 64 connections on the same
       server in the same run, the two taking turns for ``--rounds`` rounds. The figure is the
       redemptions' req/s as a ratio to /healthz's (the median of each round's ratio): the
       machine is small and shared. After the runs the database is checked: every code issued
       at most once (vouchers.code_id distinct, and as many issued codes as vouchers), one
       debit per voucher and per member exactly its vouchers' points, every cached balance
       equal to the sum of its entries, and as many vouchers as 201 answers.
    2. The 100,000-code CSV (a code, an expiry on every third line): uploaded to the running
       server (``POST /admin/rewards/{id}/codes``: the wall time and the growth of the
       receiving worker's peak RSS, VmHWM), and imported in a fresh process by the domain
       function itself from a file on disk (wall time, the process's peak RSS over what it held
       before, and in a second process tracemalloc's peak of Python allocations).

Data
    Drops and recreates the database ``bench_rewards`` on 127.0.0.1:5432 (user postgres, trust
    auth), migrates it as the owner, and serves it as the application's role
    (``partner_wallet_app``), as in production. Seeds an admin and ``--members`` partners (one
    argon2 hash shared by all; 1,000,000 points each, booked through ``wallet.ledger.earn``).
    Access tokens are signed by this script with the server's JWT_SECRET.

How
    gunicorn as ``make run`` starts it (``--workers 2 --threads 4``) on 127.0.0.1:PORT (default
    8095), wrk -t1 --latency, ``--duration`` seconds a run. Prints markdown tables; raw results
    go to bench/results/rewards-<time>/ (git-ignored).

Run from the project root::

    .venv/bin/python bench/rewards.py                     # about 3 minutes
    .venv/bin/python bench/rewards.py --rounds 1 --duration 5 --import-codes 20000

Needs wrk (``apt-get install wrk``; installed by the script when run as root).
``BENCH_REWARDS_DATABASE_URL`` overrides the (owner's) database URL.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from harness import (  # noqa: E402  (bench/ is on sys.path when the script runs)
    HOST,
    ROOT,
    app_environment,
    children,
    ensure_wrk,
    git_revision,
    http,
    log,
    migrate,
    port_in_use,
    run_wrk,
    start_server,
    stop_server,
    wait_ready,
)

BENCH = Path(__file__).resolve().parent
REDEEM_LUA = BENCH / "rewards_redeem.lua"
READ_LUA = BENCH / "wallet_read.lua"
sys.path.insert(0, str(ROOT))  # the project's packages before bench/'s scripts (bench/wallet.py)

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/bench_rewards"
PROTECTED = {"test", "devtest", "postgres", "template0", "template1", "bench", "bench_wallet"}
APP_ROLE = "partner_wallet_app"
POINTS = 1_000_000
COST = 10


def recreate_database(url: str) -> None:
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = conninfo_to_dict(url)["dbname"]
    if name in PROTECTED:
        sys.exit(f"refusing to drop the database {name!r}")
    with psycopg.connect(make_conninfo(url, dbname="postgres", connect_timeout=5), autocommit=True) as conn:
        log(f"dropping and creating database {name}")
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def as_role(url: str, role: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(username=role, password=None).render_as_string(hide_password=False)


def seed(owner_url: str, members: int) -> dict[str, Any]:
    """An admin and ``members`` partners with points; returns their user ids."""
    from infra.db import make_engine, make_sessionmaker
    from wallet import ledger
    from wallet.members import numbers
    from wallet.members.models import Member, User
    from wallet.members.passwords import hash_password

    now = dt.datetime.now(dt.timezone.utc)
    engine = make_engine(owner_url)
    started = time.monotonic()
    with make_sessionmaker(engine)() as session:
        shared_hash = hash_password("bench-rewards-password")
        admin = User(email="admin@bench-rewards.example.com", password_hash=shared_hash, name="Admin", role="admin",
                     created_at=now)
        session.add(admin)
        users = [User(email=f"partner-{n}@bench-rewards.example.com", password_hash=shared_hash, name=f"P{n}",
                      role="partner", created_at=now) for n in range(members)]
        session.add_all(users)
        session.flush()
        drawn: set[str] = set()
        rows = []
        for user in users:
            number = numbers.generate()
            while number in drawn:
                number = numbers.generate()
            drawn.add(number)
            rows.append(Member(user_id=user.id, member_number=number, country="AE", language="en",
                               timezone="Asia/Dubai", created_at=now))
        session.add_all(rows)
        session.flush()
        for member in rows:
            ledger.earn(session, member_id=member.id, points=POINTS, now=now, expires_at=now + dt.timedelta(days=700),
                        description="bench")
        session.commit()
        seeded = {"admin": admin.id, "partners": [u.id for u in users]}
    engine.dispose()
    log(f"seeded {members} partners with {POINTS:,} points each in {time.monotonic() - started:.1f} s")
    return seeded


def token(secret: str, user_id: int, role: str) -> str:
    import jwt

    now = int(time.time())
    return jwt.encode({"sub": str(user_id), "role": role, "jti": uuid.uuid4().hex, "iat": now, "exp": now + 3600},
                      secret, algorithm="HS256")


def codes_file(path: Path, count: int) -> Path:
    with path.open("w") as out:
        out.write("code,expires_at\n")
        for n in range(count):
            expiry = "2030-12-31" if n % 3 == 0 else ""
            out.write(f"VND-{secrets.token_hex(6).upper()}-{n:06d},{expiry}\n")
    return path


def upload(base: str, admin: str, reward_id: int, path: Path) -> tuple[int, dict[str, Any], float]:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"codes.csv\"\r\n"
            f"Content-Type: text/csv\r\n\r\n").encode() + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(f"{base}/api/v1/admin/rewards/{reward_id}/codes", data=body, method="POST",
                                     headers={"Authorization": f"Bearer {admin}",
                                              "Content-Type": f"multipart/form-data; boundary={boundary}"})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            return response.status, json.loads(response.read()), time.monotonic() - started
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}"), time.monotonic() - started


def new_reward(base: str, admin: str, name: str) -> int:
    status, body = http("POST", f"{base}/api/v1/admin/rewards", {
        "kind": "voucher", "category": "bench", "country": "AE", "points_cost": COST, "names": {"en": name},
        "low_stock_threshold": 100}, token=admin)
    if status != 201:
        raise RuntimeError(f"creating a reward answered {status}: {body[:300]!r}")
    return json.loads(body)["id"]


def vm_hwm_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def check(owner_url: str, reward_id: int, created: int) -> dict[str, Any]:
    """What must hold after the runs; every value but the counts must be 0.

    wrk stops with requests in flight: the server finishes them (their vouchers exist) but wrk
    never counts their 201, so there may be up to its connections more vouchers per run than
    answers counted."""
    import psycopg

    with psycopg.connect(owner_url) as conn:
        def one(query: str, *args: Any) -> Any:
            return conn.execute(query, args).fetchone()[0]

        return {
            "vouchers": one("SELECT count(*) FROM vouchers WHERE reward_id = %s", reward_id),
            "201 answers": created,
            "codes issued twice": one("SELECT count(*) - count(DISTINCT code_id) FROM vouchers"),
            "issued codes without a voucher": one(
                "SELECT count(*) FROM reward_codes c WHERE c.status = 'issued' "
                "AND NOT EXISTS (SELECT 1 FROM vouchers v WHERE v.code_id = c.id)"),
            "vouchers without a debit": one(
                "SELECT count(*) FROM vouchers v LEFT JOIN ledger_transactions t ON t.id = v.transaction_id "
                "WHERE t.type IS DISTINCT FROM 'redeem'"),
            "members debited other than their vouchers": one(
                "SELECT count(*) FROM ledger_accounts a LEFT JOIN (SELECT member_id, count(*) AS n FROM vouchers "
                "GROUP BY member_id) v ON v.member_id = a.owner_id "
                "WHERE a.owner_type = 'member' AND a.lifetime_earned - a.balance <> coalesce(v.n, 0) * %s", COST),
            "balances off their entries": one(
                "SELECT count(*) FROM ledger_accounts a WHERE a.owner_type = 'member' AND a.balance <> "
                "(SELECT coalesce(sum(amount), 0) FROM ledger_entries e WHERE e.account_id = a.id)"),
            "codes left in the pool": one(
                "SELECT count(*) FROM reward_codes WHERE reward_id = %s AND status = 'available'", reward_id),
        }


def import_child(owner_url: str, path: Path, trace: bool) -> None:
    """In a fresh process: import ``path`` with the domain function; prints its figures as JSON."""
    import resource
    import tracemalloc

    from infra.db import make_engine, make_sessionmaker
    from wallet.members.models import User
    from wallet.rewards import catalog, code_import
    from wallet.rewards.codes import CodeVault
    from sqlalchemy import select

    engine = make_engine(as_role(owner_url, APP_ROLE))
    factory = make_sessionmaker(engine)
    vault = CodeVault(keys=[("k1", os.urandom(32))], lookup_key=os.urandom(32))
    now = dt.datetime.now(dt.timezone.utc)
    with factory() as session:
        admin = session.scalar(select(User.id).where(User.role == "admin"))
        reward = catalog.create_reward(session, now=now, kind="voucher", category="bench", country="AE",
                                       points_cost=COST, names={"en": "in-process import"})
        session.commit()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if trace:
            tracemalloc.start()
        started = time.monotonic()
        with path.open("rb") as stream:
            report = code_import.import_codes(session, reward_id=reward.id, stream=stream, vault=vault,
                                              user_id=admin, now=now, max_rows=1_000_000)
        session.commit()
        seconds = time.monotonic() - started
        traced = tracemalloc.get_traced_memory()[1] if trace else None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"imported": report.imported, "seconds": round(seconds, 2), "rss_before_mb": round(before / 1024, 1),
                      "rss_peak_mb": round(peak / 1024, 1), "rss_growth_mb": round((peak - before) / 1024, 1),
                      "tracemalloc_peak_mb": round(traced / 2**20, 1) if traced else None}))


def in_process_import(owner_url: str, path: Path, trace: bool) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__)), "--import-child", str(path), "--database-url", owner_url]
    out = subprocess.run(cmd + (["--trace"] if trace else []), capture_output=True, text=True, check=True,
                         timeout=600, cwd=ROOT).stdout
    return json.loads(out.strip().splitlines()[-1])


def bench(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    wrk = ensure_wrk()
    owner = args.database_url
    recreate_database(owner)
    env = app_environment(as_role(owner, APP_ROLE), workdir / "instance")
    env.update(MIGRATION_DATABASE_URL=owner, RATE_LIMIT_REDEMPTION="1000000 per minute")
    migrate(env)
    seeded = seed(owner, args.members)
    admin = token(env["JWT_SECRET"], seeded["admin"], "admin")
    tokens_file = workdir / "partners.txt"
    tokens_file.write_text("".join(token(env["JWT_SECRET"], uid, "partner") + "\n" for uid in seeded["partners"]))
    none_file = workdir / "none.txt"
    none_file.write_text("")
    pool_file = codes_file(workdir / "pool.csv", args.codes)
    big_file = codes_file(workdir / "big.csv", args.import_codes)

    if port_in_use(args.port):
        raise RuntimeError(f"something already listens on {HOST}:{args.port}; pass --port")
    base = f"http://{HOST}:{args.port}"
    log_path = workdir / "gunicorn.log"
    proc = start_server("gthread", args.port, env, log_path)
    result: dict[str, Any] = {"runs": []}
    created = 0
    try:
        wait_ready(proc, base, log_path)
        reward_id = new_reward(base, admin, "bench pool")
        status, report, seconds = upload(base, admin, reward_id, pool_file)
        if status != 201 or report["imported"] != args.codes:
            raise RuntimeError(f"the pool's upload answered {status}: {report}")
        result["pool_upload"] = {"codes": args.codes, "seconds": round(seconds, 2)}
        log(f"pool of {args.codes:,} codes uploaded in {seconds:.1f} s")
        status, body = http("POST", f"{base}/api/v1/me/redemptions", {"reward_id": reward_id},
                            token=tokens_file.read_text().split()[0])
        if status != 201:
            raise RuntimeError(f"a redemption answered {status}: {body[:300]!r}")
        created += 1
        log("warming up")
        run_wrk(wrk, READ_LUA, f"{base}/healthz", args.connections, 3, {"BENCH_TOKENS_FILE": str(none_file)})
        warm = run_wrk(wrk, REDEEM_LUA, f"{base}/api/v1/me/redemptions", args.connections, 3,
                       {"BENCH_TOKENS_FILE": str(tokens_file), "BENCH_REWARD_ID": str(reward_id)})
        created += warm["statuses"].get("201", 0)
        for round_no in range(1, args.rounds + 1):
            for name, lua, url, extra in (
                    ("healthz", READ_LUA, f"{base}/healthz", {"BENCH_TOKENS_FILE": str(none_file)}),
                    ("redeem", REDEEM_LUA, f"{base}/api/v1/me/redemptions",
                     {"BENCH_TOKENS_FILE": str(tokens_file), "BENCH_REWARD_ID": str(reward_id)})):
                time.sleep(1)
                run = run_wrk(wrk, lua, url, args.connections, args.duration, extra)
                run.pop("wrk_output", None)
                run.update(name=name, round=round_no, load=os.getloadavg()[0])
                if name == "redeem":
                    created += run["statuses"].get("201", 0)
                bad = {k: v for k, v in run["statuses"].items() if not k.startswith("2")}
                log(f"round {round_no} {name:8} {run['rps']:8.1f} req/s  p50 {run['p50_us'] / 1000:7.2f} ms  "
                    f"p99 {run['p99_us'] / 1000:7.2f} ms  statuses {run['statuses']}")
                if bad:
                    raise RuntimeError(f"{name}: non-2xx answers {bad}")
                result["runs"].append(run)

        big_reward = new_reward(base, admin, "bench import")
        workers = children(proc.pid)
        before = {pid: vm_hwm_kb(pid) for pid in workers}
        status, report, seconds = upload(base, admin, big_reward, big_file)
        after = {pid: vm_hwm_kb(pid) for pid in workers}
        if status != 201 or report["imported"] != args.import_codes:
            raise RuntimeError(f"the big upload answered {status}: {report}")
        grown = max(after[pid] - before[pid] for pid in workers)
        result["http_import"] = {"codes": args.import_codes, "bytes": big_file.stat().st_size,
                                 "seconds": round(seconds, 2), "worker_peak_rss_growth_mb": round(grown / 1024, 1),
                                 "worker_peak_rss_mb": round(max(after.values()) / 1024, 1)}
        log(f"HTTP import of {args.import_codes:,} codes: {result['http_import']}")
        status, report, _ = upload(base, admin, big_reward, big_file)
        result["http_reupload_imported"] = report.get("imported")
    finally:
        stop_server(proc)
    result["checks"] = check(owner, reward_id, created)
    log(f"checks: {result['checks']}")
    result["in_process_import"] = in_process_import(owner, codes_file(workdir / "big2.csv", args.import_codes), False)
    result["in_process_import_traced"] = in_process_import(owner, codes_file(workdir / "big3.csv", args.import_codes),
                                                           True)
    log(f"in-process import: {result['in_process_import']}; traced: {result['in_process_import_traced']}")
    return result


def report(result: dict[str, Any], args: argparse.Namespace) -> str:
    runs = result["runs"]
    ratios = []
    for round_no in range(1, args.rounds + 1):
        pair = {r["name"]: r for r in runs if r["round"] == round_no}
        ratios.append(pair["redeem"]["rps"] / pair["healthz"]["rps"])

    def median(name: str, key: str) -> float:
        return statistics.median(r[key] for r in runs if r["name"] == name)

    checks = result["checks"]
    lines = [
        f"Code {git_revision()}, {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, "
        f"{args.members:,} partners, a pool of {args.codes:,} codes, {args.connections} connections, "
        f"{args.rounds} rounds of {args.duration} s.",
        "",
        "| endpoint | req/s (median) | p50 ms | p99 ms |",
        "|---|---:|---:|---:|",
        *(f"| {name} | {median(name, 'rps'):.1f} | {median(name, 'p50_us') / 1000:.2f} | "
          f"{median(name, 'p99_us') / 1000:.2f} |" for name in ("healthz", "redeem")),
        "",
        f"Redemptions ÷ /healthz: {statistics.median(ratios):.3f} (rounds: {', '.join(f'{r:.3f}' for r in ratios)}).",
        f"Checks: {json.dumps(checks)} ({checks['vouchers'] - checks['201 answers']} vouchers of requests still "
        "in flight when wrk stopped, whose answers it never counted).",
        "",
        f"Pool upload over HTTP: {result['pool_upload']}.",
        f"100,000-code CSV over HTTP: {result['http_import']}; the same file again imported "
        f"{result['http_reupload_imported']}.",
        f"In a fresh process: {result['in_process_import']}; with tracemalloc: {result['in_process_import_traced']}.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_REWARDS_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--codes", type=int, default=20_000)
    parser.add_argument("--import-codes", type=int, default=100_000)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--port", type=int, default=8095)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--import-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.import_child:
        import_child(args.database_url, args.import_child, args.trace)
        return 0
    workdir = ROOT / "bench" / "results" / f"rewards-{dt.datetime.now():%Y%m%d-%H%M%S}"
    workdir.mkdir(parents=True)
    result = bench(args, workdir)
    (workdir / "result.json").write_text(json.dumps(result, indent=2, default=str))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    print(report(result, args))
    checks = result["checks"]
    in_flight = checks["vouchers"] - checks["201 answers"]
    broken = [k for k, v in checks.items() if v and k not in ("vouchers", "201 answers", "codes left in the pool")]
    if broken or not 0 <= in_flight <= args.connections * (args.rounds + 1):
        log(f"CHECKS FAILED: {broken}, {in_flight} vouchers beyond the 201s counted")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
