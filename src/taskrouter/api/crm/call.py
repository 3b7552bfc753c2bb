"""One request as the CRM face sees it: who asked (Basic, bearer token or API-key header),
which company, what parameters, and errors in the face's `{status, message, data}` shape."""

from __future__ import annotations

import base64
import binascii
import builtins
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.requests import Request
from starlette.responses import Response

from taskrouter.api.statuses import http_status
from taskrouter.api.twilio.call import public_base
from taskrouter.api.twilio.wire import json_response
from taskrouter.domain import errors
from taskrouter.domain.sids import Prefix
from taskrouter.engine.state import WorkspaceState
from taskrouter.service.service import Service

log = logging.getLogger("taskrouter.api.crm")

API_KEY_HEADER = "x-api-key"
TRUE_WORDS = ("true", "1")
FALSE_WORDS = ("false", "0")


class Query:
    """Query parameters; a list parameter may repeat (`a=x&a=y`), be comma-joined
    (`a=x,y`), or use brackets (`a[]=x`)."""

    __slots__ = ("_values",)

    def __init__(self, raw: str) -> None:
        values: dict[builtins.str, builtins.list[builtins.str]] = {}
        for key, value in parse_qsl(raw, keep_blank_values=True):
            values.setdefault(key.removesuffix("[]"), []).append(value)
        self._values = values

    def items(self) -> builtins.list[tuple[builtins.str, builtins.str]]:
        return [(k, v) for k, vs in self._values.items() for v in vs]

    def str(self, name: builtins.str) -> builtins.str | None:
        values = self._values.get(name)
        return values[-1] if values else None

    def list(self, name: builtins.str) -> builtins.list[builtins.str]:
        out: builtins.list[builtins.str] = []
        for value in self._values.get(name, []):
            out.extend(part.strip() for part in value.split(",") if part.strip())
        return out

    def bool(self, name: builtins.str) -> builtins.bool | None:
        value = self.str(name)
        if value is None:
            return None
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise errors.Invalid(f"{name} must be true or false, got {value!r}", param=name)

    def int(
        self, name: builtins.str, default: builtins.int, low: builtins.int, high: builtins.int
    ) -> builtins.int:
        value = self.str(name)
        if value is None:
            return default
        try:
            number = int(value.strip())
        except ValueError:
            raise errors.Invalid(f"{name} must be an integer, got {value!r}", param=name) from None
        if not low <= number <= high:
            raise errors.Invalid(
                f"{name} must be between {low} and {high}, got {number}", param=name
            )
        return number

    def include(self, allowed: tuple[builtins.str, ...]) -> set[builtins.str]:
        wanted = set(self.list("include"))
        unknown = wanted - set(allowed)
        if unknown:
            raise errors.Invalid(
                f"include accepts {', '.join(allowed)}; got {', '.join(sorted(unknown))}",
                param="include",
            )
        return wanted


@dataclass(slots=True)
class Call:
    request: Request
    service: Service
    account_sid: str
    base: str
    query: Query

    @property
    def url(self) -> str:
        return self.base + self.request.url.path

    def company(self) -> WorkspaceState:
        return self.service.companies.workspace(
            self.account_sid, self.request.path_params["companyId"]
        )

    def path(self, name: str) -> str:
        value: str = self.request.path_params[name]
        return value

    async def json(self) -> dict[str, Any]:
        raw = await self.request.body()
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise errors.Invalid("The request body must be a JSON object") from None
        if not isinstance(value, dict):
            raise errors.Invalid("The request body must be a JSON object")
        return value


Handler = Callable[[Call], Awaitable[Response]]


def answer(data: Any = None, message: str = "OK", status: int = 200) -> Response:
    """The seed's envelope: `status` 0 for success, a message, and the data."""
    body: dict[str, Any] = {"status": 0, "message": message}
    if data is not None:
        body["data"] = data
    return json_response(body, status)


def error_response(exc: errors.DomainError) -> Response:
    status = http_status(exc)
    data = {"param": exc.param} if exc.param else None
    headers: dict[str, str] = {}
    if isinstance(exc, errors.Unauthenticated):
        headers["WWW-Authenticate"] = 'Bearer realm="taskrouter", Basic realm="taskrouter"'
    return json_response({"status": status, "message": exc.message, "data": data}, status, headers)


async def authenticate(request: Request, service: Service) -> str:
    """Basic (AccountSid:AuthToken or KeySid:Secret), `Authorization: Bearer KeySid:Secret`
    or `X-API-Key: KeySid:Secret`; the last two take API keys only."""
    header = request.headers.get("authorization", "")
    scheme, _, credential = header.partition(" ")
    scheme = scheme.lower()
    credential = credential.strip()
    if scheme == "basic" and credential:
        try:
            pair = base64.b64decode(credential, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise errors.Unauthenticated("Authenticate") from None
        return await _pair(service, pair, keys_only=False)
    if scheme == "bearer" and credential:
        return await _pair(service, credential, keys_only=True)
    api_key = request.headers.get(API_KEY_HEADER)
    if api_key:
        return await _pair(service, api_key.strip(), keys_only=True)
    raise errors.Unauthenticated("Authenticate")


async def _pair(service: Service, pair: str, *, keys_only: bool) -> str:
    username, sep, secret = pair.partition(":")
    if not sep or (keys_only and not username.startswith(Prefix.API_KEY.value)):
        raise errors.Unauthenticated(
            "Authenticate: a bearer token or API key is an API key SID and its secret,"
            " joined by ':'"
            if keys_only
            else "Authenticate"
        )
    return await service.accounts.authenticate(username, secret)


def endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    @wraps(handler)
    async def run(request: Request) -> Response:
        service: Service = request.app.state.service
        try:
            account_sid = await authenticate(request, service)
            query = Query(request.url.query)
            return await handler(Call(request, service, account_sid, public_base(request), query))
        except errors.DomainError as exc:
            return error_response(exc)
        except Exception:
            log.exception("unhandled error in %s %s", request.method, request.url.path)
            return json_response({"status": 500, "message": "Internal server error"}, 500)

    return run


async def not_allowed(request: Request) -> Response:
    message = f"Method {request.method} is not allowed on {request.url.path}"
    return json_response({"status": 405, "message": message, "data": None}, 405)
