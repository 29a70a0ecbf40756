"""Request validation against the spec, with FastAPI's 422 entries.

Each jsonschema-rs error becomes one pydantic-2-style entry
`{"type", "loc", "msg", "input", "ctx"?}`; entries come in field order, one
per invalid field. Under quirk D10 values are coerced first, the lax way
production does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from mock_server.errors import BODY_NOT_UTF8, BadRequest, ValidationFailed
from mock_server.quirks import coercion
from mock_server.spec import Operation, Parameter

MISSING: Any = object()

_INT = re.compile(r"\s*[+-]?[0-9]+\s*")
_BOOL_PARSING = "Input should be a valid boolean, unable to interpret input"

_TYPE_ERRORS = {
    "boolean": ("bool_type", "Input should be a valid boolean"),
    "string": ("string_type", "Input should be a valid string"),
    "integer": ("int_type", "Input should be a valid integer"),
    "number": ("float_type", "Input should be a valid number"),
    "array": ("list_type", "Input should be a valid list"),
    "object": (
        "model_attributes_type",
        "Input should be a valid dictionary or object to extract fields from",
    ),
    "null": ("none_required", "Input should be None"),
}
_BOUNDS = {  # schema keyword: pydantic's error type, its message's words, its ctx name
    "minimum": ("greater_than_equal", "greater than or equal to", "ge"),
    "maximum": ("less_than_equal", "less than or equal to", "le"),
}
_LENGTHS = {  # schema keyword: pydantic's error type, its message, its ctx name
    "maxLength": ("string_too_long", "String should have at most {n} character{s}", "max_length"),
    "minLength": ("string_too_short", "String should have at least {n} character{s}", "min_length"),
    "maxItems": (
        "too_long",
        "List should have at most {n} item{s} after validation, not {actual}",
        "max_length",
    ),
    "minItems": (
        "too_short",
        "List should have at least {n} item{s} after validation, not {actual}",
        "min_length",
    ),
}
_FAST_DIGITS = 1000  # well inside Python's int() digit limit
_INT_PARSING = "Input should be a valid integer, unable to parse string as an integer"
_STRING_UNICODE = "Input should be a valid string, unable to parse raw data as a unicode string"


def validate_params(
    operation: Operation,
    query: Mapping[str, str],
    path_params: Mapping[str, str],
    *,
    lax: bool,
    skip_minimum: bool = False,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Parsed query and path parameters, and the entries of those that failed.

    `skip_minimum` drops the lower bounds, as production (quirk D1) has none.
    """
    values: dict[str, Any] = {}
    entries: list[dict[str, Any]] = []
    for param in operation.parameters:
        source = query if param.location == "query" else path_params
        raw = source.get(param.name)
        if raw is None:
            if param.required:
                entries.append(_missing([param.location, param.name], None))
            else:
                values[param.name] = param.default
            continue
        minimum = param.plain_integer_minimum
        if minimum is not None and raw.isascii() and raw.isdigit() and len(raw) < _FAST_DIGITS:
            value = int(raw)  # the common case, judged from the schema's own bound
            if value >= minimum:
                values[param.name] = value
                continue
        value, entry = _parse_param(param, raw, lax)
        if entry is None and param.validator.is_valid(value):
            values[param.name] = value
            continue
        if entry is None:
            found = _entries(param.validator, value, [param.location, param.name], raw)
            entry = next(
                (e for e in found if not (skip_minimum and e["type"] == "greater_than_equal")), None
            )
        if entry is None:
            values[param.name] = value
        else:
            entries.append(entry)
    return values, entries


def validate_body(operation: Operation, body: Any, *, lax: bool) -> tuple[Any, list[dict]]:
    """The body (coerced under lax), and its entries; `body` is JSON, text or MISSING."""
    if body is MISSING or body is None:
        if operation.body_required:
            return body, [_missing(["body"], None)]
        return None, []
    if isinstance(body, str):  # not sent as JSON: pydantic sees the raw text
        return body, [_entry("object", ["body"], body)]
    if lax:
        body = _coerce_lax(body, operation.body_schema or {})
    try:
        unicode = _unicode_entries(body, operation.body_schema or {}, ["body"])
        try:
            checked = _scrub(body) if unicode else body
            found = list(_entries(operation.body_validator, checked, ["body"], MISSING, body))
        except UnicodeEncodeError:
            # A lone surrogate in a field name (an unknown field: the schema's
            # names are plain text) that jsonschema-rs cannot take: unknown
            # fields are ignored, whatever their name (behaviour §1).
            checked = _scrub(body)
            found = list(_entries(operation.body_validator, checked, ["body"], MISSING, body))
    except (RecursionError, ValueError):
        # Nested deeper than these walks (RecursionError) or jsonschema-rs
        # (ValueError, ~250 levels) go, though json.loads went further.
        raise BadRequest(BODY_NOT_UTF8) from None
    failed = {tuple(e["loc"]) for e in unicode}
    entries = unicode + [e for e in found if tuple(e["loc"]) not in failed]
    if lax:
        entries = [_lax_bool_error(e) for e in entries]
    return body, _in_field_order(entries, operation.body_schema or {})


def raise_if_any(entries: list[dict[str, Any]]) -> None:
    if entries:
        raise ValidationFailed(entries)


