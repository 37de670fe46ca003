"""Where uploads live (receipt photos, reward images): one interface, a folder or an S3 bucket.

Code that stores a file takes a ``FileStore`` and never knows which one it has:
``put`` streams the upload in, counting and hashing, refusing more than ``max_bytes``
without leaving anything behind; ``signed_url`` gives an admin's browser a short-lived
link to it. Keys are checked everywhere (``check_key``) and made with ``new_key``; the
store is chosen from settings by ``make_file_store``. Errors live in ``infra.storage.errors``.
"""

from infra.storage.base import MAX_SIGNED_URL_SECONDS, FileStore, StoredFile
from infra.storage.factory import file_store_from_settings, make_file_store
from infra.storage.keys import MAX_KEY_LENGTH, check_key, new_key
from infra.storage.local import LocalFileStore
from infra.storage.s3 import S3FileStore

__all__ = [
    "MAX_KEY_LENGTH",
    "MAX_SIGNED_URL_SECONDS",
    "FileStore",
    "LocalFileStore",
    "S3FileStore",
    "StoredFile",
    "check_key",
    "file_store_from_settings",
    "make_file_store",
    "new_key",
]
