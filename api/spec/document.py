"""The document as a whole: how the app builds it (``spec_kwargs``, ``adopt``) and the last pass
before it is served (``ContractSpec.to_dict``).

The last pass gives every JSON body an example (``examples``) and settles the names the converter
could not know while the paths were being added: a schema converted only as something a client sends
keeps its plain name (``PurchaseCreate``, not ``PurchaseCreateInput``), and one whose two directions
came out the same is one component.
"""

from __future__ import annotations

import copy
from typing import Any

from apispec import APISpec
from flask import Flask

from api.auth import BEARER_SECURITY
from api.spec.converter import INPUT_SUFFIX, ContractMarshmallowPlugin
from api.spec.examples import add_examples
from api.spec.operations import ContractPlugin
from api.schemas.fields import program_country, program_language
from notifications.devices import PLATFORMS
from wallet.ledger.models import TxType
from wallet.members.models import STAFF_ROLES, TIER_CODES
from wallet.money import CURRENCIES
from wallet.receipts.models import STATUSES
from api.spec.responses import ErrorSchema
from config import Settings

SCHEMA_REF = "#/components/schemas/"


def spec_kwargs(app: Flask, settings: Settings) -> dict[str, Any]:
    """What flask-smorest's ``Api(app, spec_kwargs=...)`` takes: the plugins, ``servers``, ``info``."""
    return {
        "info": {"description": "The backend of a loyalty program for channel partners.\n\n"
                                "Money is a decimal string with its currency; points are integers; lists are "
                                "paged with `limit` and an opaque `cursor`; value-moving POSTs take an "
                                "`Idempotency-Key`. Every error is the `Error` body."},
        "security": BEARER_SECURITY,
        "servers": [{"url": settings.public_url.rstrip("/"), "description": "this deployment"}],
        "marshmallow_plugin": ContractMarshmallowPlugin(
            {program_country: settings.countries, program_language: settings.languages},
            {"Currency": CURRENCIES, "Country": settings.countries, "Language": settings.languages,
             "TierCode": TIER_CODES, "TransactionType": [t.value for t in TxType], "Platform": PLATFORMS,
             "StaffRole": [r.value for r in STAFF_ROLES], "ReceiptStatus": STATUSES}),
        "extra_plugins": [ContractPlugin(app, ErrorSchema)],
    }


class ContractSpec(APISpec):
    def to_dict(self) -> dict[str, Any]:
        # A copy: apispec hands out its own dicts, which the passes below change.
        return add_examples(settle_names(copy.deepcopy(super().to_dict())))


def adopt(spec: APISpec) -> None:
    """Make flask-smorest's spec serve through ``ContractSpec.to_dict`` (it builds a plain APISpec itself,
    with no way to pass a class; ContractSpec adds no state, so the object is the same)."""
    spec.__class__ = ContractSpec


def settle_names(document: dict[str, Any]) -> dict[str, Any]:
    """``XInput`` becomes ``X`` when no ``X`` is received, or when both say the same (until nothing
    changes: merging a nested pair can make the pair around it the same)."""
    while True:
        schemas = document.get("components", {}).get("schemas", {})
        renames: dict[str, str] = {}
        for name in [n for n in schemas if n.endswith(INPUT_SUFFIX)]:
            base = name[: -len(INPUT_SUFFIX)]
            if base not in schemas:
                schemas[base] = schemas.pop(name)
                renames[name] = base
            elif schemas[base] == schemas[name]:
                del schemas[name]
                renames[name] = base
        if not renames:
            break
        document = _rewrite(document, {SCHEMA_REF + old: SCHEMA_REF + new for old, new in renames.items()})
    if "schemas" in document.get("components", {}):
        document["components"]["schemas"] = dict(sorted(document["components"]["schemas"].items()))
    return document


def _rewrite(node: Any, refs: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {k: (refs.get(v, v) if k == "$ref" and isinstance(v, str) else _rewrite(v, refs))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_rewrite(v, refs) for v in node]
    return node
