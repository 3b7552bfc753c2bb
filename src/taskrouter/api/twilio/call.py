"""One request as the Twilio face sees it: who asked, with what, and where answers point."""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from taskrouter.api.twilio.wire import (
    Params,
    error_response,
    server_error_response,
    unavailable_response,
)
from taskrouter.domain import errors
from taskrouter.domain.sids import Prefix, is_sid
from taskrouter.service.runtime import CommitFailed
from taskrouter.service.service import Service

log = logging.getLogger("taskrouter.api.twilio")


@dataclass(slots=True)
class Call:
    request: Request
    service: Service
    account_sid: str
    base: str
    query: Params
    form: Params

    @property
    def url(self) -> str:
        """This request's absolute URL without its query, on the public base."""
        return self.base + request_path(self.request)

    def path_sid(self, name: str, prefix: Prefix) -> str:
        value: str = self.request.path_params[name]
        if not is_sid(value, prefix):
            raise errors.NotFound(
                f"The requested resource {request_path(self.request)} was not found"
            )
        return value

    def path(self, name: str) -> str:
        value: str = self.request.path_params[name]
        return value

    @property
    def if_match(self) -> str | None:
        return header(self.request, b"if-match")


Handler = Callable[[Call], Awaitable[Response]]


def header(request: Request, name: bytes) -> str | None:
    """The first `name` header (lower case), as `request.headers.get` would answer: read from
    the scope, because `request.headers` builds a Headers object per request, ~20 µs."""
    for key, value in request.scope["headers"]:
        if key == name:
            text: str = value.decode("latin-1")
            return text
    return None


async def request_body(request: Request) -> bytes:
    """The whole body, as `request.body()` reads it but without its stream machinery (~20 µs
    a request); kept on the request, so a later `request.body()` answers the same."""
    chunks: list[bytes] = []
    while True:
        message = await request.receive()
        if message["type"] == "http.request":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        elif message["type"] == "http.disconnect":
            raise ClientDisconnect()
    body = b"".join(chunks)
    request._body = body
    return body


def request_path(request: Request) -> str:
    # Read from the scope: Starlette's `request.url` builds a whole URL object per request,
    # a measurable share of a worker update's cost.
    scope = request.scope
    return str(scope.get("root_path", "")) + str(scope["path"])


def public_base(request: Request) -> str:
    configured: str | None = getattr(request.app.state, "public_url", None)
    if configured:
        return configured.rstrip("/")
    scope = request.scope
    host = header(request, b"host")
    if not host:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scope.get('scheme', 'http')}://{host}"


async def authenticate(request: Request, service: Service) -> str:
    scheme, _, encoded = (header(request, b"authorization") or "").partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise errors.Unauthenticated("Authenticate")
    try:
        username, sep, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise errors.Unauthenticated("Authenticate") from None
    if not sep:
        raise errors.Unauthenticated("Authenticate")
    return await service.accounts.authenticate(username, password)


def endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Authenticate, parse parameters, run the handler and map errors to Twilio's shape."""

    @wraps(handler)
    async def run(request: Request) -> Response:
        service: Service = request.app.state.service
        try:
            account_sid = await authenticate(request, service)
            form = Params(())
            if request.method == "POST":
                try:
                    form = Params.parse((await request_body(request)).decode())
                except UnicodeDecodeError:
                    raise errors.Invalid("The request body is not UTF-8 form data") from None
            query = Params.parse(request.scope["query_string"].decode("latin-1"))
            call = Call(request, service, account_sid, public_base(request), query, form)
            return await handler(call)
        except errors.DomainError as exc:
            return error_response(exc)
        except CommitFailed:
            # The database did not take the change (it is down or unreachable); nothing of
            # it is visible, so the client may simply try again.
            log.warning("commit failed in %s %s", request.method, request.url.path)
            return unavailable_response()
        except Exception:
            log.exception("unhandled error in %s %s", request.method, request.url.path)
            return server_error_response()

    return run
