"""Compiles a resolved syntax tree into Python predicates.

Two forms, because Python's `compile()` costs tens of microseconds per call and a routing
engine needs both cheap compilation and fast evaluation:

- The *composed* predicate, built by `compile_expression`: every comparison (with any NOTs
  directly around it) becomes one small generated function, and AND/OR/NOT above them are
  joined by generated functions that call those. Comparison shapes are few (a few dozen cover
  real workloads), so their code is almost always already compiled and compiling an expression
  costs only parsing plus closure creation.
- The *fused* form, one generated function for the whole expression, built on first use by
  `evaluate_many` (as a loop over the batch) or `fused()`. It is the fastest to evaluate and
  is worth its compile time when an expression runs against many documents.

How user text is kept out of the generated code: the generated source is built only from fixed
fragments written in this file, temporary names, and parameter names `K0`, `K1`, ... . Every
attribute name, index and literal from the expression reaches the code as the *value* of one
of those parameters, never as source text. The source therefore depends only on the shape of the
expression, which is also what makes it cacheable: `skills HAS 'a'` and `languages HAS 'es'`
share one compiled template.

The generated code runs with no builtins; it sees only the helpers in `runtime.NAMESPACE`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Any, Final

from . import reference, runtime
from .contexts import PATH_RESOLVERS, Context
from .lexer import tokenize
from .nodes import (
    ANY,
    And,
    Comparison,
    Literal,
    Node,
    Not,
    Op,
    Operand,
    Or,
    Path,
    Segment,
    iter_paths,
)
from .parser import Parser
from .values import numeric_value

Predicate = Callable[[Mapping[str, Any]], bool]
BatchPredicate = Callable[[Iterable[Mapping[str, Any]]], list[bool]]

MAX_UNROLLED_SEGMENTS: Final = 4
"""Longer paths are walked by a helper; unrolling them would only grow the generated code."""

MAX_GENERATED_DEPTH: Final = 40
"""Logical nesting above which no fused function is generated; the composed form serves.

