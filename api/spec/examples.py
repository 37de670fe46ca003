"""An example for every JSON body the docs page shows, built from the schema when a view gave none.

Built from what the schema already says: a field's own ``example`` (set in the schemas where a made-up
value would mislead: amounts, member numbers, QR payloads), else its first enum value, its default, a
value of its format, or one within its bounds. A request shows its required fields and those with an
example; a response shows every field. ``tests/api/contract`` validates each example against its schema,
so an example cannot say what the server would refuse.
"""

from __future__ import annotations

from typing import Any

METHODS = ("get", "put", "post", "patch", "delete")
BY_FORMAT = {"date-time": "2026-11-23T09:00:00+04:00", "date": "2026-11-23", "email": "partner@example.com",
             "url": "https://example.com/", "uri": "https://example.com/"}
MAX_DEPTH = 8


def add_examples(document: dict[str, Any]) -> dict[str, Any]:
    """Give every JSON request body and success response without an example one (in place; returned)."""
    components = document.get("components", {})
    for item in document.get("paths", {}).values():
        for method in METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            bodies = [(operation.get("requestBody", {}), True)]
            bodies += [(r, False) for code, r in operation.get("responses", {}).items()
                       if code.startswith("2") and isinstance(r, dict)]
            for body, sent in bodies:
                media = body.get("content", {}).get("application/json")
                if media and "schema" in media and "example" not in media and "examples" not in media:
                    media["example"] = example_of(media["schema"], components, sent=sent)
    return document


def example_of(schema: dict[str, Any], components: dict[str, Any], *, sent: bool, depth: int = 0) -> Any:
    while "$ref" in schema:
        kind, name = schema["$ref"].split("/")[-2:]
        schema = components[kind][name]
    if "example" in schema:
        return schema["example"]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [o for o in schema[key] if o.get("enum") != [None]]
            return example_of(options[0], components, sent=sent, depth=depth) if options else None
    if schema.get("enum"):
        return next((v for v in schema["enum"] if v is not None), None)
    if schema.get("default") is not None:
        return schema["default"]
    kind = schema.get("type")
    if kind == "object":
        if depth >= MAX_DEPTH:
            return {}
        required = set(schema.get("required", ()))
        return {name: example_of(prop, components, sent=sent, depth=depth + 1)
                for name, prop in schema.get("properties", {}).items()
                if not sent or name in required or "example" in prop}
    if kind == "array":
        if depth >= MAX_DEPTH:
            return []
        return [example_of(schema.get("items", {}), components, sent=sent, depth=depth + 1)]
    if kind == "integer":
        return max(schema.get("minimum", 1), min(1, schema.get("maximum", 1)))
    if kind == "number":
        return schema.get("minimum", 1)
    if kind == "boolean":
        return True
    if kind == "string":
        if schema.get("format") in BY_FORMAT:
            return BY_FORMAT[schema["format"]]
        return "x" * max(schema.get("minLength", 0), min(6, schema.get("maxLength", 6))) if "minLength" in schema \
            else "text"
    return None
