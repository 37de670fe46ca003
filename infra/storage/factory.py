"""The file store the settings name: a folder by default, a bucket when ``FILE_STORE_URL`` is ``s3://``."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from infra.storage.base import FileStore
from infra.storage.errors import BadStoreConfig
from infra.storage.local import LocalFileStore
from infra.storage.s3 import DEFAULT_REGION, S3FileStore


def make_file_store(
    url: str | None,
    *,
    upload_dir: Path,
    signing_key: bytes,
    base_url: str,
    s3_endpoint: str | None = None,
    s3_region: str | None = None,
    access_key: str | None = None,
    secret_key: str | None = None,
) -> FileStore:
    """``None`` or ``""``: a ``LocalFileStore`` under ``upload_dir`` whose signed URLs start with ``base_url``.
    ``s3://bucket`` or ``s3://bucket/prefix``: an ``S3FileStore`` (no client is built yet).

    Raises ``BadStoreConfig`` for any other URL, a bad bucket name or prefix, or a short signing key.
    """
    if not url:
        return LocalFileStore(upload_dir, signing_key=signing_key, base_url=base_url)
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.hostname or parts.netloc != parts.hostname or parts.query or parts.fragment:
        raise BadStoreConfig("the file store URL is empty (a local folder) or s3://bucket/prefix")
    return S3FileStore(
        parts.netloc,
        prefix=parts.path,
        endpoint_url=s3_endpoint or None,
        region=s3_region or DEFAULT_REGION,
        access_key=access_key or None,
        secret_key=secret_key or None,
    )


def file_store_from_settings(settings: Any) -> FileStore:
    """The store ``config.Settings`` names (``FILE_STORE_URL``, ``UPLOAD_DIR``, ``S3_*``); local
    signed URLs start at ``PUBLIC_URL`` + ``/files`` and are signed with a key derived from
    ``SECRET_KEY``, so no second secret has to be configured."""
    signing_key = hmac.new(settings.secret_key.encode(), b"file-urls", hashlib.sha256).digest()
    return make_file_store(settings.file_store_url, upload_dir=settings.upload_dir, signing_key=signing_key,
                           base_url=settings.public_url.rstrip("/") + "/files", s3_endpoint=settings.s3_endpoint,
                           s3_region=settings.s3_region, access_key=settings.s3_access_key,
                           secret_key=settings.s3_secret_key)
