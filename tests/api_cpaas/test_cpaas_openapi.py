"""The face's OpenAPI document describes exactly the routes it serves, and is valid."""

from __future__ import annotations

from jsonschema import Draft202012Validator

from taskrouter.api.cpaas.openapi import spec
from taskrouter.api.cpaas.routes import table


def test_every_route_is_documented_and_every_documented_operation_is_served() -> None:
    served = {(method, template) for method, template, _ in table}
    documented = {
        (method.upper(), path)
        for path, item in spec()["paths"].items()
        for method in item
        if method != "parameters"
    }
    assert served == documented


def test_every_schema_is_a_valid_json_schema_and_every_ref_resolves() -> None:
    document = spec()
    for name, schema in document["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)
        assert name[0].isupper()

    def refs(node: object) -> list[str]:
        if isinstance(node, dict):
            found = [node["$ref"]] if "$ref" in node else []
            return found + [r for v in node.values() for r in refs(v)]
        if isinstance(node, list):
            return [r for v in node for r in refs(v)]
        return []

    for ref in refs(document):
        target: object = document
        for part in ref.removeprefix("#/").split("/"):
            assert isinstance(target, dict) and part in target, ref
            target = target[part]
