"""order_by parsing and the sort key it gives."""

from __future__ import annotations

from typing import Any

import pytest

from taskrouter.expressions import ExpressionError, parse_order_by


def names(order_by: str, workers: list[dict[str, Any]]) -> list[str]:
    key = parse_order_by(order_by).sort_key
    return [w["name"] for w in sorted(workers, key=lambda w: (*key(w), w["name"]))]


def test_descending_then_ascending_with_missing_last() -> None:
    workers = [
        {"name": "a", "level": 2, "english": 5},
        {"name": "b", "level": 3, "english": 1},
        {"name": "c", "level": 3, "english": 4},
        {"name": "d", "english": 9},  # lacks level
        {"name": "e", "level": 2},  # lacks english
        {"name": "f", "level": "high", "english": 0},  # non-numeric counts as lacking
    ]
    assert names("worker.level DESC, worker.english ASC", workers) == ["b", "c", "a", "e", "f", "d"]


@pytest.mark.parametrize("direction", ["ASC", "DESC", "asc", "Desc"])
def test_lacking_sorts_last_in_either_direction(direction: str) -> None:
    workers: list[dict[str, Any]] = [
        {"name": "none"},
        {"name": "one", "x": 1},
        {"name": "two", "x": 2},
    ]
    expected = ["one", "two", "none"] if direction.upper() == "ASC" else ["two", "one", "none"]
    assert names(f"worker.x {direction}", workers) == expected


def test_default_direction_is_ascending_and_prefix_is_optional() -> None:
    workers = [{"name": "b", "x": 2}, {"name": "a", "x": 1}]
    assert names("x", workers) == ["a", "b"]
    assert names("worker.x", workers) == ["a", "b"]


def test_numbers_strings_floats_and_non_numbers() -> None:
    workers: list[dict[str, Any]] = [
        {"name": "int", "x": 3},
        {"name": "str", "x": "2"},
        {"name": "float", "x": 2.5},
        {"name": "neg", "x": "-1"},
        {"name": "bool", "x": True},
        {"name": "nan", "x": float("nan")},
        {"name": "list", "x": [1]},
        {"name": "null", "x": None},
        {"name": "text", "x": "NaN"},
    ]
    ordered = names("worker.x ASC", workers)
    assert ordered[:4] == ["neg", "str", "float", "int"]
    assert sorted(ordered[4:]) == ["bool", "list", "nan", "null", "text"]
    assert ordered[4:] == sorted(ordered[4:])  # all tie; the name tie-break decides


def test_nested_and_indexed_paths() -> None:
    workers = [
        {"name": "a", "stats": {"scores": [1, 9]}},
        {"name": "b", "stats": {"scores": [1, 5]}},
        {"name": "c", "stats": {}},
    ]
    assert names("worker.stats.scores[1] DESC", workers) == ["a", "b", "c"]


def test_key_shape() -> None:
    order = parse_order_by("worker.a DESC, worker.b")
    assert order.sort_key({"a": 2, "b": 1}) == (0, -2, 0, 1)
    assert order.sort_key({"b": "x"}) == (1, 0, 1, 0)
    assert order.source == "worker.a DESC, worker.b"
    assert order.clauses[1].column == 16


@pytest.mark.parametrize(
    ("text", "message", "column", "token"),
    [
        ("", "order_by is empty; expected a worker attribute such as worker.level", 1, None),
        ("worker.level UP", "expected ASC, DESC, ',' or the end of order_by, found 'UP'", 14, "UP"),
        (
            "worker.level DESC DESC",
            "expected ASC, DESC, ',' or the end of order_by, found 'DESC'",
            19,
            "DESC",
        ),
        ("worker.level,", "expected a worker attribute such as worker.level", 14, None),
        (
            "DESC worker.level",
            "expected ASC, DESC, ',' or the end of order_by, found 'worker'",
            6,
            "worker",
        ),
        ("'x' ASC", "expected a worker attribute such as worker.level, found \"'x'\"", 1, "'x'"),
        ("worker.skills[any] ASC", "order_by cannot use [any]", 1, "worker.skills[any]"),
        (
            "task.priority DESC",
            "order_by sorts workers, so it can only use worker attributes, not 'task.priority'",
            1,
            "task.priority",
        ),
        (
            "worker.a, worker.b-c",
            "unexpected character '-'; hyphens are not allowed in names",
            19,
            "-",
        ),
    ],
)
def test_errors(text: str, message: str, column: int, token: str | None) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse_order_by(text)
    error = caught.value
    assert (error.message, error.column, error.token) == (message, column, token)
