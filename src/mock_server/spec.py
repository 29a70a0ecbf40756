"""Load the OpenAPI documents and turn each operation into a runtime record.

Routes, parameter parsing and request validators are all built from here,
so the mock cannot drift from `openapi/auth.yaml`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # "query" or "path"
    required: bool
    schema: dict[str, Any]
    validator: Any

    @property
    def default(self) -> Any:
        return self.schema.get("default")

    @cached_property
    def plain_integer_minimum(self) -> float | None:
        """The lower bound when the schema is just an integer with an optional
        minimum (then a digit string can be judged without the validator)."""
        return _plain_integer_minimum(self.schema)


class Document(StrEnum):
    """Which OpenAPI document an operation comes from."""

    AUTH = "auth"  # openapi/auth.yaml, the contract
    CONTROL = "control"  # openapi/control.yaml, the mock's control API


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str  # upper case
    path: str
    document: Document
    purpose: str | None
    hotkey_requires: str | None
    parameters: tuple[Parameter, ...]
    body_schema: dict[str, Any] | None
    body_required: bool
    body_validator: Any
    success_status: int = 200  # the contract's 2xx for this operation

    @property
    def has_body(self) -> bool:
        return self.body_schema is not None


@cache
def operations_of(path: Path, name: str) -> tuple[Operation, ...]:
    """The operations of the document at `path`, read and compiled once per process."""
    return tuple(operations(load_document(path), name))


def load_document(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def resolve(node: Any, root: dict[str, Any]) -> Any:
    """Inline every local `$ref` (the spec has no recursive schemas)."""
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = root
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            merged = {**resolve(target, root), **{k: v for k, v in node.items() if k != "$ref"}}
            return resolve(merged, root)
        return {key: resolve(value, root) for key, value in node.items()}
    if isinstance(node, list):
        return [resolve(item, root) for item in node]
    return node


def operations(document: dict[str, Any], name: str) -> list[Operation]:
    """Every operation of one OpenAPI document, validators compiled."""
    result = []
    for path, item in document.get("paths", {}).items():
        item = resolve(item, document)
        shared = item.get("parameters", [])
        for method in HTTP_METHODS:
            op = item.get(method)
            if op is None:
                continue
            params = _merge_parameters(shared, op.get("parameters", []))
            body = op.get("requestBody")
            body_schema = body["content"]["application/json"]["schema"] if body else None
            if body_schema is not None:
                body_schema = without_business_rules(body_schema)
            result.append(
                Operation(
                    operation_id=op["operationId"],
                    success_status=min(
                        (
                            int(code)
                            for code in op.get("responses", {})
                            if str(code).startswith("2")
                        ),
                        default=200,
                    ),
                    method=method.upper(),
                    path=path,
                    document=name,
                    purpose=op.get("x-chutes-purpose"),
                    hotkey_requires=op.get("x-chutes-hotkey-requires"),
                    parameters=tuple(
                        Parameter(
                            p["name"],
                            p["in"],
                            bool(p.get("required")),
                            p["schema"],
                            jsonschema_rs.validator_for(p["schema"]),
                        )
                        for p in params
                        if p["in"] in ("query", "path")
                    ),
                    body_schema=body_schema,
                    body_required=bool(body and body.get("required")),
                    body_validator=jsonschema_rs.validator_for(body_schema)
                    if body_schema
                    else None,
                )
            )
    return result


# A schema marked `x-chutes-business-rule: 400` states a rule the contract
# enforces with that status and its own detail, not with a 422: tools that
# generate requests read the rule from the contract, and the mock checks it
# where the contract's business rules are (`rules.py`), not in validation.
BUSINESS_RULE = "x-chutes-business-rule"
_RULE_KEYWORDS = ("pattern", "minLength", "maxLength", "enum", "if", "then", "else")


def without_business_rules(schema: Any) -> Any:
    """`schema` for request validation: the keywords a business rule owns removed."""
    if isinstance(schema, list):
        return [without_business_rules(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    ruled = BUSINESS_RULE in schema
    return {
        key: without_business_rules(value)
        for key, value in schema.items()
        if not (ruled and key in (*_RULE_KEYWORDS, BUSINESS_RULE))
    }


_PLAIN_INTEGER_KEYS = {"type", "minimum", "default", "description", "example"}


def _plain_integer_minimum(schema: dict[str, Any]) -> float | None:
    if schema.get("type") != "integer" or not set(schema) <= _PLAIN_INTEGER_KEYS:
        return None
    return schema.get("minimum", float("-inf"))


def _merge_parameters(shared: list[dict], own: list[dict]) -> list[dict]:
    merged = {(p["name"], p["in"]): p for p in shared}
    merged.update({(p["name"], p["in"]): p for p in own})
    return list(merged.values())
