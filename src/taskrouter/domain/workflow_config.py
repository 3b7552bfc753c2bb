"""A workflow's `Configuration` document, checked and compiled when it is saved.

Parsing is lenient where Twilio's own docs are (numbers given as strings) and strict where a
mistake would silently misroute work: unknown queues, expressions that do not compile,
non-positive timeouts, both known-worker keys at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from taskrouter.domain.errors import Invalid
from taskrouter.expressions import (
    CompiledExpression,
    Context,
    ExpressionError,
    OrderBy,
    compile_expression,
    parse_order_by,
)

MAX_CONFIGURATION_BYTES = 1_038_576
PARAM = "Configuration"


@dataclass(frozen=True, slots=True)
class Target:
    queue_sid: str
    expression: CompiledExpression | None = None
    priority: int | None = None
    timeout: int | None = None
    order_by: OrderBy | None = None
    skip_if: CompiledExpression | None = None
    known_worker_sid: str | None = None
    known_worker_friendly_name: str | None = None


@dataclass(frozen=True, slots=True)
class Filter:
    friendly_name: str | None
    expression: CompiledExpression
    targets: tuple[Target, ...]


@dataclass(frozen=True, slots=True)
class WorkflowConfiguration:
    filters: tuple[Filter, ...]
    default_filter: Target | None

    def queue_sids(self) -> set[str]:
        sids = {t.queue_sid for f in self.filters for t in f.targets}
        if self.default_filter is not None:
            sids.add(self.default_filter.queue_sid)
        return sids


def parse_configuration(text: str, queue_exists: Callable[[str], bool]) -> WorkflowConfiguration:
    """Check and compile a configuration; raise Invalid naming the offending place."""
    try:
        return _parse(text, queue_exists)
    except Invalid as exc:
        if exc.message.startswith(PARAM):
            raise
        raise Invalid(f"{PARAM}: {exc.message}", param=PARAM) from None


def _parse(text: str, queue_exists: Callable[[str], bool]) -> WorkflowConfiguration:
    if len(text.encode()) > MAX_CONFIGURATION_BYTES:
        raise Invalid(f"Configuration is larger than {MAX_CONFIGURATION_BYTES} bytes", param=PARAM)
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise Invalid(f"Configuration is not valid JSON: {exc}", param=PARAM) from None
    routing = _object(document, "Configuration").get("task_routing")
    routing = _object(routing, "task_routing")
    raw_filters = routing.get("filters", [])
    if not isinstance(raw_filters, list):
        raise Invalid("task_routing.filters must be a list", param=PARAM)
    filters = tuple(
        _filter(raw, f"task_routing.filters[{i}]", queue_exists)
        for i, raw in enumerate(raw_filters)
    )
    default = routing.get("default_filter")
    default_target = None
    if default is not None:
        default_target = _target(default, "task_routing.default_filter", None, queue_exists)
    return WorkflowConfiguration(filters=filters, default_filter=default_target)


def _filter(raw: Any, where: str, queue_exists: Callable[[str], bool]) -> Filter:
    raw = _object(raw, where)
    name = raw.get("filter_friendly_name", raw.get("friendly_name"))
    if name is not None and not isinstance(name, str):
        raise Invalid(f"{where}.filter_friendly_name must be a string", param=PARAM)
    expression = _expression(raw.get("expression"), f"{where}.expression", Context.TASK)
    if expression is None:
        raise Invalid(f"{where}.expression is required", param=PARAM)
    raw_targets = raw.get("targets")
    if not isinstance(raw_targets, list) or not raw_targets:
        raise Invalid(f"{where}.targets must be a non-empty list", param=PARAM)
    targets: list[Target] = []
    inherited: str | None = None
    for i, raw_target in enumerate(raw_targets):
        target = _target(raw_target, f"{where}.targets[{i}]", inherited, queue_exists)
        inherited = target.queue_sid
        targets.append(target)
    return Filter(friendly_name=name, expression=expression, targets=tuple(targets))


def _target(
    raw: Any, where: str, inherited_queue: str | None, queue_exists: Callable[[str], bool]
) -> Target:
    raw = _object(raw, where)
    queue = raw.get("queue", inherited_queue)
    if not isinstance(queue, str) or not queue:
        raise Invalid(f"{where}.queue is required", param=PARAM)
    if not queue_exists(queue):
        raise Invalid(f"{where}.queue {queue} is not a TaskQueue of this workspace", param=PARAM)
    known_sid = raw.get("known_worker_sid")
    known_name = raw.get("known_worker_friendly_name")
    if known_sid is not None and known_name is not None:
        raise Invalid(
            f"{where} may set known_worker_sid or known_worker_friendly_name, not both",
            param=PARAM,
        )
    for key, value in (("known_worker_sid", known_sid), ("known_worker_friendly_name", known_name)):
        if value is not None and not isinstance(value, str):
            raise Invalid(f"{where}.{key} must be a task attribute reference", param=PARAM)
    order_by = raw.get("order_by")
    parsed_order: OrderBy | None = None
    if order_by is not None:
        if not isinstance(order_by, str):
            raise Invalid(f"{where}.order_by must be a string", param=PARAM)
        try:
            parsed_order = parse_order_by(order_by)
        except ExpressionError as exc:
            raise Invalid(f"{where}.order_by: {exc}", param=PARAM) from None
    return Target(
        queue_sid=queue,
        expression=_expression(raw.get("expression"), f"{where}.expression", Context.TARGET),
        priority=_integer(raw.get("priority"), f"{where}.priority", minimum=0),
        timeout=_integer(raw.get("timeout"), f"{where}.timeout", minimum=1),
        order_by=parsed_order,
        skip_if=_expression(raw.get("skip_if"), f"{where}.skip_if", Context.SKIP_IF),
        known_worker_sid=known_sid,
        known_worker_friendly_name=known_name,
    )


def _expression(value: Any, where: str, context: Context) -> CompiledExpression | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid(f"{where} must be a string", param=PARAM)
    try:
        return compile_expression(value, context)
    except ExpressionError as exc:
        raise Invalid(f"{where}: {exc}", param=PARAM) from None


def _integer(value: Any, where: str, *, minimum: int) -> int | None:
    if value is None:
        return None
    # The docs show both 10 and "10"; a bool is a JSON mistake, not a number.
    if isinstance(value, bool) or not isinstance(value, int | str | float):
        raise Invalid(f"{where} must be an integer", param=PARAM)
    try:
        number = int(value)
    except ValueError:
        raise Invalid(f"{where} must be an integer, got {value!r}", param=PARAM) from None
    if number != value and str(number) != str(value).strip():
        raise Invalid(f"{where} must be an integer, got {value!r}", param=PARAM)
    if number < minimum:
        raise Invalid(f"{where} must be at least {minimum}, got {number}", param=PARAM)
    return number


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Invalid(f"{where} must be a JSON object", param=PARAM)
    return value
