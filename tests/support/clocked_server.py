"""A taskrouter server whose clock the tests move.

Run as `python -m support.clocked_server` with tests/ on PYTHONPATH.

It lives under tests/ on purpose: a normally started server has no movable clock and no
control routes. Routes added here:
  POST /_test/clock  {"advance_ms": n} or {"set_ms": n}  -> moves time, fires due deadlines
  GET  /_test/audit                                      -> {"findings": [...]} per workspace
  POST /_test/accounts {"email": e or null}             -> {"sid", "auth_token"}: a new account
"""

from __future__ import annotations

import argparse
import os

import orjson
import uvicorn
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from taskrouter.app import create_app
from taskrouter.engine.audit import audit
from taskrouter.service.service import Service


class ManualClock:
    def __init__(self, start_ms: int) -> None:
        self.ms = start_ms

    def now_ms(self) -> int:
        return self.ms


def build(database: str, start_ms: int) -> tuple[object, ManualClock]:
    clock = ManualClock(start_ms)

    async def move(request: Request) -> Response:
        body = orjson.loads(await request.body() or b"{}")
        if "set_ms" in body:
            clock.ms = int(body["set_ms"])
        else:
            clock.ms += int(body.get("advance_ms", 0))
        service: Service = request.app.state.service
        await service.tick()
        return Response(orjson.dumps({"now_ms": clock.ms}), media_type="application/json")

    async def findings(request: Request) -> Response:
        service: Service = request.app.state.service
        result = {sid: audit(state.engine) for sid, state in service.runtime.workspaces.items()}
        return Response(orjson.dumps({"findings": result}), media_type="application/json")

    async def make_account(request: Request) -> Response:
        # A fresh account in a few ms, where `taskrouter accounts create` costs a process.
        body = orjson.loads(await request.body() or b"{}")
        service: Service = request.app.state.service
        account = await service.accounts.create("test account", email=body.get("email"))
        out = {"sid": account.sid, "auth_token": account.auth_token}
        return Response(orjson.dumps(out), media_type="application/json")

    async def bootstrap(service: Service) -> None:
        sid = os.environ.get("TASKROUTER_ACCOUNT_SID")
        token = os.environ.get("TASKROUTER_AUTH_TOKEN")
        if sid and token:
            await service.accounts.ensure(sid, token)

    app = create_app(
        database,
        clock=clock,
        bootstrap=bootstrap,
        run_timers=False,
        extra_routes=[
            Route("/_test/clock", move, methods=["POST"]),
            Route("/_test/audit", findings, methods=["GET"]),
            Route("/_test/accounts", make_account, methods=["POST"]),
        ],
    )
    return app, clock


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--start-ms", type=int, default=1_767_225_600_000)  # 2026-01-01
    args = parser.parse_args()
    app, _ = build(args.database, args.start_ms)
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
        loop="uvloop",
        http="httptools",
    )


if __name__ == "__main__":
    main()
