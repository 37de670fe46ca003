"""The FCM sender on its own: access tokens, retries, bad messages, an unreachable FCM, and
HTTP/2 over TLS as fcm.googleapis.com speaks it. The real firebase-admin and libcurl
against the local servers of fcm_server.py and fcm_h2_server.py; waits are recorded, not slept."""

from __future__ import annotations

import json
import socket
import threading

import pytest

from notifications.push import FcmSender, FcmUnavailable, Push, encode
from tests.notifications.fcm_h2_server import ThrowawayCa


def push(token: str, **fields) -> Push:
    return Push(token=token, platform="android", title="t", body="b", **fields)


@pytest.fixture
def closed_port():
    """A local port nothing listens on: bound (so no one else takes it) but never listening."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]


def test_the_access_token_is_fetched_once_and_reused_across_sends(sender, fcm):
    """A token is good for an hour: fetching one per send would double the requests and hit Google's OAuth quota."""
    for i in range(3):
        assert [o.status for o in sender.send([push(f"tok-{i}-a"), push(f"tok-{i}-b")])] == ["sent", "sent"]
    assert fcm.token_requests == 1
    assert len(fcm.auth_headers) == 1 and fcm.auth_headers <= fcm.valid_authorizations()
    assert len(fcm.messages) == 6


def test_an_access_token_about_to_expire_is_replaced_before_it_is_used(sender, fcm):
    """A token that dies in flight would cost a 401 and a round trip per message: renew it ahead (5 min margin)."""
    fcm.token_lifetime = 60
    for i in range(3):
        assert sender.send([push(f"tok-{i}")])[0].status == "sent"
    assert fcm.token_requests == 3 and len(fcm.auth_headers) == 3


