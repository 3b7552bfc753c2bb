"""Twilio TaskRouter v1 response checking against the OpenAPI spec in the shared references.

`check_response(method, url, status, headers, body)` returns a list of problems (empty when the
response is fine):

- the operation (method + concrete path) must exist in the spec;
- a success status must be one the spec documents for that operation (201 for creates, 204 for
  deletes, 200 otherwise), and a 204 has an empty body;
- a JSON body is validated with jsonschema against the response schema of that status, the
  spec's `$ref`s resolved and OpenAPI 3.0 `nullable` turned into JSON Schema type unions;
  `date-time` and `uri` formats are checked loosely (ISO-8601 with a zone; absolute http(s) or "");
- stricter than the spec, as Twilio itself answers: every property of a TaskRouter instance
  schema is present (null when it has no value), list bodies carry their records key and a
  complete `meta` whose `key` names that records key;
- an error (status >= 400) is `{code, message, more_info, status}` plus optional `details`,
  never with both `type` and `title` (twilio-python would treat that as RFC 9457);
- with `public_base` given, every instance `url`, every `links` value and the `meta` URLs are
  absolute and start with it.

The spec is found at ../shared/reference/twilio_taskrouter_v1.json beside the repository, or at
$TASKROUTER_TWILIO_SPEC.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, FormatChecker

REPO_ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = Path(
    os.environ.get(
        "TASKROUTER_TWILIO_SPEC",
        REPO_ROOT.parent / "shared" / "reference" / "twilio_taskrouter_v1.json",
    )
)
SCHEMA_PREFIX = "#/components/schemas/"
META_FIELDS = (
    "first_page_url",
    "key",
    "next_page_url",
    "page",
    "page_size",
    "previous_page_url",
    "url",
)
ERROR_FIELDS = frozenset(("code", "message", "more_info", "status"))
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$")


def _is_date_time(value: object) -> bool:
    return not isinstance(value, str) or _DATE_TIME.match(value) is not None


def _is_uri(value: object) -> bool:
    # Twilio's own examples answer an unset `event_callback_url` with "", so "" passes.
    if not isinstance(value, str) or value == "":
        return True
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


FORMAT_CHECKER = FormatChecker(formats=())
FORMAT_CHECKER.checks("date-time")(_is_date_time)
FORMAT_CHECKER.checks("uri")(_is_uri)


def _convert(node: Any, *, strict: bool) -> Any:
    """OpenAPI 3.0 schema -> JSON Schema 2020-12 (nullable -> type union / anyOf with null).

    With `strict`, object schemas that list properties require all of them.
    """
    if isinstance(node, list):
        return [_convert(item, strict=strict) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: _convert(sub, strict=strict) for name, sub in value.items()}
        elif key in ("examples", "example", "x-twilio", "nullable"):
            continue
        else:
            out[key] = _convert(value, strict=strict)
    if node.get("nullable") is True:
        if "$ref" in out:
            ref = out.pop("$ref")
            out["anyOf"] = [{"$ref": ref}, {"type": "null"}]
        elif isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
    if strict and out.get("type") == "object" and isinstance(out.get("properties"), dict):
        out["required"] = sorted(out["properties"])
    return out


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    operation_id: str
    # status -> converted JSON schema of the JSON body, or None when the status has no body
    responses: Mapping[str, dict[str, Any] | None]
    list_key: str | None  # the records key of a list response


@dataclass
class Spec:
    components: dict[str, Any]
    operations: list[tuple[re.Pattern[str], int, Operation]]
    _validators: dict[tuple[str, str, str], Draft202012Validator | None] = field(
        default_factory=dict
    )

    def operation(self, method: str, path: str) -> Operation | None:
        """The spec operation for a concrete path; literal segments beat `{Param}` segments
        (so `/Workers/Statistics` is not read as `/Workers/{Sid}`)."""
        best: tuple[int, Operation] | None = None
        for pattern, literals, op in self.operations:
            if (
                op.method == method.upper()
                and pattern.match(path)
                and (best is None or literals > best[0])
            ):
                best = (literals, op)
        return best[1] if best else None

    def validator(self, op: Operation, status: str) -> Draft202012Validator | None:
        key = (op.method, op.template, status)
        if key not in self._validators:
            schema = op.responses.get(status)
            self._validators[key] = (
                None
                if schema is None
                else Draft202012Validator(
                    {**schema, "components": {"schemas": self.components}},
                    format_checker=FORMAT_CHECKER,
                )
            )
        return self._validators[key]


def _template_regex(template: str) -> tuple[re.Pattern[str], int]:
    parts = template.strip("/").split("/")
    literals = sum(1 for p in parts if not p.startswith("{"))
    regex = "/".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"^/{regex}/?$"), literals


@functools.cache
def load_spec(path: Path = SPEC_PATH, strict: bool = True) -> Spec:
    raw = json.loads(path.read_text())
    components = {
        name: _convert(schema, strict=strict and name.startswith("taskrouter.v1."))
        for name, schema in raw["components"]["schemas"].items()
    }
    operations: list[tuple[re.Pattern[str], int, Operation]] = []
    for template, item in raw["paths"].items():
        pattern, literals = _template_regex(template)
        for method, op in item.items():
            if method not in ("get", "post", "delete"):
                continue
            responses: dict[str, dict[str, Any] | None] = {}
            list_key = None
            for status, response in op["responses"].items():
                content = (response.get("content") or {}).get("application/json")
                if not content or not content.get("schema"):
                    responses[status] = None
                    continue
                schema = _convert(content["schema"], strict=False)
                props = schema.get("properties") or {}
                if "meta" in props:
                    keys = [k for k in props if k != "meta"]
                    list_key = keys[0] if len(keys) == 1 else None
                    if strict:
                        schema["required"] = sorted(props)
                        props["meta"]["required"] = list(META_FIELDS)
                        if list_key:
                            props["meta"]["properties"]["key"]["const"] = list_key
                responses[status] = schema
            operations.append(
                (
                    pattern,
                    literals,
                    Operation(
                        method.upper(), template, op.get("operationId", ""), responses, list_key
                    ),
                )
            )
    return Spec(components, operations)


def _error_problems(status: int, body: Any) -> list[str]:
    if not isinstance(body, dict):
        return [f"error body is not a JSON object: {body!r}"]
    problems = []
    keys = set(body)
    if not keys >= ERROR_FIELDS or keys - ERROR_FIELDS - {"details"}:
        problems.append(
            f"error body keys {sorted(keys)} != code, message, more_info, status (+details)"
        )
    if "type" in body and "title" in body:
        problems.append("error body has both `type` and `title` (read as RFC 9457 by the SDK)")
    if not isinstance(body.get("code"), int) or isinstance(body.get("code"), bool):
        problems.append(f"error code is not an integer: {body.get('code')!r}")
    if body.get("status") != status:
        problems.append(f"error body status {body.get('status')!r} != HTTP status {status}")
    if not isinstance(body.get("message"), str) or not body.get("message"):
        problems.append(f"error message is not a non-empty string: {body.get('message')!r}")
    if not isinstance(body.get("more_info"), str):
        problems.append(f"error more_info is not a string: {body.get('more_info')!r}")
    if "details" in body and not isinstance(body["details"], dict):
        problems.append(f"error details is not an object: {body['details']!r}")
    return problems


def _link_problems(body: Any, list_key: str | None, public_base: str) -> list[str]:
    base = public_base.rstrip("/") + "/"
    problems: list[str] = []

    def absolute(where: str, value: Any, *, nullable: bool = False) -> None:
        if value is None and nullable:
            return
        if not isinstance(value, str) or not value.startswith(base):
            problems.append(f"{where} = {value!r} does not start with {base!r}")

    def instance(where: str, record: Any) -> None:
        if not isinstance(record, dict):
            return
        if "url" in record:
            absolute(f"{where}.url", record["url"])
        links = record.get("links")
        if isinstance(links, dict):
            for name, value in links.items():
                absolute(f"{where}.links.{name}", value)

    if not isinstance(body, dict):
        return problems
    if list_key is not None:
        meta = body.get("meta") or {}
        for field in ("url", "first_page_url"):
            absolute(f"meta.{field}", meta.get(field))
        for field in ("next_page_url", "previous_page_url"):
            absolute(f"meta.{field}", meta.get(field), nullable=True)
        for i, record in enumerate(body.get(list_key) or []):
            instance(f"{list_key}[{i}]", record)
    else:
        instance("body", body)
    return problems


def check_response(
    method: str,
    url: str,
    status: int,
    content_type: str | None,
    body: bytes | str,
    *,
    public_base: str | None = None,
    spec: Spec | None = None,
) -> list[str]:
    """Problems with one response of the Twilio face (see the module docstring)."""
    spec = spec or load_spec()
    method = method.upper()
    path = urlsplit(url).path
    text = body.decode() if isinstance(body, bytes) else body
    where = f"{method} {path} -> {status}"
    op = spec.operation(method, path)

    parsed: Any = None
    if text:
        try:
            parsed = json.loads(text)
        except ValueError:
            return [f"{where}: body is not JSON: {text[:200]!r}"]
        if not (content_type or "").startswith("application/json"):
            return [f"{where}: JSON body with Content-Type {content_type!r}"]

    if status >= 400:
        return [f"{where}: {p}" for p in _error_problems(status, parsed)]
    if op is None:
        return [f"{where}: no such operation in the Twilio TaskRouter v1 spec"]
    if str(status) not in op.responses:
        return [
            f"{where}: status {status} is not documented for {op.operation_id} "
            f"(expected {', '.join(op.responses)})"
        ]
    validator = spec.validator(op, str(status))
    if validator is None:
        return [] if not text else [f"{where}: expected an empty body, got {text[:200]!r}"]
    if parsed is None:
        return [f"{where}: expected a JSON body, got an empty one"]
    problems = [
        f"{where} ({op.operation_id}): {'/'.join(map(str, e.absolute_path)) or '<body>'}: "
        f"{e.message}"
        for e in sorted(validator.iter_errors(parsed), key=lambda e: list(e.absolute_path))[:10]
    ]
    if public_base is not None:
        problems += [f"{where}: {p}" for p in _link_problems(parsed, op.list_key, public_base)]
    return problems
