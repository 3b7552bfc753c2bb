"""Parsing: aliases, positions, the canonical printer, and the error messages."""

from __future__ import annotations

import pytest
from expr_helpers import error_for

from taskrouter.expressions import (
    ANY,
    And,
    Comparison,
    Context,
    ExpressionError,
    Literal,
    Not,
    Op,
    Or,
    Path,
    parse,
    unparse,
)
from taskrouter.expressions.lexer import Kind, tokenize


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("a = 1", "a == 1"),
        ("a >- 'x'", "a HAS 'x'"),
        ("a<-['x']", "a IN ['x']"),
        ("a has 'x'", "a HAS 'x'"),
        ("a Has 'x'", "a HAS 'x'"),
        ("a in ['x']", "a IN ['x']"),
        ("a not in ['x']", "a NOT IN ['x']"),
        ("a NOT   IN ['x']", "a NOT IN ['x']"),
        ("a contains 'x'", "a CONTAINS 'x'"),
        ("a not has 'x'", "a NOT HAS 'x'"),
        ("a not contains 'x'", "a NOT CONTAINS 'x'"),
        ("a == 1 and b == 2 or c == 3", "a == 1 AND b == 2 OR c == 3"),
        ("not a == 1", "NOT a == 1"),
        ("a == TRUE", "a == true"),
        ("a == Null", "a == null"),
        ('a == "x"', "a == 'x'"),
        ("a[ANY] == 1", "a[any] == 1"),
        ("a>-1", "a HAS 1"),  # maximal munch, as in Twilio
        ("a > -1", "a > -1"),
        ("a<-1", "a IN 1"),
        ("a\t==\n1", "a == 1"),
        ("a\u00a0==\u00a01", "a == 1"),  # non-breaking spaces are whitespace
    ],
)
def test_aliases_and_spelling_parse_to_the_same_tree(alias: str, canonical: str) -> None:
    assert parse(alias) == parse(canonical)
    assert unparse(parse(alias)) == canonical


def test_tree_shape_and_positions() -> None:
    text = "  skills HAS 'x' AND (lvl.a[0] >= 3 OR NOT s[any] == null)"
    tree = parse(text)
    assert isinstance(tree, And)
    first, second = tree.items
    assert isinstance(first, Comparison)
    assert first.op is Op.HAS
    assert first.left == Path(("skills",))
    assert first.right == Literal("x")
    assert (first.start, first.end, first.op_start) == (2, 16, 9)
    assert text[first.left.start : first.left.end] == "skills"
    assert text[first.right.start : first.right.end] == "'x'"
    assert first.column == 3
    assert isinstance(second, Or)
    path_cmp, negation = second.items
    assert isinstance(path_cmp, Comparison)
    assert path_cmp.left == Path(("lvl", "a", 0))
    assert text[path_cmp.left.start : path_cmp.left.end] == "lvl.a[0]"
    assert isinstance(negation, Not)
    assert text[negation.start : negation.end] == "NOT s[any] == null"
    inner = negation.item
    assert isinstance(inner, Comparison)
    assert inner.left == Path(("s", ANY))
    assert inner.right == Literal(None)
    assert text[second.start : second.end] == "(lvl.a[0] >= 3 OR NOT s[any] == null)"
    assert text[tree.start : tree.end] == text.strip()


def test_and_or_are_flattened() -> None:
    tree = parse("a == 1 AND (b == 1 AND c == 1) AND d == 1")
    assert isinstance(tree, And)
    assert len(tree.items) == 4
    tree = parse("(a == 1 OR b == 1) OR c == 1")
    assert isinstance(tree, Or)
    assert len(tree.items) == 3


def test_literal_values() -> None:
    tree = parse("a IN ['x', \"y\", 1, -2.5, 1e3, true, false, null, 'it\\'s']")
    assert isinstance(tree, Comparison)
    assert isinstance(tree.right, Literal)
    assert tree.right.value == ("x", "y", 1, -2.5, 1000.0, True, False, None, "it's")
    assert isinstance(tree.right.value, tuple)
    types = [type(v) for v in tree.right.value]
    assert types == [str, str, int, float, float, bool, bool, type(None), str]


def test_typographic_quotes_from_pasted_documents_are_accepted() -> None:
    assert parse("skills[any]=\u2019sales\u2019") == parse("skills[any]='sales'")
    assert parse("a == \u2018x\u2019") == parse("a == 'x'")
    assert parse("a == \u201cx\u201d") == parse("a == 'x'")


