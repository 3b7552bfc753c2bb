"""A plain tree-walking interpreter: the executable specification of the language.

It favours being obviously right over being fast. The compiled predicates must agree with it on
every expression and document; the property tests check exactly that.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from .contexts import Context, resolve
from .nodes import ANY, And, Comparison, Literal, Node, Not, Op, Operand, Segment
from .parser import parse
from .values import Kind, kind_of, numeric_value

_ORDERING: dict[Op, Callable[[Any, Any], bool]] = {
    Op.LT: operator.lt,
    Op.LE: operator.le,
    Op.GT: operator.gt,
    Op.GE: operator.ge,
}


def interpret(text: str, root: Mapping[str, Any], context: Context = Context.WORKER) -> bool:
    """Parse, resolve and evaluate `text` in one go (slowly)."""
    return evaluate(resolve(parse(text), context), root)


def evaluate(node: Node, root: Mapping[str, Any]) -> bool:
    """Evaluate an already resolved tree against `root`."""
    if isinstance(node, Comparison):
        return evaluate_comparison(node, root)
    if isinstance(node, Not):
        return not evaluate(node.item, root)
    if isinstance(node, And):
        return all(evaluate(item, root) for item in node.items)
    return any(evaluate(item, root) for item in node.items)


def evaluate_comparison(node: Comparison, root: Mapping[str, Any]) -> bool:
    left, right, op = node.left, node.right, node.op
    left_null = isinstance(left, Literal) and left.value is None
    right_null = isinstance(right, Literal) and right.value is None
    if (left_null or right_null) and op in (Op.EQ, Op.NE):
        # `x == null` and `x != null` are presence tests, whatever the type of x.
        if left_null and right_null:
            return op is Op.EQ
        other = right if left_null else left
        if op is Op.EQ:
            return any(value is None for value in operand_values(other, root))
        return any(value is not None for value in operand_values(other, root))
    lefts = operand_values(left, root)
    rights = operand_values(right, root)
    # A path without [any] has exactly one value; with [any], the test holds if it holds for
    # some value (and never for an empty array).
    return any(compare(op, a, b) for a in lefts for b in rights)


def operand_values(operand: Operand, root: Mapping[str, Any]) -> list[Any]:
    if isinstance(operand, Literal):
        return [list(operand.value) if isinstance(operand.value, tuple) else operand.value]
    return path_values(operand.segments, root)


def path_values(segments: tuple[Segment, ...], root: Mapping[str, Any]) -> list[Any]:
    """The values a path reaches: one (maybe None) without [any], any number with it."""
    current: list[Any] = [root]
    for segment in segments:
        following: list[Any] = []
        for value in current:
            kind = kind_of(value)
            if segment is ANY:
                if kind is Kind.ARRAY:
                    following.extend(value)
            elif isinstance(segment, int):
                in_range = kind is Kind.ARRAY and segment < len(value)
                following.append(value[segment] if in_range else None)
            else:
                following.append(value.get(segment) if kind is Kind.OBJECT else None)
        current = following
    return current


def compare(op: Op, a: Any, b: Any) -> bool:
    """Apply a comparison operator to two plain values (no null-literal special case)."""
    if op.negated:
        return not compare(op.positive, a, b)
    if op is Op.EQ:
        return equal(a, b)
    if op is Op.NE:
        return comparable(a, b) and not equal(a, b)
    if op is Op.CONTAINS:
        return kind_of(a) is Kind.STRING and kind_of(b) is Kind.STRING and b in a
    if op is Op.HAS:
        return kind_of(a) is Kind.ARRAY and is_scalar(b) and any(equal(e, b) for e in a)
    if op is Op.IN:
        return is_scalar(a) and kind_of(b) is Kind.ARRAY and any(equal(a, e) for e in b)
    return order(op, a, b)


def is_scalar(value: Any) -> bool:
    return kind_of(value) in (Kind.BOOL, Kind.NUMBER, Kind.STRING)


def as_number(value: Any) -> int | float | None:
    """A number, or a numeric string read as one; None for anything else."""
    kind = kind_of(value)
    if kind is Kind.NUMBER:
        return value  # type: ignore[no-any-return]
    if kind is Kind.STRING:
        return numeric_value(value)
    return None


def comparable(a: Any, b: Any) -> bool:
    """Whether == and != give a meaningful answer for this pair (otherwise both are false)."""
    ka, kb = kind_of(a), kind_of(b)
    if ka is kb:
        return ka in (Kind.BOOL, Kind.NUMBER, Kind.STRING)
    if {ka, kb} == {Kind.NUMBER, Kind.STRING}:
        return as_number(a) is not None and as_number(b) is not None
    return False


def equal(a: Any, b: Any) -> bool:
    if not comparable(a, b):
        return False
    if kind_of(a) is kind_of(b):
        return bool(a == b)
    return as_number(a) == as_number(b)


def order(op: Op, a: Any, b: Any) -> bool:
    ka, kb = kind_of(a), kind_of(b)
    compare_with = _ORDERING[op]
    if ka is Kind.STRING and kb is Kind.STRING:
        na, nb = numeric_value(a), numeric_value(b)
        if na is not None and nb is not None:
            return compare_with(na, nb)
        return compare_with(a, b)
    if {ka, kb} <= {Kind.NUMBER, Kind.STRING}:
        na, nb = as_number(a), as_number(b)
        return na is not None and nb is not None and compare_with(na, nb)
    return False
