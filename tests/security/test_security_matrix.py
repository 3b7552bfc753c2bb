"""Every route of every face, asked without credentials, with wrong ones, and with another
account's: all refused, and the victim's data reads exactly the same afterwards.

Routes come from each face's own route table, so a route added later is in the matrix
without editing this file. Path parameters are filled with the victim's real SIDs, chosen by
the segment before them (`/Tasks/{Sid}` gets the task); a route whose segment is unknown
here fails the test by name, so nobody forgets to give it a value.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from support.http_api import Api, make_workspace
from support.server import Credentials, TaskrouterServer, create_account, new_account
from taskrouter.api.twilio.routes import table as twilio_table


@dataclass(frozen=True)
class Face:
    name: str
    routes: list[tuple[str, str]]  # (method, path template)
    # Status and error code for a request without valid credentials.
    unauthenticated: tuple[int, int]
    # Routes not bound to an existing object: another account may use them for itself.
    own_scope: frozenset[tuple[str, str]]


FACES = [
    Face(
        "twilio",
        [(method, template) for method, template, _ in twilio_table],
        (401, 20003),
        frozenset({("GET", "/v1/Workspaces"), ("POST", "/v1/Workspaces")}),
    ),
]

# What a request would change if it got through.
HOSTILE_FORM = {
    "FriendlyName": "pwned",
    "Attributes": '{"pwned": true}',
    "AssignmentStatus": "canceled",
    "ReservationStatus": "rejected",
    "Reason": "pwned",
    "Available": "false",
    "Capacity": "9",
    "TargetWorkers": "1==1",
    "Configuration": '{"task_routing": {"filters": []}}',
    "UniqueName": "pwned",
}


@dataclass
class Victim:
    creds: Credentials
    values: dict[str, str]  # segment before {Sid} (or the parameter's own name) -> SID


@pytest.fixture(scope="module")
def server(
    module_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TaskrouterServer]:
    started = TaskrouterServer(
        module_database, workdir=tmp_path_factory.mktemp("security"), account=new_account()
    )
    started.start()
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def victim(server: TaskrouterServer) -> Victim:
    assert server.account is not None
    api = Api(server.base_url, server.account)
    try:
        ws = make_workspace(api, "victim", workers=2)
        task = api.post(f"{ws.path}/Tasks", Attributes={"secret": "victim"})["sid"]
        (reservation,) = api.get(f"{ws.path}/Tasks/{task}/Reservations")["reservations"]
        channel = api.get(f"{ws.path}/TaskChannels")["channels"][0]["sid"]
        worker_channel = api.get(f"{ws.path}/Workers/{ws.workers[0]}/Channels")["channels"][0]
        event = api.get(f"{ws.path}/Events")["events"][0]["sid"]
    finally:
        api.close()
    values = {
        "WorkspaceSid": ws.sid,
        "Workspaces": ws.sid,
        "Activities": ws.activities["Available"],
        "Events": event,
        "TaskChannels": channel,
        "TaskQueues": ws.queue_sid,
        "TaskQueueSid": ws.queue_sid,
        "Workers": reservation["worker_sid"],
        "WorkerSid": reservation["worker_sid"],
        "Channels": worker_channel["task_channel_unique_name"],
        "Workflows": ws.workflow_sid,
        "WorkflowSid": ws.workflow_sid,
        "Tasks": task,
        "TaskSid": task,
        "Reservations": reservation["sid"],
    }
    return Victim(server.account, values)


def fill(template: str, values: dict[str, str]) -> str:
    segments = template.strip("/").split("/")
    out: list[str] = []
    for i, segment in enumerate(segments):
        if segment.startswith("{"):
            name = segment[1:-1]
            key = segments[i - 1] if name == "Sid" else name
            if key not in values:
                raise AssertionError(
                    f"{template}: the security matrix has no value for {{{name}}} after"
                    f" /{segments[i - 1]}; add one to the victim fixture"
                )
            out.append(values[key])
        else:
            out.append(segment)
    return "/" + "/".join(out)


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def _snapshot(server: TaskrouterServer, victim: Victim) -> dict[str, Any]:
    """Everything the victim can read, through every GET route of every face."""
    seen: dict[str, Any] = {}
    with httpx.Client(
        base_url=server.base_url, auth=(victim.creds.sid, victim.creds.secret), timeout=10
    ) as http:
        for face in FACES:
            for method, template in face.routes:
                # Statistics move with the clock by themselves (ages, windows ending now);
                # they are computed from the objects read here, so those stand for them.
                if method != "GET" or template.endswith(("/Stream", "Statistics")):
                    continue
                response = http.get(fill(template, victim.values))
                assert response.status_code == 200, (template, response.text)
                seen[template] = _stable(response.json())
    return seen


def _stable(value: Any) -> Any:
    """The body without what moves by itself as time passes (a task's age)."""
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if k != "age"}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


CASES = [(face, method, template) for face in FACES for method, template in face.routes]


@pytest.fixture(scope="module")
def intruder(server: TaskrouterServer) -> Credentials:
    return create_account(str(server.database_url), "intruder")


def test_every_route_refuses_every_intruder(
    server: TaskrouterServer, victim: Victim, intruder: Credentials
) -> None:
    before = _snapshot(server, victim)
    wrong_token = secrets.token_hex(16)
    attempts = {
        "no credentials": {},
        "wrong token": _basic(victim.creds.sid, wrong_token),
        "unknown account": _basic("AC" + secrets.token_hex(16), victim.creds.secret),
        "unknown API key": _basic("SK" + secrets.token_hex(16), victim.creds.secret),
        "another account": _basic(intruder.sid, intruder.secret),
    }
    problems: list[str] = []
    tried = 0
    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        for face, method, template in CASES:
            path = fill(template, victim.values)
            for who, headers in attempts.items():
                if who == "another account" and (method, template) in face.own_scope:
                    continue
                data = HOSTILE_FORM if method == "POST" else None
                response = http.request(method, path, headers=headers, data=data)
                tried += 1
                # Another account's objects are answered exactly like missing ones.
                expected = 404 if who == "another account" else face.unauthenticated[0]
                if response.status_code != expected:
                    problems.append(
                        f"{face.name} {method} {template} with {who}: {response.status_code}"
                        f" {response.text[:120]}"
                    )
                    continue
                body = response.json()
                if who != "another account" and body.get("code") != face.unauthenticated[1]:
                    problems.append(f"{face.name} {method} {template} with {who}: {body}")
                if victim.values["Tasks"] in response.text or "victim" in response.text:
                    problems.append(f"{face.name} {method} {template} with {who} leaked data")
    assert not problems, "\n".join(problems)
    assert tried >= 4 * len(CASES)
    assert _snapshot(server, victim) == before


def test_another_account_sees_none_of_the_victims_objects_in_its_own_lists(
    server: TaskrouterServer, victim: Victim, intruder: Credentials
) -> None:
    api = Api(server.base_url, intruder)
    try:
        listed = api.call("GET", "/v1/Workspaces").text
        created = api.post("/v1/Workspaces", FriendlyName="intruder-own")
    finally:
        api.close()
    assert victim.values["WorkspaceSid"] not in listed
    assert created["account_sid"] == intruder.sid
    victims = Api(server.base_url, victim.creds)
    try:
        names = [w["friendly_name"] for w in victims.get("/v1/Workspaces")["workspaces"]]
    finally:
        victims.close()
    assert "intruder-own" not in names
