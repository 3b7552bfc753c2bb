"""Limits on hostile input, and the guarantee that user text never becomes code."""

from __future__ import annotations

import contextlib
import re
import sys
import time
from typing import Any

import pytest
from expr_helpers import error_for, evaluate_all_ways

from taskrouter.expressions import (
    MAX_EXPRESSION_LENGTH,
    MAX_NESTING_DEPTH,
    ExpressionError,
    compile_expression,
    compiler,
    interpret,
    parse_order_by,
    runtime,
)


def test_length_limit() -> None:
    at_limit = "a == '" + "x" * (MAX_EXPRESSION_LENGTH - 7) + "'"
    assert len(at_limit) == MAX_EXPRESSION_LENGTH
    assert evaluate_all_ways(at_limit, {"a": "x" * (MAX_EXPRESSION_LENGTH - 7)})
    error = error_for(at_limit + " ")
    assert error.message == "expression is longer than 4096 characters (4097)"
    assert (error.column, error.token) == (4097, None)
    with pytest.raises(ExpressionError, match="longer than 4096"):
        parse_order_by("a" * 5000)


def test_parenthesis_depth_limit() -> None:
    ok = "(" * MAX_NESTING_DEPTH + "a == 1" + ")" * MAX_NESTING_DEPTH
    assert evaluate_all_ways(ok, {"a": 1})
    too_deep = "(" * (MAX_NESTING_DEPTH + 1) + "a == 1" + ")" * (MAX_NESTING_DEPTH + 1)
    error = error_for(too_deep)
    assert error.message == "expression nests deeper than 64 levels of parentheses and NOT"
    assert (error.column, error.token) == (MAX_NESTING_DEPTH + 1, "(")


def test_not_depth_limit() -> None:
    assert evaluate_all_ways("NOT " * MAX_NESTING_DEPTH + "a == 1", {"a": 1}) is True
    error = error_for("NOT " * (MAX_NESTING_DEPTH + 1) + "a == 1")
    assert (error.column, error.token) == (4 * MAX_NESTING_DEPTH + 1, "NOT")
    mixed = "(NOT " * (MAX_NESTING_DEPTH // 2) + "a == 1" + ")" * (MAX_NESTING_DEPTH // 2)
    assert evaluate_all_ways(mixed, {"a": 1}) is True
    error = error_for("NOT (" + mixed + ")")
    assert error.token in ("(", "NOT")


def alternating(depth: int) -> str:
    """a == 0 AND (a == 1 OR (a == 2 AND (...))): every level changes operator."""
    text = f"a == {depth}"
    for level in range(depth - 1, -1, -1):
        joiner = "AND" if level % 2 == 0 else "OR"
        text = f"a == {level} {joiner} ({text})"
    return text


def alternating_expected(depth: int, a: int) -> bool:
    """What alternating(depth) means, evaluated directly in Python."""
    result = a == depth
    for level in range(depth - 1, -1, -1):
        result = (a == level and result) if level % 2 == 0 else (a == level or result)
    return result


@pytest.mark.parametrize("value", [0, 1, 2, 63, 64, 65])
def test_deepest_logic_compiles_and_agrees(value: int) -> None:
    text = alternating(MAX_NESTING_DEPTH)
    expected = alternating_expected(MAX_NESTING_DEPTH, value)
    assert evaluate_all_ways(text, {"a": value}) is expected


def two_levels_per_parenthesis(depth: int) -> str:
    """(a == 0 OR b == 1 AND (a == 1 OR b == 1 AND (...))): an OR and an AND per level."""
    text = "a == -5"
    for level in range(depth - 1, -1, -1):
        text = f"(a == {level} OR b == 1 AND {text})"
    return text


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [(0, 1, True), (30, 1, True), (63, 1, True), (-5, 1, True), (64, 1, False), (30, 0, False)],
)
def test_deepest_tree_per_nesting_level(a: int, b: int, expected: bool) -> None:
    text = two_levels_per_parenthesis(MAX_NESTING_DEPTH)
    assert evaluate_all_ways(text, {"a": a, "b": b}) is expected


