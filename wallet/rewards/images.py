"""A reward's picture: checked like a receipt photo, stored in the file store, served to the app.

The type is read from the bytes (PNG, JPEG or WebP; at most 2 MB and 16 megapixels) and the
picture is re-encoded from its pixels alone (``wallet.receipts.images.intake``), so nothing
but pixels is ever served: no EXIF, no script in an SVG, no polyglot. The stored key carries
the picture's SHA-256, which is also its ETag: a new picture is a new URL, and a cached old
one can live its day without ever being shown for the new.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy.orm import Session

from infra.storage import FileStore
from infra.storage.errors import NoSuchFile
from wallet.receipts import images as photos
from wallet.receipts.errors import ReceiptImageError
from wallet.rewards.catalog import get_reward
from wallet.rewards.errors import RewardImageRefused, RewardImageTooLarge, RewardNotFound
from wallet.rewards.models import Reward

MAX_BYTES = 2 * 1024 * 1024
MAX_PIXELS = 16_000_000
ACCEPTED = ("png", "jpeg", "webp")


def set_image(session: Session, reward_id: int, *, data: bytes, store: FileStore, now: dt.datetime,
              filename: str | None = None, content_type: str | None = None) -> Reward:
    """Check, clean and store ``data`` as the reward's picture. Raises ``RewardNotFound`` and
    ``RewardImageRefused`` (what is wrong with the file, in words), ``RewardImageTooLarge``."""
    reward = get_reward(session, reward_id)
    if len(data) > MAX_BYTES:
        raise RewardImageTooLarge(MAX_BYTES)
    kind = photos.sniff(data[:1024])
    if kind not in ACCEPTED:
        raise RewardImageRefused(f"a reward's picture is PNG, JPEG or WebP (this file is {kind})")
    try:
        photo = photos.intake(data, filename=filename, content_type=content_type, max_bytes=MAX_BYTES,
                              max_pixels=MAX_PIXELS)
    except ReceiptImageError as exc:
        raise RewardImageRefused(exc.message.replace("photo", "picture")) from exc
    key = f"rewards/{reward.id}/{photo.sha256}"
    stored = store.put(key, photo.stored, content_type=photo.stored_media_type)
    # The old picture stays in the store: deleting it before this transaction commits could leave
    # the row (should the commit fail) naming a file that is gone. An orphan costs a few KB.
    reward.image_key, reward.image_sha256, reward.image_content_type = key, stored.sha256, stored.content_type
    reward.updated_at = now
    session.flush()
    return reward


@dataclass(frozen=True)
class Picture:
    stream: BinaryIO
    size: int
    content_type: str
    etag: str


def picture(session: Session, reward_id: int, *, store: FileStore) -> Picture:
    """The reward's picture to serve. Raises ``RewardNotFound`` (no reward, or no picture)."""
    reward = session.get(Reward, reward_id)
    if reward is None or reward.image_key is None:
        raise RewardNotFound("this reward has no picture")
    try:
        stat = store.stat(reward.image_key)
        stream = store.open(reward.image_key)
    except NoSuchFile as exc:
        raise RewardNotFound("this reward has no picture") from exc
    return Picture(stream=stream, size=stat.size,
                   content_type=reward.image_content_type or stat.content_type, etag=reward.image_sha256 or stat.sha256)
