"""A small JSON Schema (2020-12) validator for the subset the API's schemas use.

Supported: ``type`` (one or a list), ``enum``, ``const``, ``properties``, ``required``,
``additionalProperties``, ``items``, ``minItems``, ``maxItems``, ``uniqueItems``, ``minLength``,
``maxLength``, ``pattern``, ``minimum``, ``maximum``, ``exclusiveMinimum``, ``exclusiveMaximum``,
``anyOf``; annotations (``description``, ``format``, ``examples`` …) are ignored. Any other
keyword is refused by ``check_schema``, so a schema never documents a rule that is not enforced.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any

from linkarchive.errors import InvalidInput

__all__ = ["Schema", "ValidationFailed", "check_schema", "validate"]

Schema = Mapping[str, Any]

MAX_ERRORS = 20

_ANNOTATIONS = frozenset({
    "$comment", "title", "description", "default", "examples", "format", "deprecated",
    "readOnly", "writeOnly", "contentMediaType",
})
_KEYWORDS = frozenset({
    "type", "enum", "const", "properties", "required", "additionalProperties", "items",
    "minItems", "maxItems", "uniqueItems", "minLength", "maxLength", "pattern", "minimum",
    "maximum", "exclusiveMinimum", "exclusiveMaximum", "anyOf",
}) | _ANNOTATIONS
_TYPES = frozenset({"object", "array", "string", "integer", "number", "boolean", "null"})


class ValidationFailed(InvalidInput):
    """The request does not match its schema."""

    def __init__(self, errors: Sequence[Mapping[str, str]],
                 message: str = "The request does not match the schema.") -> None:
        super().__init__(message)
        self.errors = [dict(error) for error in errors]


def check_schema(schema: Schema, where: str = "#") -> None:
    """Raise ValueError if ``schema`` uses a keyword or type this validator does not enforce."""
    unknown = sorted(set(schema) - _KEYWORDS)
    if unknown:
        raise ValueError(f"schema at {where} uses unsupported keyword(s): {', '.join(unknown)}")
    kinds = schema.get("type", ())
    for kind in [kinds] if isinstance(kinds, str) else kinds:
        if kind not in _TYPES:
            raise ValueError(f"schema at {where} has unknown type {kind!r}")
    for name, sub in schema.get("properties", {}).items():
        check_schema(sub, f"{where}/properties/{name}")
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), Mapping):
            check_schema(schema[key], f"{where}/{key}")
    for index, sub in enumerate(schema.get("anyOf", ())):
        check_schema(sub, f"{where}/anyOf/{index}")
    if "pattern" in schema:
        try:
            _compiled(schema["pattern"])
        except re.error as exc:
            raise ValueError(f"schema at {where} has a bad pattern: {exc}") from None


def validate(schema: Schema, instance: Any) -> list[dict[str, str]]:
    """The ways ``instance`` breaks ``schema`` (at most MAX_ERRORS), each as ``{pointer, detail}``
    with an RFC 6901 pointer in URI-fragment form (``#/tags/0``); empty when it is valid."""
    errors = []
    for pointer, detail in _errors(schema, instance, "#"):
        errors.append({"pointer": pointer, "detail": detail})
        if len(errors) == MAX_ERRORS:
            break
    return errors


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _is_type(value: Any, kind: str) -> bool:
    # bool is an int in Python but not a number in JSON; 1.0 is an integer in JSON Schema.
    match kind:
        case "object":
            return isinstance(value, dict)
        case "array":
            return isinstance(value, list)
        case "string":
            return isinstance(value, str)
        case "boolean":
            return isinstance(value, bool)
        case "null":
            return value is None
        case "integer":
            return (isinstance(value, int) and not isinstance(value, bool)
                    or isinstance(value, float) and value.is_integer())
        case _:
            return isinstance(value, int | float) and not isinstance(value, bool)


def _key(value: Any) -> Hashable:
    """A hashable stand-in with JSON equality: true and 1 differ, 1 and 1.0 do not."""
    if isinstance(value, bool) or value is None:
        return ("literal", value)
    if isinstance(value, list):
        return ("array", tuple(_key(item) for item in value))
    if isinstance(value, dict):
        return ("object", frozenset((name, _key(item)) for name, item in value.items()))
    return ("string" if isinstance(value, str) else "number", value)


def _errors(schema: Schema, value: Any, at: str) -> Iterator[tuple[str, str]]:
    kinds = schema.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else list(kinds)
        if not any(_is_type(value, kind) for kind in kinds):
            yield at, f"must be of type {' or '.join(kinds)}"
            return
    if "const" in schema and _key(value) != _key(schema["const"]):
        yield at, f"must be {schema['const']!r}"
    if "enum" in schema and _key(value) not in {_key(option) for option in schema["enum"]}:
        yield at, f"must be one of {', '.join(repr(option) for option in schema['enum'])}"
    if "anyOf" in schema and not any(not any(True for _ in _errors(sub, value, at))
                                     for sub in schema["anyOf"]):
        yield at, "does not match any of the allowed forms"
    if isinstance(value, str):
        yield from _string_errors(schema, value, at)
    elif _is_type(value, "number"):
        yield from _number_errors(schema, value, at)
    elif isinstance(value, list):
        yield from _array_errors(schema, value, at)
    elif isinstance(value, dict):
        yield from _object_errors(schema, value, at)


def _string_errors(schema: Schema, value: str, at: str) -> Iterator[tuple[str, str]]:
    if "minLength" in schema and len(value) < schema["minLength"]:
        yield at, f"must be at least {schema['minLength']} characters long"
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        yield at, f"must be at most {schema['maxLength']} characters long"
    if "pattern" in schema and not _compiled(schema["pattern"]).search(value):
        yield at, f"must match the pattern {schema['pattern']}"


def _number_errors(schema: Schema, value: float, at: str) -> Iterator[tuple[str, str]]:
    if "minimum" in schema and value < schema["minimum"]:
        yield at, f"must be at least {schema['minimum']}"
    if "maximum" in schema and value > schema["maximum"]:
        yield at, f"must be at most {schema['maximum']}"
    if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
        yield at, f"must be greater than {schema['exclusiveMinimum']}"
    if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
        yield at, f"must be less than {schema['exclusiveMaximum']}"


def _array_errors(schema: Schema, value: list[Any], at: str) -> Iterator[tuple[str, str]]:
    if "minItems" in schema and len(value) < schema["minItems"]:
        yield at, f"must have at least {schema['minItems']} items"
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        yield at, f"must have at most {schema['maxItems']} items"
        return  # do not walk a list we already refuse for its length
    if schema.get("uniqueItems") and len({_key(item) for item in value}) < len(value):
        yield at, "must not contain duplicates"
    if "items" in schema:
        for index, item in enumerate(value):
            yield from _errors(schema["items"], item, f"{at}/{index}")


def _object_errors(schema: Schema, value: dict[str, Any], at: str) -> Iterator[tuple[str, str]]:
    properties = schema.get("properties", {})
    for name in schema.get("required", ()):
        if name not in value:
            yield f"{at}/{_escape(name)}", "is required"
    extra = schema.get("additionalProperties", True)
    for name, item in value.items():
        where = f"{at}/{_escape(name)}"
        if name in properties:
            yield from _errors(properties[name], item, where)
        elif extra is False:
            yield where, "is not an allowed property"
        elif isinstance(extra, Mapping):
            yield from _errors(extra, item, where)
