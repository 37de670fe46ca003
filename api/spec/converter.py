"""Schemas in the document per direction, with ``required`` lists that say what is always there.

A marshmallow schema says two things: what a client may send (``required=True`` fields must be
there, ``load_default`` ones may be left out, ``dump_only`` ones are ignored) and what the server
sends back (every field but ``load_only`` ones, always). One OpenAPI component cannot say both, so
each schema is converted per direction: ``X`` where it is received and ``XInput`` where it is sent
(``document.py`` names the input ``X`` when the schema is never received, and merges the two when
they came out the same). A received object lists every field as ``required`` unless the field's
metadata says ``may_be_absent``; the response validation of the test suite checks that this is so.

Decimals (``DecimalString`` and any ``Decimal(as_string=True)``) are what they are on the wire:
``type: string, format: decimal`` with a ``pattern``; their bounds go to ``x-minimum``/``x-maximum``
(strings, exact) and the description, never a string-valued ``minimum``.
"""

from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import Any, Callable, Iterator, Mapping, Sequence

import marshmallow
from apispec.ext.marshmallow import MarshmallowPlugin, OpenAPIConverter, SchemaResolver
from apispec.ext.marshmallow.common import get_fields, get_unique_schema_name, make_schema_key, resolve_schema_instance
from marshmallow import fields

REQUEST, RESPONSE = "request", "response"
INPUT_SUFFIX = "Input"
MAY_BE_ABSENT = "may_be_absent"  # field metadata: a received object may lack this field

# What DecimalString reads (api/schemas/fields.py: Arabic-Indic digits and the Arabic decimal separator
# too) and what the server writes (plain ASCII, no exponent).
DECIMAL_IN = "^-?[0-9٠-٩۰-۹]{1,15}([.٫][0-9٠-٩۰-۹]{1,6})?$"
DECIMAL_OUT = r"^-?[0-9]+(\.[0-9]+)?$"
_PRIVATE_METADATA = (MAY_BE_ABSENT,)


def _plain(value: Any) -> str:
    return format(Decimal(value), "f") if not isinstance(value, str) else value


def _example(low: str | None, high: str | None) -> str:
    """An amount a till would send, within the bounds."""
    for candidate in ("129.50", "2.5", "1"):
        value = Decimal(candidate)
        if (low is None or value >= Decimal(low)) and (high is None or value <= Decimal(high)):
            return candidate
    return low or high or "1"