def test_deep_logic_with_little_stack_left() -> None:
    """A maximal expression still compiles when the caller already uses much of the stack."""

    def nest(levels: int) -> bool:
        if levels:
            return nest(levels - 1)
        compiled = compile_expression(alternating(MAX_NESTING_DEPTH), cache=False)
        return compiled({"a": 1}) is interpret(alternating(MAX_NESTING_DEPTH), {"a": 1})

    assert nest(sys.getrecursionlimit() // 2)


def test_long_flat_chains() -> None:
    clauses = MAX_EXPRESSION_LENGTH // len("a == 1 AND ")
    text = " AND ".join(f"a{i % 7} == {i % 3}" for i in range(clauses))[:MAX_EXPRESSION_LENGTH]
    text = text[: text.rfind(" AND ")]
    document = {f"a{i}": i % 3 for i in range(7)}
    assert evaluate_all_ways(text, document) is False  # a0 == 1 (i = 7) fails
    assert evaluate_all_ways(text.split(" AND a0 == 1")[0], document) is True
    or_chain = " OR ".join(["a == 1"] * 300) + " OR b == 2"
    assert evaluate_all_ways(or_chain, {"b": 2})
    assert not evaluate_all_ways(or_chain, {"b": 3})


def test_long_paths_and_arrays() -> None:
    depth = 1500
    document: dict[str, Any] = {"end": 1}
    for _ in range(depth):
        document = {"a": document}
    text = "a" + ".a" * (depth - 1) + ".end == 1"
    assert evaluate_all_ways(text, document)
    assert not evaluate_all_ways(text, {"a": {}})
    array = "x IN [" + ", ".join(str(i) for i in range(700)) + "]"
    assert evaluate_all_ways(array, {"x": 699})
    assert not evaluate_all_ways(array, {"x": 700})
    many_any = "m" + "[any]" * 600 + " == 1"
    assert evaluate_all_ways(many_any, {"m": [[[[1]]]]}) is False
    assert evaluate_all_ways("m[any][any][any] == 1", {"m": [[[0], [1]]]}) is True


HOSTILE = [
    "(" * 4096,
    ")" * 4096,
    "[" * 4096,
    "a IN " + "[" * 4091,
    "'" * 4096,
    '"' * 4096,
    "\\" * 4096,
    "'" + "\\'" * 2047 + "'",
    "a == '" + "\\" * 4089,
    "NOT " * 1024,
    "a." * 2048,
    "a[0]" * 1024,
    "a[any]" * 682,
    "a == 1 AND " * 372,
    "1" * 4096,
    "1e" + "9" * 4094,
    "-" * 4096,
    "a" * 4096,
    "\u2019" * 4096,
    "\x00" * 4096,
    "é" * 4096,
]


@pytest.mark.parametrize("text", HOSTILE, ids=[f"hostile{i}" for i in range(len(HOSTILE))])
def test_hostile_input_fails_fast_with_expression_error(text: str) -> None:
    started = time.perf_counter()
    try:
        compiled = compile_expression(text, cache=False)
    except ExpressionError:
        pass
    else:
        compiled({"a": [1]})
        compiled.fused()({"a": 1})
    with contextlib.suppress(ExpressionError):
        parse_order_by(text)
    assert time.perf_counter() - started < 2.0


INJECTIONS = [
    'name == \'\\\'); __import__("os").system("echo pwned") #\'',
    'name == "\\" + str(1/0) + \\""',
    'name == \'"""\'',
    "name == '{K0}'",
    "name == '\\\\n\\nimport os\\n'",
    "name IN ['\\'] or True or [\\'']",
    "__class__.__base__ == 1",
    "a.__dict__ == null",
    "K0 == K1",
    "r == t AND v == root",
    "type == 'dict' AND G == 'x'",
]


@pytest.mark.parametrize("text", INJECTIONS)
def test_literals_and_names_never_become_code(text: str) -> None:
    compiler.clear_caches()
    compiled = compile_expression(text, cache=False)
    compiled.fused()
    compiled.evaluate_many([{}])
    bodies = [template.body for template in compiler._templates.values()]
    assert bodies
    for body in bodies:
        # Only our own fragments: no quotes, no literal text, nothing but names and operators.
        assert re.fullmatch(r"[A-Za-z0-9_ ().,:=!<>]+", body), body
        for word in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", body):
            assert word in ALLOWED_WORDS or re.fullmatch(r"K\d+", word), word
    assert compiled({"name": "x"}) in (True, False)


ALLOWED_WORDS = {
    "r",
    "t",
    "v",
    "type",
    "dict",
    "list",
    "str",
    "int",
    "float",
    "is",
    "not",
    "None",
    "and",
    "or",
    "if",
    "else",
    "in",
    "get",
    "True",
    "False",
    *runtime.NAMESPACE,
}


def test_names_that_look_like_python_are_just_keys() -> None:
    document = {"__class__": {"__base__": 1}, "K0": 2, "K1": 2, "r": "x", "t": "x"}
    assert evaluate_all_ways("__class__.__base__ == 1", document)
    assert evaluate_all_ways("K0 == K1", document)
    assert evaluate_all_ways("r == t", document)
    assert evaluate_all_ways("a.__dict__ == null", {"a": {}})
    assert evaluate_all_ways("a.get == null", {"a": {}})
    text = 'name == \'\\\'); __import__("os").system("echo pwned") #\''
    assert evaluate_all_ways(text, {"name": '\'); __import__("os").system("echo pwned") #'})


def test_generated_code_has_no_builtins() -> None:
    assert runtime.NAMESPACE["__builtins__"] == {}
    compiled = compile_expression("a == 1", cache=False)
    predicate = compiled.fused()
    assert getattr(predicate, "__globals__")["__builtins__"] == {}  # noqa: B009
