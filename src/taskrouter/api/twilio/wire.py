"""Twilio's wire rules: form parameters in, JSON and Twilio error bodies out, token paging."""

from __future__ import annotations

import base64
import binascii
import builtins
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode

import orjson
from starlette.responses import Response

from taskrouter.api.statuses import http_status
from taskrouter.domain import errors
from taskrouter.domain.request_limits import REQUEST_LIMITS
from taskrouter.domain.sids import Prefix, require_sid

T = TypeVar("T")

TRUE_WORDS = frozenset(("true", "1", "yes"))
# Integers in requests are Twilio's 32-bit ones at most; 64 bits leaves room and keeps every
# value inside what JSON encoders and databases take (a bigger one answered 500, found by
# the fuzz tests).
MAX_INTEGER = 2**63 - 1
DEFAULT_PAGE_SIZE = 50


class Params:
    """Form or query parameters; PascalCase names, repeated keys kept in order."""

    __slots__ = ("_values",)

    def __init__(self, pairs: Sequence[tuple[builtins.str, builtins.str]]) -> None:
        values: dict[builtins.str, builtins.list[builtins.str]] = {}
        for key, value in pairs:
            values.setdefault(key, []).append(value)
        self._values = values

    @classmethod
    def parse(cls, text: builtins.str) -> Params:
        # Most requests carry no query string: skip the parser for it.
        return cls(parse_qsl(text, keep_blank_values=True) if text else ())

    def __contains__(self, name: builtins.str) -> builtins.bool:
        return name in self._values

    def items(self) -> builtins.list[tuple[builtins.str, builtins.str]]:
        return [(k, v) for k, vs in self._values.items() for v in vs]

    def str(self, name: builtins.str) -> builtins.str | None:
        values = self._values.get(name)
        return values[-1] if values else None

    def required(self, name: builtins.str) -> builtins.str:
        value = self.str(name)
        if value is None or value == "":
            raise errors.Invalid(f"Missing required parameter {name} in the post body", param=name)
        return value

    def bool(self, name: builtins.str) -> builtins.bool | None:
        value = self.str(name)
        return None if value is None else value.strip().lower() in TRUE_WORDS

    def int(self, name: builtins.str) -> builtins.int | None:
        value = self.str(name)
        if value is None:
            return None
        try:
            number = int(value.strip())
        except ValueError:
            raise errors.Invalid(f"{name} must be an integer, got {value!r}", param=name) from None
        if not -MAX_INTEGER <= number <= MAX_INTEGER:
            raise errors.Invalid(f"{name} is out of range, got {value!r}", param=name)
        return number

    def page_number(self) -> builtins.int:
        number = self.int("Page") or 0
        if number < 0:
            raise errors.Invalid(f"Page must not be negative, got {number}", param="Page")
        return number

    def list(self, name: builtins.str) -> builtins.list[builtins.str]:
        """Repeated keys (`A=x&A=y`) and comma-joined values (`A=x,y`) alike."""
        out: builtins.list[builtins.str] = []
        for value in self._values.get(name, []):
            out.extend(part.strip() for part in value.split(",") if part.strip())
        return out

    def datetime_ms(self, name: builtins.str) -> builtins.int | None:
        """An ISO-8601 time (`2024-01-02T03:04:05Z`, offsets allowed) as epoch milliseconds."""
        value = self.str(name)
        if value is None:
            return None
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise errors.Invalid(
                f"{name} must be an ISO-8601 date and time, got {value!r}", param=name
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return int(moment.timestamp() * 1000)

    def sid(self, name: builtins.str, prefix: Prefix) -> builtins.str | None:
        value = self.str(name)
        return None if value is None else require_sid(value, prefix, name)


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status, headers, media_type="application/json")


# Twilio's error code for each HTTP status the core's errors map to.
_CODES = {404: 20404, 401: 20003, 403: 20403, 412: 412, 409: 20409, 410: 20410, 429: 20429}


def error_response(exc: errors.DomainError) -> Response:
    status = http_status(exc)
    code = _CODES.get(status, 20001)
    body = {
        "code": code,
        "message": exc.message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    headers: dict[str, str] = {}
    if isinstance(exc, errors.Unauthenticated):
        headers["WWW-Authenticate"] = 'Basic realm="taskrouter"'
    if isinstance(exc, errors.RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    return json_response(body, status, headers)


def server_error_response() -> Response:
    body = {
        "code": 20500,
        "message": "Internal server error",
        "more_info": "https://www.twilio.com/docs/errors/20500",
        "status": 500,
    }
    return json_response(body, 500)


# Seconds a client is asked to wait when the database is unavailable.
UNAVAILABLE_RETRY_AFTER_S = 1


def unavailable_response() -> Response:
    body = {
        "code": 20503,
        "message": "Service unavailable: the database did not take the change; try again",
        "more_info": "https://www.twilio.com/docs/errors/20503",
        "status": 503,
    }
    return json_response(body, 503, {"Retry-After": str(UNAVAILABLE_RETRY_AFTER_S)})


Position = tuple[Any, ...]  # ints, then the sid last


def _encode_token(position: Position) -> str:
    raw = orjson.dumps(list(position))
    return "PT" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str) -> Position:
    invalid = errors.Invalid(f"Invalid PageToken {token!r}", param="PageToken")
    if not token.startswith("PT"):
        raise invalid
    body = token[2:]
    try:
        value = orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise invalid from None
    if (
        not isinstance(value, list)
        or len(value) < 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value[:-1])
        or not isinstance(value[-1], str)
    ):
        raise invalid
    return tuple(value)


def page(
    items: list[T],
    *,
    key: str,
    query: Params,
    url: str,
    render: Callable[[T], dict[str, Any]],
    position: Callable[[T], Position],
) -> dict[str, Any]:
    """One page of `items` (already filtered) in Twilio's list shape.

    The token names the last item shown by its (creation time, sid), so a page stays
    correct when items before it are deleted between requests.
    """
    size = query.int("PageSize")
    if size is None:
        size = REQUEST_LIMITS.page_size(DEFAULT_PAGE_SIZE)
    largest = REQUEST_LIMITS.max_page_size
    if not 1 <= size <= largest:
        raise errors.Invalid(
            f"PageSize must be between 1 and {largest}, got {size}", param="PageSize"
        )
    number = query.page_number()
    items = sorted(items, key=position)
    start = 0
    token = query.str("PageToken")
    if token:
        after = _decode_token(token)
        if items and len(after) != len(position(items[0])):
            raise errors.Invalid(f"Invalid PageToken {token!r}", param="PageToken")
        start = next((i for i, item in enumerate(items) if position(item) > after), len(items))
    chunk = items[start : start + size]
    filters = [(k, v) for k, v in query.items() if k not in ("PageSize", "Page", "PageToken")]

    def link(page_number: int, page_token: str | None) -> str:
        params = [*filters, ("PageSize", str(size)), ("Page", str(page_number))]
        if page_token:
            params.append(("PageToken", page_token))
        return f"{url}?{urlencode(params)}"

    next_url = None
    if start + size < len(items) and chunk:
        next_url = link(number + 1, _encode_token(position(chunk[-1])))
    return {
        key: [render(item) for item in chunk],
        "meta": {
            "first_page_url": link(0, None),
            "key": key,
            "next_page_url": next_url,
            "page": number,
            "page_size": size,
            "previous_page_url": None,
            "url": link(number, token),
        },
    }
