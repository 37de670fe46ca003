"""A local FCM server and the real firebase-admin pointed at it."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from notifications.push import FcmSender
from tests.conftest import build_app
from tests.notifications.fcm_h2_server import FcmH2Server, ThrowawayCa
from tests.notifications.fcm_server import FcmServer


@pytest.fixture(scope="session")
def fcm_server() -> Iterator[FcmServer]:
    """One FCM server for the run (a fresh record per test: see ``fcm``)."""
    server = FcmServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def service_account(fcm_server: FcmServer) -> str:
    return fcm_server.service_account()


class Sleeps(list):
    """Records the waits the sender asks for instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def fcm(fcm_server: FcmServer) -> FcmServer:
    """The FCM server, its records emptied for this test."""
    fcm_server.reset()
    return fcm_server


@pytest.fixture(scope="session")
def fcm_ca(tmp_path_factory: pytest.TempPathFactory) -> ThrowawayCa:
    """The throwaway CA that signs the HTTP/2 server's certificate."""
    return ThrowawayCa(tmp_path_factory.mktemp("fcm-tls"), "fcm")


@pytest.fixture
def fcm_h2(fcm: FcmServer, fcm_ca: ThrowawayCa) -> Iterator[FcmH2Server]:
    """The same FCM over HTTP/2 and TLS (``fcm_h2.url``, trusted through ``fcm_ca.cert_file``)."""
    server = FcmH2Server(fcm, *fcm_ca.issue()).start()
    yield server
    server.stop()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def sender(fcm: FcmServer, service_account: str, sleeps: Sleeps) -> Iterator[FcmSender]:
    """The real firebase-admin, talking to the local server; its retries record their waits."""
    s = FcmSender(service_account, endpoint=fcm.url, sleep=sleeps, jitter=lambda: 1.0)
    yield s
    s.close()


@pytest.fixture
def app(connection: Any, settings: Any, clock: Any, sender: FcmSender) -> Any:
    """The application, pushing through ``sender``."""
    return build_app(connection, settings, clock, PUSH_SENDER=sender)
