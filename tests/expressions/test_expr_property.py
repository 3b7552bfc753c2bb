"""Property tests: compiled predicates agree with the reference interpreter, and the printer and
parser are inverse, on random trees and random attribute documents."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taskrouter.expressions import (
    ANY,
    And,
    Comparison,
    Context,
    Literal,
    Node,
    Not,
    Op,
    Or,
    Path,
    compile_expression,
    compile_node,
    parse,
    parse_order_by,
    unparse,
)
from taskrouter.expressions.nodes import Scalar, format_literal, format_path
from taskrouter.expressions.reference import evaluate

SETTINGS = settings(
    max_examples=400,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Few names and overlapping values, so that random paths usually find something and random
# literals often meet equal or numerically equal values.
KEYS = ["a", "b", "c", "in"]
STRINGS = [
    "",
    "a",
    "b",
    "A",
    "5",
    "05",
    "5.0",
    "-1",
    "1e2",
    " 5",
    "it's",
    "back\\slash",
    'q"uote',
    "é",
    "ab",
]

scalars: st.SearchStrategy[Scalar] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1, 6),
    st.sampled_from([0.0, -0.0, 1.0, 1.5, 5.0, -7.25, 1e300, 2**70]),
    st.sampled_from(STRINGS),
)

literals = st.one_of(
    scalars.map(Literal),
    st.lists(scalars, max_size=3).map(lambda items: Literal(tuple(items))),
)


@st.composite
def paths(draw: st.DrawFn) -> Path:
    first = draw(st.sampled_from(KEYS[:-1]))
    rest = draw(
        st.lists(
            st.one_of(st.sampled_from(KEYS), st.integers(0, 1), st.just(ANY)),
            max_size=2,
        )
    )
    return Path((first, *rest))


operands = st.one_of(paths(), literals, paths())

comparisons = st.builds(Comparison, st.sampled_from(list(Op)), operands, operands)


def _and(items: list[Node]) -> Node:
    flat: list[Node] = []
    for item in items:
        flat.extend(item.items if isinstance(item, And) else [item])
    return And(tuple(flat))


def _or(items: list[Node]) -> Node:
    flat: list[Node] = []
    for item in items:
        flat.extend(item.items if isinstance(item, Or) else [item])
    return Or(tuple(flat))


trees: st.SearchStrategy[Node] = st.recursive(
    comparisons,
    lambda children: st.one_of(
        st.lists(children, min_size=2, max_size=4).map(_and),
        st.lists(children, min_size=2, max_size=4).map(_or),
        children.map(Not),
    ),
    max_leaves=10,
)

json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.fixed_dictionaries({}, optional={key: children for key in KEYS}),
    ),
    max_leaves=8,
)

documents = st.fixed_dictionaries({}, optional={key: json_values for key in KEYS})


def structure(node: object) -> object:
    """A comparable form that, unlike ==, tells 1, 1.0, True and -0.0 apart."""
    if isinstance(node, Literal):
        values = node.value if isinstance(node.value, tuple) else (node.value,)
        return ("literal", isinstance(node.value, tuple), [(type(v), repr(v)) for v in values])
    if isinstance(node, Path):
        return ("path", tuple(repr(s) if s is ANY else (type(s), s) for s in node.segments))
    if isinstance(node, Comparison):
        return ("cmp", node.op, structure(node.left), structure(node.right))
    if isinstance(node, Not):
        return ("not", structure(node.item))
    assert isinstance(node, And | Or)
    return (type(node).__name__, [structure(item) for item in node.items])


@SETTINGS
@given(trees)
def test_printer_and_parser_are_inverse(tree: Node) -> None:
    assert structure(parse(unparse(tree))) == structure(tree)


@st.composite
def spellings(draw: st.DrawFn, tree: Node) -> str:
    """Some other way to write `tree`: aliases, keyword case, quotes, spacing, parentheses."""

    def space() -> str:
        return draw(st.sampled_from([" ", "  ", "\t", "\n "]))

    def keyword(word: str) -> str:
        return draw(st.sampled_from([word, word.lower(), word.capitalize()]))

    def literal(value: Any) -> str:
        if isinstance(value, tuple):
            return "[" + ("," + draw(st.sampled_from(["", " "]))).join(map(literal, value)) + "]"
        if isinstance(value, str) and draw(st.booleans()):
            return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if value is None or isinstance(value, bool):
            return keyword(format_literal(value))
        return format_literal(value)

    def operand(item: Path | Literal) -> str:
        if isinstance(item, Path):
            text = format_path(item.segments)
            return text.replace("[any]", draw(st.sampled_from(["[any]", "[ANY]", "[Any]"])))
        return literal(item.value)

    def operator(op: Op) -> str:
        choices = {
            Op.EQ: ["==", "="],
            Op.HAS: ["HAS", ">-"],
            Op.IN: ["IN", "<-"],
        }.get(op, [op.value])
        chosen: str = draw(st.sampled_from(choices))
        if chosen.isalpha() or " " in chosen:
            return " ".join(keyword(part) for part in chosen.split(" "))
        return chosen

    def render(node: Node, parent: str) -> str:
        if isinstance(node, Comparison):
            left, op, right = operand(node.left), operator(node.op), operand(node.right)
            # Symbols need no spaces around them, except that `<` or `>` before a negative
            # number would read as the `<-` or `>-` alias.
            tight = not op[0].isalpha() and not (op in ("<", ">") and right.startswith("-"))
            separator = "" if tight and draw(st.booleans()) else space()
            text = separator.join([left, op, right])
        elif isinstance(node, Not):
            text = keyword("NOT") + space() + render(node.item, "not")
        else:
            word = "AND" if isinstance(node, And) else "OR"
            kind = "and" if isinstance(node, And) else "or"
            text = (space() + keyword(word) + space()).join(render(i, kind) for i in node.items)
        needs = (
            (isinstance(node, And | Or) and parent in ("not", "and"))
            or (isinstance(node, Or) and parent == "or")
            or (isinstance(node, And) and parent == "and")
        )
        if needs or draw(st.integers(0, 5)) == 0:
            text = "(" + text + ")"
        return text

    return render(tree, "top")


@SETTINGS
@given(st.data())
def test_other_spellings_parse_to_the_same_tree(data: st.DataObject) -> None:
    tree = data.draw(trees)
    text = data.draw(spellings(tree))
    parsed = parse(text)
    assert structure(parsed) == structure(_flatten(tree)), text


def _flatten(node: Node) -> Node:
    """What the parser makes of a tree: parenthesised AND in AND (OR in OR) merges."""
    if isinstance(node, Comparison):
        return node
    if isinstance(node, Not):
        return Not(_flatten(node.item))
    items = [_flatten(item) for item in node.items]
    return _and(items) if isinstance(node, And) else _or(items)


@SETTINGS
@given(trees, st.lists(documents, min_size=1, max_size=6))
def test_compiled_agrees_with_reference(tree: Node, docs: list[dict[str, Any]]) -> None:
    text = unparse(tree)
    expected = [evaluate(tree, doc) for doc in docs]
    compiled = compile_expression(text, Context.WORKER, cache=False)
    direct = compile_node(text, tree, Context.WORKER)
    assert [compiled(doc) for doc in docs] == expected, text
    assert [compiled.predicate(doc) for doc in docs] == expected, text
    assert [direct(doc) for doc in docs] == expected, text
    fused = compiled.fused()
    assert [fused(doc) for doc in docs] == expected, text
    assert compiled.evaluate_many(docs) == expected, text
    assert compiled.evaluate_many(iter(docs)) == expected, text
    if compiled.constant is not None:
        assert set(expected) == {compiled.constant}


@settings(SETTINGS, max_examples=1000)
@given(comparisons, documents)
def test_single_comparisons_agree(comparison: Comparison, doc: dict[str, Any]) -> None:
    """Comparisons one at a time, so every operator and literal type gets many documents."""
    text = unparse(comparison)
    compiled = compile_expression(text, cache=False)
    expected = evaluate(comparison, doc)
    assert compiled(doc) is expected, text
    assert compiled.fused()(doc) is expected, text
    assert compiled.evaluate_many([doc]) == [expected], text


@settings(SETTINGS, max_examples=100)
@given(
    st.lists(st.tuples(paths(), st.booleans()), min_size=1, max_size=3),
    st.lists(documents, min_size=1, max_size=5),
)
def test_order_by_keys_always_compare(
    clauses: list[tuple[Path, bool]], docs: list[dict[str, Any]]
) -> None:
    plain = [(p, desc) for p, desc in clauses if ANY not in p.segments]
    if not plain:
        return
    text = ", ".join(f"{format_path(p.segments)} {'DESC' if d else 'ASC'}" for p, d in plain)
    order = parse_order_by(text)
    keys = [order.sort_key(doc) for doc in docs]
    assert len({len(k) for k in keys}) == 1
    ordered = sorted(keys)  # must not raise: every key is a tuple of numbers
    for key in ordered:
        flags = key[::2]
        assert set(flags) <= {0, 1}
