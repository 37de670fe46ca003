"""How each kind of value in the environment is read: lists, hours, files, keys, credentials.

Pure functions of the strings ``settings.load_settings`` hands them (this module reads no
environment itself); each refuses a malformed value with a ``ConfigError`` naming the variable.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

# A secret shorter than this is refused in production: HS256 keys should carry at
# least as many bits as the hash (RFC 7518, section 3.2).
MIN_SECRET_BYTES = 32


class ConfigError(RuntimeError):
    """The environment does not describe a program that may start."""


def _csv(value: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    if not value:
        return default
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _hours(value: str) -> tuple[int, int]:
    start, sep, end = value.partition("-")
    if not (sep and start.isdigit() and end.isdigit() and 0 <= int(start) < 24 and 0 <= int(end) < 24):
        raise ConfigError("QUIET_HOURS is start-end in whole local hours, such as 21-8")
    return int(start), int(end)


def _service_account(name: str, value: str | None) -> str | None:
    """A service account given as its JSON itself or the path of its file."""
    if not value:
        return None
    if value.lstrip().startswith("{"):
        return value
    path = Path(value)
    if not path.is_file():
        raise ConfigError(f"{name} is neither service-account JSON nor a readable file")
    return path.read_text()


def _readable_file(name: str, value: str | None) -> str | None:
    if value and not Path(value).is_file():
        raise ConfigError(f"{name} is not a readable file: {value}")
    return value or None


def _pem_files(name: str, value: str | None) -> tuple[bytes, ...]:
    files = []
    for path in _csv(value, ()):
        if not Path(path).is_file():
            raise ConfigError(f"{name}: {path} is not a readable file")
        files.append(Path(path).read_bytes())
    return tuple(files)


def _qr_keys(value: str | None, name: str = "MEMBER_QR_KEYS") -> tuple[tuple[str, str], ...]:
    keys = []
    for part in _csv(value, ()):
        kid, sep, secret = part.partition(":")
        if not sep or not kid.isalnum() or len(secret.encode()) < MIN_SECRET_BYTES:
            raise ConfigError(f"{name}: each key is kid:secret, kid alphanumeric, secret >= {MIN_SECRET_BYTES} bytes")
        keys.append((kid, secret))
    return tuple(keys)


def _code_keys(value: str | None) -> tuple[tuple[str, bytes], ...]:
    keys = []
    for part in _csv(value, ()):
        kid, sep, encoded = part.partition(":")
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if not sep or not kid.isalnum() or len(kid) > 16 or len(key) != 32:
            raise ConfigError("VOUCHER_CODE_KEYS: each key is kid:base64 of 32 random bytes, kid alphanumeric "
                              "(make one with: python -c 'import os,base64;print(base64.b64encode(os.urandom(32)).decode())')")
        keys.append((kid, key))
    if len({kid for kid, _ in keys}) != len(keys):
        raise ConfigError("VOUCHER_CODE_KEYS: two keys have the same kid")
    return tuple(keys)


def _lookup_key(value: str | None) -> bytes | None:
    if not value:
        return None
    if len(value.encode()) < MIN_SECRET_BYTES:
        raise ConfigError(f"VOUCHER_LOOKUP_KEY must be at least {MIN_SECRET_BYTES} bytes")
    return value.encode()