class ContractConverter(OpenAPIConverter):
    """apispec's converter, aware of the direction it converts for (``reading()`` switches to requests)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.direction = RESPONSE
        # Validators whose accepted values come from the settings (the program's countries...).
        self.choices: Mapping[Callable[..., Any], Sequence[str]] = {}
        # Sets of values with a name of their own: one component each, so the clients get one type.
        self.named_enums: Mapping[str, Sequence[str]] = {}

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """Convert what a client sends while inside."""
        previous, self.direction = self.direction, REQUEST
        try:
            yield
        finally:
            self.direction = previous

    def _key(self, instance: marshmallow.Schema) -> tuple[str, Any]:
        return self.direction, make_schema_key(instance)

    def resolve_nested_schema(self, schema: Any) -> Any:
        try:
            instance = resolve_schema_instance(schema)
        except marshmallow.exceptions.RegistryError:
            return schema  # a reference by name
        key = self._key(instance)
        if key not in self.refs:
            name = self.schema_name_resolver(schema)
            if not name:
                return super().resolve_nested_schema(schema)
            if self.direction == REQUEST:
                name += INPUT_SUFFIX
            name = get_unique_schema_name(self.spec.components, name)
            self.refs[key] = name  # before converting: a schema may nest itself
            self.spec.components.schema(name, component=self.schema2jsonschema(instance))
        return self.get_ref_dict(instance)

    def get_ref_dict(self, schema: Any) -> dict[str, Any]:
        ref = self.spec.components.get_ref("schema", self.refs[self._key(schema)])
        return {"type": "array", "items": ref} if getattr(schema, "many", False) else ref

    def schema2jsonschema(self, schema: Any) -> dict[str, Any]:
        jsonschema = super().schema2jsonschema(schema)
        properties = jsonschema["properties"]
        present: list[str] = []
        for name, field in get_fields(schema).items():
            observed = field.data_key or name
            prop = properties.get(observed)
            if prop is None:
                continue
            for private in _PRIVATE_METADATA:
                prop.pop(private, None)
            if self.direction == REQUEST:
                if field.dump_only:
                    del properties[observed]
                prop.pop("readOnly", None)
                continue
            if field.load_only:
                del properties[observed]
                continue
            # A received object: defaults, read-only marks and "extra fields refused" are about input.
            for key in ("readOnly", "default"):
                prop.pop(key, None)
            if not field.metadata.get(MAY_BE_ABSENT):
                present.append(observed)
        if self.direction == RESPONSE:
            jsonschema.pop("additionalProperties", None)  # clients ignore fields added later
            jsonschema["required"] = sorted(present)
        else:
            jsonschema["required"] = sorted(n for n in jsonschema.get("required", []) if n in properties)
        if not jsonschema["required"]:
            del jsonschema["required"]
        return jsonschema

    def field2property(self, field: fields.Field) -> dict[str, Any]:
        ret = super().field2property(field)
        for validator in field.validators:
            if validator in self.choices and "enum" not in ret:
                ret["enum"] = list(self.choices[validator])
        if isinstance(field, fields.Decimal) and field.as_string:
            self._decimal_string(field, ret)
        if ret.get("enum") and ret.get("type") == "string":
            ret = self._named_enum(ret)
        for option in ret.get("anyOf", ()):
            # apispec writes a nullable nested object as anyOf [the object, any object that may be null]:
            # the second matches every object, so nothing would be checked. Only null, as OpenAPI 3.0.3
            # says null: the clients come out ``X | None``.
            if option == {"type": "object", "nullable": True}:
                option["enum"] = [None]
        return ret

    def _named_enum(self, ret: dict[str, Any]) -> dict[str, Any]:
        values = {v for v in ret["enum"] if v is not None}
        name = next((n for n, named in self.named_enums.items() if set(named) == values), None)
        if name is None:
            return ret
        if name not in self.spec.components.schemas:
            self.spec.components.schema(name, component={"type": "string", "enum": list(self.named_enums[name])})
        ref = self.spec.components.get_ref("schema", name)
        nullable = ret.get("nullable") or None in ret["enum"]
        rest = {k: v for k, v in ret.items() if k not in ("type", "enum", "nullable")}
        if nullable:
            return {"anyOf": [ref, {"type": "object", "nullable": True}], **rest}
        return {"allOf": [ref], **rest} if rest else ref

    def _decimal_string(self, field: fields.Decimal, ret: dict[str, Any]) -> None:
        ret.update(type="string", format="decimal", pattern=DECIMAL_IN if self.direction == REQUEST else DECIMAL_OUT)
        bounds = []
        for number, custom, words in (("minimum", "x-minimum", "at least"), ("maximum", "x-maximum", "at most")):
            value = ret.pop(number, None)
            if value is None:
                value = ret.get(custom)
            if value is not None:
                ret[custom] = _plain(value)
                bounds.append(f"{words} {ret[custom]}")
        if "default" in ret and ret["default"] is not None:
            ret["default"] = _plain(ret["default"])
        ret.setdefault("example", _example(ret.get("x-minimum"), ret.get("x-maximum")))
        text = "A decimal number as a string, exact (a JSON number would lose the cents)"
        text += f"; {' and '.join(bounds)}." if bounds else "."
        ret["description"] = f"{ret['description'].rstrip('. ')}. {text}" if ret.get("description") else text


class ContractResolver(SchemaResolver):
    """Resolves what an operation receives (parameters, body) as requests, its responses as responses."""

    converter: ContractConverter

    def resolve_operations(self, operations: dict[str, Any], **kwargs: Any) -> None:
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            sent = {k: operation.pop(k) for k in ("parameters", "requestBody", "callbacks") if k in operation}
            with self.converter.reading():
                super().resolve_operations({method: sent})
            super().resolve_operations({method: operation})
            operation.update(sent)

    def resolve_parameters(self, parameters: list[Any]) -> list[Any]:
        with self.converter.reading():
            return super().resolve_parameters(parameters)


class ContractMarshmallowPlugin(MarshmallowPlugin):
    """``choices``: validator function -> the values it accepts, written as the field's ``enum``."""

    Converter = ContractConverter
    Resolver = ContractResolver

    def __init__(self, choices: Mapping[Callable[..., Any], Sequence[str]] | None = None,
                 named_enums: Mapping[str, Sequence[str]] | None = None) -> None:
        super().__init__()
        self.choices = dict(choices or {})
        self.named_enums = dict(named_enums or {})

    def init_spec(self, spec: Any) -> None:
        super().init_spec(spec)
        assert isinstance(self.converter, ContractConverter)
        self.converter.choices = self.choices
        self.converter.named_enums = self.named_enums

    def schema_helper(self, name: str, _: Any, schema: Any = None, **kwargs: Any) -> dict[str, Any] | None:
        # A schema registered by name (``spec.components.schema("X", schema=...)``) is one the server sends.
        if schema is None:
            return None
        instance = resolve_schema_instance(schema)
        assert isinstance(self.converter, ContractConverter)
        self.converter.refs[self.converter._key(instance)] = name
        return self.converter.schema2jsonschema(instance)