def test_tokens_carry_offsets() -> None:
    tokens = tokenize("a.b >= 'x y'")
    assert [(t[0], t[1], t[2]) for t in tokens] == [
        (Kind.NAME, "a", 0),
        (Kind.DOT, ".", 1),
        (Kind.NAME, "b", 2),
        (Kind.OPERATOR, ">=", 4),
        (Kind.STRING, "'x y'", 7),
        (Kind.END, "", 12),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "skills HAS 'support' AND level >= 3",
        "a == 1 OR b == 2 AND c == 3",
        "(a == 1 OR b == 2) AND NOT (c == 3 OR d[any] IN ['x', 1, null])",
        "NOT NOT a.b[0].c != 'it\\'s \\\\ ok'",
        "x CONTAINS '' AND y NOT CONTAINS 'z' AND z NOT HAS 1.5",
        "n > -1e+100",
    ],
)
def test_unparse_round_trips(text: str) -> None:
    tree = parse(text)
    assert parse(unparse(tree)) == tree
    assert unparse(parse(unparse(tree))) == unparse(tree)


# (text, message, column, token); `str(error)` is "<message> at column <column>".
ERRORS: list[tuple[str, str, int, str | None]] = [
    ("tier.level ==", "expected a value after '=='", 14, None),
    ("skills HAS", "expected a value after 'HAS'", 11, None),
    ("skills HAS   ", "expected a value after 'HAS'", 11, None),
    ("a == AND b == 1", "expected a value after '==', found 'AND'", 6, "AND"),
    ("a == 1 b", "expected AND, OR or the end of the expression, found 'b'", 8, "b"),
    ("a == 1 b == 2", "expected AND, OR or the end of the expression, found 'b'", 8, "b"),
    ("((a==1)", "expected ')' to match the '(' in column 1", 8, None),
    ("(a==1", "expected ')' to match the '(' in column 1", 6, None),
    ("a == 1)", "unmatched ')', found ')'", 7, ")"),
    ("a == 'x", "unterminated string, missing its closing quote", 6, "'x"),
    ('a == "x', "unterminated string, missing its closing quote", 6, '"x'),
    ("a == 'x\\'", "unterminated string, missing its closing quote", 6, "'x\\'"),
    ("name == 'it''s'", "expected AND, OR or the end of the expression, found \"'s'\"", 13, "'s'"),
    ("a - b == 1", "unexpected character '-'; hyphens are not allowed in names", 3, "-"),
    ("first-name == 'x'", "unexpected character '-'; hyphens are not allowed in names", 6, "-"),
    ("a ! b", "unexpected character '!'; did you mean '!='?", 3, "!"),
    ("a == 1 && b == 2", "unexpected character '&'; use AND", 8, "&"),
    ("a == 1 || b == 2", "unexpected character '|'; use OR", 8, "|"),
    ("a == 1 # comment", "unexpected character '#'", 8, "#"),
    ("", "expression is empty", 1, None),
    ("   ", "expression is empty", 1, None),
    (
        "x[all] == 1",
        "expected an array index (0, 1, ...) or 'any' inside '[ ]', found 'all'",
        3,
        "all",
    ),
    (
        "x[-1] == 1",
        "expected an array index (0, 1, ...) or 'any' inside '[ ]', found '-1'",
        3,
        "-1",
    ),
    (
        "x[1.5] == 1",
        "expected an array index (0, 1, ...) or 'any' inside '[ ]', found '1.5'",
        3,
        "1.5",
    ),
    ("x[0 == 1", "expected ']', found '=='", 5, "=="),
    ("a. == 1", "expected an attribute name after '.', found '=='", 4, "=="),
    ("a.b. == 1", "expected an attribute name after '.', found '=='", 6, "=="),
    ("NOT == 1", "expected a comparison such as skills HAS 'support', found '=='", 5, "=="),
    ("AND a == 1", "expected a comparison such as skills HAS 'support', found 'AND'", 1, "AND"),
    ("a == 1 AND", "expected a comparison such as skills HAS 'support'", 11, None),
    (
        "a == 1 OR OR b == 2",
        "expected a comparison such as skills HAS 'support', found 'OR'",
        11,
        "OR",
    ),
    ("()", "expected a comparison such as skills HAS 'support', found ')'", 2, ")"),
    ("a NOT = 1", "expected IN, HAS or CONTAINS after NOT, found '='", 7, "="),
    ("a NOT", "expected IN, HAS or CONTAINS after NOT", 6, None),
    ("a b", "expected a comparison operator after 'a', found 'b'", 3, "b"),
    ("skills", "expected a comparison operator after 'skills'", 7, None),
    ("true", "expected a comparison operator after 'true'", 5, None),
    ("a.b[0] 'x'", "expected a comparison operator after ']', found \"'x'\"", 8, "'x'"),
    ("a === b", "expected a value after '==', found '='", 5, "="),
    ("a == == b", "expected a value after '==', found '=='", 6, "=="),
    (
        "a IN [1, b]",
        "expected a string, number, true, false or null in the array, found 'b'",
        10,
        "b",
    ),
    ("a IN [1 2]", "expected ',' or ']' in the array from column 6, found '2'", 9, "2"),
    ("a IN [1,]", "expected a string, number, true, false or null in the array, found ']'", 9, "]"),
    (
        "a IN [[1]]",
        "expected a string, number, true, false or null in the array, found '['",
        7,
        "[",
    ),
    ("a IN [1", "expected ',' or ']' in the array from column 6", 8, None),
    ("a == 1.", "expected AND, OR or the end of the expression, found '.'", 7, "."),
    ("1a == 1", "expected a comparison operator after '1', found 'a'", 2, "a"),
    ("a == 1 AND (b == 2", "expected ')' to match the '(' in column 12", 19, None),
]


