"""Syntax tree of an expression. Every node remembers the span of text it came from.

Nodes are meant to be immutable; they are not frozen dataclasses only because frozen ones take
about four times as long to build, and building them is a large part of compile time.
Equality ignores positions, so trees parsed from differently spaced text compare equal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Final, TypeAlias


class Op(Enum):
    """A comparison operator, after aliases have been folded (`=` is EQ, `>-` HAS, `<-` IN)."""

    EQ = "=="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    CONTAINS = "CONTAINS"
    NOT_CONTAINS = "NOT CONTAINS"
    HAS = "HAS"
    NOT_HAS = "NOT HAS"
    IN = "IN"
    NOT_IN = "NOT IN"

    # Enum's own __hash__ is written in Python; members are singletons, so identity will do,
    # and operators are looked up in dicts throughout code generation.
    __hash__ = object.__hash__

    @property
    def negated(self) -> bool:
        """True for NOT IN, NOT HAS and NOT CONTAINS, which are plain negations."""
        return self in _NEGATED

    @property
    def positive(self) -> Op:
        """The operator that this one negates (itself when it is not a negation)."""
        return _POSITIVE.get(self, self)

    @property
    def mirrored(self) -> Op | None:
        """The operator that gives the same answer with operands swapped, if any."""
        return _MIRRORED.get(self)


_NEGATED: Final = frozenset({Op.NOT_CONTAINS, Op.NOT_HAS, Op.NOT_IN})
_POSITIVE: Final = {Op.NOT_CONTAINS: Op.CONTAINS, Op.NOT_HAS: Op.HAS, Op.NOT_IN: Op.IN}
_MIRRORED: Final = {
    Op.EQ: Op.EQ,
    Op.NE: Op.NE,
    Op.LT: Op.GT,
    Op.LE: Op.GE,
    Op.GT: Op.LT,
    Op.GE: Op.LE,
    # `x IN arr` and `arr HAS x` are the same test: both compare x with each element.
    Op.IN: Op.HAS,
    Op.HAS: Op.IN,
    Op.NOT_IN: Op.NOT_HAS,
    Op.NOT_HAS: Op.NOT_IN,
}


class AnyElement:
    """The `[any]` selector: the path stands for every element of the array at that point."""

    _instance: AnyElement | None = None

    def __new__(cls) -> AnyElement:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ANY"

    def __reduce__(self) -> str:
        return "ANY"


ANY: Final = AnyElement()

Scalar: TypeAlias = str | int | float | bool | None
Segment: TypeAlias = str | int | AnyElement
"""A key of an object (str), an index into an array (int), or ANY."""


@dataclass(slots=True)
class Literal:
    """A constant. Arrays are tuples of scalars."""

    value: Scalar | tuple[Scalar, ...]
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)

    @property
    def column(self) -> int:
        return self.start + 1


@dataclass(slots=True)
class Path:
    """A reference into the evaluation root: `a.b[0].c` is ("a", "b", 0, "c")."""

    segments: tuple[Segment, ...]
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)

    @property
    def column(self) -> int:
        return self.start + 1

    @property
    def has_any(self) -> bool:
        return any(s is ANY for s in self.segments)


Operand: TypeAlias = Literal | Path


@dataclass(slots=True)
class Comparison:
    op: Op
    left: Operand
    right: Operand
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)
    op_start: int = field(default=0, compare=False)

    @property
    def column(self) -> int:
        return self.start + 1


@dataclass(slots=True)
class And:
    """All of `items` (two or more; nested ANDs are flattened into one node)."""

    items: tuple[Node, ...]
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)

    @property
    def column(self) -> int:
        return self.start + 1


@dataclass(slots=True)
class Or:
    """Any of `items` (two or more; nested ORs are flattened into one node)."""

    items: tuple[Node, ...]
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)

    @property
    def column(self) -> int:
        return self.start + 1


@dataclass(slots=True)
class Not:
    item: Node
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)

    @property
    def column(self) -> int:
        return self.start + 1


Node: TypeAlias = Comparison | And | Or | Not


def iter_paths(node: Node) -> list[Path]:
    """Every Path in the tree, left to right."""
    found: list[Path] = []
    stack: list[Node] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Comparison):
            for operand in (current.right, current.left):
                if isinstance(operand, Path):
                    found.append(operand)
        elif isinstance(current, Not):
            stack.append(current.item)
        else:
            stack.extend(current.items)
    found.reverse()
    return found


def format_path(segments: tuple[Segment, ...]) -> str:
    """The canonical text of a path (segments are assumed to be valid names)."""
    parts: list[str] = []
    for i, seg in enumerate(segments):
        if isinstance(seg, AnyElement):
            parts.append("[any]")
        elif isinstance(seg, int):
            parts.append(f"[{seg}]")
        else:
            parts.append(seg if i == 0 else "." + seg)
    return "".join(parts)


def format_literal(value: Scalar | tuple[Scalar, ...]) -> str:
    """The canonical text of a literal, quoted and escaped so the lexer reads it back."""
    if isinstance(value, tuple):
        return "[" + ", ".join(format_literal(v) for v in value) + "]"
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, float) and value != value:
        raise ValueError("NaN has no literal form")
    if value in (float("inf"), float("-inf")):
        return "1e999" if value > 0 else "-1e999"
    return repr(value)


def unparse(node: Node) -> str:
    """Canonical source text for `node`; parsing it gives back an equal tree."""
    if isinstance(node, Comparison):
        return f"{_operand(node.left)} {node.op.value} {_operand(node.right)}"
    if isinstance(node, Not):
        inner = node.item
        text = unparse(inner)
        return f"NOT ({text})" if isinstance(inner, And | Or) else f"NOT {text}"
    if isinstance(node, And):
        return " AND ".join(
            f"({unparse(item)})" if isinstance(item, Or) else unparse(item) for item in node.items
        )
    return " OR ".join(unparse(item) for item in node.items)


def _operand(operand: Operand) -> str:
    if isinstance(operand, Path):
        return format_path(operand.segments)
    return format_literal(operand.value)
