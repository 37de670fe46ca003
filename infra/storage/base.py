"""What every file store offers, and the pieces the stores share.

A store writes an object whole or not at all: ``put`` reads its input in chunks,
counting and hashing as it goes, and an input larger than ``max_bytes`` (or one that
fails halfway) leaves nothing behind and does not disturb an object already under that
key. ``StoredFile`` is what was stored: its size and SHA-256 are those of the bytes
written, computed while writing, never taken from the caller.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import BinaryIO

from infra.storage.errors import FileTooLarge, InvalidContentType

CHUNK_SIZE = 1024 * 1024
MAX_SIGNED_URL_SECONDS = 7 * 24 * 3600  # SigV4's own limit; the local store keeps the same one
DEFAULT_CONTENT_TYPE = "application/octet-stream"

_CONTENT_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")


@dataclass(frozen=True, slots=True)
class StoredFile:
    key: str
    size: int
    sha256: str  # 64 lowercase hex digits
    content_type: str


Data = bytes | bytearray | memoryview | BinaryIO


class FileStore(ABC):
    """Objects under keys (see ``keys.check_key``). Every method raises ``InvalidKey`` for a bad key."""

    @abstractmethod
    def put(self, key: str, data: Data, *, content_type: str, max_bytes: int | None = None) -> StoredFile:
        """Stores ``data`` (bytes, or a binary stream read to its end) under ``key``, replacing what was there.

        Returns what was stored. Raises ``FileTooLarge`` when ``data`` holds more than
        ``max_bytes`` (nothing is kept), ``InvalidContentType``, ``StorageUnavailable``.
        """

    @abstractmethod
    def open(self, key: str) -> BinaryIO:
        """A binary stream of the object, to read in chunks and close. Raises ``NoSuchFile``."""

    def read(self, key: str) -> bytes:
        """The whole object. Raises ``NoSuchFile``."""
        with self.open(key) as stream:
            return stream.read()

    @abstractmethod
    def stat(self, key: str) -> StoredFile:
        """What is stored under ``key``. Raises ``NoSuchFile``."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Removes the object; removing one that is not there is not an error."""

    @abstractmethod
    def signed_url(self, key: str, *, expires_in: int, now: dt.datetime) -> str:
        """A URL a browser can load the object from for ``expires_in`` seconds after ``now``.

        Raises ``ValueError`` for a lifetime outside 1 s .. 7 days or a naive ``now``.
        """


def check_content_type(content_type: str) -> str:
    """The content type, lowercased; raises ``InvalidContentType`` unless it is a bare ``type/subtype``."""
    if not isinstance(content_type, str) or not _CONTENT_TYPE.fullmatch(content_type.lower()):
        raise InvalidContentType(content_type)
    return content_type.lower()


def check_max_bytes(max_bytes: int | None) -> None:
    if max_bytes is not None and (not isinstance(max_bytes, int) or max_bytes < 0):
        raise ValueError("max_bytes is None or a count of bytes >= 0")


def check_lifetime(expires_in: int, now: dt.datetime) -> None:
    if not isinstance(expires_in, int) or not 1 <= expires_in <= MAX_SIGNED_URL_SECONDS:
        raise ValueError(f"expires_in is 1 to {MAX_SIGNED_URL_SECONDS} seconds")
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")


def as_stream(data: Data) -> BinaryIO:
    """``data`` as a stream to read in chunks (``bytes`` are wrapped, not copied)."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return io.BytesIO(data)
    return data


def copy_counted(source: BinaryIO, sink: BinaryIO | None, *, max_bytes: int | None) -> tuple[int, bytes]:
    """Copies ``source`` to its end into ``sink`` (or nowhere) in chunks; returns (size, SHA-256 digest).

    Raises ``FileTooLarge`` as soon as more than ``max_bytes`` have been read, having read at
    most one byte past the limit; the sink then holds a partial copy for the caller to drop.
    """
    digest = hashlib.sha256()
    size = 0
    while True:
        want = CHUNK_SIZE if max_bytes is None else min(CHUNK_SIZE, max_bytes - size + 1)
        chunk = source.read(want)
        if not chunk:
            return size, digest.digest()
        size += len(chunk)
        if max_bytes is not None and size > max_bytes:
            raise FileTooLarge(max_bytes)
        digest.update(chunk)
        if sink is not None:
            sink.write(chunk)
