"""Recursive-descent parser from tokens to the syntax tree in `nodes`.

Grammar (keywords case-insensitive):

    expression := or END
    or         := and ( OR and )*
    and        := unary ( AND unary )*
    unary      := NOT unary | '(' or ')' | comparison
    comparison := operand operator operand
    operator   := '==' | '=' | '!=' | '<' | '<=' | '>' | '>=' | '>-' | '<-'
                | HAS | IN | CONTAINS | NOT HAS | NOT IN | NOT CONTAINS
    operand    := STRING | NUMBER | TRUE | FALSE | NULL | array | path
    array      := '[' ( scalar ( ',' scalar )* )? ']'
    path       := NAME ( '.' NAME | '[' INTEGER ']' | '[' ANY ']' )*

Recursion happens only through '(' and NOT, and both count against MAX_NESTING_DEPTH.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, NoReturn

from .errors import LIMITS, ExpressionError
from .lexer import Kind, Token, tokenize
from .nodes import ANY, And, Comparison, Literal, Node, Not, Op, Operand, Or, Path, Scalar, Segment

PathHook = Callable[[Path], Path]

_OPERATOR_OPS: Final = {
    "==": Op.EQ,
    "!=": Op.NE,
    "<": Op.LT,
    "<=": Op.LE,
    ">": Op.GT,
    ">=": Op.GE,
    "HAS": Op.HAS,
    "IN": Op.IN,
}
_KEYWORD_OPS: Final = {"HAS": Op.HAS, "IN": Op.IN, "CONTAINS": Op.CONTAINS}
_NEGATED_OPS: Final = {"HAS": Op.NOT_HAS, "IN": Op.NOT_IN, "CONTAINS": Op.NOT_CONTAINS}
_CONSTANTS: Final[dict[object, Scalar]] = {"TRUE": True, "FALSE": False, "NULL": None}

_NAME: Final = Kind.NAME
_KEYWORD: Final = Kind.KEYWORD
_END: Final = Kind.END


def describe(token: Token) -> str:
    """How a token is named in error messages."""
    if token[0] is _END:
        return "end of input"
    text = token[1]
    return repr(text) if len(text) <= 40 else repr(text[:37] + "...")


def parse(text: str) -> Node:
    """Parse expression text into a tree whose nodes carry their source offsets.

    Raises ExpressionError with the column and offending token on any syntax error, on text
    longer than MAX_EXPRESSION_LENGTH and on nesting deeper than MAX_NESTING_DEPTH.
    """
    return Parser(tokenize(text)).parse_expression()


class Parser:
    """Walks a token list; also used by order_by, which shares the path syntax.

    `path_hook`, when given, is applied to every path as soon as it is read; the compiler uses
    it to resolve names for a context without a second walk over the tree.
    """

    __slots__ = ("depth", "path_hook", "pos", "tokens")

    def __init__(self, tokens: list[Token], path_hook: PathHook | None = None) -> None:
        self.tokens = tokens
        self.pos = 0
        self.depth = 0
        self.path_hook = path_hook

    # -- helpers ----------------------------------------------------------------------------

    def peek(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        if token[0] is not _END:
            self.pos += 1
        return token

    def fail(self, expected: str, token: Token | None = None) -> NoReturn:
        token = token if token is not None else self.tokens[self.pos]
        if token[0] is _END:
            raise ExpressionError(expected, token[2] + 1, None)
        raise ExpressionError(f"{expected}, found {describe(token)}", token[2] + 1, token[1])

    def _enter(self, token: Token) -> None:
        self.depth += 1
        if self.depth > LIMITS.depth:
            raise ExpressionError(
                f"expression nests deeper than {LIMITS.depth} levels of parentheses and NOT",
                token[2] + 1,
                token[1],
            )

    # -- grammar ----------------------------------------------------------------------------

    def parse_expression(self) -> Node:
        if self.tokens[self.pos][0] is _END:
            raise ExpressionError("expression is empty", 1, None)
        node = self.parse_or()
        token = self.tokens[self.pos]
        if token[0] is not _END:
            if token[0] is Kind.RPAREN:
                self.fail("unmatched ')'")
            self.fail("expected AND, OR or the end of the expression")
        return node

    def parse_or(self) -> Node:
        first = self.parse_and()
        token = self.tokens[self.pos]
        if token[0] is not _KEYWORD or token[3] != "OR":
            return first
        items: list[Node] = list(first.items) if isinstance(first, Or) else [first]
        while token[0] is _KEYWORD and token[3] == "OR":
            self.pos += 1
            item = self.parse_and()
            if isinstance(item, Or):
                items.extend(item.items)
            else:
                items.append(item)
            token = self.tokens[self.pos]
        return Or(tuple(items), first.start, items[-1].end)

    def parse_and(self) -> Node:
        first = self.parse_unary()
        token = self.tokens[self.pos]
        if token[0] is not _KEYWORD or token[3] != "AND":
            return first
        items: list[Node] = list(first.items) if isinstance(first, And) else [first]
        while token[0] is _KEYWORD and token[3] == "AND":
            self.pos += 1
            item = self.parse_unary()
            if isinstance(item, And):
                items.extend(item.items)
            else:
                items.append(item)
            token = self.tokens[self.pos]
        return And(tuple(items), first.start, items[-1].end)

    def parse_unary(self) -> Node:
        token = self.tokens[self.pos]
        kind = token[0]
        if kind is _KEYWORD and token[3] == "NOT":
            self._enter(token)
            self.pos += 1
            item = self.parse_unary()
            self.depth -= 1
            return Not(item, token[2], item.end)
        if kind is Kind.LPAREN:
            self._enter(token)
            self.pos += 1
            inner = self.parse_or()
            closing = self.tokens[self.pos]
            if closing[0] is not Kind.RPAREN:
                self.fail(f"expected ')' to match the '(' in column {token[2] + 1}")
            self.pos += 1
            self.depth -= 1
            # Parentheses only group: they leave no node of their own (so AND/OR flattening
            # sees through them), but the grouped node's span takes them in.
            inner.start = token[2]
            inner.end = closing[2] + 1
            return inner
        return self.parse_comparison()

    def parse_comparison(self) -> Comparison:
        left = self.parse_operand("expected a comparison such as skills HAS 'support'")
        op_token = self.tokens[self.pos]
        kind = op_token[0]
        if kind is Kind.OPERATOR:
            self.pos += 1
            op = _OPERATOR_OPS[op_token[3]]  # type: ignore[index]
        elif kind is _KEYWORD and op_token[3] in _KEYWORD_OPS:
            self.pos += 1
            op = _KEYWORD_OPS[op_token[3]]
        elif kind is _KEYWORD and op_token[3] == "NOT":
            self.pos += 1
            following = self.tokens[self.pos]
            if following[0] is not _KEYWORD or following[3] not in _NEGATED_OPS:
                self.fail("expected IN, HAS or CONTAINS after NOT", following)
            self.pos += 1
            op = _NEGATED_OPS[following[3]]
        else:
            after = self.tokens[self.pos - 1]
            self.fail(f"expected a comparison operator after {describe(after)}", op_token)
        right = self.parse_operand(f"expected a value after {describe(op_token)}")
        return Comparison(op, left, right, left.start, right.end, op_token[2])

    def parse_operand(self, expected: str) -> Operand:
        token = self.tokens[self.pos]
        kind = token[0]
        if kind is _NAME:
            path = self.parse_path()
            return path if self.path_hook is None else self.path_hook(path)
        if kind is Kind.STRING or kind is Kind.NUMBER:
            self.pos += 1
            return Literal(token[3], token[2], token[2] + len(token[1]))  # type: ignore[arg-type]
        if kind is _KEYWORD and token[3] in _CONSTANTS:
            self.pos += 1
            return Literal(_CONSTANTS[token[3]], token[2], token[2] + len(token[1]))
        if kind is Kind.LBRACKET:
            return self.parse_array()
        self.fail(expected, token)

    def parse_array(self) -> Literal:
        opening = self.tokens[self.pos]
        self.pos += 1
        items: list[Scalar] = []
        if self.tokens[self.pos][0] is Kind.RBRACKET:
            closing = self.tokens[self.pos]
            self.pos += 1
            return Literal((), opening[2], closing[2] + 1)
        while True:
            token = self.tokens[self.pos]
            kind = token[0]
            if kind is Kind.STRING or kind is Kind.NUMBER:
                items.append(token[3])  # type: ignore[arg-type]
            elif kind is _KEYWORD and token[3] in _CONSTANTS:
                items.append(_CONSTANTS[token[3]])
            else:
                self.fail("expected a string, number, true, false or null in the array")
            self.pos += 1
            separator = self.tokens[self.pos]
            if separator[0] is Kind.RBRACKET:
                self.pos += 1
                return Literal(tuple(items), opening[2], separator[2] + 1)
            if separator[0] is not Kind.COMMA:
                self.fail(f"expected ',' or ']' in the array from column {opening[2] + 1}")
            self.pos += 1

    def parse_path(self) -> Path:
        tokens = self.tokens
        first = tokens[self.pos]
        self.pos += 1
        segments: list[Segment] = [first[1]]
        end = first[2] + len(first[1])
        while True:
            kind = tokens[self.pos][0]
            if kind is Kind.DOT:
                self.pos += 1
                name = tokens[self.pos]
                if name[0] is not _NAME:
                    self.fail("expected an attribute name after '.'")
                self.pos += 1
                segments.append(name[1])
                end = name[2] + len(name[1])
            elif kind is Kind.LBRACKET:
                self.pos += 1
                inner = tokens[self.pos]
                text = inner[1]
                if inner[0] is Kind.NUMBER and text.isdigit() and text.isascii():
                    segments.append(int(text))
                elif inner[0] is _NAME and text.lower() == "any":
                    segments.append(ANY)
                else:
                    self.fail("expected an array index (0, 1, ...) or 'any' inside '[ ]'")
                self.pos += 1
                closing = tokens[self.pos]
                if closing[0] is not Kind.RBRACKET:
                    self.fail("expected ']'")
                self.pos += 1
                end = closing[2] + 1
            else:
                return Path(tuple(segments), first[2], end)
