"""Companies: the CRM's name for a workspace, with the settings only the CRM face uses.

A company is named in paths by its workspace SID or by a company id set on the workspace
(unique within the account). Its time zone says where its "today" starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from taskrouter.domain.errors import Conflict, Invalid, NotFound
from taskrouter.domain.sids import Prefix, is_sid
from taskrouter.engine.state import WorkspaceState
from taskrouter.events.log import Emitted
from taskrouter.service import records
from taskrouter.service.runtime import Runtime

MAX_COMPANY_ID = 64


@dataclass(slots=True)
class CompanySettings:
    company_id: str | None = None  # "" removes it
    time_zone: str | None = None


class Companies:
    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime

    def workspace(self, account_sid: str, company_id: str) -> WorkspaceState:
        if is_sid(company_id, Prefix.WORKSPACE):
            return self._rt.workspace(account_sid, company_id)
        for state in self._rt.workspaces.values():
            ws = state.workspace
            if ws.account_sid == account_sid and ws.company_id == company_id:
                return state
        raise NotFound(f"No company {company_id!r}: not a workspace SID or a company id")

    def only_workspace(self, account_sid: str) -> WorkspaceState:
        """The account's workspace when it has exactly one (paths that name no company)."""
        mine = [s for s in self._rt.workspaces.values() if s.workspace.account_sid == account_sid]
        if len(mine) != 1:
            raise Invalid(
                f"companyId is required: the account has {len(mine)} workspaces",
                param="companyId",
            )
        return mine[0]

    async def update(
        self, account_sid: str, company_id: str, settings: CompanySettings
    ) -> WorkspaceState:
        state = self.workspace(account_sid, company_id)
        ws = state.workspace
        new_id = settings.company_id
        if new_id is not None and new_id != "":
            if len(new_id) > MAX_COMPANY_ID or not new_id.strip() or "/" in new_id:
                raise Invalid(
                    f"companyId must be 1 to {MAX_COMPANY_ID} characters without '/'",
                    param="companyId",
                )
            if is_sid(new_id, Prefix.WORKSPACE):
                raise Invalid(
                    "companyId cannot have the form of a workspace SID", param="companyId"
                )
            for other in self._rt.workspaces.values():
                o = other.workspace
                if o.sid != ws.sid and o.account_sid == account_sid and o.company_id == new_id:
                    raise Conflict(
                        f"companyId {new_id!r} already names workspace {o.sid}", param="companyId"
                    )
        if settings.time_zone is not None:
            check_time_zone(settings.time_zone)
        if new_id is not None:
            ws.company_id = new_id or None
        if settings.time_zone is not None:
            ws.time_zone = settings.time_zone
        ws.date_updated = self._rt.clock.now_ms()
        await self._rt.commit_with_engine(
            state, [records.put(ws)], [Emitted("workspace.updated", ws)]
        )
        return state


def check_time_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(
            f"timeZone {name!r} is not an IANA time zone (like Europe/Paris)", param="timeZone"
        ) from None
