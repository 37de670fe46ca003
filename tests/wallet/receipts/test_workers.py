"""A receipt decided by a real worker process within seconds of upload: the embedded one that
``make run`` starts, and a Celery worker on Redis."""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import select

from api import create_app
from api.migrate import alembic_config
from infra.clock import utcnow
from infra.db import make_engine, make_sessionmaker
from tests.conftest import need_service
from tests.wallet.receipts import corpus
from tests.wallet.receipts.test_scanning import TYRE, VAT, spec, zatca_text
from wallet.receipts import programs

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def _needs_the_corpus_and_ocr(fonts, tessdata):
    """Drawn with Debian's fonts, read with Tesseract."""


def _decided_by_a_worker(tmp_path, settings, *, redis_url: str | None, argv: list[str]) -> dict:
    # given a database and a file store that this test and the worker process share
    url = f"sqlite:///{tmp_path / 'receipts.sqlite3'}"
    command.upgrade(alembic_config(url=url), "head")
    queue = f"pw-test-{uuid.uuid4().hex[:8]}"
    live = settings.with_overrides(database_url=url, redis_url=redis_url, job_queue=queue)
    app = create_app({"SETTINGS": live, "ENGINE": make_engine(url)})
    now = utcnow()
    with make_sessionmaker(app.extensions["engine"])() as s:
        programs.save(s, country="SA", now=now, allowed_sellers=[VAT], first_receipts_reviewed=0,
                      product_patterns=[{"pattern": r"\d{3}/\d{2} ?R\d{2}", "category": "tyres"}])
        s.commit()
    client = app.test_client()
    partner = client.post("/api/v1/auth/register", json={"email": "p@example.com", "password": "a long enough password",
                                                         "name": "P", "country": "SA"}).json
    headers = {"Authorization": f"Bearer {partner['access_token']}"}
    sold = now - dt.timedelta(days=1)
    receipt = spec(items=(TYRE,), issued_at=sold.replace(tzinfo=None, microsecond=0) + dt.timedelta(hours=3),
                   qr_text=zatca_text(total=Decimal("1800.00"), at=sold.replace(microsecond=0)))
    data = corpus.photograph(corpus.render(receipt), 1, corpus.Degradation(jpeg_quality=80))

    env = {**os.environ, "DATABASE_URL": url, "APP_ENV": "test", "SECRET_KEY": live.secret_key,
           "JWT_SECRET": live.jwt_secret, "INSTANCE_DIR": str(tmp_path), "UPLOAD_DIR": str(live.upload_dir),
           "JOB_QUEUE": queue, "PYTHONPATH": str(ROOT)}
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    worker = subprocess.Popen([sys.executable, "-m", "tests.notifications.run_worker", *argv], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        # when the partner sends the photo
        sent = client.post("/api/v1/me/receipts", headers=headers, content_type="multipart/form-data",
                           data={"image": (io.BytesIO(data), "receipt.jpg")})
        assert sent.status_code == 202 and sent.json["status"] == "processing"
        # then the worker decides it (waiting on another process, bounded)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and worker.poll() is None:
            mine = client.get(f"/api/v1/me/receipts/{sent.json['id']}", headers=headers).json
            if mine["status"] != "processing":
                break
            time.sleep(0.2)
        assert worker.poll() is None, worker.stdout.read1().decode()
        mine["balance"] = client.get("/api/v1/me/wallet", headers=headers).json["balance"]
        return mine
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def test_the_embedded_worker_decides_a_receipt_within_seconds_of_upload(tmp_path, settings):
    receipt = _decided_by_a_worker(tmp_path, settings, redis_url=None, argv=["--poll", "0.1"])
    assert (receipt["status"], receipt["points"], receipt["balance"]) == ("approved", 1800, 1800), receipt


def test_a_celery_worker_decides_a_receipt(tmp_path, settings):
    redis_url = need_service("TEST_REDIS_URL")
    receipt = _decided_by_a_worker(tmp_path, settings, redis_url=redis_url, argv=["--threads", "1"])
    assert (receipt["status"], receipt["points"], receipt["balance"]) == ("approved", 1800, 1800), receipt


@pytest.mark.postgres_only
def test_two_members_jobs_reading_one_receipt_at_once_book_it_once(isolated_engine, settings, clock):
    # given two partners who both sent a photo of the same receipt, read at the same moment
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from infra.storage import file_store_from_settings
    from tests.wallet.receipts.test_scanning import photo
    from wallet.receipts import recognition, submission
    from wallet.members import accounts
    from wallet.receipts.models import Receipt

    app = create_app({"SETTINGS": settings, "ENGINE": isolated_engine, "CLOCK": clock})
    factory = app.extensions["sessionmaker"]
    store = file_store_from_settings(settings)
    with factory() as s:
        programs.save(s, country="SA", now=clock(), allowed_sellers=[VAT], first_receipts_reviewed=0,
                      product_patterns=[{"pattern": r"\d{3}/\d{2} ?R\d{2}", "category": "tyres"}])
        ids = []
        for i in range(2):
            member = accounts.register_member(s, email=f"m{i}@example.com", password="a long enough password",
                                              name=f"M{i}", country="SA", now=clock())
            ids.append(submission.submit(s, member=member, data=photo(spec(), seed=i + 1, rotation=3 * i),
                                         filename=None, content_type=None, store=store, now=clock()).id)
        s.commit()

    start = threading.Barrier(2)

    def read(receipt_id):
        start.wait()
        return recognition.recognise(factory, receipt_id, store=store, now=clock)

    with ThreadPoolExecutor(2) as pool:
        statuses = sorted(pool.map(read, ids))

    # then one is approved and the other rejected as claimed already
    assert statuses == ["approved", "rejected"]
    with factory() as s:
        rejected = s.scalar(select(Receipt).where(Receipt.status == "rejected"))
        assert rejected.reason_code == "already_claimed"
