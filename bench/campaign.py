"""Campaign fan-out at scale: one campaign to a segment of N members with one device each.

Runs ``jobs.run_campaign`` as N Celery worker processes would (``--processes``, as with
``FANOUT_TASKS=N``): targeting in chunks of member ids (inbox and delivery rows, INSERT ...
SELECT), claiming 500 at a time, sending them over HTTP/2 to a local FCM stand-in,
recording the answers. Measures:
- the segment query (count of the segment, as the marketer's preview runs it);
- seconds from schedule to the first and to the last message accepted, and to the end
  of targeting; where the time goes (target, claim, send, record);
- messages per second, CPU per message, and peak memory (max RSS).

The FCM stand-in (bench/fcm_stub.py: nginx, HTTP/2 over TLS) runs on this machine too,
so it takes part of the 2 cores (its CPU time is reported); PostgreSQL does as well.

    .venv/bin/python bench/campaign.py --members 1000000 --processes 2

PostgreSQL at 127.0.0.1:5432 (trust auth); the database ``bench_campaign`` is dropped and
made again. Seeding is SQL (generate_series), not the API.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))  # after ROOT: bench/wallet.py must not hide the wallet package

from alembic import command  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402
from fcm_stub import NginxFcm  # noqa: E402
from harness import machine_cpu  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

from api.migrate import alembic_config  # noqa: E402
from infra.clock import utcnow  # noqa: E402
from infra.db import make_engine, make_sessionmaker  # noqa: E402
from notifications import campaigns, fanout, jobs, segments  # noqa: E402
from notifications.campaigns import Delivery  # noqa: E402
from notifications.policy import Policy  # noqa: E402
from notifications.push import FcmSender  # noqa: E402
from wallet.members.passwords import hash_password  # noqa: E402

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_campaign"
PORT = 8443


def seed(members: int) -> None:
    admin = make_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS bench_campaign WITH (FORCE)"))  # a killed run may leave backends
        conn.execute(text("CREATE DATABASE bench_campaign"))
    admin.dispose()
    command.upgrade(alembic_config(url=URL), "head")
    engine = make_engine(URL)
    password = hash_password("bench password 1")
    with engine.begin() as conn:
        conn.execute(text("""
            INSERT INTO users (id, email, password_hash, name, role, is_active, created_at)
            SELECT i, 'm' || i || '@bench.example', :pw, 'Member ' || i, 'partner', true, now() - interval '100 days'
            FROM generate_series(1, :n) AS i"""), {"pw": password, "n": members})
        conn.execute(text("""
            INSERT INTO members (id, user_id, member_number, country, city, language, timezone, marketing_opt_in,
                                 tier, created_at)
            SELECT i, i, '9' || lpad(i::text, 10, '0'), 'SA', 'Riyadh', (ARRAY['en','ar','pl'])[1 + i % 3],
                   'Asia/Riyadh', true, 'blue', now() - interval '100 days'
            FROM generate_series(1, :n) AS i"""), {"n": members})
        conn.execute(text("""
            INSERT INTO devices (member_id, token, token_digest, platform, created_at, last_seen_at)
            SELECT i, 'bench-token-' || i, encode(sha256(('bench-token-' || i)::bytea), 'hex'),
                   CASE WHEN i % 2 = 0 THEN 'android' ELSE 'ios' END, now(), now()
            FROM generate_series(1, :n) AS i"""), {"n": members})
        conn.execute(text("""
            INSERT INTO users (id, email, password_hash, name, role, is_active, created_at)
            VALUES (:id, 'marketer@bench.example', :pw, 'Marketer', 'marketer', true, now())"""),
            {"id": members + 1, "pw": password})
        for table in ("users", "members", "devices"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def service_account(base_url: str) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return json.dumps({"type": "service_account", "project_id": "bench", "private_key_id": "k", "private_key": pem,
                       "client_email": "fcm@bench.iam.gserviceaccount.com", "client_id": "1",
                       "token_uri": f"{base_url}/token"})


# No quiet hours and no cap: measure the pipeline, not the policy.
POLICY = Policy(quiet_start=0, quiet_end=0, cap=10**9)


def _timed(steps: dict[str, float], name: str, function: Any) -> Any:
    """``function``, adding the seconds it takes to ``steps[name]`` (instrumentation, not a stand-in)."""
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            steps[name] += time.perf_counter() - start
    return timed


def _send_in_process(campaign_id: int, account: str, url: str, ca_file: str,
                     sender: FcmSender | None = None) -> dict[str, float]:
    """``jobs.run_campaign`` as a worker process runs it; returns the seconds each step took."""
    factory = make_sessionmaker(make_engine(URL, pool_size=2))
    sender = sender or FcmSender(account, endpoint=url, ca_file=ca_file, max_attempts=3)
    steps = {"target": 0.0, "claim": 0.0, "send": 0.0, "record": 0.0}
    for name, module, attribute in (("target", campaigns, "target_next"), ("claim", campaigns, "claim_due"),
                                    ("record", campaigns, "record"), ("send", sender, "send")):
        setattr(module, attribute, _timed(steps, name, getattr(module, attribute)))
    targeted = fanout.target_next

    def target_next(*args: Any, **kwargs: Any) -> str:
        outcome = targeted(*args, **kwargs)
        if outcome == "targeted":
            steps["last_chunk_at"] = time.time()
        return outcome

    fanout.target_next = target_next  # type: ignore[assignment]
    jobs.run_campaign(factory, campaign_id, clock=utcnow, sender=sender, policy=POLICY)
    return steps


def _cpu() -> float:
    """CPU seconds of this process and the sending processes it waited for."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def run(members: int, processes: int) -> dict[str, Any]:
    with NginxFcm(ROOT / "bench/results/fcm-stub", PORT) as stub:
        assert stub.ca_file is not None
        ca_file = str(stub.ca_file)
        os.environ["REQUESTS_CA_BUNDLE"] = ca_file  # google-auth fetches the OAuth token with requests
        engine = make_engine(URL, pool_size=4)
        factory = make_sessionmaker(engine)
        account = service_account(stub.url)
        sender = FcmSender(account, endpoint=stub.url, ca_file=ca_file, max_attempts=3)
        rules = {"all": [{"field": "country", "op": "in", "value": ["SA"]},
                         {"field": "city", "op": "in", "value": ["Riyadh"]}]}
        with factory() as s:
            segment = segments.create(s, name="Riyadh", rules=rules, created_by_user_id=members + 1, now=utcnow())
            campaign = campaigns.create(s, name="Winter", segment_id=segment.id, created_by_user_id=members + 1,
                                        now=utcnow(), message={"title": {"en": "Winter tyres", "ar": "إطارات الشتاء",
                                                                          "pl": "Opony zimowe"},
                                                               "body": {"en": "Double points"}})
            s.commit()
            t0 = time.perf_counter()
            count, _ = segments.preview(s, segment, now=utcnow())
            segment_seconds = time.perf_counter() - t0
            campaigns.schedule(s, campaign, now=utcnow())
            s.commit()
            campaign_id = campaign.id

        engine.dispose()  # before forking: each process opens its own connections
        cpu0, stub0, busy0 = _cpu(), stub.cpu_seconds(), machine_cpu()[0]
        t_schedule = time.perf_counter()
        if processes == 1:
            steps = _send_in_process(campaign_id, account, stub.url, ca_file, sender)
        else:
            # What a Celery worker with N processes does with FANOUT_TASKS=N.
            with multiprocessing.get_context("fork").Pool(processes) as pool:
                per_process = pool.starmap(_send_in_process, [(campaign_id, account, stub.url, ca_file)] * processes)
            steps = {k: sum(p[k] for p in per_process) for k in ("target", "claim", "send", "record")}
            steps["last_chunk_at"] = max(p.get("last_chunk_at", 0.0) for p in per_process)
        end = time.perf_counter()
        cpu, stub_cpu, busy = _cpu() - cpu0, stub.cpu_seconds() - stub0, machine_cpu()[0] - busy0
        with factory() as s:
            result = campaigns.stats(s, campaign_id)
            campaign = campaigns.get(s, campaign_id)
            first_sent, last_sent = s.execute(select(func.min(Delivery.sent_at), func.max(Delivery.sent_at))
                                              .where(Delivery.campaign_id == campaign_id)).one()
        engine.dispose()
        sender.close()
    sent = result["sent"]
    started = campaign.started_at
    return {
        "members": members,
        "sending_processes": processes,
        "segment_count": count,
        "segment_query_s": round(segment_seconds, 2),
        "status": campaign.status,
        "sent": sent,
        "failed": result["failed"],
        # From the database's own timestamps: the job's start, the first and last push
        # accepted, and when targeting (in chunks, while sending) was done.
        "first_accepted_after_s": round((first_sent - started).total_seconds(), 1) if first_sent else None,
        "targeting_done_after_s": round(steps.pop("last_chunk_at") - started.timestamp(), 1),
        "schedule_to_last_accepted_s": round(end - t_schedule, 1),
        "last_accepted_after_start_s": round((last_sent - started).total_seconds(), 1) if last_sent else None,
        "messages_per_s": round(sent / (end - t_schedule)),
        # Seconds spent in each step, summed over the sending processes.
        **{f"{k}_s": round(v, 1) for k, v in steps.items()},
        # CPU per message: the worker (all its processes), the stub, and the whole machine
        # (worker, stub, PostgreSQL and anything else running).
        "worker_cpu_us_per_msg": round(cpu / sent * 1e6) if sent else None,
        "machine_cpu_us_per_msg": round(busy / sent * 1e6) if sent else None,
        "stub_cpu_us_per_msg": round(stub_cpu / sent * 1e6) if sent else None,
        # The parent's peak; with --processes the children's peak (each) is RUSAGE_CHILDREN.
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "peak_rss_child_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--skip-seed", action="store_true")
    parser.add_argument("--processes", type=int, default=1, help="sending processes sharing the campaign")
    args = parser.parse_args()
    os.environ.setdefault("APP_ENV", "development")
    if not args.skip_seed:
        t0 = time.perf_counter()
        seed(args.members)
        print(f"seeded {args.members} members in {time.perf_counter() - t0:.0f} s", flush=True)
    print(json.dumps(run(args.members, args.processes), indent=2))


if __name__ == "__main__":
    main()
