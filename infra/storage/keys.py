"""Object keys: what a key may look like, and fresh unguessable ones.

A key is a relative path of ``/``-separated segments drawn from lowercase letters,
digits, ``.``, ``_`` and ``-``. The rules are strict so that one key means the same
object on a local disk (case-insensitive on some machines, ``..`` climbs, a leading
``/`` is absolute, a backslash separates on Windows) as on S3, and so that it can be put
into a URL path unquoted. No segment starts with a dot: that rules out ``.`` and ``..``
and leaves dot-names free for the local store's own temporary and metadata files.
"""

from __future__ import annotations

import re
import secrets

from infra.storage.errors import InvalidKey

MAX_KEY_LENGTH = 200  # well under S3's 1024 bytes and a file name's 255 bytes, with room for the local sidecar

_SAFE = re.compile(r"[a-z0-9._/-]+")
_SUFFIX = re.compile(r"(\.[a-z0-9]{1,10})?")


def check_key(key: str) -> str:
    """Returns ``key`` unchanged when it is a valid key; raises ``InvalidKey`` (with its ``reason``) when not."""
    if not isinstance(key, str):
        raise InvalidKey("a key is text", reason="bad_character", key=key)
    if not key:
        raise InvalidKey("a key may not be empty", reason="empty", key=key)
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidKey(f"a key is at most {MAX_KEY_LENGTH} characters", reason="too_long", key=key)
    if "\x00" in key:
        raise InvalidKey("a key may not contain a NUL character", reason="nul", key=key)
    if "\\" in key:
        raise InvalidKey("a key separates folders with '/', never '\\'", reason="backslash", key=key)
    if key.startswith("/"):
        raise InvalidKey("a key is relative: it may not start with '/'", reason="absolute", key=key)
    if not _SAFE.fullmatch(key):
        raise InvalidKey(
            "a key holds only lowercase letters, digits, '.', '_', '-' and '/'", reason="bad_character", key=key
        )
    for segment in key.split("/"):
        if not segment:
            raise InvalidKey("a key has no empty parts ('//' or a trailing '/')", reason="empty_segment", key=key)
        if segment == "..":
            raise InvalidKey("a key may not climb out of its folder with '..'", reason="parent_segment", key=key)
        if segment.startswith("."):
            raise InvalidKey("no part of a key may start with '.'", reason="dot_segment", key=key)
    return key


def new_key(prefix: str, *, suffix: str = "") -> str:
    """A fresh key ``prefix/<32 hex digits, 128 random bits><suffix>``, e.g. ``new_key("receipts", suffix=".jpg")``.

    ``suffix`` is empty or a dot and 1-10 letters or digits (lowercased). Raises ``InvalidKey``
    for a bad prefix or suffix.
    """
    check_key(prefix)
    suffix = suffix.lower()
    if not _SUFFIX.fullmatch(suffix):
        raise InvalidKey("a suffix is a '.' and 1 to 10 letters or digits", reason="bad_suffix", key=suffix)
    return check_key(f"{prefix}/{secrets.token_hex(16)}{suffix}")
