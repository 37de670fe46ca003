"""Voucher codes: how they are written down, kept secret at rest, found again, and made.

*Normal form.* What a till types and what a vendor's file says are compared in one form:
Unicode NFKC, spaces and hyphens dropped, letters upper-cased (a vendor's "ab-12 cd" and a
cashier's "AB12CD" are one code). Only printable ASCII survives; anything else is refused,
so a look-alike letter can never make a second code that reads like the first.

*At rest.* The code (as the vendor wrote it) and its PIN are encrypted with AES-256-GCM
under the newest key of ``VOUCHER_CODE_KEYS``; the row keeps the key's id, so old rows
still decrypt after a new key is put first, and ``rotate`` re-encrypts them. The lookup
hash is the associated data: a ciphertext moved onto another row does not decrypt.

*Found again.* The till finds a code by ``lookup_hash``: HMAC-SHA256 of the normal form under
a key of its own (never an encryption key). It is deterministic on purpose (a UNIQUE index
finds duplicates, the till finds the row), and keyed, so a copy of the database does not let
anyone test guesses offline. The lookup key never rotates: every stored hash depends on it.

*Made by the program* (rewards without a vendor pool): 15 random symbols of Crockford's
base32 (75 bits: unguessable, and the alphabet has no I, L, O or U to misread) and a
check symbol (Luhn mod 32), in groups of four: ``7KQ2-M9XD-4TRB-H3W5``. A mistyped
generated code is told apart from an unknown one.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import unicodedata
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAX_CODE = 64  # characters of the normal form
MAX_PIN = 32
NONCE = 12
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32
GENERATED_SYMBOLS = 15
_TYPED_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_DROPPED = str.maketrans("", "", " -\t\u00a0")


class CodeRefused(ValueError):
    """A code (or PIN) that cannot be stored: ``reason`` is blank, too_long or bad_characters."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def normalize(code: str) -> str:
    """The normal form a code is compared in. Raises ``CodeRefused``."""
    text = unicodedata.normalize("NFKC", code).translate(_DROPPED).upper()
    if not text:
        raise CodeRefused("blank")
    if len(text) > MAX_CODE:
        raise CodeRefused("too_long")
    if not (text.isascii() and text.isprintable()):
        raise CodeRefused("bad_characters")
    return text


@dataclass(frozen=True)
class Sealed:
    """A code as a row stores it."""

    lookup_hash: str
    key_id: str
    ciphertext: bytes
    pin_ciphertext: bytes | None


class CodeVault:
    """Seals and opens codes with the configured keys (newest first) and finds them by hash."""

    def __init__(self, *, keys: list[tuple[str, bytes]], lookup_key: bytes) -> None:
        if not keys:
            raise ValueError("at least one voucher-code key")
        for kid, key in keys:
            if len(key) != 32:
                raise ValueError(f"voucher-code key {kid} is not 32 bytes")
        if any(hmac.compare_digest(lookup_key, key) for _, key in keys):
            raise ValueError("the lookup key must not be an encryption key")
        self._keys = {kid: AESGCM(key) for kid, key in keys}
        self.newest = keys[0][0]
        self._lookup = hmac.new(lookup_key, digestmod=hashlib.sha256)  # keyed once, copied per code

    def lookup_hash(self, normal: str) -> str:
        mac = self._lookup.copy()
        mac.update(normal.encode())
        return mac.hexdigest()

    def _seal(self, kid: str, plain: str, aad: bytes) -> bytes:
        nonce = os.urandom(NONCE)
        return nonce + self._keys[kid].encrypt(nonce, plain.encode(), aad)

    def seal(self, code: str, *, pin: str | None = None) -> Sealed:
        """The row values of ``code`` as written (stripped), and its PIN. Raises ``CodeRefused``."""
        shown = code.strip()
        digest = self.lookup_hash(normalize(shown))
        aad = digest.encode()
        pin_sealed = None
        if pin is not None and pin.strip():
            if len(pin.strip()) > MAX_PIN:
                raise CodeRefused("too_long")
            pin_sealed = self._seal(self.newest, pin.strip(), aad + b"/pin")
        return Sealed(digest, self.newest, self._seal(self.newest, shown, aad), pin_sealed)

    def _open(self, kid: str, blob: bytes, aad: bytes) -> str:
        key = self._keys.get(kid)
        if key is None:
            raise LookupError(f"voucher-code key {kid} is not configured (VOUCHER_CODE_KEYS)")
        try:
            return key.decrypt(blob[:NONCE], blob[NONCE:], aad).decode()
        except InvalidTag as exc:
            raise LookupError("a stored voucher code does not decrypt with its key") from exc

    def open(self, row: Any) -> tuple[str, str | None]:
        """(code, pin) of a stored row (anything with lookup_hash, key_id, ciphertext, pin_ciphertext).

        Raises ``LookupError`` when the row's key is not configured or the ciphertext was tampered with.
        """
        aad = row.lookup_hash.encode()
        code = self._open(row.key_id, row.ciphertext, aad)
        pin = self._open(row.key_id, row.pin_ciphertext, aad + b"/pin") if row.pin_ciphertext else None
        return code, pin

    def reseal(self, row: Any) -> bool:
        """Re-encrypt ``row`` in place with the newest key; False when it already was."""
        if row.key_id == self.newest:
            return False
        code, pin = self.open(row)
        aad = row.lookup_hash.encode()
        row.ciphertext = self._seal(self.newest, code, aad)
        row.pin_ciphertext = self._seal(self.newest, pin, aad + b"/pin") if pin else None
        row.key_id = self.newest
        return True


def vault_from_settings(settings: Any) -> CodeVault:
    """The vault ``config.Settings`` describes (``VOUCHER_CODE_KEYS``, ``VOUCHER_LOOKUP_KEY``)."""
    return CodeVault(keys=settings.code_keys(), lookup_key=settings.code_lookup_key())


# --- codes the program makes ------------------------------------------------------------


def check_symbol(symbols: str) -> str:
    """Luhn mod 32 over Crockford's alphabet: catches every single wrong symbol and almost every
    swap of two neighbours."""
    total, factor = 0, 2
    for ch in reversed(symbols):
        addend = factor * ALPHABET.index(ch)
        total += addend // 32 + addend % 32
        factor = 1 if factor == 2 else 2
    return ALPHABET[(32 - total % 32) % 32]


def generate() -> str:
    """A fresh code, ``XXXX-XXXX-XXXX-XXXX`` (the last symbol checks the others)."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(GENERATED_SYMBOLS))
    whole = body + check_symbol(body)
    return "-".join(whole[i:i + 4] for i in range(0, len(whole), 4))


def looks_generated(normal: str) -> bool:
    """Whether a normalised code has the shape of a generated one (16 symbols of the alphabet, read
    leniently: O for 0, I and L for 1)."""
    text = normal.translate(_TYPED_ALIASES)
    return len(text) == GENERATED_SYMBOLS + 1 and all(ch in ALPHABET for ch in text)


def generated_form(normal: str) -> str:
    """A generated code as typed, read leniently (O as 0, I and L as 1)."""
    return normal.translate(_TYPED_ALIASES)


def checks(normal: str) -> bool:
    """Whether a generated-looking code's last symbol checks the rest."""
    text = generated_form(normal)
    return check_symbol(text[:-1]) == text[-1]
