"""The contract files: valid OpenAPI, valid examples, and served route for route."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator, FormatChecker
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from starlette.routing import Route

from mock_server.settings import DEFAULT_CONTROL_SPEC, DEFAULT_SPEC

SPECS = {"auth": DEFAULT_SPEC, "control": DEFAULT_CONTROL_SPEC}
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
URI = "urn:chutes:spec"
SCHEMA_KEYWORDS = {"type", "allOf", "oneOf", "anyOf", "$ref", "enum", "const", "properties"}


@functools.cache
def load(name: str) -> dict[str, Any]:
    """The parsed document (cached: pure-Python YAML is slow; never mutated)."""
    return yaml.safe_load(SPECS[name].read_text(encoding="utf-8"))


def examples(node: Any, pointer: str = "") -> Iterator[tuple[str, str, Any]]:
    """(pointer of the schema, where the example is, the example) for every
    `example`/`examples` of a schema, media type, parameter or header."""
    if isinstance(node, dict):
        is_schema_holder = "schema" in node and isinstance(node["schema"], dict)
        if is_schema_holder:
            holder = f"{pointer}/schema"
            if "example" in node:
                yield holder, f"{pointer}/example", node["example"]
            for name, example in (node.get("examples") or {}).items():
                if isinstance(example, dict) and "value" in example:
                    yield holder, f"{pointer}/examples/{name}", example["value"]
        elif "example" in node and SCHEMA_KEYWORDS & node.keys():
            yield pointer, f"{pointer}/example", node["example"]
        for key, value in node.items():
            if key not in ("example", "examples"):
                yield from examples(value, f"{pointer}/{escape(key)}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from examples(value, f"{pointer}/{index}")


def escape(key: Any) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def example_cases() -> list[Any]:
    cases = []
    for name in SPECS:
        for schema_at, example_at, example in examples(load(name)):
            cases.append(pytest.param(name, schema_at, example, id=f"{name}:{example_at}"))
    return cases


@pytest.mark.parametrize("name", sorted(SPECS))
def test_spec_is_valid_openapi_3_1(name: str) -> None:
    document = load(name)
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_kind_of_example_is_collected() -> None:
    """Guards the walker: schemas, media types, parameters and headers all count."""
    where = [at for _, at, _ in examples(load("auth"))]
    assert any(at.startswith("/components/schemas/") for at in where)
    assert any("/content/application~1json/example" in at for at in where)
    assert any("/parameters/" in at for at in where)
    assert any("/headers/Authorization/example" in at for at in where)
    assert len(where) >= 20


@pytest.mark.parametrize(("name", "schema_at", "example"), example_cases())
def test_example_validates_against_its_schema(name: str, schema_at: str, example: Any) -> None:
    registry = Registry().with_resource(
        URI, Resource.from_contents(load(name), default_specification=DRAFT202012)
    )
    validator = Draft202012Validator(
        {"$ref": f"{URI}#{schema_at}"}, registry=registry, format_checker=FormatChecker()
    )
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(example)]
    assert errors == []


def spec_operations(*names: str) -> set[tuple[str, str]]:
    found = set()
    for name in names:
        for path, item in load(name)["paths"].items():
            found |= {(m.upper(), path) for m in METHODS if m in item}
    return found


def app_operations(app) -> set[tuple[str, str]]:
    """The served operations; `/openapi.json` serves the contract itself."""
    return {
        (method, route.path)
        for route in app.routes
        if isinstance(route, Route) and route.path != "/openapi.json"
        for method in route.methods or ()
    }


def test_routes_equal_the_specs_operations(make_mock) -> None:
    assert app_operations(make_mock().app) == spec_operations("auth", "control")


def test_without_control_only_the_contract_is_served(make_mock) -> None:
    assert app_operations(make_mock(control=False).app) == spec_operations("auth")


def test_the_contract_has_the_five_operations_and_their_purposes() -> None:
    found = {}
    for path, item in load("auth")["paths"].items():
        for method in METHODS:
            if method in item:
                op = item[method]
                found[op["operationId"]] = (method.upper(), path, op.get("x-chutes-purpose"))
    assert found == {
        "registry_auth": ("GET", "/registry/auth", "registry"),
        "list_keys": ("GET", "/api_keys/", "api_keys"),
        "create_api_key": ("POST", "/api_keys/", None),
        "get_key": ("GET", "/api_keys/{api_key_id}", "api_keys"),
        "delete_api_key": ("DELETE", "/api_keys/{api_key_id}", "api_keys"),
    }


@pytest.mark.parametrize("document", ["auth", "control"])
@pytest.mark.parametrize("side", ["operation", "handler"])
def test_start_up_refuses_a_document_and_handlers_that_differ(
    make_mock, monkeypatch: pytest.MonkeyPatch, document: str, side: str
) -> None:
    """Each document's operationIds and its handlers are checked both ways."""
    from mock_server import app as app_module
    from mock_server import control, routes, spec

    real_operations = spec.operations

    def with_extra_operation(doc: dict[str, Any], name: spec.Document) -> list[spec.Operation]:
        ops = real_operations(doc, name)
        if name == document:
            ops.append(dataclasses.replace(ops[0], operation_id="unhandled"))
        return ops

    def with_extra_handler(journal):
        return {**real_handlers(journal), "orphan": lambda ctx: ({}, {})}

    real_handlers = control.handlers
    if side == "operation":
        monkeypatch.setattr(app_module.spec, "operations", with_extra_operation)
        expected = f"{document}: operations without a handler: ['unhandled']"
    elif document == "auth":
        monkeypatch.setitem(routes.HANDLERS, "orphan", lambda ctx: ({}, {}))
        expected = "auth: handlers without an operation: ['orphan']"
    else:
        monkeypatch.setattr(control, "handlers", with_extra_handler)
        expected = "control: handlers without an operation: ['orphan']"
    with pytest.raises(RuntimeError) as refused:
        make_mock()
    assert str(refused.value) == expected
