"""Taking a receipt photo in: what the request does before answering 202.

Only what is cheap and what the partner must hear at once: the bytes' real type (415),
their size and the pixel count from the header (413), before a pixel is decoded. The
upload goes to the file store as it came, private, and the recognition job (which decodes,
strips EXIF and keeps only the clean copy) is queued in the same transaction.

A phone on a bad line sends the same photo again: the same member's same bytes are the same
receipt, and the first one is answered again rather than a second made.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io

from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.jobs import enqueue
from infra.storage import FileStore, new_key
from wallet.members.models import Member
from wallet.receipts import images
from wallet.receipts.errors import UnreadableImage
from wallet.receipts.models import Receipt

RECOGNISE_JOB = "receipts.recognise"


def _peek(data: bytes, *, filename: str | None, content_type: str | None, max_bytes: int, max_pixels: int) -> str:
    """The photo's type, after the checks that need no decoding. Raises the intake errors."""
    kind = images.check_type(data, filename=filename, content_type=content_type, max_bytes=max_bytes)
    images.open_header(data, kind, max_pixels)
    return kind


def submit(session: Session, *, member: Member, data: bytes, filename: str | None, content_type: str | None,
           store: FileStore, now: dt.datetime, max_bytes: int = images.MAX_BYTES,
           max_pixels: int = images.MAX_PIXELS) -> Receipt:
    """A new receipt in ``processing`` with its recognition queued, or the member's earlier one for the
    same bytes. Raises ``UnsupportedImage`` (415), ``ImageTooLarge`` (413), ``UnreadableImage`` (422)."""
    if not data:
        raise UnreadableImage("the photo is empty", reason="empty")
    kind = _peek(data, filename=filename, content_type=content_type, max_bytes=max_bytes, max_pixels=max_pixels)
    digest = hashlib.sha256(data).hexdigest()
    earlier = session.scalar(select(Receipt).where(Receipt.member_id == member.id, Receipt.file_sha256 == digest)
                             .order_by(Receipt.id).limit(1))
    if earlier is not None:
        return earlier
    key = new_key(f"receipts/uploads/{member.id}", suffix=f".{kind}")
    store.put(key, io.BytesIO(data), content_type=f"image/{kind}", max_bytes=max_bytes)
    receipt = Receipt(member_id=member.id, country=member.country, status="processing", file_sha256=digest,
                      upload_key=key, uploaded_at=now)
    session.add(receipt)
    session.flush()
    enqueue(session, RECOGNISE_JOB, now=now, receipt_id=receipt.id)
    return receipt


