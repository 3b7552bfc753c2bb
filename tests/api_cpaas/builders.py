"""Short ways to make CPaaS objects through the face in tests."""

from __future__ import annotations

import itertools
import json
from typing import Any

from api_cpaas.cpaas_client import CpaasClient

ENTERPRISE = "EN164fe03a451544629e0a554b0863c48e"
OTHER_ENTERPRISE = "EN838bcdf35f9d421fad3ab516195b873b"
_serial = itertools.count(1)


def workspace(api: CpaasClient, name: str | None = None, **extra: Any) -> dict[str, Any]:
    body = {"enterpriseSid": ENTERPRISE, "name": name or f"Workspace {next(_serial)}", **extra}
    data: dict[str, Any] = api.ok("POST", "/taskrouter/workspaces", body)
    return data


def activity(api: CpaasClient, ws: str, name: str, available: bool) -> dict[str, Any]:
    body = {"workspaceSid": ws, "name": name, "available": available}
    data: dict[str, Any] = api.ok("POST", "/taskrouter/activities", body)
    return data


def queue(api: CpaasClient, ws: str, name: str, **extra: Any) -> dict[str, Any]:
    body = {"workspaceSid": ws, "name": name, **extra}
    data: dict[str, Any] = api.ok("POST", "/taskrouter/taskqueues", body)
    return data


def worker(
    api: CpaasClient, ws: str, name: str, attributes: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    attrs = {"contact_uri": f"+1555{next(_serial):07d}", **(attributes or {})}
    body = {"workspaceSid": ws, "name": name, "attributes": json.dumps(attrs), **extra}
    data: dict[str, Any] = api.ok("POST", "/taskrouter/workers", body)
    return data


def workflow(api: CpaasClient, ws: str, queue_sid: str, name: str = "Main") -> dict[str, Any]:
    configuration = {"task_routing": {"filters": [], "default_filter": {"queue": queue_sid}}}
    body = {"workspaceSid": ws, "name": name, "configuration": json.dumps(configuration)}
    data: dict[str, Any] = api.ok("POST", "/taskrouter/workflows", body)
    return data


def task(
    api: CpaasClient, wf: str, attributes: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    body = {"workflowSid": wf, "attributes": json.dumps(attributes or {}), **extra}
    data: dict[str, Any] = api.ok("POST", "/taskrouter/tasks", body)
    return data


def online(api: CpaasClient, ws: str) -> str:
    """The SID of the workspace's Online activity."""
    found = api.search("activities", f"workspaceSid={ws}&name=Online")["result"]
    sid: str = found[0]["sid"]
    return sid
