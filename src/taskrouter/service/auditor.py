"""The server's periodic self-audit: the invariants `taskrouter check` checks, on live state.

The audit runs a slice of objects at a time (`engine.audit.audit_slices`), letting the event
loop serve requests in between: in one piece it stopped routing for as long as it took, 0.3 s
for a workspace of 30,000 tasks on a 2-core machine.

Findings are logged (one warning each, naming the objects involved, up to LOGGED_PER_WORKSPACE
per workspace and run, then one line with the rest counted by kind) and counted for metrics;
nothing is repaired while serving, since a finding means a bug to look at, and the state on
disk is what `taskrouter check --repair` works from.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable

from taskrouter.engine.audit import Finding, audit_slices
from taskrouter.logs import sids_in
from taskrouter.service.check import DEFAULT_DEADLINE_GRACE_MS
from taskrouter.service.service import Service

log = logging.getLogger("taskrouter.audit")

Report = Callable[[str, list[Finding]], None]
# A systemic fault (an overloaded server's deadlines all late at once) can yield thousands of
# findings per run; the first few name the objects, a count says how many more.
LOGGED_PER_WORKSPACE = 20


async def audit_once(
    service: Service, report: Report | None = None, grace_ms: int = DEFAULT_DEADLINE_GRACE_MS
) -> int:
    """Audit every workspace in memory; returns how many findings there were."""
    total = 0
    for sid, state in list(service.runtime.workspaces.items()):
        findings: list[Finding] = []
        for found in audit_slices(state.engine, deadline_grace_ms=grace_ms):
            findings.extend(found)
            await asyncio.sleep(0)
        if service.runtime.workspaces.get(sid) is not state:
            continue  # deleted or reloaded while it was audited
        _log(sid, findings)
        if report is not None:
            report(sid, findings)
        total += len(findings)
    return total


def _log(workspace_sid: str, findings: list[Finding]) -> None:
    for finding in findings[:LOGGED_PER_WORKSPACE]:
        log.warning(
            "audit: %s",
            finding.message,
            extra={
                **sids_in(finding.message),
                "workspace_sid": workspace_sid,
                "kind": finding.kind,
            },
        )
    if len(findings) > LOGGED_PER_WORKSPACE:
        rest = Counter(f.kind.value for f in findings[LOGGED_PER_WORKSPACE:])
        log.warning(
            "audit: %d more findings in workspace %s (%s)",
            sum(rest.values()),
            workspace_sid,
            ", ".join(f"{kind}: {count}" for kind, count in sorted(rest.items())),
            extra={"workspace_sid": workspace_sid},
        )


async def run_audits(service: Service, interval_s: float, report: Report | None = None) -> None:
    """Audit every `interval_s` seconds until cancelled."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            await audit_once(service, report)
        except Exception:
            log.exception("the periodic audit failed; will retry")
