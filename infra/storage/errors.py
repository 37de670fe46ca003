"""What can go wrong with the file store, in words a person can read.

Each error carries a ``message`` and a machine ``reason`` code, and is one of the kinds of
``infra.errors``, which the API maps to HTTP in one place (``FileTooLarge`` -> 413,
``NoSuchFile`` -> 404, ``StorageUnavailable`` -> 503, a bad key -> 422).
"""

from __future__ import annotations

from infra.errors import DomainError, InvalidInput, NotFound, TooLarge, Unavailable


class StorageError(DomainError):
    """Base of every file store error."""

    message = "the file store cannot carry this out"
    reason = "storage_error"

    def __init__(self, message: str | None = None, *, reason: str | None = None, field: str | None = None) -> None:
        self.reason = reason or self.reason
        super().__init__(message, field=field)


class InvalidKey(StorageError, InvalidInput):
    """A key that could escape its folder or mean different things on disk and on S3.

    ``reason`` says which rule it broke (``empty``, ``too_long``, ``nul``, ``backslash``,
    ``absolute``, ``bad_character``, ``empty_segment``, ``parent_segment``, ``dot_segment``,
    ``bad_suffix``, ``conflict``); ``key`` is the key refused.
    """

    message = "invalid file key"
    reason = "invalid_key"

    def __init__(self, message: str, *, reason: str, key: object) -> None:
        super().__init__(message, reason=reason, field="key")
        self.key = key


class InvalidContentType(StorageError, InvalidInput):
    message = "the content type must look like 'image/jpeg'"
    reason = "bad_content_type"

    def __init__(self, content_type: object) -> None:
        super().__init__(field="content_type")
        self.content_type = content_type


class FileTooLarge(StorageError, TooLarge):
    """More than ``max_bytes`` were offered; nothing was kept."""

    reason = "too_large"

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"the file is larger than the {max_bytes} bytes allowed")
        self.max_bytes = max_bytes


class NoSuchFile(StorageError, NotFound):
    reason = "not_found"

    def __init__(self, key: str) -> None:
        super().__init__("no file is stored under this key", field="key")
        self.key = key


class StorageUnavailable(StorageError, Unavailable):
    """The object store could not be reached or refused the request (a retry may work)."""

    message = "the file store is unavailable"
    reason = "unavailable"
    service = "the file store"


class BadStoreConfig(StorageError):
    """The settings that choose and build a file store are wrong (a bad URL, bucket or key)."""

    reason = "bad_config"
