"""Bad input changes nothing: each rejected request gets a clear error, and the stored state
(fetched in full before and after) is exactly as it was."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

import pytest

from support.twilio_client import RawApi, assert_raw_error

UNKNOWN_WS = "WS" + "e" * 32
UNKNOWN_WA = "WA" + "e" * 32
UNKNOWN_WQ = "WQ" + "e" * 32
LONG_NAME = "L" * 65


@dataclass
class World:
    ws: str
    wa: str  # an extra, unavailable activity
    wq: str
    wk: str
    wc: str  # the worker's voice channel
    ww: str
    name: str  # the workspace's friendly name

    def fill(self, text: str) -> str:
        """Put the world's SIDs in for {ws}, {wa}, ... (plain replace: texts hold JSON)."""
        for key in ("ws", "wa", "wq", "wk", "wc", "ww"):
            text = text.replace("{" + key + "}", getattr(self, key))
        return text


@pytest.fixture
def world(raw: RawApi) -> World:
    name = f"bad-input-{secrets.token_hex(4)}"
    ws = raw.post("/v1/Workspaces", data={"FriendlyName": name}).json()["sid"]
    base = f"/v1/Workspaces/{ws}"
    wa = raw.post(f"{base}/Activities", data={"FriendlyName": "Break", "Available": "false"})
    wq = raw.post(
        f"{base}/TaskQueues",
        data={"FriendlyName": "Support", "TargetWorkers": 'skills HAS "support"'},
    )
    wk = raw.post(
        f"{base}/Workers",
        data={"FriendlyName": "Alice", "Attributes": json.dumps({"skills": ["support"]})},
    )
    config = {"task_routing": {"default_filter": {"queue": wq.json()["sid"]}}}
    ww = raw.post(
        f"{base}/Workflows",
        data={"FriendlyName": "Inbound", "Configuration": json.dumps(config)},
    )
    wk_sid = wk.json()["sid"]
    channels = raw.get(f"{base}/Workers/{wk_sid}/Channels").json()["channels"]
    wc = next(c["sid"] for c in channels if c["task_channel_unique_name"] == "voice")
    return World(ws, wa.json()["sid"], wq.json()["sid"], wk_sid, wc, ww.json()["sid"], name)


def snapshot(raw: RawApi, world: World) -> dict[str, Any]:
    """Everything a user could read about the world, in full."""
    base = f"/v1/Workspaces/{world.ws}"
    state: dict[str, Any] = {}
    for path in [
        base,
        f"{base}/Activities/{world.wa}",
        f"{base}/TaskQueues/{world.wq}",
        f"{base}/Workers/{world.wk}",
        f"{base}/Workers/{world.wk}/Channels/{world.wc}",
        f"{base}/Workflows/{world.ww}",
    ]:
        response = raw.get(path)
        assert response.status_code == 200, (path, response.text)
        state[path] = response.json()
        if "/Workers/" in path and "/Channels/" not in path:
            state[path + " ETag"] = response.headers.get("ETag")
    for path in [
        f"{base}/Activities",
        f"{base}/TaskChannels",
        f"{base}/TaskQueues",
        f"{base}/Workers",
        f"{base}/Workflows",
        f"{base}/Workers/{world.wk}/Channels",
        "/v1/Workspaces",
    ]:
        body = raw.get(path, params={"PageSize": 1000}).json()
        records = body[body["meta"]["key"]]
        state[path] = sorted(records, key=lambda r: r["sid"])
    # Queue membership, which a rejected change must not move either.
    state["members"] = sorted(
        w["sid"]
        for w in raw.get(f"{base}/Workers", params={"TaskQueueSid": world.wq}).json()["workers"]
    )
    return state


@dataclass(frozen=True)
class Case:
    id: str
    method: str
    path: str
    data: dict[str, str] | None
    status: int | tuple[int, ...]
    mentions: tuple[str, ...] = ()
    body: bytes | None = None


def _attrs(n: int) -> str:
    text = json.dumps({"pad": "x" * (n - len('{"pad": ""}'))})
    assert len(text) == n
    return text


