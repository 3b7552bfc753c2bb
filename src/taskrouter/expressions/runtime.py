"""Helpers that generated code calls when its inline fast path does not apply.

Each function implements the full rule for its operator on any pair of values; the generated
code inlines only the common exact-type cases and falls back here for everything else (missing
values, numeric strings, subclasses, mixed types). The property tests hold these, together with
the inline paths, to the reference interpreter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from .nodes import Segment
from .values import numeric_value

# Small integers rather than an Enum: these run on the hot path of every slow comparison.
_NULL: Final = 0
_BOOL: Final = 1
_NUM: Final = 2
_STR: Final = 3
_ARR: Final = 4
_OBJ: Final = 5
_OTHER: Final = 6

_EXACT_KINDS: Final[dict[type, int]] = {
    type(None): _NULL,
    bool: _BOOL,
    int: _NUM,
    float: _NUM,
    str: _STR,
    list: _ARR,
    tuple: _ARR,
    dict: _OBJ,
}


def kind(value: Any) -> int:
    found = _EXACT_KINDS.get(type(value))
    if found is not None:
        return found
    # Subclasses (IntEnum, OrderedDict, MappingProxyType...) are rare; classify them the slow way.
    if isinstance(value, bool):
        return _BOOL
    if isinstance(value, int | float):
        return _NUM
    if isinstance(value, str):
        return _STR
    if isinstance(value, list | tuple):
        return _ARR
    if isinstance(value, Mapping):
        return _OBJ
    return _OTHER


def get_key(value: Any, key: str) -> Any:
    """`value[key]` for a Mapping that is not a plain dict; None for anything else."""
    # None (a missing parent) is by far the most common caller; the ABC check is slow.
    if value is None or not isinstance(value, Mapping):
        return None
    return value.get(key)


def get_index(value: Any, index: int) -> Any:
    if (type(value) is list or isinstance(value, list | tuple)) and index < len(value):
        return value[index]
    return None


def walk(root: Mapping[str, Any], segments: tuple[Segment, ...]) -> Any:
    """The value at a path without [any] (used for paths too long to unroll)."""
    value: Any = root
    for segment in segments:
        if type(segment) is str:
            value = value.get(segment) if type(value) is dict else get_key(value, segment)
        else:
            value = get_index(value, segment)  # type: ignore[arg-type]
        if value is None:
            return None
    return value


def walk_any(root: Mapping[str, Any], segments: tuple[Segment, ...]) -> list[Any]:
    """Every value a path with [any] reaches."""
    values: list[Any] = [root]
    for segment in segments:
        if isinstance(segment, str):
            values = [get_key(value, segment) for value in values]
        elif isinstance(segment, int):
            values = [get_index(value, segment) for value in values]
        else:
            values = [item for value in values if kind(value) == _ARR for item in value]
    return values


def _number(value: Any, k: int) -> Any:
    """A number for NUM, the parsed number for a numeric STR, else None."""
    if k == _NUM:
        return value
    if k == _STR:
        return numeric_value(value)
    return None


def eq(a: Any, b: Any) -> bool:
    ka = kind(a)
    kb = kind(b)
    if ka == kb:
        return ka in (_STR, _NUM, _BOOL) and a == b
    if (ka == _NUM and kb == _STR) or (ka == _STR and kb == _NUM):
        na = _number(a, ka)
        nb = _number(b, kb)
        return na is not None and nb is not None and na == nb
    return False


def ne(a: Any, b: Any) -> bool:
    ka = kind(a)
    kb = kind(b)
    if ka == kb:
        return ka in (_STR, _NUM, _BOOL) and a != b
    if (ka == _NUM and kb == _STR) or (ka == _STR and kb == _NUM):
        na = _number(a, ka)
        nb = _number(b, kb)
        return na is not None and nb is not None and na != nb
    return False


def _ordering(compare: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def ordered(a: Any, b: Any) -> bool:
        ka = kind(a)
        kb = kind(b)
        if ka == _STR and kb == _STR:
            na = numeric_value(a)
            if na is not None:
                nb = numeric_value(b)
                if nb is not None:
                    return compare(na, nb)
            return compare(a, b)
        if ka in (_NUM, _STR) and kb in (_NUM, _STR):
            na = _number(a, ka)
            nb = _number(b, kb)
            return na is not None and nb is not None and compare(na, nb)
        return False

    return ordered


lt = _ordering(lambda a, b: a < b)
le = _ordering(lambda a, b: a <= b)
gt = _ordering(lambda a, b: a > b)
ge = _ordering(lambda a, b: a >= b)


def contains(a: Any, b: Any) -> bool:
    return kind(a) == _STR and kind(b) == _STR and b in a


def has(a: Any, b: Any) -> bool:
    if kind(a) != _ARR:
        return False
    kb = kind(b)
    if kb == _STR:
        if b in a:
            return True
        if numeric_value(b) is None:
            # A non-numeric string equals only an equal string, which `in` already looked for.
            return False
    elif kb != _NUM and kb != _BOOL:
        return False
    return any(eq(item, b) for item in a)


def in_(a: Any, b: Any) -> bool:
    return has(b, a)


def in_strings(value: Any, strings: frozenset[str]) -> bool:
    """`value IN [...]` when the array holds only non-numeric strings."""
    return isinstance(value, str) and value in strings


def _as_number(value: Any) -> Any:
    """The number in a value that is not an exact int or float (the inline case), or None."""
    exact = type(value)
    if exact is str:
        return numeric_value(value)
    if value is None or exact is bool:
        return None
    k = kind(value)
    if k == _NUM:
        return value
    if k == _STR:
        return numeric_value(value)
    return None


# `<op>n(value, number)`: the slow side of `path <op> <number literal>`.
def eq_number(value: Any, number: Any) -> bool:
    found = _as_number(value)
    return found is not None and found == number


def ne_number(value: Any, number: Any) -> bool:
    found = _as_number(value)
    return found is not None and found != number


def lt_number(value: Any, number: Any) -> bool:
    found = _as_number(value)
    return found is not None and found < number


def le_number(value: Any, number: Any) -> bool:
    found = _as_number(value)
    return found is not None and found <= number


def gt_number(value: Any, number: Any) -> bool:
    found = _as_number(value)
    return found is not None and found > number


def ge_number(value: Any, number: Any) -> bool:
    found = _as_number(value)
    return found is not None and found >= number


# `<op>q(value, text, number)`: the slow side of `path <op> <numeric string literal>` once the
# value is known not to be an exact int or float. Strings compare as strings for equality, and
# numerically for ordering when they are numeric too.
def eq_numeric_text(value: Any, text: str, number: Any) -> bool:
    if type(value) is str:
        return value == text
    k = kind(value)
    if k == _STR:
        return value == text  # type: ignore[no-any-return]
    return k == _NUM and value == number


def ne_numeric_text(value: Any, text: str, number: Any) -> bool:
    if type(value) is str:
        return value != text
    k = kind(value)
    if k == _STR:
        return value != text  # type: ignore[no-any-return]
    return k == _NUM and value != number


def _numeric_text_order(compare: Callable[[Any, Any], bool]) -> Callable[[Any, str, Any], bool]:
    def ordered(value: Any, text: str, number: Any) -> bool:
        k = kind(value)
        if k == _STR:
            found = numeric_value(value)
            return compare(value, text) if found is None else compare(found, number)
        return k == _NUM and compare(value, number)

    return ordered


lt_numeric_text = _numeric_text_order(lambda a, b: a < b)
le_numeric_text = _numeric_text_order(lambda a, b: a <= b)
gt_numeric_text = _numeric_text_order(lambda a, b: a > b)
ge_numeric_text = _numeric_text_order(lambda a, b: a >= b)


# `<op>s(value, text)`: the slow side of `path <op> <non-numeric string literal>` once the
# value is known not to be an exact str. Only str subclasses can still match.
def ne_text(value: Any, text: str) -> bool:
    return isinstance(value, str) and value != text


def lt_text(value: Any, text: str) -> bool:
    return isinstance(value, str) and value < text


def le_text(value: Any, text: str) -> bool:
    return isinstance(value, str) and value <= text


def gt_text(value: Any, text: str) -> bool:
    return isinstance(value, str) and value > text


def ge_text(value: Any, text: str) -> bool:
    return isinstance(value, str) and value >= text


def contains_text(value: Any, text: str) -> bool:
    return isinstance(value, str) and text in value


def has_text(value: Any, text: str) -> bool:
    """`value HAS text` once value is known not to be an exact list."""
    return isinstance(value, list | tuple) and text in value


def any_element(test: Callable[[Any, Any], bool], negate: bool, value: Any, other: Any) -> bool:
    """`path[any] <op> other` where [any] ends the path and `value` is the array (or not)."""
    if type(value) is list or isinstance(value, list | tuple):
        for item in value:
            if test(item, other) is not negate:
                return True
    return False


def any_of(
    test: Callable[[Any, Any], bool],
    negate: bool,
    left: Any,
    right: Any,
    left_many: bool,
    right_many: bool,
) -> bool:
    """Existential comparison for operands that use [any]."""
    lefts = left if left_many else (left,)
    rights = right if right_many else (right,)
    for a in lefts:
        for b in rights:
            if test(a, b) is not negate:
                return True
    return False


def any_null(values: list[Any], want_null: bool) -> bool:
    """`path[any] == null` (want_null) or `path[any] != null` over the reached values."""
    if want_null:
        return any(value is None for value in values)
    return any(value is not None for value in values)


def always_true(root: Mapping[str, Any]) -> bool:
    return True


def always_false(root: Mapping[str, Any]) -> bool:
    return False


NAMESPACE: Final[dict[str, object]] = {
    # No builtins at all: generated code needs none beyond what is listed here.
    "__builtins__": {},
    "type": type,
    "dict": dict,
    "list": list,
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    # One set lookup on the type is cheaper than two identity tests when values are floats.
    "NUM": frozenset({int, float}),
    "G": get_key,
    "I": get_index,
    "P": walk,
    "A": walk_any,
    "eq": eq,
    "ne": ne,
    "lt": lt,
    "le": le,
    "gt": gt,
    "ge": ge,
    "ct": contains,
    "hs": has,
    "in_": in_,
    "ins": in_strings,
    "eqn": eq_number,
    "nen": ne_number,
    "ltn": lt_number,
    "len_": le_number,
    "gtn": gt_number,
    "gen": ge_number,
    "nes": ne_text,
    "lts": lt_text,
    "les": le_text,
    "gts": gt_text,
    "ges": ge_text,
    "cts": contains_text,
    "hss": has_text,
    "ae": any_element,
    "eqq": eq_numeric_text,
    "neq": ne_numeric_text,
    "ltq": lt_numeric_text,
    "leq": le_numeric_text,
    "gtq": gt_numeric_text,
    "geq": ge_numeric_text,
    "Y": any_of,
    "YN": any_null,
}
