"""Checks shared by every command; each failure names the parameter at fault."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import orjson

from taskrouter.domain.errors import Invalid
from taskrouter.domain.request_limits import REQUEST_LIMITS

MAX_FRIENDLY_NAME = 64
_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")


def friendly_name(value: str, param: str = "FriendlyName", limit: int = MAX_FRIENDLY_NAME) -> str:
    if not value or not value.strip():
        raise Invalid(f"{param} must not be empty", param=param)
    if len(value) > limit:
        raise Invalid(f"{param} is longer than {limit} characters ({len(value)})", param=param)
    return value


def attributes(text: str, param: str = "Attributes") -> tuple[str, dict[str, Any]]:
    """A JSON object given as text, at most 4,096 characters (or the server's own limit);
    returns the text and the object."""
    limit = REQUEST_LIMITS.max_attributes
    if len(text) > limit:
        raise Invalid(f"{param} is longer than {limit} characters ({len(text)})", param=param)
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise Invalid(f"{param} is not valid JSON: {exc}", param=param) from None
    if not isinstance(value, dict):
        raise Invalid(f"{param} must be a JSON object", param=param)
    return text, value


def integer(value: int, param: str, minimum: int, maximum: int) -> int:
    if not minimum <= value <= maximum:
        raise Invalid(f"{param} must be between {minimum} and {maximum}, got {value}", param=param)
    return value


def choice(value: str, param: str, allowed: tuple[str, ...]) -> str:
    upper = value.upper()
    if upper not in allowed:
        raise Invalid(f"{param} must be one of {', '.join(allowed)}, got {value!r}", param=param)
    return upper


def http_url(value: str | None, param: str) -> str | None:
    if value is None or value == "":
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise Invalid(f"{param} must be an http or https URL, got {value!r}", param=param)
    return value


def identifier(value: str, param: str) -> str:
    if not _IDENTIFIER.match(value):
        raise Invalid(
            f"{param} must start with a letter, '_' or '$' and contain only letters, digits,"
            f" '_' and '$', got {value!r}",
            param=param,
        )
    return value
