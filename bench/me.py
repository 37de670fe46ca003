"""Benchmark: ``GET /api/v1/me`` under gunicorn on PostgreSQL, against ``GET /healthz``.

What it measures
    Requests per second and p50/p99 latency of ``GET /api/v1/me`` (JWT check, one
    primary-key lookup of the user with its member, JSON out) at 1, 16 and 64
    concurrent keep-alive connections, and of ``GET /healthz`` (no auth, no
    database) on the same server in the same run. The machine is small and shared,
    so the figure to quote is the ratio of /me to /healthz, not the absolute req/s.
    Every (/healthz, /me) pair runs back to back, and the whole sequence is repeated
    (``--rounds``, default 3); the tables show medians, and the ratio is the median
    of each round's own ratio. Each run also records, from /proc, the CPU spent per
    request by the gunicorn workers, the PostgreSQL backends and wrk, how evenly the
    workers shared the work, and how much CPU other processes on the machine took
    (the noise).

How
    1. Creates the database ``bench`` on 127.0.0.1:5432 (user postgres, trust auth)
       when it is missing, and migrates it with ``flask --app wsgi db upgrade``.
    2. Seeds 10,000 partners (users + members) with direct SQL and one precomputed
       argon2 hash, once; later runs reuse them.
    3. Starts gunicorn on 127.0.0.1:8077 with secrets, token lifetime and rate limits
       from the environment (nothing is written to instance/), registers a partner
       through ``POST /api/v1/auth/register`` and checks that ``/me`` answers 200.
    4. Warms up, then runs wrk (``-t1 --latency``, bench/me.lua sets the bearer
       header) for a fixed time per run: /healthz then /me at each connection count.
    5. Stops the servers (also on error, Ctrl-C or SIGTERM) and prints markdown tables.

Two gunicorn configurations are measured by default: ``gthread`` (2 workers x 4
threads, what ``make run`` uses) on 8077 and ``sync`` (4 sync workers, no keep-alive)
on 8078. Both run at once and take turns (the one not measured is idle), so a burst of
load from someone else on the machine hits both alike.

Run from the project root::

    .venv/bin/python bench/me.py          # both configs, 3 rounds of 10 s runs: about 8 minutes
    .venv/bin/python bench/me.py --config gthread --rounds 1 --duration 5 --json /tmp/me.json

Needs wrk (``apt-get install wrk``; the script installs it itself when run as root).
``BENCH_DATABASE_URL`` overrides the database (default
postgresql://postgres@127.0.0.1:5432/bench).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import random
import resource
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import harness  # noqa: E402
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
    start_server,
    stop_server,
    wait_ready,
)

LUA_SCRIPT = Path(__file__).resolve().parent / "me.lua"
sys.path.insert(0, str(ROOT))

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/bench"
DEFAULT_PORT = 8077
CONNECTIONS = (1, 16, 64)
SEED_MEMBERS = 10_000
SEED_EMAIL = "seed-{}@bench.example.com"
SEED_EMAIL_LIKE = "seed-%@bench.example.com"


# Country -> (language, timezone), as registration would default them.
COUNTRIES = {
    "AE": ("en", "Asia/Dubai"),
    "SA": ("en", "Asia/Riyadh"),
    "QA": ("en", "Asia/Qatar"),
    "KW": ("en", "Asia/Kuwait"),
    "BH": ("en", "Asia/Bahrain"),
    "OM": ("en", "Asia/Muscat"),
    "PL": ("pl", "Europe/Warsaw"),
}







# --- set-up -------------------------------------------------------------------------




def ensure_database(database_url: str) -> None:
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = conninfo_to_dict(database_url)["dbname"]
    admin = make_conninfo(database_url, dbname="postgres", connect_timeout=5)
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            log(f"creating database {name}")
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))






def seed(database_url: str, count: int) -> None:
    """``count`` partners besides the benchmark's own, inserted directly (argon2 once, not per row)."""
    import psycopg

    from wallet.members import numbers as member_numbers
    from wallet.members.passwords import hash_password

    with psycopg.connect(database_url, connect_timeout=5) as conn:
        have = conn.execute(
            "SELECT count(*) FROM users u JOIN members m ON m.user_id = u.id WHERE u.email LIKE %s",
            (SEED_EMAIL_LIKE,),
        ).fetchone()[0]
        if have >= count:
            log(f"{have} seeded partners already there")
            return
        log(f"seeding {count} partners ({have} there)")
        conn.execute(
            """
            INSERT INTO users (email, password_hash, name, role, is_active, created_at)
            SELECT replace(%(email)s, '{}', g::text), %(hash)s, 'Seed Partner ' || g, 'partner', true,
                   now() - g * interval '1 minute'
            FROM generate_series(1, %(count)s) AS g
            ON CONFLICT (email) DO NOTHING
            """,
            {"email": SEED_EMAIL, "hash": hash_password("seed password, never used"), "count": count},
        )
        rng = random.Random(20261123)
        for _ in range(5):  # a drawn member number may be taken; draw again for those
            missing = [
                row[0]
                for row in conn.execute(
                    """
                    SELECT u.id FROM users u LEFT JOIN members m ON m.user_id = u.id
                    WHERE u.email LIKE %s AND m.id IS NULL
                    """,
                    (SEED_EMAIL_LIKE,),
                )
            ]
            if not missing:
                break
            rows = []
            for user_id in missing:
                country = rng.choice(list(COUNTRIES))
                language, timezone = COUNTRIES[country]
                rows.append((user_id, member_numbers.generate(), country, language, timezone, rng.random() < 0.3))
            with conn.cursor() as cur:
                cur.executemany(
                    """
                    INSERT INTO members (user_id, member_number, country, language, timezone,
                                         marketing_opt_in, tier, created_at)
                    VALUES (%s, %s, %s, %s, %s, %s, 'blue', now())
                    ON CONFLICT (member_number) DO NOTHING
                    """,
                    rows,
                )
        conn.commit()
    with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute("ANALYZE users")
        conn.execute("ANALYZE members")


