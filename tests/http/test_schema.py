"""The small validator agrees with the reference implementation on the subset it supports."""

from __future__ import annotations

import jsonschema
import pytest

from linkarchive.http.schema import MAX_ERRORS, check_schema, validate

LINK_IN = {
    "type": "object",
    "required": ["url"],
    "additionalProperties": False,
    "properties": {
        "url": {"type": "string", "minLength": 1, "maxLength": 30, "pattern": "^https?://"},
        "note": {"type": ["string", "null"], "maxLength": 5},
        "tags": {"type": "array", "items": {"type": "string", "minLength": 1}, "maxItems": 3,
                 "uniqueItems": True},
        "priority": {"type": "integer", "minimum": 0, "exclusiveMaximum": 10},
        "score": {"type": "number", "exclusiveMinimum": 0, "maximum": 1.5},
        "favorite": {"type": "boolean"},
        "kind": {"enum": ["article", "video", 1, None]},
        "version": {"const": 1},
        "extra": {"type": "object", "additionalProperties": {"type": "integer"}},
        "either": {"anyOf": [{"type": "string", "maxLength": 2}, {"type": "integer"}]},
    },
}

INSTANCES = [
    {"url": "https://a.b"},
    {"url": "ftp://a.b"},
    {"url": ""},
    {"url": "https://" + "x" * 40},
    {},
    [],
    "text",
    None,
    {"url": "http://x", "note": None},
    {"url": "http://x", "note": "too long"},
    {"url": "http://x", "note": 5},
    {"url": "http://x", "tags": ["a", "b"]},
    {"url": "http://x", "tags": ["a", "a"]},
    {"url": "http://x", "tags": ["a", ""]},
    {"url": "http://x", "tags": ["a", "b", "c", "d"]},
    {"url": "http://x", "tags": "a"},
    {"url": "http://x", "priority": 3},
    {"url": "http://x", "priority": 3.0},
    {"url": "http://x", "priority": 3.5},
    {"url": "http://x", "priority": 10},
    {"url": "http://x", "priority": -1},
    {"url": "http://x", "priority": True},
    {"url": "http://x", "score": 0},
    {"url": "http://x", "score": 0.5},
    {"url": "http://x", "score": 1.5},
    {"url": "http://x", "score": 2},
    {"url": "http://x", "score": False},
    {"url": "http://x", "favorite": 1},
    {"url": "http://x", "favorite": False},
    {"url": "http://x", "kind": "video"},
    {"url": "http://x", "kind": "podcast"},
    {"url": "http://x", "kind": 1.0},
    {"url": "http://x", "kind": True},
    {"url": "http://x", "kind": None},
    {"url": "http://x", "version": 1},
    {"url": "http://x", "version": True},
    {"url": "http://x", "version": 1.0},
    {"url": "http://x", "extra": {"a": 1, "b": 2}},
    {"url": "http://x", "extra": {"a": "1"}},
    {"url": "http://x", "either": "ab"},
    {"url": "http://x", "either": "abc"},
    {"url": "http://x", "either": 7},
    {"url": "http://x", "either": 7.5},
    {"url": "http://x", "unknown": 1},
    {"url": 5, "note": 5, "tags": [1, 2], "priority": "3", "favorite": "yes", "kind": "x"},
]


def reference_pointers(schema, instance) -> list[str]:
    """jsonschema's errors as our pointers: ours name the missing or unexpected property
    itself, where jsonschema reports the object that lacks or has it."""
    pointers = []
    for error in jsonschema.Draft202012Validator(schema).iter_errors(instance):
        at = "#" + "".join(f"/{part}" for part in error.absolute_path)
        if error.validator == "required":
            pointers += [f"{at}/{name}" for name in error.schema["required"]
                         if name not in error.instance]
        elif error.validator == "additionalProperties":
            pointers += [f"{at}/{name}" for name in error.instance
                         if name not in error.schema.get("properties", {})]
        else:
            pointers.append(at)
    return sorted(set(pointers))


@pytest.mark.parametrize("instance", INSTANCES, ids=repr)
def test_agrees_with_jsonschema(instance) -> None:
    ours = sorted({error["pointer"] for error in validate(LINK_IN, instance)})
    assert ours == reference_pointers(LINK_IN, instance)


def test_errors_are_capped() -> None:
    schema = {"type": "array", "items": {"type": "integer"}}
    assert len(validate(schema, ["x"] * 10_000)) == MAX_ERRORS


def test_unique_items_is_linear_on_large_arrays() -> None:
    schema = {"type": "array", "uniqueItems": True}
    assert validate(schema, list(range(200_000))) == []
    assert validate(schema, [*range(200_000), 5])[0]["detail"] == "must not contain duplicates"


def test_pointers_escape_slash_and_tilde() -> None:
    schema = {"type": "object", "additionalProperties": False}
    assert validate(schema, {"a/b~c": 1})[0]["pointer"] == "#/a~1b~0c"


@pytest.mark.parametrize("schema", [
    {"type": "object", "oneOf": []},
    {"properties": {"x": {"$ref": "#/defs/x"}}},
    {"items": {"not": {}}},
    {"type": "uuid"},
    {"pattern": "("},
])
def test_unsupported_schemas_are_refused_up_front(schema) -> None:
    with pytest.raises(ValueError):
        check_schema(schema)
