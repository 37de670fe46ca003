"""One campaign through a real Celery worker on Redis, as in production."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from alembic import command
from sqlalchemy import select

from api import create_app
from api.migrate import alembic_config
from infra.clock import utcnow
from infra.db import make_engine, make_sessionmaker
from notifications.campaigns import Campaign
from tests.conftest import PASSWORD, need_service
from wallet.members import accounts

ROOT = Path(__file__).resolve().parents[2]


def test_a_scheduled_campaign_is_sent_by_a_celery_worker(tmp_path, settings, fcm, service_account):
    redis_url = need_service("TEST_REDIS_URL")
    # given a database both this test and the worker process use, with a partner and a phone
    url = f"sqlite:///{tmp_path / 'worker.sqlite3'}"
    command.upgrade(alembic_config(url=url), "head")
    queue = f"pw-test-{uuid.uuid4().hex[:8]}"
    live = settings.with_overrides(database_url=url, redis_url=redis_url, job_queue=queue)
    app = create_app({"SETTINGS": live, "ENGINE": make_engine(url)})
    factory = make_sessionmaker(app.extensions["engine"])
    with factory() as s:
        accounts.create_staff(s, email="m@example.com", password=PASSWORD, name="M", role="marketer", now=utcnow())
        s.commit()
    client = app.test_client()
    partner = client.post("/api/v1/auth/register", json={"email": "p@example.com", "password": PASSWORD, "name": "P",
                                                         "country": "AE", "marketing_opt_in": True}).json
    client.post("/api/v1/me/devices", json={"token": "tok-celery", "platform": "android"},
                headers={"Authorization": f"Bearer {partner['access_token']}"})
    marketer = {"Authorization": "Bearer " + client.post(
        "/api/v1/auth/login", json={"email": "m@example.com", "password": PASSWORD}).json["access_token"]}

    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": redis_url, "JOB_QUEUE": queue, "APP_ENV": "test",
           "SECRET_KEY": live.secret_key, "JWT_SECRET": live.jwt_secret, "INSTANCE_DIR": str(tmp_path),
           "FCM_CREDENTIALS": service_account, "FCM_ENDPOINT": fcm.url,
           "QUIET_HOURS": "0-0",  # no quiet hours: the worker runs on the real clock
           "PYTHONPATH": str(ROOT)}
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.notifications.run_worker", "--threads", "1"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        # when the marketer schedules it
        segment = client.post("/api/v1/segments", json={"name": "all", "rules": {"all": []}}, headers=marketer).json
        campaign = client.post("/api/v1/campaigns", headers=marketer, json={
            "name": "Celery", "segment_id": segment["id"],
            "message": {"title": {"en": "Hello from the worker"}, "body": {"en": "b"}}}).json
        scheduled = client.post(f"/api/v1/campaigns/{campaign['id']}/schedule", headers=marketer)
        assert scheduled.json["status"] == "scheduled"  # queued, not run in the request

        # then the worker sends it (waiting for another process, bounded)
        deadline = time.monotonic() + 90
        status = None
        while time.monotonic() < deadline and worker.poll() is None:
            with factory() as s:
                status = s.scalar(select(Campaign.status).where(Campaign.id == campaign["id"]))
            if status == "sent":
                break
            time.sleep(0.2)
        assert status == "sent", worker.stdout.read1().decode() if worker.poll() is not None else status
        assert [m["notification"]["title"] for m in fcm.sent_to("tok-celery")] == ["Hello from the worker"]
        stats = client.get(f"/api/v1/campaigns/{campaign['id']}/stats", headers=marketer).json
        assert (stats["targeted"], stats["sent"]) == (1, 1)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