@pytest.mark.parametrize(("text", "message", "column", "token"), ERRORS)
def test_error_messages(text: str, message: str, column: int, token: str | None) -> None:
    error = error_for(text)
    assert (error.message, error.column, error.token) == (message, column, token)
    assert str(error) == f"{message} at column {column}"
    with pytest.raises(ExpressionError):
        parse(text)


def test_brief_example_message() -> None:
    assert str(error_for("tier.level ==")) == "expected a value after '==' at column 14"


# (context, text, message, column, token)
CONTEXT_ERRORS: list[tuple[Context, str, str, int, str]] = [
    (
        Context.TARGET,
        "skills HAS 'x'",
        "a target expression must start every name with 'task.', 'worker.' or 'taskrouter.', "
        "but found 'skills'",
        1,
        "skills",
    ),
    (
        Context.TARGET,
        "task.x == 1 AND level > 2",
        "a target expression must start every name with 'task.', 'worker.' or 'taskrouter.', "
        "but found 'level'",
        17,
        "level",
    ),
    (
        Context.TARGET,
        "task == 1",
        "a target expression must start every name with 'task.', 'worker.' or 'taskrouter.', "
        "but found 'task'",
        1,
        "task",
    ),
    (
        Context.TARGET,
        "worker[0] == 1",
        "a target expression must start every name with 'task.', 'worker.' or 'taskrouter.', "
        "but found 'worker[0]'",
        1,
        "worker[0]",
    ),
    (
        Context.TARGET,
        "1 == 1 OR 'x' IN Task.list",
        "a target expression must start every name with 'task.', 'worker.' or 'taskrouter.', "
        "but found 'Task.list'",
        18,
        "Task.list",
    ),
    (
        Context.TARGET,
        "taskrouter.currenthour > 8",
        "unknown time variable 'taskrouter.currenthour'; the names under 'taskrouter.' are "
        "currentTime, currentHour, currentMin, dayOfWeek",
        1,
        "taskrouter.currenthour",
    ),
    (
        Context.TASK,
        "type == 'x' AND taskrouter.now > 1",
        "unknown time variable 'taskrouter.now'; the names under 'taskrouter.' are "
        "currentTime, currentHour, currentMin, dayOfWeek",
        17,
        "taskrouter.now",
    ),
    (
        Context.TASK,
        "taskrouter.currentTime.x > 1",
        "unknown time variable 'taskrouter.currentTime.x'; the names under 'taskrouter.' are "
        "currentTime, currentHour, currentMin, dayOfWeek",
        1,
        "taskrouter.currentTime.x",
    ),
    (
        Context.SKIP_IF,
        "available == 0",
        "skip_if can only use workers.available, workers.unavailable or "
        "workers.<activity sid>, but found 'available'",
        1,
        "available",
    ),
    (
        Context.SKIP_IF,
        "workers.available.count == 0",
        "skip_if can only use workers.available, workers.unavailable or "
        "workers.<activity sid>, but found 'workers.available.count'",
        1,
        "workers.available.count",
    ),
    (
        Context.SKIP_IF,
        "workers.available == 0 OR task.x == 1",
        "skip_if can only use workers.available, workers.unavailable or "
        "workers.<activity sid>, but found 'task.x'",
        27,
        "task.x",
    ),
]


@pytest.mark.parametrize(("context", "text", "message", "column", "token"), CONTEXT_ERRORS)
def test_context_errors(context: Context, text: str, message: str, column: int, token: str) -> None:
    error = error_for(text, context)
    assert (error.message, error.column, error.token) == (message, column, token)


@pytest.mark.parametrize(
    ("context", "text"),
    [
        (Context.WORKER, "task.x == 1 AND taskrouter.y == 2 AND workers.z == 3"),
        (Context.TASK, "worker.x == 1 AND task.y == 2 AND taskrouter.dayOfWeek == 'Mon'"),
        (Context.TARGET, "task.x == worker.y AND taskrouter.currentMin > '30'"),
        (Context.SKIP_IF, "workers.available == 0 AND workers.WA0123456789abcdef > 1"),
    ],
)
def test_names_each_context_accepts(context: Context, text: str) -> None:
    from taskrouter.expressions import compile_expression

    assert compile_expression(text, context, cache=False).source == text


def test_error_is_a_value_error_and_pickles() -> None:
    import pickle

    error = error_for("a ==")
    assert isinstance(error, ValueError)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.message, copy.column, copy.token, str(copy)) == (
        error.message,
        error.column,
        error.token,
        str(error),
    )
