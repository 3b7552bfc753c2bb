"""Differential test over a cross product: every operator, against literals and document values
of every kind, in every operand position, compiled versus the reference interpreter.

Random trees (test_expr_property) explore structure; this file makes sure that each inline fast
path of the code generator meets each kind of value it might misjudge, which random sampling
reaches only by luck.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

import pytest

from taskrouter.expressions import ANY, Comparison, Literal, Op, Path, compile_expression, unparse
from taskrouter.expressions.nodes import Scalar
from taskrouter.expressions.reference import evaluate


class Text(str):
    pass


class Level(IntEnum):
    FIVE = 5


class Opaque:
    def __repr__(self) -> str:
        return "Opaque()"


VALUES: list[Any] = [
    None, True, False, 0, 1, 5, -1, 5.0, 5.5, 2**70, float("nan"), float("inf"),
    "", "a", "b", "A", "ab", "0", "1", "5", "05", "5.0", "-1", " 5", "1e2", "sales", "it's",
    [], ["a"], ["5"], [5], [5.0], [True], [1], [None], ["a", "b"], [["a"]], [{"a": 1}],
    {}, {"a": 1}, ("a",), (5,), Text("a"), Text("5"), Level.FIVE, Opaque(),
]  # fmt: skip

LITERALS: list[Scalar | tuple[Scalar, ...]] = [
    None, True, False, 0, 1, 5, -1, 5.0, 5.5, 2**70, "", "a", "A", "0", "1", "5", "05", "5.0",
    "-1", "1e2", "sales", (), ("a",), ("a", "b"), ("5",), (5,), (True,), (None,),
    ("a", 5, True, None),
]  # fmt: skip


def _check(comparison: Comparison, docs: list[dict[str, Any]]) -> None:
    text = unparse(comparison)
    compiled = compile_expression(text, cache=False)
    fused = compiled.fused()
    expected = [evaluate(comparison, doc) for doc in docs]
    assert [compiled(doc) for doc in docs] == expected, text
    assert [fused(doc) for doc in docs] == expected, text
    assert compiled.evaluate_many(docs) == expected, text
    for answer in compiled.evaluate_many(docs):
        assert type(answer) is bool, text


@pytest.mark.parametrize("op", list(Op), ids=lambda op: op.name)
def test_path_against_literal(op: Op) -> None:
    docs = [{"v": value} for value in VALUES] + [{}]
    for literal in LITERALS:
        _check(Comparison(op, Path(("v",)), Literal(literal)), docs)
        _check(Comparison(op, Literal(literal), Path(("v",))), docs)


@pytest.mark.parametrize("op", list(Op), ids=lambda op: op.name)
def test_nested_and_indexed_paths_against_literal(op: Op) -> None:
    nested = [{"o": {"v": value}} for value in VALUES] + [{"o": value} for value in VALUES]
    indexed = [{"l": [value]} for value in VALUES] + [{"l": value} for value in VALUES]
    for literal in LITERALS:
        _check(Comparison(op, Path(("o", "v")), Literal(literal)), nested)
        _check(Comparison(op, Path(("l", 0)), Literal(literal)), indexed)


@pytest.mark.parametrize("op", list(Op), ids=lambda op: op.name)
def test_any_element_against_literal(op: Op) -> None:
    docs = (
        [{"v": [value]} for value in VALUES]
        + [{"v": [value, "a", 5]} for value in VALUES]
        + [{"v": value} for value in VALUES]
    )
    for literal in LITERALS:
        _check(Comparison(op, Path(("v", ANY)), Literal(literal)), docs)
        _check(Comparison(op, Literal(literal), Path(("v", ANY))), docs)


@pytest.mark.parametrize("op", list(Op), ids=lambda op: op.name)
def test_path_against_path(op: Op) -> None:
    others = [list(v) if isinstance(v, tuple) else v for v in LITERALS]
    docs = [{"v": value, "w": other} for value in VALUES for other in others]
    _check(Comparison(op, Path(("v",)), Path(("w",))), docs)
    _check(
        Comparison(op, Path(("v", ANY)), Path(("w",))), [{"v": [d["v"]], "w": d["w"]} for d in docs]
    )