# --- the server ---------------------------------------------------------------------












def register_partner(base: str) -> str:
    email = f"bench-{int(time.time())}-{secrets.token_hex(3)}@bench.example.com"
    status, body = http(
        "POST",
        f"{base}/api/v1/auth/register",
        {"email": email, "password": secrets.token_urlsafe(16), "name": "Bench Partner", "country": "AE"},
    )
    if status != 201:
        raise RuntimeError(f"register answered {status}: {body[:300]!r}")
    token = json.loads(body)["access_token"]
    status, raw = http("GET", f"{base}/api/v1/me", token=token)
    me = json.loads(raw) if status == 200 else raw
    if status != 200 or not isinstance(me, dict) or me.get("email") != email:
        raise RuntimeError(f"/api/v1/me answered {status}: {me}")
    log(f"registered {email} (member {me['member_number']})")
    return token


# --- measuring ----------------------------------------------------------------------








class CpuMeter:
    """CPU used during a run by the gunicorn workers, the PostgreSQL backends of the bench
    database, wrk, and everything else on the machine."""

    def __init__(self, server: subprocess.Popen[bytes], database_url: str) -> None:
        import psycopg

        self.server = server
        self.monitor = psycopg.connect(database_url, autocommit=True, connect_timeout=5)

    def close(self) -> None:
        self.monitor.close()

    def _snapshot(self) -> dict[str, Any]:
        # Every backend of the bench database: the idle server's too, which costs nothing.
        db = [
            row[0]
            for row in self.monitor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ]
        return {
            "master": proc_cpu(self.server.pid),
            "workers": {pid: proc_cpu(pid) for pid in children(self.server.pid)},
            "db": {pid: proc_cpu(pid) for pid in db},
            "wrk": resource.getrusage(resource.RUSAGE_CHILDREN),
            "machine": machine_cpu(),
        }

    def start(self) -> None:
        self.before = self._snapshot()

    def stop(self) -> dict[str, Any]:
        after, before = self._snapshot(), self.before

        def deltas(kind: str) -> dict[int, float] | None:
            if any(v is None for v in after[kind].values()):
                return None  # e.g. PostgreSQL in another container: its processes are not in /proc
            return {pid: v - (before[kind].get(pid) or 0.0) for pid, v in after[kind].items()}

        workers, db = deltas("workers"), deltas("db")
        app = None if workers is None else sum(workers.values()) + (after["master"] or 0) - (before["master"] or 0)
        wrk = sum(getattr(after["wrk"], f) - getattr(before["wrk"], f) for f in ("ru_utime", "ru_stime"))
        busy = after["machine"][0] - before["machine"][0]
        total = after["machine"][1] - before["machine"][1]
        ours = (app or 0) + (db and sum(db.values()) or 0) + wrk
        return {
            "app_cpu_s": app,
            "db_cpu_s": None if db is None else sum(db.values()),
            "wrk_cpu_s": wrk,
            # The busiest worker's share of the workers' CPU: 1/workers is an even spread.
            "busiest_worker_share": max(workers.values()) / sum(workers.values()) if workers else None,
            "machine_busy": busy / total if total else None,
            "others_cpu": max(0.0, busy - ours) / total if total else None,
        }