Python's own parser refuses about 200 nested parentheses; fused code nests roughly one level
per AND/OR/NOT plus a few per comparison, so this leaves a wide margin. Only contrived
expressions get here.
"""

TEMPLATE_CACHE_SIZE: Final = 4096
EXPRESSION_CACHE_SIZE: Final = 1024

_HELPERS: Final = {
    Op.EQ: "eq",
    Op.NE: "ne",
    Op.LT: "lt",
    Op.LE: "le",
    Op.GT: "gt",
    Op.GE: "ge",
    Op.CONTAINS: "ct",
    Op.HAS: "hs",
    Op.IN: "in_",
}


class CompiledExpression:
    """A compiled expression: call it with a root mapping to get a bool.

    `predicate` is the bare function behind `__call__`; hot loops should bind it once
    (`match = compiled.predicate`) rather than call the object, which costs one more Python
    call per evaluation. `evaluate_many` runs a whole batch through one fused loop, and
    `fused()` gives a single fused function for per-document calls in hot paths.
    """

    __slots__ = ("_batch", "_fused", "constant", "context", "node", "predicate", "source")

    source: str
    context: Context
    node: Node
    """The tree after context resolution (paths as they are looked up in the root)."""
    predicate: Predicate
    constant: bool | None
    """True or False when the expression does not depend on its input (like `1==1`)."""

    def __init__(
        self,
        source: str,
        context: Context,
        node: Node,
        predicate: Predicate,
        constant: bool | None = None,
    ) -> None:
        self.source = source
        self.context = context
        self.node = node
        self.predicate = predicate
        self.constant = constant
        self._batch: BatchPredicate | None = None
        self._fused: Predicate | None = None

    def __call__(self, root: Mapping[str, Any]) -> bool:
        return self.predicate(root)

    def evaluate_many(self, roots: Iterable[Mapping[str, Any]]) -> list[bool]:
        """`[self(root) for root in roots]`, without a Python call per root.

        The first call compiles the fused loop (or finds its template in the cache).
        """
        batch = self._batch
        if batch is None:
            batch = self._batch = self._build_batch()
        return batch(roots)

    def fused(self) -> Predicate:
        """The whole expression as one generated function (compiled on first request)."""
        fused = self._fused
        if fused is None:
            fused = self._fused = self._build_fused()
        return fused

    @property
    def paths(self) -> tuple[tuple[Segment, ...], ...]:
        """Every path the expression reads, as looked up in the root (left to right)."""
        return tuple(path.segments for path in iter_paths(self.node))

    def _fusion(self) -> tuple[_Template, list[object]] | None:
        folded = _fold(self.node)
        if isinstance(folded, bool) or _depth(folded) > MAX_GENERATED_DEPTH:
            return None
        generator = _Generator()
        body = generator.node(_canonical(folded)[0])
        return _template(body, len(generator.constants)), generator.constants

    def _build_batch(self) -> BatchPredicate:
        fusion = self._fusion()
        if fusion is not None:
            template, constants = fusion
            return template.batch_factory()(*constants)
        predicate = self.predicate

        def loop(roots: Iterable[Mapping[str, Any]]) -> list[bool]:
            return [predicate(root) for root in roots]

        return loop

    def _build_fused(self) -> Predicate:
        fusion = self._fusion()
        if fusion is None:
            return self.predicate
        template, constants = fusion
        return template.factory()(*constants)

    def __repr__(self) -> str:
        return f"CompiledExpression({self.source!r}, {self.context})"


def compile_expression(
    text: str, context: Context = Context.WORKER, *, cache: bool = True
) -> CompiledExpression:
    """Parse, resolve and compile `text` for `context`.

    Results are memoised per (text, context) unless `cache` is False; compiled expressions are
    immutable, so sharing them is safe. Raises ExpressionError.
    """
    if cache:
        return _compile_cached(text, context)
    return compile_node(text, _parse(text, context), context)


@lru_cache(maxsize=EXPRESSION_CACHE_SIZE)
def _compile_cached(text: str, context: Context) -> CompiledExpression:
    return compile_node(text, _parse(text, context), context)


def _parse(text: str, context: Context) -> Node:
    """Parse with names resolved for `context` as they are read (same result as
    `resolve(parse(text), context)`, one tree walk fewer)."""
    return Parser(tokenize(text), PATH_RESOLVERS[context]).parse_expression()


def compile_node(source: str, node: Node, context: Context) -> CompiledExpression:
    """Compile an already resolved tree (`source` is kept for display only)."""
    built = _compose(node)
    if built is True or built is False:
        constant: Predicate = runtime.always_true if built else runtime.always_false
        return CompiledExpression(source, context, node, constant, built)
    return CompiledExpression(source, context, node, built)


def clear_caches() -> None:
    """Forget memoised expressions and compiled templates (for benchmarks and tests)."""
    _compile_cached.cache_clear()
    with _templates_lock:
        _templates.clear()


def template_count() -> int:
    """How many distinct code templates are cached."""
    return len(_templates)


# -- composition ------------------------------------------------------------------------------


def _compose(node: Node) -> Predicate | bool:
    """The composed predicate: one generated function per comparison, joined by calls.

    Folds constants on the way (the same rules as `_fold`, in the same single walk), and
    returns a bool when the whole expression is constant.
    """
    if isinstance(node, Comparison):
        folded = _fold_comparison(node)
        return folded if isinstance(folded, bool) else _unit(folded)
    if isinstance(node, Not):
        inner = node.item
        if isinstance(inner, Not):
            return _compose(inner.item)  # NOT NOT x is x: the logic has exactly two values
        if isinstance(inner, Comparison):
            folded = _fold_comparison(inner)
            return (not folded) if isinstance(folded, bool) else _unit(Not(folded))
        built = _compose(inner)
        if built is True or built is False:
            return not built
        return _template("(not K0(r))", 1).factory()(built)
    is_and = isinstance(node, And)
    parts: list[Predicate] = []
    for item in node.items:
        built = _compose(item)
        if built is True or built is False:
            if built is not is_and:
                return built  # a false item decides an AND, a true item an OR
            continue
        parts.append(built)
    if not parts:
        return is_and
    if len(parts) == 1:
        return parts[0]
    joiner = " and " if is_and else " or "
    body = "(" + joiner.join([f"K{i}(r)" for i in range(len(parts))]) + ")"
    return _template(body, len(parts)).factory()(*parts)


def _unit(node: Comparison | Not) -> Predicate:
    generator = _Generator()
    body = generator.node(node)
    return _template(body, len(generator.constants)).factory()(*generator.constants)


# -- templates --------------------------------------------------------------------------------


class _Template:
    """One compiled shape: factories taking the constants and returning a function."""

    __slots__ = ("_batch_factory", "_factory", "body", "parameters")

    def __init__(self, body: str, parameters: str) -> None:
        self.body = body
        self.parameters = parameters
        self._factory: Callable[..., Predicate] | None = None
        self._batch_factory: Callable[..., BatchPredicate] | None = None

    def factory(self) -> Callable[..., Predicate]:
        if self._factory is None:
            self._factory = _exec(f"def _f({self.parameters}):\n return lambda r: {self.body}\n")
        return self._factory

    def batch_factory(self) -> Callable[..., BatchPredicate]:
        if self._batch_factory is None:
            # A comprehension beats an explicit loop with append by a few percent.
            source = (
                f"def _f({self.parameters}):\n"
                " def b(R):\n"
                f"  return [{self.body} for r in R]\n"
                " return b\n"
            )
            self._batch_factory = _exec(source)
        return self._batch_factory


def _exec(source: str) -> Callable[..., Any]:
    namespace = dict(runtime.NAMESPACE)
    exec(compile(source, "<taskrouter expression>", "exec", dont_inherit=True), namespace)
    return namespace["_f"]  # type: ignore[return-value]


_templates: dict[str, _Template] = {}
_templates_lock = threading.Lock()


def _template(body: str, count: int) -> _Template:
    found = _templates.get(body)  # a lone dict read is atomic; only changes take the lock
    if found is not None:
        return found
    with _templates_lock:
        found = _templates.get(body)
        if found is None:
            if len(_templates) >= TEMPLATE_CACHE_SIZE:
                # Templates are tiny and shapes repeat; starting over beats tracking recency.
                _templates.clear()
            found = _templates[body] = _Template(body, ", ".join(f"K{i}" for i in range(count)))
        return found


# -- constant folding -------------------------------------------------------------------------


def _fold(node: Node) -> Node | bool:
    """Evaluate what does not depend on the input; drop neutral items from AND/OR."""
    if isinstance(node, Comparison):
        return _fold_comparison(node)
    if isinstance(node, Not):
        inner = _fold(node.item)
        if inner is True or inner is False:
            return not inner
        if isinstance(inner, Not):
            return inner.item  # NOT NOT x is x: the logic has exactly two values
        return Not(inner, node.start, node.end)
    is_and = isinstance(node, And)
    kept: list[Node] = []
    for item in node.items:
        folded = _fold(item)
        if folded is True or folded is False:
            if folded is not is_and:
                return folded  # a false item decides an AND, a true item an OR
            continue
        kept.append(folded)
    if not kept:
        return is_and
    if len(kept) == 1:
        return kept[0]
    return (
        And(tuple(kept), node.start, node.end) if is_and else Or(tuple(kept), node.start, node.end)
    )


def _fold_comparison(node: Comparison) -> Comparison | bool:
    if isinstance(node.left, Literal) and isinstance(node.right, Literal):
        return reference.evaluate_comparison(node, {})
    op, left, right = _oriented(node)
    if isinstance(left, Literal):
        # Only CONTAINS keeps a literal on the left, and it needs a string there.
        if isinstance(left.value, str) or (
            op.negated and isinstance(right, Path) and right.has_any
        ):
            return node
        return op.negated
    if isinstance(right, Literal) and _never_holds(op.positive, right.value):
        if not left.has_any:
            return op.negated
        if not op.negated:
            return False
        # A negated test over [any] still depends on whether the array has elements.
    return node


def _depth(node: Node) -> int:
    if isinstance(node, Comparison):
        return 1
    if isinstance(node, Not):
        return 1 + _depth(node.item)
    return 1 + max(_depth(item) for item in node.items)


# -- canonical order -------------------------------------------------------------------------
#
# AND and OR are commutative here (evaluation has no side effects and cannot fail), so their
# items may be evaluated in any order. Sorting them by (estimated cost, shape) puts cheap tests
# first, which helps short-circuiting, and makes `a AND b` and `b AND a` share one template.
# The shape is a string that determines the generated code exactly, up to constant names.


def _canonical(node: Node) -> tuple[Node, int, str]:
    if isinstance(node, Comparison):
        op, left, right = _oriented(node)
        cost = 1 + _operand_cost(left) + _operand_cost(right)
        return node, cost, f"{op.name}:{_operand_shape(left)}:{_operand_shape(right)}"
    if isinstance(node, Not):
        item, cost, shape = _canonical(node.item)
        return Not(item, node.start, node.end), cost, "!" + shape
    ranked = sorted((_canonical(item) for item in node.items), key=lambda row: row[1:])
    items = tuple(row[0] for row in ranked)
    cost = 1 + sum(row[1] for row in ranked)
    inner = ",".join(row[2] for row in ranked)
    if isinstance(node, And):
        return And(items, node.start, node.end), cost, f"&({inner})"
    return Or(items, node.start, node.end), cost, f"|({inner})"


def _operand_cost(operand: Operand) -> int:
    if isinstance(operand, Literal):
        return 0
    if operand.has_any:
        return 4 + len(operand.segments)
    return len(operand.segments)


def _operand_shape(operand: Operand) -> str:
    if isinstance(operand, Path):
        return "".join(
            "s" if isinstance(s, str) else "i" if isinstance(s, int) else "a"
            for s in operand.segments
        )
    return _literal_shape(operand.value)


def _literal_shape(value: object) -> str:
    if value is None:
        return "N"
    if isinstance(value, bool):
        return "B"
    if isinstance(value, int | float):
        return "D"
    if isinstance(value, str):
        return "S" if numeric_value(value) is None else "Q"
    if isinstance(value, tuple) and all(map(_is_plain_string, value)):
        return "A"
    return "T"


# -- code generation --------------------------------------------------------------------------


def _is_plain_string(value: object) -> bool:
    """A string that can never equal a number (so exact string comparison is the whole rule)."""
    return isinstance(value, str) and numeric_value(value) is None


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_NUMBER_HELPERS: Final = {
    Op.EQ: "eqn",
    Op.NE: "nen",
    Op.LT: "ltn",
    Op.LE: "len_",
    Op.GT: "gtn",
    Op.GE: "gen",
}
_NUMERIC_TEXT_HELPERS: Final = {
    Op.EQ: "eqq",
    Op.NE: "neq",
    Op.LT: "ltq",
    Op.LE: "leq",
    Op.GT: "gtq",
    Op.GE: "geq",
}
_TEXT_HELPERS: Final = {Op.LT: "lts", Op.LE: "les", Op.GT: "gts", Op.GE: "ges"}
_SYMBOLS: Final = {Op.EQ: "==", Op.NE: "!=", Op.LT: "<", Op.LE: "<=", Op.GT: ">", Op.GE: ">="}


class _Generator:
    """Emits the body of `lambda r: ...` for a folded, canonically ordered tree.

    Temporaries: `t` walks a path, `v` holds the value under test. Each comparison finishes
    with them before the next starts, so two names serve the whole expression.
    """

    __slots__ = ("constants",)

    def __init__(self) -> None:
        self.constants: list[object] = []

    def constant(self, value: object) -> str:
        self.constants.append(value)
        return f"K{len(self.constants) - 1}"

    def node(self, node: Node) -> str:
        if isinstance(node, Comparison):
            return self.comparison(node)
        if isinstance(node, Not):
            return f"(not {self.node(node.item)})"
        joiner = " and " if isinstance(node, And) else " or "
        return "(" + joiner.join([self.node(item) for item in node.items]) + ")"

    def path(self, segments: tuple[Segment, ...]) -> str:
        """Code for the value at a path without [any]."""
        if len(segments) > MAX_UNROLLED_SEGMENTS:
            return f"P(r, {self.constant(segments)})"
        code = f"r.get({self.constant(segments[0])})"
        for segment in segments[1:]:
            if isinstance(segment, str):
                k = self.constant(segment)
                code = f"(t.get({k}) if type(t := {code}) is dict else G(t, {k}))"
            else:
                code = f"I({code}, {self.constant(segment)})"
        return code

    def operand(self, operand: Operand) -> str:
        if isinstance(operand, Literal):
            return self.constant(operand.value)
        if operand.has_any:
            return f"A(r, {self.constant(operand.segments)})"
        return self.path(operand.segments)

    def comparison(self, node: Comparison) -> str:
        op, left, right = _oriented(node)
        positive = op.positive
        if isinstance(left, Path) and isinstance(right, Literal):
            segments = left.segments
            if not left.has_any:
                code = self.path_literal(positive, segments, right.value)
            elif (
                segments[-1] is ANY
                and not any(segment is ANY for segment in segments[:-1])
                and (right.value is not None or positive not in (Op.EQ, Op.NE))
            ):
                return self.element_literal(op, segments[:-1], right.value)
            else:
                return self.any_comparison(op, left, right)
        elif (isinstance(left, Path) and left.has_any) or (
            isinstance(right, Path) and right.has_any
        ):
            return self.any_comparison(op, left, right)
        else:
            code = f"{_HELPERS[positive]}({self.operand(left)}, {self.operand(right)})"
        return f"(not {code})" if op.negated else code

    def any_comparison(self, op: Op, left: Operand, right: Operand) -> str:
        for this, other in ((left, right), (right, left)):
            if isinstance(other, Literal) and other.value is None and op in (Op.EQ, Op.NE):
                return f"YN({self.operand(this)}, {op is Op.EQ})"
        left_many = isinstance(left, Path) and left.has_any
        right_many = isinstance(right, Path) and right.has_any
        return (
            f"Y({_HELPERS[op.positive]}, {op.negated}, {self.operand(left)}, "
            f"{self.operand(right)}, {left_many}, {right_many})"
        )

    def element_literal(self, op: Op, array: tuple[Segment, ...], value: object) -> str:
        """`array[any] <op> literal`, with [any] last: test each element of one array.

        A negated operator is negated per element (some element is NOT IN the list).
        """
        x = self.path(array)
        k = self.constant(value)
        if op is Op.EQ and _is_plain_string(value):
            return f"({k} in v if type(v := {x}) is list else ae(eq, False, v, {k}))"
        return f"ae({_HELPERS[op.positive]}, {op.negated}, {x}, {k})"

    def path_literal(self, op: Op, segments: tuple[Segment, ...], value: object) -> str:
        """A positive operator between a single-valued path and a literal.

        Combinations that can never hold were folded away before this point.
        """
        x = self.path(segments)
        if value is None:
            return f"({x} is None)" if op is Op.EQ else f"({x} is not None)"
        if isinstance(value, bool):
            if op is Op.EQ:
                return f"({x} is {self.constant(value)})"
            if op is Op.NE:
                return f"(type(v := {x}) is bool and v is not {self.constant(value)})"
        elif _is_number(value):
            if op in _SYMBOLS:
                k = self.constant(value)
                return (
                    f"(v {_SYMBOLS[op]} {k} if type(v := {x}) in NUM "
                    f"else {_NUMBER_HELPERS[op]}(v, {k}))"
                )
        elif _is_plain_string(value):
            k = self.constant(value)
            if op is Op.EQ:
                return f"({x} == {k})"
            if op is Op.NE:
                return f"(v != {k} if type(v := {x}) is str else nes(v, {k}))"
            if op in _TEXT_HELPERS:
                return (
                    f"(v {_SYMBOLS[op]} {k} if type(v := {x}) is str "
                    f"else {_TEXT_HELPERS[op]}(v, {k}))"
                )
            if op is Op.CONTAINS:
                return f"({k} in v if type(v := {x}) is str else cts(v, {k}))"
            if op is Op.HAS:
                return f"({k} in v if type(v := {x}) is list else hss(v, {k}))"
            return f"{_HELPERS[op]}({x}, {k})"
        elif isinstance(value, str):
            k = self.constant(value)
            if op is Op.CONTAINS:
                return f"({k} in v if type(v := {x}) is str else cts(v, {k}))"
            if op in _SYMBOLS:
                # A numeric string: numbers compare with its value, strings with its text.
                n = self.constant(numeric_value(value))
                return (
                    f"(v {_SYMBOLS[op]} {n} if type(v := {x}) in NUM "
                    f"else {_NUMERIC_TEXT_HELPERS[op]}(v, {k}, {n}))"
                )
            return f"{_HELPERS[op]}({x}, {k})"
        elif op is Op.IN and isinstance(value, tuple) and all(map(_is_plain_string, value)):
            k = self.constant(frozenset(value))
            return f"(v in {k} if type(v := {x}) is str else ins(v, {k}))"
        return f"{_HELPERS[op]}({x}, {self.constant(value)})"


def _oriented(node: Comparison) -> tuple[Op, Operand, Operand]:
    """The comparison with the path on the left whenever the operator allows swapping."""
    op, left, right = node.op, node.left, node.right
    if isinstance(left, Literal) and isinstance(right, Path) and op.mirrored is not None:
        return op.mirrored, right, left
    return op, left, right


def _never_holds(op: Op, literal: object) -> bool:
    """Whether a positive `op` between any value on the left and `literal` on the right is
    false whatever the value is, because the literal's type rules it out."""
    if literal is None:
        return op is not Op.EQ and op is not Op.NE
    if op is Op.EQ or op is Op.NE or op is Op.HAS:
        return isinstance(literal, tuple)
    if op is Op.IN:
        return not isinstance(literal, tuple)
    if op is Op.CONTAINS:
        return not isinstance(literal, str)
    return isinstance(literal, bool | tuple)  # ordering
