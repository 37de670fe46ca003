"""The words a pass shows, in English, Arabic and Polish, and the ``pass.strings`` files that carry them.

Wallet localizes on the phone: a label or value in ``pass.json`` is looked up as a key in
``<language>.lproj/pass.strings`` for the phone's language, and shown as is when no file
has it. So ``pass.json`` holds keys (``POINTS``), never English words, and each language
has one file holding every key. The files are ``"KEY" = "text";`` lines encoded UTF-16
with a byte-order mark: Apple's strings-file guide says Xcode converts strings files to
UTF-16 when it copies them into a product, and that is the form iOS has always read.
(UTF-8 is accepted by newer iOS, UTF-16 by all.) ``%@`` in ``BALANCE_CHANGED`` is where
Wallet puts the new value in the notification an update shows.

Each file is built once per process; they do not depend on a pass's content.
"""

from __future__ import annotations

import functools
import re

LANGUAGES = ("en", "ar", "pl")

# key -> (English, Arabic, Polish)
LABELS: dict[str, tuple[str, str, str]] = {
    "POINTS": ("Points", "النقاط", "Punkty"),
    "TIER": ("Tier", "المستوى", "Poziom"),
    "MEMBER": ("Member", "العضو", "Uczestnik"),
    "MEMBER_NUMBER": ("Member number", "رقم العضوية", "Numer uczestnika"),
    "EXPIRING_POINTS": ("Points expiring", "نقاط ستنتهي صلاحيتها", "Wygasające punkty"),
    "TERMS": ("Terms and conditions", "الشروط والأحكام", "Regulamin"),
    "BALANCE_CHANGED": ("Your points balance is now %@", "رصيد نقاطك الآن %@", "Twoje saldo punktów: %@"),
    "REWARD": ("Reward", "المكافأة", "Nagroda"),
    "VOUCHER_CODE": ("Voucher code", "رمز القسيمة", "Kod vouchera"),
    "EXPIRES": ("Valid until", "صالحة حتى", "Ważny do"),
    "STATUS": ("Status", "الحالة", "Status"),
    "STATUS_ACTIVE": ("Ready to use", "جاهزة للاستخدام", "Gotowy do użycia"),
    "STATUS_USED": ("Used", "مستخدمة", "Wykorzystany"),
    "STATUS_CANCELLED": ("Cancelled", "ملغاة", "Anulowany"),
    "STATUS_CHANGED": ("Voucher: %@", "القسيمة: %@", "Voucher: %@"),
    "DEVELOPMENT": ("Development pass", "بطاقة تجريبية", "Karta testowa"),
    "DEVELOPMENT_NOTE": (
        "This pass is signed with a development certificate, not Apple's: an iPhone will not accept it.",
        "هذه البطاقة موقّعة بشهادة تطوير وليست بشهادة Apple، ولن يقبلها iPhone.",
        "Ta karta jest podpisana certyfikatem deweloperskim, nie certyfikatem Apple: iPhone jej nie przyjmie.",
    ),
}


_UNESCAPE = re.compile(r"\\(.)")


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def text(key: str, language: str) -> str:
    """The text of ``key`` in ``language`` (one of ``LANGUAGES``). Raises KeyError for an unknown key."""
    return LABELS[key][LANGUAGES.index(language)]


@functools.cache
def strings_file(language: str) -> bytes:
    """The ``pass.strings`` of ``language``: every key, sorted, UTF-16 little-endian with a BOM."""
    if language not in LANGUAGES:
        raise ValueError(f"no strings for language {language!r}")
    lines = "".join(f'"{key}" = "{_escape(text(key, language))}";\n' for key in sorted(LABELS))
    return b"\xff\xfe" + lines.encode("utf-16-le")


def parse_strings_file(data: bytes) -> dict[str, str]:
    """Read back a strings file this module wrote (tests and tools; not a general .strings parser)."""
    if not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ValueError("a pass.strings file must start with a UTF-16 byte-order mark")
    out: dict[str, str] = {}
    for line in data.decode("utf-16").splitlines():
        if not line.strip():
            continue
        key, _, value = line.partition('" = "')
        if not key.startswith('"') or not value.endswith('";'):
            raise ValueError(f"not a strings line: {line!r}")
        out[key[1:]] = _UNESCAPE.sub(lambda m: "\n" if m.group(1) == "n" else m.group(1), value[:-2])
    return out
