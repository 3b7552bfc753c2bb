"""Turns expression text into tokens that remember where they start."""

from __future__ import annotations

import re
from enum import Enum
from typing import Final, NoReturn, TypeAlias

from .errors import LIMITS, ExpressionError


class Kind(Enum):
    NAME = "name"
    KEYWORD = "keyword"
    NUMBER = "number"
    STRING = "string"
    OPERATOR = "operator"
    LPAREN = "("
    RPAREN = ")"
    LBRACKET = "["
    RBRACKET = "]"
    COMMA = ","
    DOT = "."
    END = "end"


Token: TypeAlias = tuple[Kind, str, int, object]
"""(kind, text as written, 0-based start offset, value).

The value is the upper-case keyword, the canonical operator (aliases folded: `=` is `==`, `>-`
is `HAS`, `<-` is `IN`), the decoded string, the parsed number, or the text itself. Plain
tuples rather than a class: tokenizing is a large share of compile time.
"""

KIND: Final = 0
TEXT: Final = 1
START: Final = 2
VALUE: Final = 3

KEYWORDS: Final = frozenset({"AND", "OR", "NOT", "IN", "HAS", "CONTAINS", "TRUE", "FALSE", "NULL"})

_OPERATORS: Final = {
    "==": "==",
    "=": "==",
    "!=": "!=",
    "<": "<",
    "<=": "<=",
    ">": ">",
    ">=": ">=",
    ">-": "HAS",
    "<-": "IN",
}
_PUNCTUATION: Final = {
    "(": Kind.LPAREN,
    ")": Kind.RPAREN,
    "[": Kind.LBRACKET,
    "]": Kind.RBRACKET,
    ",": Kind.COMMA,
    ".": Kind.DOT,
}
_QUOTES: Final = "'\"\u2018\u2019\u201c\u201d"
_NUMBER_STARTS: Final = "-0123456789"

# One token per match, after optional whitespace. Alternatives are tried in order, which gives
# two-character operators priority over their prefixes: `a>-1` is `a HAS 1`, as in Twilio
# (write `a > -1` for the comparison). `(?<=\.)\w+` lets a segment after a dot start with a
# digit (`a.1st`). No alternative has nested quantifiers, so matching is linear in the input.
_TOKEN_RE: Final = re.compile(
    r"""(\s*)(
        [^\W\d]\w*
      | (?<=\.)\w+
      | -?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?
      | '[^'\\]*(?:\\[\s\S][^'\\]*)*'
      | "[^"\\]*(?:\\[\s\S][^"\\]*)*"
      | [\u2018\u2019][^\u2018\u2019]*[\u2018\u2019]
      | [\u201c\u201d][^\u201c\u201d]*[\u201c\u201d]
      | [=!<>]= | [<>]- | [=<>()\[\],.]
    )""",
    re.VERBOSE,
)

_ESCAPE_RE: Final = re.compile(r"""\\(['"\\])""")

_HINTS: Final = {
    "!": "; did you mean '!='?",
    "&": "; use AND",
    "|": "; use OR",
    "-": "; hyphens are not allowed in names",
}


def tokenize(text: str) -> list[Token]:
    """Split `text` into tokens, ending with one END token.

    Raises ExpressionError for text longer than the length limit (MAX_EXPRESSION_LENGTH unless
    a server set another), an unterminated string, or a character that cannot start any token.
    """
    limit = LIMITS.length
    if len(text) > limit:
        raise ExpressionError(
            f"expression is longer than {limit} characters ({len(text)})", limit + 1, None
        )
    tokens: list[Token] = []
    append = tokens.append
    pos = 0
    previous = ""
    for space, piece in _TOKEN_RE.findall(text):
        pos += len(space)
        first = piece[0]
        if first in _PUNCTUATION:
            append((_PUNCTUATION[first], piece, pos, piece))
        elif first in "=!<>":
            append((Kind.OPERATOR, piece, pos, _OPERATORS[piece]))
        elif first in _QUOTES:
            body = piece[1:-1]
            if "\\" in body and (first == "'" or first == '"'):
                body = _ESCAPE_RE.sub(r"\1", body)
            append((Kind.STRING, piece, pos, body))
        elif first not in _NUMBER_STARTS:
            upper = piece.upper()
            if upper in KEYWORDS and not (previous == "." and not space):
                append((Kind.KEYWORD, piece, pos, upper))
            else:
                append((Kind.NAME, piece, pos, piece))
        elif previous == "." and not space and first != "-":
            append((Kind.NAME, piece, pos, piece))  # a digit-led segment: a.1st
        elif "." in piece or "e" in piece or "E" in piece:
            append((Kind.NUMBER, piece, pos, float(piece)))
        else:
            append((Kind.NUMBER, piece, pos, int(piece)))
        pos += len(piece)
        previous = piece
    end = len(text.rstrip())
    if pos != end:
        # findall silently skips what no alternative matches; find and report the first such.
        _diagnose(text)
    tokens.append((Kind.END, "", end, None))
    return tokens


def _diagnose(text: str) -> NoReturn:
    pos = 0
    match = _TOKEN_RE.match
    while True:
        found = match(text, pos)
        if found is None:
            break
        pos = found.end()
    while pos < len(text) and text[pos].isspace():
        pos += 1
    if pos == len(text):  # pragma: no cover - tokenize only calls this on a real mismatch
        raise ExpressionError("could not read the expression", pos + 1, None)
    char = text[pos]
    if char in _QUOTES:
        raise ExpressionError(
            "unterminated string, missing its closing quote", pos + 1, text[pos:][:40]
        )
    shown = repr(char)
    raise ExpressionError(f"unexpected character {shown}{_HINTS.get(char, '')}", pos + 1, char)
