"""The ASGI layer in front of every face: request body limit, request metrics, access log.

It sits outside the routing so that every face, present and future, is covered the same way.
A body over the limit is refused with 413 before any face reads it; a body without a declared
length is read up to the limit first, so a face never sees a truncated one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from taskrouter.metrics import Metrics

access_log = logging.getLogger("taskrouter.access")

ErrorBody = Callable[[str, int, str], bytes]


def twilio_error_body(path: str, status: int, message: str) -> bytes:
    """Twilio's error shape; faces with another shape are told apart by path (see `Guard`)."""
    return orjson.dumps(
        {
            "code": status,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{status}",
            "status": status,
        }
    )


class Guard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        metrics: Metrics | None = None,
        log_requests: bool = False,
        error_bodies: dict[str, ErrorBody] | None = None,
    ) -> None:
        """`error_bodies` maps a path prefix to the error shape of the face under it; the
        longest matching prefix wins, Twilio's shape otherwise."""
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.metrics = metrics
        self.log_requests = log_requests
        self.error_bodies = sorted((error_bodies or {}).items(), key=lambda kv: -len(kv[0]))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            body_receive = await self._limit_body(scope, receive)
            if body_receive is None:
                status = 413
                await self._refuse(scope, send, 413, self._too_large())
            else:
                await self.app(scope, body_receive, sending)
        finally:
            self._record(scope, status, time.perf_counter() - started)

    def _too_large(self) -> str:
        return f"The request body is larger than the limit of {self.max_body_bytes} bytes"

    async def _limit_body(self, scope: Scope, receive: Receive) -> Receive | None:
        """`receive` to pass on, or None when the body is over the limit."""
        length: int | None = None
        chunked = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    length = None
            elif name == b"transfer-encoding":
                chunked = True
        if length is not None:
            # The HTTP server delivers no more than the declared length.
            return receive if length <= self.max_body_bytes else None
        if not chunked:
            return receive
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.max_body_bytes:
                return None
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        return replay

    async def _refuse(self, scope: Scope, send: Send, status: int, message: str) -> None:
        path: str = scope["path"]
        render = next((r for p, r in self.error_bodies if path.startswith(p)), twilio_error_body)
        body = render(path, status, message)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        route = scope.get("route_template")
        if route is None:
            # Fixed routes (/healthz, /metrics) name themselves; anything else is one bucket,
            # so made-up paths cannot grow the metrics without bound.
            route = scope["path"] if "endpoint" in scope else "unmatched"
        method = scope["method"]
        if self.metrics is not None:
            self.metrics.answered(method, route, status, seconds)
        if self.log_requests:
            access_log.info(
                "%s %s %d",
                method,
                scope["path"],
                status,
                extra={"route": route, "status": status, "duration_ms": round(seconds * 1000, 3)},
            )
