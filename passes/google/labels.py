"""The words a Google Wallet pass shows, in English, Arabic and Polish, as Google's ``LocalizedString``.

Google localizes on its servers: a field's ``localized…`` twin holds a ``defaultValue``
(shown when the phone's language has no translation; English here) and ``translatedValues``
for the other languages. The English value also goes in the plain field (``label``,
``header``), which older clients read.
"""

from __future__ import annotations

from typing import Any, Mapping

DEFAULT_LANGUAGE = "en"
LANGUAGES = ("en", "ar", "pl")

# key -> (English, Arabic, Polish)
LABELS: dict[str, tuple[str, str, str]] = {
    "POINTS": ("Points", "النقاط", "Punkty"),
    "TIER": ("Tier", "المستوى", "Poziom"),
    "MEMBER": ("Member", "العضو", "Uczestnik"),
    "MEMBER_NUMBER": ("Member number", "رقم العضوية", "Numer uczestnika"),
    "EXPIRING_POINTS": ("Points expiring", "نقاط ستنتهي صلاحيتها", "Wygasające punkty"),
    "VOUCHER_CODE": ("Voucher code", "رمز القسيمة", "Kod vouchera"),
    "LOGO": ("Program logo", "شعار البرنامج", "Logo programu"),
}


def text(key: str, language: str = DEFAULT_LANGUAGE) -> str:
    """The text of ``key`` in ``language``. Raises KeyError for an unknown key, ValueError for a language."""
    return LABELS[key][LANGUAGES.index(language)]


def localized_label(key: str) -> dict[str, Any]:
    """The ``LocalizedString`` of a label: English by default, Arabic and Polish translated."""
    return localized({language: text(key, language) for language in LANGUAGES})


def localized(values: Mapping[str, str]) -> dict[str, Any]:
    """A ``LocalizedString`` from ``{language: text}``; the English text (or the first given) is the default."""
    if not values:
        raise ValueError("a localized string needs at least one value")
    default = DEFAULT_LANGUAGE if DEFAULT_LANGUAGE in values else next(iter(values))
    return {
        "defaultValue": {"language": default, "value": values[default]},
        "translatedValues": [{"language": language, "value": value}
                             for language, value in values.items() if language != default],
    }
