"""Both halves of the Worker SDK's face on one path, as the SDK expects them."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute

from taskrouter.api.eventbridge import actions
from taskrouter.api.eventbridge.sockets import Sockets

PATH = "/v1/wschannels"


async def _http(request: Request) -> Response:
    if request.method == "OPTIONS":
        return await actions.preflight(request)
    return await actions.handle(request)


def routes(sockets: Sockets) -> list[BaseRoute]:
    return [
        Route(PATH, _http, methods=["POST", "OPTIONS"]),
        WebSocketRoute(PATH, sockets.endpoint),
    ]
