"""Objects in an S3 bucket (AWS, or an S3-compatible store through ``endpoint_url``).

``put`` sends one ``PutObject``, never a multipart upload, and only once the size is
known to be within the limit: a stream is first copied, counted and hashed into an
unnamed temporary file (on disk, one chunk in memory at a time), so an upload that is too
large or fails halfway never reaches the bucket, and botocore gets a seekable body it can
sign and retry. The SHA-256 goes along as ``x-amz-checksum-sha256``, which S3 checks
against what it received, and in the object's metadata, where ``stat`` reads it back.

The boto3 client is built on first use (boto3 itself is imported then too), from the
credentials given or, when none are, from boto3's usual chain (environment, instance
role). A signed URL is a SigV4 presigned ``GetObject``: S3 judges its expiry by its own
clock, so it is signed at this machine's time, and ``now`` only has to be a valid time.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import io
import re
import tempfile
import threading
from pathlib import Path
from typing import Any, BinaryIO, Iterator, cast

from infra.storage.base import (
    DEFAULT_CONTENT_TYPE,
    Data,
    FileStore,
    StoredFile,
    check_content_type,
    check_lifetime,
    check_max_bytes,
    copy_counted,
)
from infra.storage.errors import BadStoreConfig, FileTooLarge, InvalidKey, NoSuchFile, StorageUnavailable
from infra.storage.keys import check_key

DEFAULT_REGION = "us-east-1"

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_MISSING = {"NoSuchKey", "404", "NotFound"}


class S3FileStore(FileStore):
    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str = DEFAULT_REGION,
        access_key: str | None = None,
        secret_key: str | None = None,
        client: Any = None,
        spool_dir: Path | None = None,
    ) -> None:
        """``prefix`` (e.g. ``"uploads"``) is put before every key in the bucket. ``client`` is a ready boto3
        S3 client to use instead of building one. Raises ``BadStoreConfig`` for a bad bucket name or prefix."""
        if not _BUCKET.fullmatch(bucket) or ".." in bucket:
            raise BadStoreConfig(f"{bucket!r} is not a valid S3 bucket name")
        prefix = prefix.strip("/")
        if prefix:
            try:
                check_key(prefix)
            except InvalidKey as error:
                raise BadStoreConfig(f"bad S3 key prefix: {error}") from None
        self.bucket = bucket
        self.prefix = prefix + "/" if prefix else ""
        self.endpoint_url = endpoint_url
        self.region = region
        self.spool_dir = spool_dir
        self._access_key = access_key
        self._secret_key = secret_key
        self._client = client
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"S3FileStore(s3://{self.bucket}/{self.prefix}, endpoint_url={self.endpoint_url!r})"

    @property
    def client(self) -> Any:
        """The boto3 S3 client, built on first use."""
        if self._client is None:
            with self._lock:  # boto3's session is not thread-safe; the client it builds is
                if self._client is None:
                    self._client = self._build_client()
        return self._client

    def _build_client(self) -> Any:
        import boto3.session
        from botocore.config import Config

        session = boto3.session.Session(
            aws_access_key_id=self._access_key, aws_secret_access_key=self._secret_key, region_name=self.region
        )
        config = Config(
            signature_version="s3v4",
            # S3-compatible servers (MinIO, Ceph, a test's moto) are addressed by path.
            s3={"addressing_style": "path" if self.endpoint_url else "auto"},
            retries={"mode": "standard", "max_attempts": 3},
            connect_timeout=5,
            read_timeout=60,
        )
        return session.client("s3", endpoint_url=self.endpoint_url, config=config)

    def put(self, key: str, data: Data, *, content_type: str, max_bytes: int | None = None) -> StoredFile:
        check_key(key)
        content_type = check_content_type(content_type)
        check_max_bytes(max_bytes)
        if isinstance(data, (bytes, bytearray, memoryview)):
            size = memoryview(data).nbytes
            if max_bytes is not None and size > max_bytes:
                raise FileTooLarge(max_bytes)
            return self._put(key, io.BytesIO(data), size, hashlib.sha256(data).digest(), content_type)
        with tempfile.TemporaryFile(dir=self.spool_dir) as spool:
            size, digest = copy_counted(data, cast(BinaryIO, spool), max_bytes=max_bytes)
            spool.seek(0)
            return self._put(key, cast(BinaryIO, spool), size, digest, content_type)

    def _put(self, key: str, body: BinaryIO, size: int, digest: bytes, content_type: str) -> StoredFile:
        with self._errors("put_object", key):
            self.client.put_object(
                **self._where(key),
                Body=body,
                ContentLength=size,
                ContentType=content_type,
                ChecksumAlgorithm="SHA256",
                ChecksumSHA256=base64.b64encode(digest).decode(),
                Metadata={"sha256": digest.hex()},
            )
        return StoredFile(key=key, size=size, sha256=digest.hex(), content_type=content_type)

    def open(self, key: str) -> BinaryIO:
        with self._errors("get_object", key):
            return cast(BinaryIO, self.client.get_object(**self._where(key))["Body"])

    def stat(self, key: str) -> StoredFile:
        with self._errors("head_object", key):
            head = self.client.head_object(**self._where(key))
        sha256 = head.get("Metadata", {}).get("sha256")
        size = head["ContentLength"]
        if sha256 is None:  # an object this store did not write
            with self.open(key) as stream:
                size, digest = copy_counted(stream, None, max_bytes=None)
            sha256 = digest.hex()
        return StoredFile(key=key, size=size, sha256=sha256, content_type=head.get("ContentType", DEFAULT_CONTENT_TYPE))

    def exists(self, key: str) -> bool:
        try:
            with self._errors("head_object", key):
                self.client.head_object(**self._where(key))
        except NoSuchFile:
            return False
        return True

    def delete(self, key: str) -> None:
        with self._errors("delete_object", key):
            self.client.delete_object(**self._where(key))  # S3 answers 204 for a key that is not there

    def signed_url(self, key: str, *, expires_in: int, now: dt.datetime) -> str:
        check_lifetime(expires_in, now)
        with self._errors("generate_presigned_url", key):
            url = self.client.generate_presigned_url("get_object", Params=self._where(key), ExpiresIn=expires_in)
        return cast(str, url)

    def _where(self, key: str) -> dict[str, str]:
        return {"Bucket": self.bucket, "Key": self.prefix + check_key(key)}

    @contextlib.contextmanager
    def _errors(self, operation: str, key: str) -> Iterator[None]:
        """S3's errors as ours; their messages name the operation and S3's code, never a credential."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in _MISSING:
                raise NoSuchFile(key) from None
            raise StorageUnavailable(f"S3 refused {operation} ({code or 'no error code'})") from error
        except BotoCoreError as error:
            raise StorageUnavailable(f"S3 {operation} failed ({type(error).__name__})") from error
