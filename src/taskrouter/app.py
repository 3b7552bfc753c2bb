"""The ASGI application: the service started under a lifespan, and every face mounted."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
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
from taskrouter.api.guard import Guard
from taskrouter.api.twilio.routes import table as twilio_table
from taskrouter.api.twilio.wire import json_response
from taskrouter.domain.clock import Clock
from taskrouter.engine.audit import Finding
from taskrouter.limits import ServerLimits
from taskrouter.metrics import CONTENT_TYPE, Metrics
from taskrouter.service.auditor import run_audits
from taskrouter.service.service import Service
from taskrouter.store import open_store

log = logging.getLogger("taskrouter")

Bootstrap = Callable[[Service], Awaitable[None]]


# A store that does not answer a one-row read in this long is not ready to take commands.
HEALTH_STORE_TIMEOUT_S = 2.0


async def healthz(request: Request) -> Response:
    """200 when the engine is loaded and the store answers; 503 saying which is not."""
    service: Service = request.app.state.service
    engine_ready = bool(getattr(request.app.state, "ready", False))
    store_ok = True
    try:
        await asyncio.wait_for(
            service.runtime.store.get("accounts", "-"), timeout=HEALTH_STORE_TIMEOUT_S
        )
    except Exception:
        store_ok = False
    ok = engine_ready and store_ok
    body = {
        "status": "ok" if ok else "unavailable",
        "store": service.runtime.store.url.split(":", 1)[0],
        "store_ready": store_ok,
        "engine_ready": engine_ready,
        "workspaces": len(service.runtime.workspaces),
    }
    return json_response(body, 200 if ok else 503)


async def metrics_endpoint(request: Request) -> Response:
    metrics: Metrics = request.app.state.metrics
    return Response(await metrics.render(), media_type=CONTENT_TYPE)


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
    limits: ServerLimits | None = None,
    log_requests: bool = False,
    callbacks_apart: bool = False,
) -> Starlette:
    """The server. Tests that drive time themselves pass their clock, `run_timers=False`
    and their own control routes; a normally started server has neither. `callbacks_apart`
    posts event callbacks from a child process (what `taskrouter serve` does)."""
    limits = limits or ServerLimits.from_env()
    limits.apply_request_limits()
    service = Service(open_store(database_url), clock)
    if callbacks_apart:
        service.runtime.events.post_events_apart()
    sockets = Sockets(service)
    service.runtime.limits = limits
    service.runtime.rate_limiter = limits.rate_limiter()
    metrics = Metrics(service)

    def count_findings(workspace_sid: str, findings: list[Finding]) -> None:
        metrics.audit_runs.inc()
        for finding in findings:
            metrics.audit_findings.labels(finding.kind.value).inc()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await service.start(deliver=True)
        if bootstrap is not None:
            await bootstrap(service)
        timers = asyncio.create_task(service.run_timers()) if run_timers else None
        sockets.start()
        audits = (
            asyncio.create_task(run_audits(service, limits.audit_interval_s, count_findings))
            if limits.audit_interval_s > 0
            else None
        )
        app.state.ready = True
        log.info("taskrouter ready on %s", database_url.split("@")[-1])
        try:
            yield
        finally:
            await sockets.stop()
            app.state.ready = False
            for loop in (timers, audits):
                if loop is not None:
                    loop.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await loop
            # Commits still queued are finished before the store lets go.
            await service.stop()

    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
            *(extra_routes or []),
            *eventbridge_routes(sockets),
            SegmentRoutes(twilio_table, _method_not_allowed),
            SegmentRoutes(cpaas_table, _cpaas_method_not_allowed),
            SegmentRoutes(crm_table, crm_not_allowed),
        ],
        lifespan=lifespan,
        exception_handlers={HTTPException: _http_error},
        # Outside the routes, so every face gets the same body limit and request metrics.
        middleware=[
            Middleware(
                Guard,
                max_body_bytes=limits.max_body_bytes,
                metrics=metrics,
                log_requests=log_requests,
            )
        ],
    )
    app.state.service = service
    app.state.public_url = public_url
    app.state.sockets = sockets
    app.state.metrics = metrics
    app.state.limits = limits
    app.state.ready = False
    return app
