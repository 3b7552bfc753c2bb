"""The value model shared by the interpreter and the compiled code.

Attribute documents are JSON: objects (any Mapping), arrays (list or tuple), strings, numbers
(int or float, never bool), booleans and null (None). A missing key reads as null. Values of any
other Python type are "other": they are present (so `!= null` holds) but match nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import Enum
from typing import Final


class Kind(Enum):
    NULL = "null"
    BOOL = "bool"
    NUMBER = "number"
    STRING = "string"
    ARRAY = "array"
    OBJECT = "object"
    OTHER = "other"


def kind_of(value: object) -> Kind:
    if value is None:
        return Kind.NULL
    if isinstance(value, bool):
        return Kind.BOOL
    if isinstance(value, int | float):
        return Kind.NUMBER
    if isinstance(value, str):
        return Kind.STRING
    if isinstance(value, list | tuple):
        return Kind.ARRAY
    if isinstance(value, Mapping):
        return Kind.OBJECT
    return Kind.OTHER


MAX_NUMERIC_STRING: Final = 64
"""Strings longer than this are never read as numbers (it bounds the work per comparison)."""

_NUMERIC_RE: Final = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_INTEGER_RE: Final = re.compile(r"[-+]?[0-9]+")


_MISSING: Final = object()
_CACHE_LIMIT: Final = 4096
_cache: dict[str, int | float | None] = {}


def numeric_value(text: str) -> int | float | None:
    """The number a numeric string stands for, or None.

    Accepted: optional sign, ASCII digits with an optional fraction and exponent, leading zeros
    allowed ("08" is 8, so the zero-padded `taskrouter.currentHour` compares with numbers).
    Not accepted: surrounding spaces, "inf", "nan", underscores, hex.
    """
    # Attribute values repeat a lot across workers ("3", "08"), and the regex costs far more
    # than a dict lookup, so remember recent answers.
    found = _cache.get(text, _MISSING)
    if found is not _MISSING:
        return found  # type: ignore[return-value]
    number: int | float | None
    if len(text) > MAX_NUMERIC_STRING or _NUMERIC_RE.fullmatch(text) is None:
        number = None
    elif _INTEGER_RE.fullmatch(text) is not None:
        number = int(text)
    else:
        number = float(text)
    if len(_cache) >= _CACHE_LIMIT:
        _cache.clear()
    _cache[text] = number
    return number
