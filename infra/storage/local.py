"""Files in a folder on this machine: the embedded default, and what tests run on.

An object is the file ``root/<key>``, written atomically: the bytes go to a temporary
file in the same folder, which is fsynced and then renamed over the key (and the folder
fsynced), so a reader sees the old object or the new one, never half of one, and a
refused or failed upload leaves nothing. What ``put`` learnt (size, SHA-256, content type)
is kept beside it in a sidecar ``.<name>.meta``, renamed into place just before the
object itself; ``stat`` trusts the sidecar only while its size matches the file's. Dot-names
cannot be keys (see ``keys``), so the store's own files never collide with an object.
Files are 0600 and the folders it makes 0700: uploads are readable by the service's user only.

A signed URL is ``base_url/<key>?expires=<unix seconds>&sig=<hex HMAC-SHA256>``; the route
that serves it checks it with ``verify_signed``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import json
import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Iterator

from infra.storage.base import (
    DEFAULT_CONTENT_TYPE,
    Data,
    FileStore,
    StoredFile,
    as_stream,
    check_content_type,
    check_lifetime,
    check_max_bytes,
    copy_counted,
)
from infra.storage.errors import BadStoreConfig, InvalidKey, NoSuchFile
from infra.storage.keys import check_key

MIN_SIGNING_KEY_BYTES = 32
_SIGNATURE_CONTEXT = b"partner-wallet file store v1\n"  # keeps these MACs apart from others made with the same key


class LocalFileStore(FileStore):
    def __init__(self, root: Path, *, signing_key: bytes, base_url: str) -> None:
        """Nothing is created until the first ``put``. Raises ``BadStoreConfig`` for a signing key under 32 bytes."""
        if not isinstance(signing_key, bytes) or len(signing_key) < MIN_SIGNING_KEY_BYTES:
            raise BadStoreConfig(f"the file store's signing key must be at least {MIN_SIGNING_KEY_BYTES} bytes")
        self.root = Path(root)
        self.base_url = base_url.rstrip("/")
        self._signing_key = signing_key

    def __repr__(self) -> str:
        return f"LocalFileStore({str(self.root)!r})"

    def put(self, key: str, data: Data, *, content_type: str, max_bytes: int | None = None) -> StoredFile:
        path = self._path(key)
        content_type = check_content_type(content_type)
        check_max_bytes(max_bytes)
        try:
            self._make_folders(path.parent)
            with _replaced_atomically(path) as sink:
                size, digest = copy_counted(as_stream(data), sink, max_bytes=max_bytes)
                stored = StoredFile(key=key, size=size, sha256=digest.hex(), content_type=content_type)
                meta = {"size": size, "sha256": stored.sha256, "content_type": content_type}
                with _replaced_atomically(_sidecar(path)) as sidecar:
                    sidecar.write(json.dumps(meta).encode())
        except (FileExistsError, NotADirectoryError, IsADirectoryError):
            # "a" stored as a file and then "a/b" asked for, or the other way round: S3
            # allows both, a disk cannot.
            raise InvalidKey("this key collides with a folder of other keys", reason="conflict", key=key) from None
        return stored

    def open(self, key: str) -> BinaryIO:
        try:
            return open(self._path(key), "rb")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise NoSuchFile(key) from None

    def stat(self, key: str) -> StoredFile:
        with self.open(key) as stream:
            size = os.fstat(stream.fileno()).st_size
            try:
                meta = json.loads(_sidecar(self._path(key)).read_bytes())
                if meta["size"] == size:
                    return StoredFile(key=key, size=size, sha256=meta["sha256"], content_type=meta["content_type"])
            except (OSError, ValueError, KeyError, TypeError):
                pass
            # No sidecar, or one from another version (a crash between the two renames):
            # describe the bytes that are there.
            size, digest = copy_counted(stream, None, max_bytes=None)
            return StoredFile(key=key, size=size, sha256=digest.hex(), content_type=DEFAULT_CONTENT_TYPE)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        path = self._path(key)
        for name in (path, _sidecar(path)):
            with contextlib.suppress(FileNotFoundError, NotADirectoryError, IsADirectoryError):
                name.unlink()

    def signed_url(self, key: str, *, expires_in: int, now: dt.datetime) -> str:
        check_key(key)
        check_lifetime(expires_in, now)
        expires = int(now.timestamp()) + expires_in
        return f"{self.base_url}/{key}?expires={expires}&sig={self._sign(key, expires)}"

    def verify_signed(self, key: str, expires: str | int, sig: str, now: dt.datetime) -> bool:
        """Whether ``expires`` and ``sig`` (as the query string gave them) were signed for ``key`` and ``now``
        is before ``expires``. Anything malformed is ``False``, never an error."""
        try:
            check_key(key)
        except InvalidKey:
            return False
        if isinstance(expires, str):
            if not (expires.isascii() and expires.isdigit() and len(expires) <= 12):
                return False
            expires = int(expires)
        if not isinstance(expires, int) or not isinstance(sig, str) or not sig.isascii():
            return False
        if now.tzinfo is None or now.timestamp() >= expires:
            return False
        return hmac.compare_digest(self._sign(key, expires).encode(), sig.encode())

    def _sign(self, key: str, expires: int) -> str:
        message = _SIGNATURE_CONTEXT + f"{key}\n{expires}".encode()
        return hmac.new(self._signing_key, message, hashlib.sha256).hexdigest()

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def _make_folders(self, folder: Path) -> None:
        missing = []
        while not folder.is_dir():
            missing.append(folder)
            folder = folder.parent
        for folder in reversed(missing):
            try:
                folder.mkdir(mode=0o700)
            except FileExistsError:
                if not folder.is_dir():
                    raise
                continue  # another writer made it first
            os.chmod(folder, 0o700)  # mkdir's mode is masked by the umask


def _sidecar(path: Path) -> Path:
    return path.with_name(f".{path.name}.meta")


@contextlib.contextmanager
def _replaced_atomically(path: Path) -> Iterator[BinaryIO]:
    """A temporary file beside ``path`` (0600), renamed over ``path`` once the block has written and
    fsynced it; removed if the block raises."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as sink:
            yield sink
            sink.flush()
            os.fsync(sink.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    # The rename is durable only once the folder's entry is on disk too.
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
