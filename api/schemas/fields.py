"""Field types and validators shared by the request schemas.

Every string has a maximum length; booleans are JSON booleans, not "yes" or 1.
"""

from __future__ import annotations

import functools
import re
import unicodedata
import zoneinfo
from typing import Any

from flask import current_app
from marshmallow import ValidationError, fields, validate

from wallet.money import CURRENCIES

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


class StrictBoolean(fields.Boolean):
    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError("Not a valid boolean: use true or false.")
        return value


# Arabic-Indic (٠-٩) and Eastern Arabic-Indic (۰-۹) digits are what a Gulf keyboard types, and
# the Arabic decimal separator (٫) with them: read as 0-9 and ".". Anything else a number
# parser would take (1e7, 1_000, " 100 ", "+5", ".5") is refused: a till sends plain decimals.
_ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٫", "01234567890123456789.")
_PLAIN_DECIMAL = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,6})?")


class DecimalString(fields.Decimal):
    """A decimal sent as a string ("129.50"): a JSON float has already lost the cents (0.1 + 0.2)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(as_string=True, places=None, allow_nan=False, **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, str):
            raise ValidationError('Not a decimal string, such as "129.50".')
        plain = value.translate(_ARABIC_DIGITS)
        if not _PLAIN_DECIMAL.fullmatch(plain):
            raise ValidationError('Not a plain decimal such as "129.50": digits, one point, no spaces or exponent.')
        return super()._deserialize(plain, attr, data, **kwargs)


class Derived(fields.Nested):
    """A nested object computed from the whole object being dumped (``getter(obj)``; None stays null):
    for a body assembled from several attributes, declared with its schema rather than untyped."""

    def __init__(self, nested: Any, getter: Any, **kwargs: Any) -> None:
        super().__init__(nested, dump_only=True, **kwargs)
        self.getter = getter

    def serialize(self, attr: str, obj: Any, accessor: Any = None, **kwargs: Any) -> Any:
        return self._serialize(self.getter(obj), attr, obj, **kwargs)


def visible(text: str) -> str:
    """``text`` without the characters that show nothing (spaces, zero-width and other format marks)."""
    return "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch) not in ("Cf", "Cc", "Zs"))


def not_blank(value: str) -> None:
    if not visible(value):
        raise ValidationError("Must not be blank (only spaces or invisible characters).")
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\n" for ch in value):
        raise ValidationError("Must not hold control characters.")


@functools.cache
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def valid_timezone(value: str) -> None:
    if value not in _timezones():
        raise ValidationError("Not an IANA timezone name, such as Asia/Dubai or Europe/Warsaw.")


def program_country(value: str) -> None:
    countries = current_app.config["SETTINGS"].countries
    if value not in countries:
        raise ValidationError(f"Not a country of this program: one of {', '.join(countries)}.")


def program_language(value: str) -> None:
    languages = current_app.config["SETTINGS"].languages
    if value not in languages:
        raise ValidationError(f"Not a language of the app: one of {', '.join(languages)}.")


def Id(**kwargs: Any) -> fields.Integer:
    """A row id: a positive whole number that fits the database's BIGINT."""
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=2**63 - 1), **kwargs)


def _sane_year(value: Any) -> None:
    # Far years overflow on the way to UTC (year 9999 at -23:59) and mean nothing here.
    if not 2000 <= value.year <= 2100:
        raise ValidationError("Must be a time between the years 2000 and 2100.")


def Timestamp(**kwargs: Any) -> fields.AwareDateTime:
    """An ISO-8601 time with its offset, in years that make sense for a loyalty program."""
    return fields.AwareDateTime(validate=_sane_year, **kwargs)


def Name(**kwargs: Any) -> fields.String:
    return fields.String(validate=[validate.Length(min=1, max=120), not_blank], **kwargs)


def Email(**kwargs: Any) -> fields.Email:
    return fields.Email(validate=validate.Length(max=254), **kwargs)


def Password(**kwargs: Any) -> fields.String:
    return fields.String(load_only=True, validate=validate.Length(min=10, max=128), **kwargs)


def Phone(**kwargs: Any) -> fields.String:
    return fields.String(
        validate=validate.Regexp(E164, error="Not a phone number in international form, such as +971501234567."),
        **kwargs,
    )


def Country(**kwargs: Any) -> fields.String:
    return fields.String(validate=program_country, **kwargs)


def Language(**kwargs: Any) -> fields.String:
    return fields.String(validate=program_language, **kwargs)


def Timezone(**kwargs: Any) -> fields.String:
    return fields.String(validate=[validate.Length(max=64), valid_timezone], **kwargs)


def Currency(**kwargs: Any) -> fields.String:
    return fields.String(validate=validate.OneOf(CURRENCIES), **kwargs)
