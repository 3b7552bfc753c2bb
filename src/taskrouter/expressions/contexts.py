"""Evaluation contexts: which names an expression may use, and what they resolve against.

Resolution happens once, at compile time, by rewriting paths; evaluation then walks every path
from one root mapping (built by the functions in `scopes`).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Final

from .errors import ExpressionError
from .nodes import And, Comparison, Literal, Node, Not, Or, Path, format_path

TIME_VARIABLES: Final = ("currentTime", "currentHour", "currentMin", "dayOfWeek")


class Context(Enum):
    """Where an expression is used, which decides how its names resolve."""

    WORKER = "worker"
    """TaskQueue TargetWorkers and the TargetWorkersExpression list filter.

    The root is one worker's attribute document (the list filter may add `sid`,
    `friendly_name`, `activity_sid` and `activity_name`). A leading `worker.` is dropped, so
    `worker.skills` and `skills` mean the same attribute.
    """

    TASK = "task"
    """Workflow filter expressions, EvaluateTaskAttributes and the CRM taskAttrMatchExpr.

    Bare names are task attributes; `taskrouter.<time variable>` reads the clock. The root is
    `scopes.task_root(...)`, in which the top-level name `taskrouter` is reserved.
    """

    TARGET = "target"
    """A workflow target's `expression`, evaluated for one task against each worker.

    Every name must start with `task.`, `worker.` or `taskrouter.`; the root is
    `scopes.target_root(...)`.
    """

    SKIP_IF = "skip_if"
    """A workflow target's `skip_if`: only `workers.<count>` names and constants.

    The root is `scopes.skip_if_root(...)`.
    """

    __hash__ = object.__hash__  # identity hashing: cheaper than Enum's, and members are unique


def resolve(node: Node, context: Context) -> Node:
    """Check every name against `context` and rewrite it to a path from that context's root."""
    if isinstance(node, Comparison):
        left = _resolve_operand(node.left, context)
        right = _resolve_operand(node.right, context)
        if left is node.left and right is node.right:
            return node
        return Comparison(node.op, left, right, node.start, node.end, node.op_start)
    if isinstance(node, Not):
        return Not(resolve(node.item, context), node.start, node.end)
    items = tuple(resolve(item, context) for item in node.items)
    if isinstance(node, And):
        return And(items, node.start, node.end)
    return Or(items, node.start, node.end)


def _resolve_operand(operand: Path | Literal, context: Context) -> Path | Literal:
    if isinstance(operand, Literal):
        return operand
    return resolve_path(operand, context)


def resolve_path(path: Path, context: Context) -> Path:
    segments = path.segments
    head = segments[0]
    named_child = len(segments) > 1 and isinstance(segments[1], str)
    if context is Context.WORKER:
        if head == "worker" and named_child:
            return Path(segments[1:], path.start, path.end)
        return path
    if context is Context.TASK:
        if head == "taskrouter":
            _check_time_variable(path)
        return path
    if context is Context.TARGET:
        if head == "taskrouter":
            _check_time_variable(path)
            return path
        if head in ("task", "worker") and named_child:
            return path
        raise ExpressionError(
            "a target expression must start every name with 'task.', 'worker.' or "
            f"'taskrouter.', but found {format_path(segments)!r}",
            path.column,
            format_path(segments),
        )
    if head == "workers" and len(segments) == 2 and named_child:
        return path
    raise ExpressionError(
        "skip_if can only use workers.available, workers.unavailable or "
        f"workers.<activity sid>, but found {format_path(segments)!r}",
        path.column,
        format_path(segments),
    )


def _worker_path(path: Path) -> Path:
    return resolve_path(path, Context.WORKER)


def _task_path(path: Path) -> Path:
    return resolve_path(path, Context.TASK)


def _target_path(path: Path) -> Path:
    return resolve_path(path, Context.TARGET)


def _skip_if_path(path: Path) -> Path:
    return resolve_path(path, Context.SKIP_IF)


PATH_RESOLVERS: Final[dict[Context, Callable[[Path], Path]]] = {
    Context.WORKER: _worker_path,
    Context.TASK: _task_path,
    Context.TARGET: _target_path,
    Context.SKIP_IF: _skip_if_path,
}
"""Per-context `resolve_path`, in the form the parser's path hook takes."""


def _check_time_variable(path: Path) -> None:
    segments = path.segments
    if len(segments) == 2 and segments[1] in TIME_VARIABLES:
        return
    raise ExpressionError(
        f"unknown time variable {format_path(segments)!r}; the names under 'taskrouter.' are "
        + ", ".join(TIME_VARIABLES),
        path.column,
        format_path(segments),
    )
