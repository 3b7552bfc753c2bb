"""One request as the CPaaS face sees it: who asked, the body, and what it is about."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps

from starlette.requests import Request
from starlette.responses import Response

from taskrouter.api.cpaas import render
from taskrouter.api.cpaas.errors import Fault, Kind, Subject, not_found, translate
from taskrouter.api.cpaas.wire import Body, fault_response, json_response

# Credentials are checked exactly as the Twilio face checks them: one account model.
from taskrouter.api.twilio.call import authenticate, public_base
from taskrouter.domain import errors
from taskrouter.domain.sids import Prefix, is_sid
from taskrouter.engine.state import WorkspaceState
from taskrouter.service.service import Service

log = logging.getLogger("taskrouter.api.cpaas")

PREFIX = {
    Kind.WORKSPACE: Prefix.WORKSPACE,
    Kind.TASK_QUEUE: Prefix.TASK_QUEUE,
    Kind.WORKER: Prefix.WORKER,
    Kind.ACTIVITY: Prefix.ACTIVITY,
    Kind.WORKFLOW: Prefix.WORKFLOW,
    Kind.TASK: Prefix.TASK,
}


@dataclass(slots=True)
class Call:
    request: Request
    service: Service
    account_sid: str
    base: str
    body: Body
    subject: Subject | None = None

    def query(self, name: str) -> str | None:
        return self.request.query_params.get(name)

    @property
    def account_email(self) -> str | None:
        return self.service.accounts.fetch(self.account_sid).email

    @property
    def view(self) -> render.View:
        return render.View(self.base, self.account_sid, self.account_email)

    def searched_workspaces(self) -> list[WorkspaceState]:
        """The workspace the `workspaceSid` query parameter names, or all of the account's."""
        only = self.query("workspaceSid")
        if only is not None:
            return [self.workspace(only)]
        return [
            self.service.workspaces.fetch(self.account_sid, ws.sid)
            for ws in self.service.workspaces.list(self.account_sid)
        ]

    def about(self, kind: Kind, sid: str | None = None, name: str | None = None) -> Subject:
        """Name what this request works on; core errors are then answered with its codes."""
        self.subject = Subject(kind, sid, name)
        return self.subject

    def path_sid(self) -> str:
        sid: str = self.request.path_params["sid"]
        return sid

    def workspace(self, sid: str) -> WorkspaceState:
        """The account's workspace `sid`, or the seed's 520."""
        if not is_sid(sid, Prefix.WORKSPACE):
            raise not_found(Kind.WORKSPACE, sid)
        try:
            return self.service.workspaces.fetch(self.account_sid, sid)
        except errors.NotFound:
            raise not_found(Kind.WORKSPACE, sid) from None

    def holder(self, kind: Kind, sid: str) -> WorkspaceState:
        """The workspace holding the object `sid` of `kind`, or the seed's not-found code."""
        workspace_sid = None
        if is_sid(sid, PREFIX[kind]):
            workspace_sid = self.service.lookup.workspace_of(self.account_sid, sid)
        if workspace_sid is None:
            raise not_found(kind, sid)
        return self.service.workspaces.fetch(self.account_sid, workspace_sid)


Handler = Callable[[Call], Awaitable[Response]]


def endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Authenticate, parse the JSON body, run the handler, answer failures in the dialect."""

    @wraps(handler)
    async def run(request: Request) -> Response:
        service: Service = request.app.state.service
        call: Call | None = None
        try:
            account_sid = await authenticate(request, service)
            body = Body({})
            if request.method in ("POST", "PUT"):
                body = Body.parse(await request.body())
            call = Call(request, service, account_sid, public_base(request), body)
            return await handler(call)
        except Fault as fault:
            return fault_response(fault)
        except errors.DomainError as exc:
            return fault_response(translate(exc, call.subject if call else None))
        except Exception:
            log.exception("unhandled error in %s %s", request.method, request.url.path)
            return json_response(
                {"errorCode": "500", "message": "Internal server error", "data": None}, 500
            )

    return run
