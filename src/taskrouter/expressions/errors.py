"""The single error type of the expression language, and the limits that bound its input."""

from __future__ import annotations

MAX_EXPRESSION_LENGTH = 4096
"""Longest accepted expression or order_by text, in characters."""

MAX_NESTING_DEPTH = 64
"""Deepest accepted nesting of parentheses and unary NOT.

Bounding nesting keeps every recursive walk of the tree (parser, resolver, code generator,
reference interpreter) far from Python's recursion limit, whatever the input.
"""


class ExpressionError(ValueError):
    """An expression, or an order_by clause, that cannot be parsed or compiled.

    `message` says what was expected, `column` is the 1-based character position of the
    problem (counted from the start of the text, newlines included) and `token` is the
    offending piece of text, or None when the problem is the end of the input.
    """

    def __init__(self, message: str, column: int, token: str | None = None) -> None:
        super().__init__(f"{message} at column {column}")
        self.message = message
        self.column = column
        self.token = token

    def __reduce__(self) -> tuple[type[ExpressionError], tuple[str, int, str | None]]:
        # ValueError pickles only `args`; keep the structured fields across processes.
        return (type(self), (self.message, self.column, self.token))


class ExpressionLimits:
    """The limits in force: MAX_EXPRESSION_LENGTH and MAX_NESTING_DEPTH unless a server was
    started with others (`set_limits`). Depth can only be lowered: the maximum keeps every
    recursive walk far from Python's recursion limit."""

    __slots__ = ("depth", "length")

    def __init__(self) -> None:
        self.length = MAX_EXPRESSION_LENGTH
        self.depth = MAX_NESTING_DEPTH


LIMITS = ExpressionLimits()


def set_limits(length: int = MAX_EXPRESSION_LENGTH, depth: int = MAX_NESTING_DEPTH) -> None:
    if length < 1:
        raise ValueError("the expression length limit must be at least 1")
    if not 1 <= depth <= MAX_NESTING_DEPTH:
        raise ValueError(f"the expression depth limit must be between 1 and {MAX_NESTING_DEPTH}")
    LIMITS.length = length
    LIMITS.depth = depth