W = "/v1/Workspaces/{ws}"
CASES = [
    # malformed JSON attributes
    Case(
        "worker-malformed-attributes",
        "POST",
        W + "/Workers/{wk}",
        {"Attributes": '{"a": '},
        400,
        ("Attributes",),
    ),
    Case(
        "worker-attributes-not-json",
        "POST",
        W + "/Workers/{wk}",
        {"Attributes": "skills=support"},
        400,
        ("Attributes",),
    ),
    Case(
        "worker-attributes-4097",
        "POST",
        W + "/Workers/{wk}",
        {"Attributes": _attrs(4097)},
        400,
        ("Attributes",),
    ),
    Case(
        "worker-valid-name-bad-attributes",
        "POST",
        W + "/Workers/{wk}",
        {"FriendlyName": "Bob", "Attributes": "{"},
        400,
        ("Attributes",),
    ),
    Case(
        "worker-create-malformed-attributes",
        "POST",
        W + "/Workers",
        {"FriendlyName": "Carl", "Attributes": "[1,"},
        400,
        ("Attributes",),
    ),
    # invalid expressions
    Case(
        "queue-update-bad-expression",
        "POST",
        W + "/TaskQueues/{wq}",
        {"TargetWorkers": 'skills HAS "support" AND'},
        400,
        ("column",),
    ),
    Case(
        "queue-create-bad-expression",
        "POST",
        W + "/TaskQueues",
        {"FriendlyName": "Broken", "TargetWorkers": "level >>= 2"},
        400,
        ("column",),
    ),
    Case(
        "queue-update-name-and-bad-expression",
        "POST",
        W + "/TaskQueues/{wq}",
        {"FriendlyName": "Renamed", "TargetWorkers": "(level > 2"},
        400,
        ("column",),
    ),
    Case(
        "workflow-bad-filter-expression",
        "POST",
        W + "/Workflows/{ww}",
        {
            "Configuration": json.dumps(
                {
                    "task_routing": {
                        "filters": [{"expression": "type ==", "targets": [{"queue": "{wq}"}]}]
                    }
                }
            )
        },
        400,
        ("column",),
    ),
    # SIDs with the wrong prefix
    Case(
        "worker-activity-wrong-prefix",
        "POST",
        W + "/Workers/{wk}",
        {"ActivitySid": "{wq}"},
        400,
        ("ActivitySid",),
    ),
    Case(
        "worker-create-activity-wrong-prefix",
        "POST",
        W + "/Workers",
        {"FriendlyName": "Dora", "ActivitySid": "{wk}"},
        400,
        ("ActivitySid",),
    ),
    Case(
        "queue-reservation-activity-wrong-prefix",
        "POST",
        W + "/TaskQueues/{wq}",
        {"ReservationActivitySid": "{wk}"},
        400,
        ("ReservationActivitySid",),
    ),
    Case(
        "workspace-default-activity-wrong-prefix",
        "POST",
        W,
        {"DefaultActivitySid": "{wq}"},
        400,
        ("DefaultActivitySid",),
    ),
    Case(
        "workspace-timeout-activity-not-a-sid",
        "POST",
        W,
        {"TimeoutActivitySid": "Offline"},
        400,
        ("TimeoutActivitySid",),
    ),
    Case(
        "worker-path-wrong-prefix", "POST", W + "/Workers/{wq}", {"FriendlyName": "Eve"}, (400, 404)
    ),
    Case("activity-path-wrong-prefix", "DELETE", W + "/Activities/{wk}", None, (400, 404)),
    # SIDs that name nothing
    Case(
        "worker-unknown-activity",
        "POST",
        W + "/Workers/{wk}",
        {"ActivitySid": UNKNOWN_WA},
        (400, 404),
        (UNKNOWN_WA,),
    ),
    Case(
        "workspace-unknown-timeout-activity",
        "POST",
        W,
        {"TimeoutActivitySid": UNKNOWN_WA},
        (400, 404),
        (UNKNOWN_WA,),
    ),
    Case(
        "workflow-unknown-queue",
        "POST",
        W + "/Workflows/{ww}",
        {"Configuration": json.dumps({"task_routing": {"default_filter": {"queue": UNKNOWN_WQ}}})},
        400,
        (UNKNOWN_WQ,),
    ),
    # over-long names
    Case(
        "workspace-create-long-name",
        "POST",
        "/v1/Workspaces",
        {"FriendlyName": LONG_NAME},
        400,
        ("FriendlyName",),
    ),
    Case(
        "workspace-update-long-name", "POST", W, {"FriendlyName": LONG_NAME}, 400, ("FriendlyName",)
    ),
    Case(
        "activity-create-long-name",
        "POST",
        W + "/Activities",
        {"FriendlyName": LONG_NAME},
        400,
        ("FriendlyName",),
    ),
    Case(
        "activity-update-long-name",
        "POST",
        W + "/Activities/{wa}",
        {"FriendlyName": LONG_NAME},
        400,
        ("FriendlyName",),
    ),
    Case(
        "worker-update-long-name",
        "POST",
        W + "/Workers/{wk}",
        {"FriendlyName": LONG_NAME},
        400,
        ("FriendlyName",),
    ),
    Case(
        "worker-create-long-name",
        "POST",
        W + "/Workers",
        {"FriendlyName": LONG_NAME},
        400,
        ("FriendlyName",),
    ),
    Case(
        "channel-create-long-name",
        "POST",
        W + "/TaskChannels",
        {"FriendlyName": LONG_NAME, "UniqueName": "longname"},
        400,
        ("FriendlyName",),
    ),
    Case(
        "channel-create-bad-unique-name",
        "POST",
        W + "/TaskChannels",
        {"FriendlyName": "Bad", "UniqueName": "9-lives"},
        400,
        ("UniqueName",),
    ),
    Case("worker-duplicate-name", "POST", W + "/Workers", {"FriendlyName": "ALICE"}, (400, 409)),
    # numbers out of range, or not numbers
    Case(
        "queue-max-reserved-51",
        "POST",
        W + "/TaskQueues/{wq}",
        {"MaxReservedWorkers": "51"},
        400,
        ("MaxReservedWorkers",),
    ),
    Case(
        "queue-max-reserved-0",
        "POST",
        W + "/TaskQueues/{wq}",
        {"MaxReservedWorkers": "0"},
        400,
        ("MaxReservedWorkers",),
    ),
    Case(
        "queue-max-reserved-text",
        "POST",
        W + "/TaskQueues/{wq}",
        {"MaxReservedWorkers": "many"},
        400,
        ("MaxReservedWorkers",),
    ),
    Case(
        "queue-task-order-bad",
        "POST",
        W + "/TaskQueues/{wq}",
        {"TaskOrder": "RANDOM"},
        400,
        ("TaskOrder",),
    ),
    Case(
        "workflow-timeout-86401",
        "POST",
        W + "/Workflows/{ww}",
        {"TaskReservationTimeout": "86401"},
        400,
        ("TaskReservationTimeout",),
    ),
    Case(
        "workflow-timeout-0",
        "POST",
        W + "/Workflows/{ww}",
        {"TaskReservationTimeout": "0"},
        400,
        ("TaskReservationTimeout",),
    ),
    Case(
        "workflow-timeout-text",
        "POST",
        W + "/Workflows/{ww}",
        {"TaskReservationTimeout": "1.5"},
        400,
        ("TaskReservationTimeout",),
    ),
    Case(
        "workflow-callback-not-http",
        "POST",
        W + "/Workflows/{ww}",
        {"AssignmentCallbackUrl": "ftp://example.com/x"},
        400,
        ("AssignmentCallbackUrl",),
    ),
    Case(
        "workflow-bad-json",
        "POST",
        W + "/Workflows/{ww}",
        {"Configuration": "{not json"},
        400,
        ("Configuration",),
    ),
    Case(
        "channel-capacity-51",
        "POST",
        W + "/Workers/{wk}/Channels/{wc}",
        {"Capacity": "51"},
        400,
        ("Capacity",),
    ),
    Case(
        "channel-capacity-negative",
        "POST",
        W + "/Workers/{wk}/Channels/{wc}",
        {"Capacity": "-1"},
        400,
        ("Capacity",),
    ),
    Case(
        "channel-capacity-text",
        "POST",
        W + "/Workers/{wk}/Channels/{wc}",
        {"Capacity": "lots"},
        400,
        ("Capacity",),
    ),
    Case(
        "workspace-queue-order-bad",
        "POST",
        W,
        {"PrioritizeQueueOrder": "SIDEWAYS"},
        400,
        ("PrioritizeQueueOrder",),
    ),
    # unknown workspace
    Case(
        "unknown-workspace-create-worker",
        "POST",
        f"/v1/Workspaces/{UNKNOWN_WS}/Workers",
        {"FriendlyName": "Ghost"},
        404,
    ),
    Case(
        "unknown-workspace-update",
        "POST",
        f"/v1/Workspaces/{UNKNOWN_WS}",
        {"FriendlyName": "Ghost"},
        404,
    ),
    Case("unknown-workspace-delete", "DELETE", f"/v1/Workspaces/{UNKNOWN_WS}", None, 404),
    Case(
        "unknown-workspace-worker",
        "POST",
        f"/v1/Workspaces/{UNKNOWN_WS}" + "/Workers/{wk}",
        {"FriendlyName": "Ghost"},
        404,
    ),
    # requests the SDK would never send
    Case(
        "missing-required-name",
        "POST",
        W + "/Workers",
        {"Attributes": "{}"},
        400,
        ("FriendlyName",),
    ),
    Case("not-utf8-body", "POST", W + "/Workers/{wk}", None, 400, body=b"FriendlyName=\xff\xfe"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rejected_request_changes_nothing(raw: RawApi, world: World, case: Case) -> None:
    before = snapshot(raw, world)
    data = None if case.data is None else {k: world.fill(v) for k, v in case.data.items()}
    response = raw.request(
        case.method,
        world.fill(case.path),
        data=data,
        content=case.body,
        headers={"Content-Type": "application/x-www-form-urlencoded"} if case.body else None,
    )
    error = assert_raw_error(response, case.status)
    for text in case.mentions:
        assert world.fill(text) in error.message, (
            f"{case.id}: message {error.message!r} does not name {world.fill(text)!r}"
        )
    after = snapshot(raw, world)
    changed = [key for key in before if before[key] != after[key]]
    assert not changed, f"{case.id} changed {changed}"
