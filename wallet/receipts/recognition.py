"""The ``receipts.recognise`` job: read a submitted photo, decide, book the points, tell the member.

Steps, safe to run twice (the job may be handed to a second worker after the first died):
a receipt that is no longer ``processing`` is left as it is; the upload is read and its
clean copy stored under a key made from the receipt's id (the same key again on a rerun);
the decision is written in one transaction with the ledger posting (keyed by the receipt)
and the message to the member, and the receipt's ``content_key`` is UNIQUE among receipts
not rejected, so two members' jobs racing on one receipt cannot both be approved: the loser
is rejected as claimed already.

The heavy part (decoding, finding codes, OCR: a second or two) runs outside any database
transaction, so a slow photo holds no lock.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from infra.jobs import JobContext, job
from infra.storage import FileStore, file_store_from_settings
from wallet.earning import rules
from wallet.members.models import Member
from wallet.receipts import images, points
from wallet.receipts.decision import Counts, Outcome, decide
from wallet.receipts.errors import ReceiptImageError
from wallet.receipts.fiscal import FiscalKeys
from wallet.receipts.models import Receipt
from wallet.receipts.outcomes import receipt_rules, record
from wallet.receipts.reading import Reading, purchase_key, read_receipt
from wallet.receipts.submission import RECOGNISE_JOB

logger = logging.getLogger(__name__)
SIMILAR_LOOKBACK = 200  # the member's recent photos compared for a near-same one

def _counts(session: Session, receipt: Receipt, now: dt.datetime) -> Counts:
    live = (Receipt.id != receipt.id, Receipt.status != "rejected")
    day, week = now - dt.timedelta(days=1), now - dt.timedelta(days=7)

    def count(*where: Any) -> int:
        return session.scalar(select(func.count()).select_from(Receipt).where(*live, *where)) or 0

    similar = False
    if receipt.perceptual_hash:
        recent = session.scalars(select(Receipt.perceptual_hash).where(
            Receipt.id != receipt.id, Receipt.perceptual_hash.is_not(None),
            Receipt.member_id == receipt.member_id).order_by(Receipt.id.desc()).limit(SIMILAR_LOOKBACK))
        similar = any(images.similar(receipt.perceptual_hash, other) for other in recent)
    seller = receipt.seller_tax_number
    same_purchase = receipt.purchase_key is not None and count(Receipt.purchase_key == receipt.purchase_key) > 0
    return Counts(
        member_today=count(Receipt.member_id == receipt.member_id, Receipt.uploaded_at > day),
        member_week=count(Receipt.member_id == receipt.member_id, Receipt.uploaded_at > week),
        member_ever=count(Receipt.member_id == receipt.member_id),
        seller_today=count(Receipt.seller_tax_number == seller, Receipt.uploaded_at > day) if seller else 0,
        seller_week=count(Receipt.seller_tax_number == seller, Receipt.uploaded_at > week) if seller else 0,
        similar_photo=similar,
        same_purchase=same_purchase,
    )


def _fill(receipt: Receipt, reading: Reading, outcome: Outcome | None) -> None:
    receipt.format, receipt.merchant = reading.format, (reading.merchant or None) and reading.merchant[:200]
    receipt.seller_tax_number = reading.seller_tax_number
    receipt.receipt_number = (reading.receipt_number or None) and reading.receipt_number[:64]
    receipt.purchased_at, receipt.total_amount, receipt.currency = reading.purchased_at, reading.total, reading.currency
    receipt.lines = (outcome.eligible_lines if outcome and outcome.eligible_lines else
                     [{"description": line.description[:200], "amount": str(line.amount)} for line in reading.lines[:50]])
    receipt.signals = (outcome.signals if outcome else reading.signals)[:20]
    receipt.eligible_amount = outcome.eligible_amount if outcome else None
    receipt.purchase_key = purchase_key(reading)


def _decide_and_book(session: Session, receipt: Receipt, reading: Reading, now: dt.datetime) -> None:
    member = session.get(Member, receipt.member_id)
    assert member is not None
    program = rules.get_program(session, receipt.country)
    _fill(receipt, reading, None)
    outcome = decide(reading, receipt_rules(session, receipt.country, now), currency=program.currency,
                     counts=_counts(session, receipt, now), now=now)
    _fill(receipt, reading, outcome)
    if outcome.status == "rejected":  # a rejected receipt claims nothing: no content_key
        record(session, receipt, status="rejected", reason_code=outcome.reason_code, reason=outcome.reason, now=now)
        return
    session.flush()  # what was read stays, whatever the claim below says
    if reading.content_key is not None:
        try:
            with session.begin_nested():
                # The claim: UNIQUE among receipts not rejected; a racing job for the same receipt waits here.
                receipt.content_key = reading.content_key[:300]
                session.flush()
        except IntegrityError:
            session.refresh(receipt)
            record(session, receipt, status="rejected", reason_code="already_claimed",
                   reason="this receipt was already sent, by you or another member", now=now)
            return
    result = points.estimate(session, receipt, member, amount=outcome.eligible_amount, lines=outcome.eligible_lines,
                             now=now)
    if outcome.status == "review":
        receipt.points_pending = result.points
        record(session, receipt, status="review", reason_code=outcome.reason_code, reason=outcome.reason, now=now)
        return
    tx = points.book(session, receipt, member, result=result, now=now)
    receipt.transaction_id = tx.id if tx else None
    record(session, receipt, status="approved", points_given=result.points, now=now)


def recognise(factory: Any, receipt_id: int, *, store: FileStore, now: Any, keys: FiscalKeys | None = None) -> str | None:
    """Read and decide one receipt; returns its status (None when there is nothing to do)."""
    with factory() as session:
        receipt = session.get(Receipt, receipt_id)
        if receipt is None or receipt.status != "processing":
            return None
        upload_key, country = receipt.upload_key, receipt.country
    photo = None
    refusal: ReceiptImageError | None = None
    try:
        if upload_key is None:
            raise ReceiptImageError("the photo is no longer there", reason="upload_missing")
        photo = images.intake(store.read(upload_key))
    except ReceiptImageError as exc:
        refusal = exc
    reading = read_receipt(photo.image, country=country, now=now(), keys=keys) if photo is not None else None
    at = now()
    with factory() as session:
        receipt = session.scalar(select(Receipt).where(Receipt.id == receipt_id).with_for_update())
        if receipt is None or receipt.status != "processing":
            return None
        if photo is None:
            assert refusal is not None
            record(session, receipt, status="rejected", reason_code=refusal.reason, reason=refusal.message, now=at)
        else:
            assert reading is not None
            receipt.image_key = f"receipts/{receipt.id}.{'png' if photo.stored_media_type == 'image/png' else 'jpg'}"
            store.put(receipt.image_key, io.BytesIO(photo.stored), content_type=photo.stored_media_type)
            receipt.image_media_type = photo.stored_media_type
            receipt.perceptual_hash = photo.perceptual_hash
            for signal in (photo.looks_edited, photo.looks_like_screenshot):
                if signal.flagged:
                    reading.signal("edited" if signal is photo.looks_edited else "screenshot", signal.reason or "")
            _decide_and_book(session, receipt, reading, at)
        status = receipt.status
        session.commit()
    if upload_key:
        # Only the clean copy is kept (no EXIF, no GPS); the upload goes once the decision is committed.
        store.delete(upload_key)
        with factory() as session:
            row = session.get(Receipt, receipt_id)
            if row is not None and row.upload_key == upload_key:
                row.upload_key = None
                session.commit()
    logger.info("receipt %s: %s", receipt_id, status)
    return status


def file_store(ctx: JobContext) -> FileStore:
    return ctx.resources.get("file_store", file_store_from_settings)


def fiscal_keys(settings: Any) -> FiscalKeys:
    """The keys fiscal codes are checked with (``FISCAL_GST_KEYS``, ``FISCAL_KSEF_CERTIFICATES``)."""
    return FiscalKeys(gst_public_keys=settings.fiscal_gst_keys, ksef_certificates=settings.fiscal_ksef_certificates)


@job(RECOGNISE_JOB, max_attempts=4)
def recognise_job(ctx: JobContext, *, receipt_id: int) -> None:
    recognise(ctx.factory, receipt_id, store=file_store(ctx), now=ctx.clock, keys=fiscal_keys(ctx.settings))