def _parse_param(param: Parameter, raw: str, lax: bool) -> tuple[Any, dict | None]:
    if param.schema.get("type") != "integer":
        return raw, None
    try:
        value = coercion.lax_int(raw) if lax else int(raw) if _INT.fullmatch(raw) else None
    except ValueError:  # over Python's 4300-digit limit: pydantic's int_parsing_size
        return raw, {
            "type": "int_parsing_size",
            "loc": [param.location, param.name],
            "msg": "Unable to parse input string as an integer, exceeded maximum size",
            "input": raw,
        }
    if value is None:
        return raw, {
            "type": "int_parsing",
            "loc": [param.location, param.name],
            "msg": _INT_PARSING,
            "input": raw,
        }
    return value, None


def _entries(validator: Any, instance: Any, loc: list, raw_input: Any, original: Any = MISSING):
    """FastAPI's entries for `instance`; `original` is the body `instance` was
    scrubbed from, whose values the entries echo."""
    seen: set[tuple] = set()
    for error in validator.iter_errors(instance):
        where = loc + list(error.instance_path)
        kind = error.kind.name
        data = error.kind.as_dict()
        if kind == "required":
            where = [*where, data["property"]]
        key = tuple(where)
        if key in seen:
            continue
        seen.add(key)
        if raw_input is not MISSING:
            value = raw_input
        elif original is not MISSING and original is not instance:
            value = _at(original, error.instance_path)
        else:
            value = error.instance
        if kind == "required":
            yield _missing(where, value)
        elif kind == "type":
            expected = [t for t in data["types"] if t != "null"] or ["null"]
            yield _entry(expected[0], where, value)
        elif kind == "enum":
            options = [o for o in data["options"] if o is not None]
            text = _or_list([f"'{o}'" for o in options])
            yield {
                "type": "enum",
                "loc": where,
                "msg": f"Input should be {text}",
                "input": value,
                "ctx": {"expected": text},
            }
        elif kind in _BOUNDS:
            error_type, words, name = _BOUNDS[kind]
            yield {
                "type": error_type,
                "loc": where,
                "msg": f"Input should be {words} {data['limit']}",
                "input": value,
                "ctx": {name: data["limit"]},
            }
        elif kind in _LENGTHS:
            error_type, template, name = _LENGTHS[kind]
            limit = data["limit"]
            ctx: dict[str, Any] = {name: limit}
            actual = len(error.instance)
            if kind.endswith("Items"):
                ctx = {"field_type": "List", name: limit, "actual_length": actual}
            yield {
                "type": error_type,
                "loc": where,
                "msg": template.format(n=limit, s="" if limit == 1 else "s", actual=actual),
                "input": value,
                "ctx": ctx,
            }
        else:
            yield {"type": "value_error", "loc": where, "msg": error.message, "input": value}


def _unicode_entries(value: Any, schema: dict[str, Any], loc: list) -> list[dict[str, Any]]:
    """pydantic's string_unicode for strings with lone surrogates (JSON allows
    the escapes, Unicode text does not), in the fields the schema knows."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return [{"type": "string_unicode", "loc": loc, "msg": _STRING_UNICODE, "input": value}]
        return []
    if isinstance(value, dict) and "properties" in schema:  # only as deep as the schema
        return [
            e
            for name, sub in schema["properties"].items()
            if name in value
            for e in _unicode_entries(value[name], sub, [*loc, name])
        ]
    if isinstance(value, list) and "items" in schema:
        items = schema["items"]
        return [e for i, v in enumerate(value) for e in _unicode_entries(v, items, [*loc, i])]
    return []


def _at(value: Any, path: Any) -> Any:
    """The part of `value` at a jsonschema-rs instance path (known field names
    and list indices, the same in the scrubbed copy and the original)."""
    for step in path:
        value = value[step]
    return value


def _scrub(value: Any) -> Any:
    """`value` with lone surrogates replaced, for the schema validator."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {_scrub(k): _scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def _entry(json_type: str, loc: list, value: Any) -> dict[str, Any]:
    error_type, msg = _TYPE_ERRORS.get(json_type, ("value_error", "Input is not valid"))
    return {"type": error_type, "loc": loc, "msg": msg, "input": value}


def _missing(loc: list, value: Any) -> dict[str, Any]:
    return {"type": "missing", "loc": loc, "msg": "Field required", "input": value}


def _or_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def _field_order(schema: dict[str, Any]) -> dict[str, int]:
    order: dict[str, int] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for name in node.get("properties", {}):
                order.setdefault(name, len(order))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return order


def _in_field_order(entries: list[dict], schema: dict[str, Any]) -> list[dict]:
    order = _field_order(schema)

    def sort_key(entry: dict) -> list[tuple[int, int]]:
        return [(0, p) if isinstance(p, int) else (1, order.get(p, 10**6)) for p in entry["loc"]]

    return sorted(entries, key=sort_key)


def _lax_bool_error(entry: dict[str, Any]) -> dict[str, Any]:
    """Lax, pydantic reads text and whole numbers as booleans: what it cannot
    interpret ('maybe', ' yes', 2, 2.0) is `bool_parsing`; other types (null,
    0.5, a list) stay `bool_type`."""
    value = entry.get("input")
    if entry.get("type") != "bool_type" or isinstance(value, bool):
        return entry
    whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if isinstance(value, str) or whole:
        return {**entry, "type": "bool_parsing", "msg": _BOOL_PARSING}
    return entry


def _coerce_lax(body: Any, schema: dict[str, Any]) -> Any:
    """Production's lax booleans: 'yes', 'on', 1 and the like."""
    if not isinstance(body, dict):
        return body
    coerced = dict(body)
    for name, prop in schema.get("properties", {}).items():
        if prop.get("type") != "boolean" or name not in coerced:
            continue
        coerced[name] = coercion.lax_bool(coerced[name])
    return coerced
