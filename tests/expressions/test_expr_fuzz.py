"""Fuzzing: arbitrary text and token soup either compile or raise ExpressionError, never
anything else, and never take long. Whatever compiles must evaluate without raising."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taskrouter.expressions import Context, ExpressionError, compile_expression, parse_order_by

FUZZ = settings(
    max_examples=600,
    # A generous per-example deadline turns a hang or a pathological slowdown into a failure.
    deadline=timedelta(seconds=2),
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

DOCUMENTS: list[dict[str, Any]] = [
    {},
    {"a": 1, "b": "x", "skills": ["a", "b"], "c": {"d": [1, {"e": None}]}},
    {"a": "5", "b": [], "skills": "a", "c": [[1], {"d": True}], "task": {"x": 1}},
    {
        "task": {"a": [1, "2"], "x": "y"},
        "worker": {"a": {"b": 1}, "channel": {"voice": {"assigned_tasks": 0}}},
        "taskrouter": {"currentHour": "09", "currentTime": 905},
        "workers": {"available": 0, "WA1": 2},
    },
]

TOKENS = [
    "a", "b.c", "skills", "task.x", "worker.a", "taskrouter.currentHour", "workers.available",
    "workers.WA1", "[", "]", "(", ")", ",", ".", "==", "=", "!=", "<", "<=", ">", ">=", ">-",
    "<-", "AND", "and", "OR", "Or", "NOT", "not", "IN", "in", "HAS", "has", "CONTAINS",
    "contains", "true", "FALSE", "null", "'x'", '"y"', "'5'", "1", "-2.5", "1e3", "007", "[any]",
    "[ANY]", "[0]", "[9]", "any", "'", '"', "\\", "!", "-", "&", "|", "#", "\n", "\u2019",
    "\u201c", "ASC", "DESC", "é", "\x00", "''", "1.", ".5",
]  # fmt: skip

token_soup = st.lists(
    st.tuples(st.sampled_from(TOKENS), st.sampled_from(["", " ", "  "])), max_size=40
).map(lambda parts: "".join(token + space for token, space in parts))


VALID = [
    "skills HAS 'support' AND level >= 3",
    "language[any]='vn'",
    "(skill='support') AND (selected_language='jp')",
    "task.x IN worker.a OR worker.channel.voice.assigned_tasks == 0",
    "NOT (a.b[0] != \"x\" OR c NOT CONTAINS 'y') AND d <- [1, 'z', null]",
    "workers.available == 0 OR workers.WA1 > 1",
    "taskrouter.currentHour > 8 AND taskrouter.dayOfWeek = 'Sat'",
    "worker.level DESC, worker.english ASC",
]


@st.composite
def near_misses(draw: st.DrawFn) -> str:
    """A valid expression with a few random edits: the inputs a parser sees from typos."""
    text = draw(st.sampled_from(VALID))
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(text)))
        edit = draw(st.sampled_from(["insert", "delete", "replace"]))
        if edit == "insert":
            text = text[:at] + draw(st.sampled_from(TOKENS)) + text[at:]
        elif edit == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 4)) :]
        else:
            text = text[:at] + draw(st.characters()) + text[at + 1 :]
    return text


def _exercise(text: str) -> None:
    started = time.perf_counter()
    for context in Context:
        try:
            compiled = compile_expression(text, context, cache=False)
        except ExpressionError as error:
            assert error.column >= 1
            assert error.token is None or isinstance(error.token, str)
            assert str(error).endswith(f" at column {error.column}")
            continue
        answers = [compiled(doc) for doc in DOCUMENTS]
        assert all(type(answer) is bool for answer in answers)
        assert compiled.evaluate_many(DOCUMENTS) == answers
        fused = compiled.fused()
        assert [fused(doc) for doc in DOCUMENTS] == answers
    try:
        order = parse_order_by(text)
    except ExpressionError:
        pass
    else:
        for doc in DOCUMENTS:
            order.sort_key(doc)
    assert time.perf_counter() - started < 2.0


@FUZZ
@given(st.text(max_size=300))
def test_random_text(text: str) -> None:
    _exercise(text)


@FUZZ
@given(st.text(alphabet="()[]'\"\\.,=!<>- aAnNdDoOrRtTuUeE0123456789", max_size=300))
def test_random_text_from_the_syntax_alphabet(text: str) -> None:
    _exercise(text)


@FUZZ
@given(token_soup)
def test_token_soup(text: str) -> None:
    _exercise(text)


@FUZZ
@given(st.binary(max_size=200))
def test_decoded_bytes(data: bytes) -> None:
    _exercise(data.decode("utf-8", errors="surrogateescape"))


@FUZZ
@given(near_misses())
def test_near_misses(text: str) -> None:
    _exercise(text)