def test_threads_of_one_worker_share_the_access_token(sender, fcm):
    """A threaded worker sends from several threads at once: each its own connections, one token for all."""
    results: dict[int, list[str]] = {}

    def send(n: int) -> None:
        results[n] = [o.status for o in sender.send([push(f"tok-{n}-{i}") for i in range(25)])]

    threads = [threading.Thread(target=send, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert results == {n: ["sent"] * 25 for n in range(4)}
    assert fcm.token_requests == 1 and len(fcm.messages) == 100


def test_a_revoked_access_token_is_renewed_once_and_the_pushes_delivered(sender, fcm, sleeps):
    """Google may revoke a token before it expires (key rotation): the sender gets a new one and carries on."""
    assert sender.send([push("tok-before")])[0].status == "sent"
    fcm.revoke_tokens()

    outcomes = sender.send([push("tok-after-1"), push("tok-after-2")])

    assert [o.status for o in outcomes] == ["sent", "sent"]
    assert fcm.token_requests == 2
    assert [m["token"] for m in fcm.messages].count("tok-after-1") == 1  # delivered once, after the renewal
    assert len(fcm.auth_headers) == 2 and len(fcm.auth_headers & fcm.valid_authorizations()) == 1
    assert sleeps == []  # a renewal is not a backoff


def test_an_access_token_fcm_keeps_refusing_fails_the_pushes_without_looping(sender, fcm, sleeps):
    """A service account without FCM rights is 401 for ever: one renewal, then `failed`, not an endless loop."""
    fcm.revoke_tokens(also_new=True)

    outcomes = sender.send([push("tok-1"), push("tok-2")])

    assert [o.status for o in outcomes] == ["failed", "failed"]
    assert all("UNAUTHENTICATED" in o.error for o in outcomes)
    assert fcm.token_requests == 2  # the first token and one renewal
    assert fcm.messages == [] and sleeps == []


def test_retry_after_as_an_http_date_is_honoured(sender, fcm, sleeps):
    """FCM's 429 QUOTA_EXCEEDED may give Retry-After as a date (here 30 s ahead): retrying sooner only burns quota."""
    outcomes = sender.send([push("quota-1")])
    assert outcomes[0].status == "sent"
    assert fcm.tries["quota-1"] == 2
    assert len(sleeps) == 1 and 28 <= sleeps[0] <= 31  # the date has whole seconds: 29-30 s from when it came


def test_a_retry_after_longer_than_a_job_should_wait_fails_the_push_at_once(sender, fcm, sleeps):
    """An hour's Retry-After must not park the worker (and every other campaign) for an hour."""
    outcomes = sender.send([push("away-1"), push("tok-1")])
    assert [o.status for o in outcomes] == ["failed", "sent"]
    assert "Retry-After 3600 s" in outcomes[0].error
    assert fcm.tries["away-1"] == 1 and sleeps == []


def test_a_message_firebase_refuses_to_encode_fails_alone_and_never_reaches_fcm(sender, fcm):
    """One bad offer (a number in data) must not stop the campaign for everyone else."""
    bad = push("tok-bad", data={"n": 1})
    with pytest.raises(ValueError, match="non-string"):
        encode(bad)

    outcomes = sender.send([push("tok-ok-1"), bad, push("tok-ok-2")])

    assert [o.status for o in outcomes] == ["sent", "failed", "sent"]
    assert outcomes[1].token == "tok-bad" and outcomes[1].error.startswith("message: ")
    assert fcm.tries["tok-bad"] == 0 and {m["token"] for m in fcm.messages} == {"tok-ok-1", "tok-ok-2"}


def test_an_unreachable_fcm_fails_every_push_after_growing_backoff_without_raising(service_account, closed_port, sleeps):
    """FCM down or the network cut: the job records failures and ends instead of crashing or waiting for ever."""
    sender = FcmSender(service_account, endpoint=f"http://127.0.0.1:{closed_port}", sleep=sleeps, jitter=lambda: 0.0)
    try:
        outcomes = sender.send([push("tok-1"), push("tok-2")])
    finally:
        sender.close()
    assert [o.status for o in outcomes] == ["failed", "failed"]
    assert all("connect" in o.error.lower() for o in outcomes)
    assert sleeps == [0.25, 0.5, 1.0, 2.0]  # max_attempts (5) tries; 0.5 s doubling, jitter at its bottom halves it


# HTTP/2 over TLS, as fcm.googleapis.com


@pytest.fixture
def h2_sender(fcm_h2, fcm_ca, service_account, sleeps):
    """A sender on the production path: HTTP/2 over TLS, trusting the test CA (the OAuth token still over http)."""
    s = FcmSender(service_account, endpoint=fcm_h2.url, ca_file=str(fcm_ca.cert_file), sleep=sleeps, jitter=lambda: 1.0)
    yield s
    s.close()


def test_a_full_batch_goes_out_multiplexed_over_a_few_http2_connections(h2_sender, fcm_h2, fcm, sleeps):
    """Production speaks HTTP/2 to Google: many streams per connection, not one connection per message."""
    tokens = [f"tok-{i}" for i in range(250)]

    outcomes = h2_sender.send([push(t) for t in tokens])

    assert [o.status for o in outcomes] == ["sent"] * 250
    assert all(o.message_id and o.message_id.startswith("projects/pw-test/messages/") for o in outcomes)
    assert sorted(m["token"] for m in fcm.messages) == sorted(tokens) and set(fcm.tries.values()) == {1}
    assert {c.protocol for c in fcm_h2.connections} == {"h2"}
    assert 1 <= len(fcm_h2.connections) <= 16
    assert max(c.streams for c in fcm_h2.connections) > 1
    assert sum(c.streams for c in fcm_h2.connections) == 250
    assert fcm_h2.protocol_errors == [] and sleeps == []


def test_a_connection_the_server_closes_gracefully_loses_and_repeats_no_push(h2_sender, fcm_h2, fcm):
    """Google's front ends end connections with GOAWAY now and then: the streams it refused go again, once each."""
    fcm_h2.goaway_after = 100
    tokens = [f"tok-{i}" for i in range(250)]

    outcomes = h2_sender.send([push(t) for t in tokens])

    assert [o.status for o in outcomes] == ["sent"] * 250
    assert sorted(m["token"] for m in fcm.messages) == sorted(tokens)  # none lost, none twice
    assert len(fcm_h2.connections) >= 3  # so it did go on, on new connections


def test_an_unregistered_token_is_invalid_over_http2_too(h2_sender, fcm_h2, fcm):
    """FCM's error body is read the same on HTTP/2, so dead devices still get removed."""
    outcomes = h2_sender.send([push("dead-1"), push("tok-1")])
    assert [o.status for o in outcomes] == ["invalid", "sent"]
    assert "UNREGISTERED" in outcomes[0].error
    assert {c.protocol for c in fcm_h2.connections} == {"h2"}


def test_a_server_whose_certificate_is_not_trusted_gets_nothing(fcm_h2, fcm, service_account, sleeps, tmp_path):
    """A man in the middle, or the wrong CA bundle: no push may go out over a connection we cannot verify."""
    stranger = ThrowawayCa(tmp_path, "stranger")
    sender = FcmSender(service_account, endpoint=fcm_h2.url, ca_file=str(stranger.cert_file), sleep=sleeps,
                       jitter=lambda: 1.0)
    try:
        outcomes = sender.send([push("tok-1"), push("tok-2")])
    finally:
        sender.close()
    assert [o.status for o in outcomes] == ["failed", "failed"]
    assert all("certificate" in o.error.lower() for o in outcomes)
    assert sleeps == []  # a certificate does not get better in a second: no retries, no backoff
    assert fcm.requests == [] and fcm.auth_headers == set()  # not even the access token was given away
    assert fcm_h2.connections or fcm_h2.handshake_errors  # it did knock
    assert sum(c.streams for c in fcm_h2.connections) == 0


def test_a_whole_batch_that_gets_nowhere_is_an_outage_not_dead_devices(service_account, closed_port, sleeps):
    """FCM down for the whole batch: the job must pause and come back, not mark a million deliveries failed."""
    sender = FcmSender(service_account, endpoint=f"http://127.0.0.1:{closed_port}", sleep=sleeps, jitter=lambda: 1.0,
                       outage_batch=2)
    try:
        with pytest.raises(FcmUnavailable, match="2 pushes got nowhere"):
            sender.send([push("tok-1"), push("tok-2")])
        assert [o.status for o in sender.send([push("tok-3")])] == ["failed"]  # one push alone may be its device
    finally:
        sender.close()


def test_a_batch_with_one_dead_device_among_unavailable_answers_is_not_an_outage(sender, fcm, sleeps):
    """Some answer came back from FCM about a device: FCM is up."""
    sender.outage_batch = 2
    outcomes = sender.send([push("down-1"), push("dead-1")])
    assert [o.status for o in outcomes] == ["failed", "invalid"]


def test_a_project_that_refuses_us_is_an_outage_not_failed_devices(sender, fcm):
    """403 with no token named (FCM API off, missing IAM role): fix the project, do not fail the campaign."""
    sender.outage_batch = 2
    with pytest.raises(FcmUnavailable, match="PERMISSION_DENIED"):
        sender.send([push("forbidden-1"), push("forbidden-2")])


def test_every_token_of_another_sender_means_our_credentials_are_wrong_not_that_all_devices_died(sender, fcm):
    """A service account of the wrong project gets SENDER_ID_MISMATCH for everyone: deleting every device would be the worst answer."""
    sender.outage_batch = 2
    with pytest.raises(FcmUnavailable, match="another sender"):
        sender.send([push("other-1"), push("other-2")])
    assert [o.status for o in sender.send([push("other-3"), push("tok-1")])] == ["invalid", "sent"]  # one stray token is


def test_no_oauth_token_is_an_outage_and_nothing_is_sent(fcm, sleeps, closed_port):
    """The token endpoint down (or the key revoked): nothing can go out, so nothing may be marked failed."""
    account = json.loads(fcm.service_account())
    account["token_uri"] = f"http://127.0.0.1:{closed_port}/token"
    sender = FcmSender(json.dumps(account), endpoint=fcm.url, sleep=sleeps)
    try:
        with pytest.raises(FcmUnavailable, match="no OAuth access token"):
            sender.send([push("tok-1")])
    finally:
        sender.close()
    assert fcm.requests == [] and fcm.auth_headers == set()


def test_a_closed_sender_opens_new_connections_on_the_next_send(sender, fcm):
    assert sender.send([push("tok-1")])[0].status == "sent"
    sender.close()
    assert sender.send([push("tok-2")])[0].status == "sent"


def test_a_test_send_while_push_is_unavailable_is_a_503_that_says_so(connection, settings, clock, people, fcm, closed_port):
    """The marketer's test button must say why nothing arrived, not show a 500."""
    from tests.conftest import build_app

    account = json.loads(fcm.service_account())
    account["token_uri"] = f"http://127.0.0.1:{closed_port}/token"  # Google's token endpoint unreachable
    sender = FcmSender(json.dumps(account), endpoint=fcm.url)
    client = build_app(connection, settings, clock, PUSH_SENDER=sender).test_client()
    try:
        marketer = people.staff("marketer")
        partner = people.partner()
        segment = client.post("/api/v1/segments", json={"name": "all", "rules": {"all": []}}, headers=marketer["headers"]).json
        campaign = client.post("/api/v1/campaigns", headers=marketer["headers"], json={
            "name": "c", "segment_id": segment["id"], "message": {"title": {"en": "t"}, "body": {"en": "b"}}}).json
        client.post("/api/v1/me/devices", json={"token": "tok-1", "platform": "android"}, headers=partner["headers"])
        response = client.post(f"/api/v1/campaigns/{campaign['id']}/test", json={"member_id": partner["member"]["id"]},
                               headers=marketer["headers"])
    finally:
        sender.close()
    assert response.status_code == 503
    assert "push is unavailable right now" in response.json["message"] and "OAuth" in response.json["message"]
    assert response.headers["Retry-After"] == "60"
    assert fcm.requests == []


def test_the_workers_sender_trusts_the_configured_ca_file(fcm_h2, fcm_ca, service_account):
    """FCM_CA_FILE reaches the sender the jobs build (a TLS-inspecting proxy, a staging stand-in)."""
    from config import Settings
    from notifications import jobs

    sender = jobs.build_sender(Settings(fcm_credentials=service_account, fcm_endpoint=fcm_h2.url,
                                        fcm_ca_file=str(fcm_ca.cert_file)))
    assert sender.send([push("tok-1")])[0].status == "sent"
    assert {c.protocol for c in fcm_h2.connections} == {"h2"}


def test_no_new_token_halfway_through_a_batch_fails_only_what_is_left_and_never_the_sent(fcm, service_account):
    """Part of the batch is out when the token endpoint goes down: putting it all back would send those twice."""
    def sleep(seconds: float) -> None:
        fcm.token_endpoint_down = True  # during the backoff, as the next token is due

    fcm.token_lifetime = 60  # inside the renewal margin: every attempt fetches a new token
    sender = FcmSender(service_account, endpoint=fcm.url, sleep=sleep, jitter=lambda: 1.0, outage_batch=2)
    try:
        outcomes = sender.send([push("tok-1"), push("flaky-1")])
    finally:
        sender.close()
    assert [o.status for o in outcomes] == ["sent", "failed"]
    assert "no OAuth access token" in outcomes[1].error
    assert [m["token"] for m in fcm.messages] == ["tok-1"]
