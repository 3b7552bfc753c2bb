"""Checks answers against the CPaaS face's own OpenAPI document (served at
/taskrouter/openapi.json, kept in the package): the operation must exist, the status must be
one it documents, and the body must validate against that status's schema."""

from __future__ import annotations

import functools
import re
from typing import Any

from jsonschema import Draft202012Validator

from taskrouter.api.cpaas.openapi import spec

_PARAM = re.compile(r"\{[^/]+\}")


@functools.cache
def _operations() -> list[tuple[re.Pattern[str], str, dict[str, Any]]]:
    found = []
    for template, item in spec()["paths"].items():
        pattern = re.compile("^" + _PARAM.sub("[^/]+", template.rstrip("/")) + "/?$")
        found.extend(
            (pattern, method.upper(), operation)
            for method, operation in item.items()
            if method != "parameters"
        )
    return found


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = spec()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


@functools.cache
def _validator(pointer: str) -> Draft202012Validator:
    # The whole document is the root, so the schemas' `#/components/...` refs resolve.
    return Draft202012Validator({**spec(), "$ref": pointer})


def response_schema_pointer(method: str, path: str, status: int) -> str | None:
    for pattern, verb, operation in _operations():
        if verb == method and pattern.match(path):
            response = operation["responses"].get(str(status))
            if response is None:
                return None
            ref = response["$ref"]
            content = _resolve({"$ref": ref})["content"]["application/json"]["schema"]
            return str(content.get("$ref", ref + "/content/application~1json/schema"))
    return None


def problems(method: str, path: str, status: int, body: Any) -> list[str]:
    path = path.split("?", 1)[0]
    if not any(verb == method and p.match(path) for p, verb, _ in _operations()):
        return [f"{method} {path} is not an operation of the CPaaS OpenAPI document"]
    pointer = response_schema_pointer(method, path, status)
    if pointer is None:
        return [f"{method} {path} answered {status}, which the document does not list"]
    return [
        f"{method} {path} {status}: {'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in _validator(pointer).iter_errors(body)
    ]


def nullable_keys(schema_name: str) -> frozenset[str]:
    """The properties of a schema that may be null (the replay allows null where the
    document's example shows a value only for these)."""
    properties = spec()["components"]["schemas"][schema_name]["properties"]
    out = set()
    for key, prop in properties.items():
        prop = _resolve(prop)
        types = prop.get("type")
        variants = [_resolve(p).get("type") for p in prop.get("oneOf", [])]
        if types == "null" or (isinstance(types, list) and "null" in types) or "null" in variants:
            out.add(key)
    return frozenset(out)
