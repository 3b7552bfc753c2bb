"""The ASGI application: the service started under a lifespan, and every face mounted."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from taskrouter.api.cpaas.errors import Fault
from taskrouter.api.cpaas.routes import table as cpaas_table
from taskrouter.api.cpaas.wire import fault_response
from taskrouter.api.crm.call import not_allowed as crm_not_allowed
from taskrouter.api.crm.routes import table as crm_table
from taskrouter.api.dispatch import SegmentRoutes
from taskrouter.api.eventbridge.routes import routes as eventbridge_routes
from taskrouter.api.eventbridge.sockets import Sockets
from taskrouter.api.twilio.routes import table as twilio_table
from taskrouter.api.twilio.wire import json_response
from taskrouter.domain.clock import Clock
from taskrouter.service.service import Service
from taskrouter.store import open_store

log = logging.getLogger("taskrouter")

Bootstrap = Callable[[Service], Awaitable[None]]


async def healthz(request: Request) -> Response:
    service: Service = request.app.state.service
    return json_response({"status": "ok", "store": service.runtime.store.url.split(":", 1)[0]})


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    if request.url.path.startswith("/taskrouter/"):
        return _cpaas_http_error(request, status, str(exc.detail))
    code = 20404 if status == 404 else 20001 if status == 405 else status
    message = (
        f"The requested resource {request.url.path} was not found"
        if status == 404
        else f"Method {request.method} is not allowed on {request.url.path}"
        if status == 405
        else str(exc.detail)
    )
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return json_response(body, status)


def _cpaas_http_error(request: Request, status: int, detail: str) -> Response:
    message = (
        f"{request.url.path} is not a resource of this API"
        if status == 404
        else f"Method {request.method} is not allowed on {request.url.path}"
        if status == 405
        else detail
    )
    return fault_response(Fault(status, str(status), message, request.url.path))


async def _cpaas_method_not_allowed(request: Request) -> Response:
    return _cpaas_http_error(request, 405, "")


async def _method_not_allowed(request: Request) -> Response:
    return await _http_error(request, HTTPException(405))


def create_app(
    database_url: str,
    *,
    public_url: str | None = None,
    clock: Clock | None = None,
    bootstrap: Bootstrap | None = None,
    run_timers: bool = True,
    extra_routes: list[Route] | None = None,
) -> Starlette:
    """The server. Tests that drive time themselves pass their clock, `run_timers=False`
    and their own control routes; a normally started server has neither."""
    service = Service(open_store(database_url), clock)
    sockets = Sockets(service)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await service.start(deliver=True)
        if bootstrap is not None:
            await bootstrap(service)
        timers = asyncio.create_task(service.run_timers()) if run_timers else None
        sockets.start()
        log.info("taskrouter ready on %s", database_url.split("@")[-1])
        try:
            yield
        finally:
            await sockets.stop()
            if timers is not None:
                timers.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await timers
            # Commits still queued are finished before the store lets go.
            await service.stop()

    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            *(extra_routes or []),
            *eventbridge_routes(sockets),
            SegmentRoutes(twilio_table, _method_not_allowed),
            SegmentRoutes(cpaas_table, _cpaas_method_not_allowed),
            SegmentRoutes(crm_table, crm_not_allowed),
        ],
        lifespan=lifespan,
        exception_handlers={HTTPException: _http_error},
    )
    app.state.service = service
    app.state.public_url = public_url
    app.state.sockets = sockets
    return app
