"""CPU per push message: firebase-admin's own send paths against ours, to the same HTTP/2 stand-in.

Why ``notifications.push`` does its own HTTP: FCM v1 takes one request per message, so
the cost of a request is the cost of a campaign. This sends the same 500-message batches
through
- firebase-admin ``send_each`` (requests, one thread per message, HTTP/1.1 over TLS),
- firebase-admin ``send_each_async`` (httpx + h2, HTTP/2 over TLS),
- ``FcmSender`` (firebase-admin builds and encodes the messages; libcurl sends them over
  HTTP/2),
and reports, for each, messages per second and this process's CPU time per message (user
+ system). The stand-in is nginx (bench/fcm_stub.py) on the same machine.

    .venv/bin/python bench/fcm_clients.py [--messages 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))  # after ROOT: bench/wallet.py must not hide the wallet package

import firebase_admin  # noqa: E402
from campaign import service_account  # noqa: E402
from fcm_stub import NginxFcm  # noqa: E402
from firebase_admin import credentials, messaging  # noqa: E402

from notifications.push import FcmSender, Push, build_message  # noqa: E402

PORT = 8444


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def pushes(n: int) -> list[Push]:
    return [Push(token=f"bench-token-{i:08d}-" + "x" * 140, platform="android", title="Opony zimowe: podwójne punkty",
                 body="Do 15 grudnia", data={"campaign_id": "1", "notification_id": str(i),
                                             "deep_link": "partnerwallet://offers/winter"},
                 collapse_key="campaign-1") for i in range(n)]


def measure(name: str, send: Callable[[list[Push]], int], batches: list[list[Push]]) -> dict[str, float | str]:
    send(batches[0][:20])  # connections and the access token
    cpu, start = _cpu(), time.perf_counter()
    sent = sum(send(batch) for batch in batches)
    wall, cpu = time.perf_counter() - start, _cpu() - cpu
    return {"client": name, "sent": sent, "messages_per_s": round(sent / wall),
            "cpu_us_per_message": round(cpu / sent * 1e6) if sent else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=10_000)
    args = parser.parse_args()
    every = pushes(args.messages)
    batches = [every[i:i + 500] for i in range(0, len(every), 500)]
    with NginxFcm(ROOT / "bench/results/fcm-clients", PORT) as stub:
        ca_file = str(stub.ca_file)
        # The SDK's clients trust the stand-in's CA through the environment (requests, httpx).
        os.environ["REQUESTS_CA_BUNDLE"] = os.environ["SSL_CERT_FILE"] = ca_file
        account = service_account(stub.url)
        info = json.loads(account)
        app = firebase_admin.initialize_app(credentials.Certificate(info), {"projectId": "bench"}, name="bench")
        service = messaging._get_messaging_service(app)
        service._fcm_url = f"{stub.url}/v1/projects/bench/messages:send"  # as notifications.push once did

        def sdk_sync(batch: list[Push]) -> int:
            return messaging.send_each([build_message(p) for p in batch], app=app).success_count

        loop = asyncio.new_event_loop()  # one loop: the SDK's httpx client stays bound to the first

        def sdk_async(batch: list[Push]) -> int:
            return loop.run_until_complete(
                messaging.send_each_async([build_message(p) for p in batch], app=app)).success_count

        sender = FcmSender(account, endpoint=stub.url, ca_file=ca_file)

        def ours(batch: list[Push]) -> int:
            return sum(o.status == "sent" for o in sender.send(batch))

        results = [measure("firebase-admin send_each (HTTP/1.1, threads)", sdk_sync, batches),
                   measure("firebase-admin send_each_async (httpx, HTTP/2)", sdk_async, batches),
                   measure("FcmSender (firebase-admin messages, libcurl HTTP/2)", ours, batches)]
        sender.close()
        firebase_admin.delete_app(app)  # closes the SDK's clients, the async one on its loop
        loop.close()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
