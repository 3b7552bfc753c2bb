"""Pages with `nextUrl` and `previousUrl`: each link carries a token naming the item it
continues from and the direction, so pages stay right when items come and go in between."""

from __future__ import annotations

import base64
import binascii
import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

import orjson

from taskrouter.api.crm.call import Query
from taskrouter.domain.errors import Invalid
from taskrouter.domain.request_limits import REQUEST_LIMITS

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 50
PAGING_PARAMS = ("pageSize", "pageToken")


@dataclass(frozen=True, slots=True)
class Token:
    forward: bool  # True: the items after `position`; False: those before it
    position: list[Any]


def page_size(query: Query) -> int:
    return query.int(
        "pageSize", REQUEST_LIMITS.page_size(DEFAULT_PAGE_SIZE), 1, REQUEST_LIMITS.max_page_size
    )


def read_token(query: Query) -> Token | None:
    text = query.str("pageToken")
    if not text:
        return None
    invalid = Invalid(f"Invalid pageToken {text!r}", param="pageToken")
    try:
        value = orjson.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise invalid from None
    if (
        not isinstance(value, dict)
        or value.get("d") not in ("n", "p")
        or not isinstance(value.get("k"), list)
    ):
        raise invalid
    return Token(value["d"] == "n", value["k"])


def _encode(forward: bool, position: Sequence[Any]) -> str:
    raw = orjson.dumps({"d": "n" if forward else "p", "k": list(position)})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def links(
    url: str, query: Query, first: Sequence[Any] | None, last: Sequence[Any] | None
) -> dict[str, str | None]:
    """`nextUrl` continues after `last`, `previousUrl` before `first` (None: no such page)."""
    kept = [(k, v) for k, v in query.items() if k not in PAGING_PARAMS]
    size = str(page_size(query))

    def link(forward: bool, position: Sequence[Any]) -> str:
        params = [*kept, ("pageSize", size), ("pageToken", _encode(forward, position))]
        return f"{url}?{urlencode(params)}"

    return {
        "nextUrl": link(True, last) if last is not None else None,
        "previousUrl": link(False, first) if first is not None else None,
    }


@dataclass(frozen=True, slots=True)
class Slice(Generic[T]):
    items: list[T]
    next_after: list[Any] | None
    previous_before: list[Any] | None


def slice_sorted(
    items: list[T],
    key: Callable[[T], Any],
    position_of: Callable[[T], list[Any]],
    key_of_position: Callable[[list[Any]], Any],
    query: Query,
) -> Slice[T]:
    """One page of `items` in the order of `key` (unique per item); tokens hold
    `position_of(item)`, which `key_of_position` turns back into a key. Only the page is
    sorted: the rest is counted."""
    size = page_size(query)
    token = read_token(query)
    keyed = [(key(item), item) for item in items]
    try:
        if token is None:
            candidates = keyed
        else:
            at = key_of_position(token.position)
            if token.forward:
                candidates = [pair for pair in keyed if pair[0] > at]
            else:
                candidates = [pair for pair in keyed if pair[0] < at]
        if token is None or token.forward:
            chunk = heapq.nsmallest(size, candidates, key=_first)
            more_after = len(candidates) > size
            more_before = len(candidates) < len(keyed)
        else:
            chunk = sorted(heapq.nlargest(size, candidates, key=_first), key=_first)
            more_before = len(candidates) > size
            more_after = len(candidates) < len(keyed)
    except (TypeError, ValueError, IndexError):
        raise Invalid("Invalid pageToken: it does not fit this sortBy", param="pageToken") from None
    page = [item for _, item in chunk]
    return Slice(
        page,
        position_of(page[-1]) if page and more_after else None,
        position_of(page[0]) if page and more_before else None,
    )


def _first(pair: tuple[Any, Any]) -> Any:
    return pair[0]