def run_wrk(wrk: str, url: str, connections: int, duration: int, token: str | None) -> dict[str, Any]:
    result = harness.run_wrk(wrk, LUA_SCRIPT, url, connections, duration, {"BENCH_TOKEN": token or ""})
    if result["status_errors"]:
        raise RuntimeError(f"{result['status_errors']} responses were not 2xx/3xx:\n{result['wrk_output']}")
    errors = sum(result[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts"))
    if errors:
        log(f"warning: {errors} socket errors/timeouts in this run")
    return result


class Server:
    """One gunicorn configuration, started, with a registered partner and a CPU meter."""

    def __init__(self, config: str, port: int, env: dict[str, str], workdir: Path) -> None:
        self.config = config
        self.base = f"http://{HOST}:{port}"
        self.log_path = workdir / f"gunicorn-{config}.log"
        self.proc = start_server(config, port, env, self.log_path)
        self.meter: CpuMeter | None = None
        self.token = ""

    def prepare(self, wrk: str, database_url: str) -> None:
        wait_ready(self.proc, self.base, self.log_path)
        try:
            self.token = register_partner(self.base)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}\n--- gunicorn log ---\n{self.log_path.read_text()[-4000:]}") from None
        log(f"warming up {self.config}")
        run_wrk(wrk, f"{self.base}/api/v1/me", 16, 3, self.token)
        run_wrk(wrk, f"{self.base}/healthz", 16, 2, None)
        self.meter = CpuMeter(self.proc, database_url)

    def check_alive(self) -> None:
        if self.proc.poll() is not None:
            raise RuntimeError(f"gunicorn ({self.config}) died:\n{self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.meter is not None:
            self.meter.close()
        stop_server(self.proc)


def bench(
    configs: list[str], *, wrk: str, port: int, duration: int, rounds: int, env: dict[str, str], database_url: str,
    workdir: Path,
) -> list[dict[str, Any]]:
    """Every configuration runs at the same time on its own port, idle unless measured, so that
    the configurations take turns and share whatever noise the machine has. Per round and
    connection count, each configuration gets /healthz then /me, back to back."""
    with contextlib.ExitStack() as stack:
        servers = []
        for offset, config in enumerate(configs):
            server = Server(config, port + offset, env, workdir)
            stack.callback(server.stop)
            servers.append(server)
        for server in servers:
            server.prepare(wrk, database_url)
        results = []
        for round_ in range(1, rounds + 1):
            for connections in CONNECTIONS:
                for server in servers:
                    for name, path, token in (("/healthz", "/healthz", None), ("/me", "/api/v1/me", server.token)):
                        assert server.meter is not None
                        time.sleep(1)
                        server.meter.start()
                        result = run_wrk(wrk, server.base + path, connections, duration, token)
                        result.update(
                            server.meter.stop(), config=server.config, endpoint=name, connections=connections,
                            round=round_,
                        )
                        log(
                            f"{server.config:7} round {round_} {name:9} c={connections:<3} {result['rps']:6.0f} req/s"
                            f"  p50 {result['p50_us'] / 1000:6.2f} ms  p99 {result['p99_us'] / 1000:6.2f} ms"
                            f"  others' CPU {_pct(result['others_cpu'])}"
                        )
                        results.append(result)
                    server.check_alive()
        return results


# --- report -------------------------------------------------------------------------


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.0f}%"


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _per_request_us(runs: list[dict[str, Any]], key: str) -> str:
    value = _median([None if r[key] is None else 1e6 * r[key] / r["requests"] for r in runs])
    return "n/a" if value is None else f"{value:.0f}"


def report(results: list[dict[str, Any]]) -> str:
    """Markdown tables: medians over the rounds; the ratio is the median of each round's own ratio."""
    runs: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    for r in results:
        runs.setdefault((r["config"], r["endpoint"], r["connections"]), []).append(r)
    lines = []
    for config in dict.fromkeys(r["config"] for r in results):
        lines += [
            f"### {config}: gunicorn {' '.join(CONFIGS[config])}",
            "",
            "| conns | /healthz req/s | p50 ms | p99 ms | /me req/s | p50 ms | p99 ms | /me ÷ /healthz req/s (range) |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for c in CONNECTIONS:
            h, m = runs.get((config, "/healthz", c)), runs.get((config, "/me", c))
            if not (h and m):
                continue
            ratios = [me["rps"] / hz["rps"] for hz, me in zip(h, m)]
            cells = []
            for rs in (h, m):
                cells += [
                    f"{_median([r['rps'] for r in rs]):.0f}",
                    f"{_median([r['p50_us'] for r in rs]) / 1000:.2f}",
                    f"{_median([r['p99_us'] for r in rs]) / 1000:.2f}",
                ]
            spread = f" ({min(ratios):.2f}–{max(ratios):.2f})" if len(ratios) > 1 else ""
            lines.append(f"| {c} | {' | '.join(cells)} | {_median(ratios):.2f}{spread} |")
        lines += [
            "",
            "| endpoint | conns | app CPU µs/req | PostgreSQL CPU µs/req | wrk CPU µs/req "
            "| busiest worker's share | others' CPU (max) |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for c in CONNECTIONS:
            for endpoint in ("/healthz", "/me"):
                rs = runs.get((config, endpoint, c))
                if rs:
                    others = [r["others_cpu"] for r in rs if r["others_cpu"] is not None]
                    share = _median([r["busiest_worker_share"] for r in rs])
                    lines.append(
                        f"| {endpoint} | {c} | {_per_request_us(rs, 'app_cpu_s')} | {_per_request_us(rs, 'db_cpu_s')} "
                        f"| {_per_request_us(rs, 'wrk_cpu_s')} | {_pct(share)} | {_pct(max(others) if others else None)} |"
                    )
        lines.append("")
    return "\n".join(lines)


def _interrupt(signum: int, _frame: Any) -> None:
    """SIGTERM takes the same way out as Ctrl-C, so the server is stopped."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", choices=[*CONFIGS, "all"], default="all", help="gunicorn configuration")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default 10)")
    parser.add_argument("--rounds", type=int, default=3, help="repeat the whole sequence; medians are reported (default 3)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port on {HOST} (default {DEFAULT_PORT})")
    parser.add_argument("--seed", type=int, default=SEED_MEMBERS, help="partners to seed (default 10000)")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args(argv)
    if not 1 <= args.duration <= 120:
        parser.error("--duration must be 1..120 seconds")
    if not 1 <= args.rounds <= 10:
        parser.error("--rounds must be 1..10")
    configs = list(CONFIGS) if args.config == "all" else [args.config]
    ports = range(args.port, args.port + len(configs))
    if 8000 in ports:
        parser.error("port 8000 is the development server's; pick another")

    try:
        import psycopg  # noqa: F401
    except ImportError:
        sys.exit("psycopg is missing: run this with the project's virtualenv, .venv/bin/python bench/me.py")

    signal.signal(signal.SIGTERM, _interrupt)
    from sqlalchemy.engine import make_url

    wrk = ensure_wrk()
    for port in ports:
        if port_in_use(port):
            sys.exit(f"something already listens on {HOST}:{port}; pass another --port")
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)

    started = dt.datetime.now(dt.timezone.utc)
    revision = git_revision()
    with tempfile.TemporaryDirectory(prefix="bench-me-") as tmp:
        workdir = Path(tmp)
        # Migrated and seeded as the owner; served as the application's role, as in production.
        env = app_environment(make_url(database_url).set(username="partner_wallet_app", password=None)
                              .render_as_string(hide_password=False), workdir / "instance")
        env["MIGRATION_DATABASE_URL"] = database_url
        ensure_database(database_url)
        migrate(env)
        seed(database_url, args.seed)
        results = bench(
            configs, wrk=wrk, port=args.port, duration=args.duration, rounds=args.rounds, env=env,
            database_url=database_url, workdir=workdir,
        )

    print(
        f"## GET /api/v1/me vs GET /healthz, {started:%Y-%m-%d %H:%M} UTC, commit {revision}, "
        f"{os.cpu_count()} CPUs, wrk -t1 -d{args.duration}s, median of {args.rounds} round(s)\n"
    )
    print(report(results))
    if args.json:
        summary = {"started": started.isoformat(), "revision": revision, "duration": args.duration,
                   "rounds": args.rounds, "results": results}
        args.json.write_text(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
