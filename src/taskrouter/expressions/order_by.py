"""A workflow target's `order_by` (`worker.level DESC, worker.english ASC`) as a sort key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ExpressionError
from .lexer import Kind, tokenize
from .nodes import ANY, Path, Segment, format_path
from .parser import Parser
from .runtime import walk
from .values import numeric_value


@dataclass(slots=True)
class OrderClause:
    segments: tuple[Segment, ...]
    """Path inside the worker view (the `worker.` prefix removed)."""
    descending: bool
    column: int


@dataclass(slots=True)
class OrderBy:
    source: str
    clauses: tuple[OrderClause, ...]

    def sort_key(self, worker_view: Mapping[str, Any]) -> tuple[int | float, ...]:
        """A key for `sorted()`: for each clause in turn, workers with a number there come
        first (ascending or descending), then workers without one.

        A number is an int or float, or a string that reads as one; booleans, other strings,
        missing values and NaN count as "without". Each clause contributes two items, so keys
        of one OrderBy always have the same length and callers can append their own
        tie-breaks (idle time, sid).
        """
        key: list[int | float] = []
        for clause in self.clauses:
            number = _number(walk(worker_view, clause.segments))
            if number is None:
                key += (1, 0)
            else:
                key += (0, -number if clause.descending else number)
        return tuple(key)


def _number(value: Any) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return None if value != value else value
    if isinstance(value, str):
        number = numeric_value(value)
        if number is not None and number == number:
            return number
    return None


def parse_order_by(text: str) -> OrderBy:
    """Parse `path [ASC|DESC] (, path [ASC|DESC])*`; the direction defaults to ASC.

    Paths name worker attributes, with or without the `worker.` prefix; `task.` and
    `taskrouter.` names, `[any]` and anything after the last clause are errors.
    """
    parser = Parser(tokenize(text))
    clauses: list[OrderClause] = []
    while True:
        token = parser.peek()
        if token[0] is not Kind.NAME:
            if not clauses and token[0] is Kind.END:
                parser.fail("order_by is empty; expected a worker attribute such as worker.level")
            parser.fail("expected a worker attribute such as worker.level")
        path = parser.parse_path()
        clauses.append(OrderClause(_worker_segments(path), _direction(parser), path.column))
        token = parser.peek()
        if token[0] is Kind.END:
            return OrderBy(text, tuple(clauses))
        if token[0] is not Kind.COMMA:
            parser.fail("expected ASC, DESC, ',' or the end of order_by")
        parser.advance()


def _direction(parser: Parser) -> bool:
    token = parser.peek()
    if token[0] is Kind.NAME and token[1].upper() in ("ASC", "DESC"):
        parser.advance()
        return token[1].upper() == "DESC"
    return False


def _worker_segments(path: Path) -> tuple[Segment, ...]:
    segments = path.segments
    if any(segment is ANY for segment in segments):
        raise ExpressionError("order_by cannot use [any]", path.column, format_path(segments))
    if len(segments) > 1 and isinstance(segments[1], str):
        if segments[0] == "worker":
            return segments[1:]
        if segments[0] in ("task", "taskrouter"):
            raise ExpressionError(
                f"order_by sorts workers, so it can only use worker attributes, "
                f"not {format_path(segments)!r}",
                path.column,
                format_path(segments),
            )
    return segments
