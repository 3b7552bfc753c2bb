"""The CPaaS dialect's wire rules: camelCase JSON bodies in, the `{code, message, data}`
envelope out, dates as its document prints them."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.responses import Response

from taskrouter.api.cpaas.errors import Fault, bad_request

TRUE_WORDS = {"true": True, "false": False}


def ok(data: Any) -> Response:
    return json_response({"code": 200, "message": "OK", "data": data})


def fault_response(fault: Fault) -> Response:
    headers = {"WWW-Authenticate": 'Basic realm="taskrouter"'} if fault.status == 401 else None
    body = {"errorCode": fault.code, "message": fault.message, "data": fault.data}
    return json_response(body, fault.status, headers)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status, headers, media_type="application/json")


def date(ms: int | None) -> str | None:
    """`2020-06-15T09:39:46+0000`, how the document prints configuration objects' dates."""
    if ms is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(ms // 1000))


def date_ms(ms: int | None) -> str | None:
    """`2020-07-09T04:59:16.000+0000`, how the document prints tasks' dates."""
    if ms is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}+0000"


class Body:
    """A JSON object request body, read by its camelCase keys with their types checked."""

    __slots__ = ("_values",)

    def __init__(self, values: dict[str, Any]) -> None:
        self._values = values

    @classmethod
    def parse(cls, raw: bytes) -> Body:
        if not raw.strip():
            return cls({})
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise bad_request(f"The request body is not valid JSON: {exc}") from None
        if not isinstance(value, dict):
            raise bad_request("The request body must be a JSON object")
        return cls(value)

    def __contains__(self, key: str) -> bool:
        return key in self._values

    def text(self, *keys: str) -> str | None:
        """The first of `keys` present (spelling variants), as a string."""
        for key in keys:
            value = self._values.get(key)
            if value is None:
                continue
            if not isinstance(value, str):
                raise bad_request(f"{key} must be a string", key)
            return value.strip()
        return None

    def required(self, key: str) -> str:
        value = self.text(key)
        if not value:
            raise bad_request(f"{key} is mandatory", key)
        return value

    def flag(self, key: str) -> bool | None:
        value = self._values.get(key)
        if value is None:
            return None
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in TRUE_WORDS:
            return TRUE_WORDS[value.strip().lower()]
        raise bad_request(f"{key} must be true or false", key)

    def number(self, *keys: str) -> int | None:
        for key in keys:
            value = self._values.get(key)
            if value is None:
                continue
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            if isinstance(value, str) and value.strip().lstrip("-").isdigit():
                return int(value.strip())
            raise bad_request(f"{key} must be an integer", key)
        return None

    def json_text(self, key: str) -> str | None:
        """A JSON document given as a string (as the document shows) or as an object."""
        value = self._values.get(key)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, dict | list):
            return orjson.dumps(value).decode()
        raise bad_request(f"{key} must be a JSON string", key)


def query_bool(name: str, value: str | None) -> bool | None:
    if value is None:
        return None
    word = value.strip().lower()
    if word not in TRUE_WORDS:
        raise bad_request(f"{name} must be true or false, got {value!r}", name)
    return TRUE_WORDS[word]


def query_time(name: str, value: str | None) -> int | None:
    """ISO-8601 date or date-time; a date alone is midnight; no offset means UTC."""
    if value is None or value == "":
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise bad_request(
            f"{name} must be an ISO-8601 date (YYYY-MM-DD) or date and time"
            f" (YYYY-MM-DDTHH:MM:SS), got {value!r}",
            name,
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)
