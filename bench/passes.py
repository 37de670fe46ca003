"""Apple Wallet passes built and signed per second, in one process, with the development identity.

What one pass costs: validating the content, writing ``pass.json``, the manifest (SHA-1 of
every file), the detached PKCS#7 signature (RSA-2048, SHA-256) and the zip. Images and
strings files are cached per process, so the first build (which draws them) is left out.
It reports, for a store card and a coupon, passes per second (wall) and CPU per pass, the
median of ``--rounds`` rounds, and the same for ``content_hash`` alone (what a caller pays
to learn whether a pass changed). The goal is at least 200 passes a second.

The development identity is made in a temporary directory and thrown away afterwards.

    .venv/bin/python bench/passes.py [--passes 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from passes import member_card  # noqa: E402
from passes.apple import (  # noqa: E402
    Coupon, Identity, StoreCard, build_coupon, build_store_card, content_hash, development_identity)

PASS_TYPE, TEAM = "pass.com.example.partnerwallet", "ABCDE12345"
GOAL = 200


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cards(n: int) -> list[StoreCard]:
    now = dt.datetime.now(dt.timezone.utc)
    keys = [("k1", b"bench-member-card-key-0123456789")]
    return [StoreCard(
        serial_number=f"card-{i:08d}", pass_type_id=PASS_TYPE, team_id=TEAM, organization_name="Partner Wallet",
        description="Partner Wallet member card", member_number=f"AE{i:07d}", member_name="Layla Haddad",
        barcode_message=member_card.issue(f"AE{i:07d}", keys=keys, now=now).payload, balance=10_000 + i,
        tier_name="Gold", expiring=[(120, dt.date(2027, 1, 31)), (300, dt.date(2027, 3, 31))],
        terms="Points expire 24 months after they are earned.",
        web_service_url="https://wallet.example.com/api/passes/", authentication_token=f"tok_{i:020d}",
    ) for i in range(n)]


def coupons(n: int) -> list[Coupon]:
    return [Coupon(
        serial_number=f"voucher-{i:08d}", pass_type_id=PASS_TYPE, team_id=TEAM, organization_name="Partner Wallet",
        description="Partner Wallet voucher", voucher_code=f"WINTER-{i:08d}", reward_name="Wheel alignment",
        expires_at=dt.datetime(2027, 2, 28, 23, 59, tzinfo=dt.timezone.utc), member_name="Layla Haddad",
        web_service_url="https://wallet.example.com/api/passes/", authentication_token=f"tok_{i:020d}",
    ) for i in range(n)]


def measure(build: Callable[[object, Identity], object], contents: list, identity: Identity,
            rounds: int) -> tuple[float, float, float, float]:
    """(median passes/s, min, max, median CPU µs per pass) over ``rounds`` runs through ``contents``."""
    build(contents[0], identity)  # draws and caches the images
    rates, cpus = [], []
    for _ in range(rounds):
        cpu, start = _cpu(), time.perf_counter()
        for content in contents:
            build(content, identity)
        wall, cpu = time.perf_counter() - start, _cpu() - cpu
        rates.append(len(contents) / wall)
        cpus.append(cpu / len(contents) * 1e6)
    return statistics.median(rates), min(rates), max(rates), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--passes", type=int, default=2000, help="passes per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-passes-") as directory:
        identity = development_identity(Path(directory) / "identity", pass_type_id=PASS_TYPE, team_id=TEAM)
        runs = [
            ("store card, build_store_card", build_store_card, cards(args.passes)),
            ("coupon, build_coupon", build_coupon, coupons(args.passes)),
            ("store card, content_hash only", content_hash, cards(args.passes)),
        ]
        print(f"{args.passes} passes x {args.rounds} rounds, one process; development identity (RSA-2048)")
        print(f"{'what':<32} {'passes/s':>9} {'(min-max)':>14} {'CPU µs/pass':>12}")
        built = []
        for name, build, contents in runs:
            median, low, high, cpu = measure(build, contents, identity, args.rounds)
            print(f"{name:<32} {median:>9.0f} {f'({low:.0f}-{high:.0f})':>14} {cpu:>12.0f}")
            if build is not content_hash:
                built.append(median)
        slowest = min(built)
        print(f"built and signed: {slowest:.0f} passes/s at the slowest; goal >= {GOAL}/s: "
              f"{'met' if slowest >= GOAL else 'NOT met'}")


if __name__ == "__main__":
    main()
