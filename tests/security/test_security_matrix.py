"""Every route of every face, asked without credentials, with wrong ones, and with another
account's: all refused in the face's own error format, nothing leaked, and the victim's data
reads exactly the same afterwards. The Worker SDK's action endpoint is asked with worker
Access Tokens for everything outside their grant: 403, or 401 for a token that is not valid.

Routes come from each face's own route table (and the Worker SDK bridge's action table), so
a route added later is in the matrix without editing this file. Path parameters are filled
with the victim's real SIDs, chosen by each face's own naming (`Face.key`); a route whose
parameter has no value here fails the test by name, so nobody forgets to give it one.
"""

from __future__ import annotations

import base64
import re
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from support.http_api import Api, make_workspace
from support.server import (
    Credentials,
    TaskrouterServer,
    create_account,
    create_api_key,
    new_account,
)
from taskrouter.api.cpaas.routes import table as cpaas_table
from taskrouter.api.crm.routes import table as crm_table
from taskrouter.api.eventbridge.actions import ROUTES as bridge_routes
from taskrouter.api.eventbridge.routes import PATH as BRIDGE_PATH
from taskrouter.api.twilio.routes import table as twilio_table
from worker_sdk.sdk import worker_token

# Values of the victim's objects, keyed as the faces' `key` functions name them.
Values = dict[str, str]
# httpx keyword arguments (params, data, json) of a request to (method, template).
Payload = Callable[[str, str, Values], dict[str, Any]]


def _twilio_key(segments: list[str], i: int) -> str:
    # `/Tasks/{Sid}` is the task: a generic `{Sid}` takes its collection's name.
    name = segments[i][1:-1]
    return segments[i - 1] if name == "Sid" else name


def _cpaas_key(segments: list[str], i: int) -> str:
    # `/taskrouter/tasks/{sid}` and `/taskrouter/tasks/search/{sid}`: the collection decides.
    return next(s for s in reversed(segments[:i]) if s != "search")


def _crm_key(segments: list[str], i: int) -> str:
    return segments[i][1:-1]


# What a request would change if it got through. No value names the victim's data by
# its words, so any such word in an answer came from the victim's objects.
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


def _twilio_payload(method: str, template: str, values: Values) -> dict[str, Any]:
    return {"data": HOSTILE_FORM} if method == "POST" else {}


def _cpaas_payload(method: str, template: str, values: Values) -> dict[str, Any]:
    if method in ("POST", "PUT"):
        # References to the victim's objects in the body, as creates and updates take them.
        return {
            "json": {
                "workspaceSid": values["workspaces"],
                "workflowSid": values["workflows"],
                "activitySid": values["activities"],
                "enterpriseSid": "EN" + "0" * 32,
                "name": "pwned",
                "attributes": '{"contact_uri": "client:pwned"}',
                "available": False,
                "targetWorkers": "1==1",
                "configuration": '{"task_routing": {"filters": []}}',
                "assignmentStatus": "Canceled",
                "reason": "pwned",
                "defaultActivitySid": values["activities"],
            }
        }
    if template.endswith("/search") and not template.startswith("/taskrouter/workspaces"):
        return {"params": {"workspaceSid": values["workspaces"]}}
    return {}


def _crm_payload(method: str, template: str, values: Values) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "{companyId}" not in template:
        out["params"] = {"companyId": values["companyId"]}
    if method != "GET":
        out["json"] = {
            "taskSids": [values["taskSid"]],
            "companyId": "pwned",
            "timeZone": "Pacific/Auckland",
            "availableByUserConfig": {values["WorkerSid"]: {"call": False}},
        }
    return out


# The document's not-found code (HTTP 409) of each collection (docs/cpaas.md).
CPAAS_NOT_FOUND = {
    "activities": "510",
    "workspaces": "520",
    "workers": "530",
    "taskqueues": "540",
    "workflows": "550",
    "tasks": "560",
}


def _cpaas_not_found(method: str, template: str) -> tuple[int, object]:
    collection = template.split("/")[2]
    if "{sid}" in template:
        return 409, CPAAS_NOT_FOUND[collection]
    # A create or search names its workspace in the body or query; a task, its workflow.
    if method == "POST" and collection == "tasks":
        return 409, CPAAS_NOT_FOUND["workflows"]
    return 409, CPAAS_NOT_FOUND["workspaces"]


@dataclass(frozen=True)
class Face:
    name: str
    routes: list[tuple[str, str]]  # (method, path template)
    # The value of the path parameter `segments[i]` is `values[key(segments, i)]`.
    key: Callable[[list[str], int], str]
    # The request's query and body: what it would change, naming the victim's objects.
    payload: Payload
    # The error code in one of the face's error bodies.
    error_code: Callable[[Any], object]
    # Status and error code of a request without valid credentials.
    unauthenticated: tuple[int, object]
    # Status and error code of the face's answer for another account's objects at a route.
    not_found: Callable[[str, str], tuple[int, object]]
    # How the face takes a key SID and secret: "basic", "bearer", "x-api-key".
    schemes: tuple[str, ...] = ("basic",)
    # Routes not bound to an existing object: another account may use them for itself.
    own_scope: frozenset[tuple[str, str]] = frozenset()
    # Routes anyone may read, that hold no account's data.
    public: frozenset[tuple[str, str]] = frozenset()
    # Fields that move by themselves as time passes.
    volatile: frozenset[str] = frozenset({"age"})
    # GET routes whose answers move with the clock; the objects read elsewhere stand for them.
    unstable: Callable[[str], bool] = field(default=lambda template: False)

    def fill(self, template: str, values: Values) -> str:
        segments = template.strip("/").split("/")
        out: list[str] = []
        for i, segment in enumerate(segments):
            if segment.startswith("{"):
                key = self.key(segments, i)
                if key not in values:
                    raise AssertionError(
                        f"{self.name} {template}: the security matrix has no value for"
                        f" {segment} ({key!r}); add one to the victim fixture"
                    )
                out.append(values[key])
            else:
                out.append(segment)
        return "/" + "/".join(out)


FACES = [
    Face(
        "twilio",
        [(method, template) for method, template, _ in twilio_table],
        _twilio_key,
        _twilio_payload,
        lambda body: body.get("code"),
        (401, 20003),
        lambda method, template: (404, 20404),
        own_scope=frozenset({("GET", "/v1/Workspaces"), ("POST", "/v1/Workspaces")}),
        unstable=lambda template: template.endswith(("/Stream", "Statistics")),
    ),
    Face(
        "cpaas",
        [(method, template) for method, template, _ in cpaas_table],
        _cpaas_key,
        _cpaas_payload,
        lambda body: body.get("errorCode"),
        (401, "401"),
        _cpaas_not_found,
        own_scope=frozenset(
            {("POST", "/taskrouter/workspaces"), ("GET", "/taskrouter/workspaces/search")}
        ),
        public=frozenset({("GET", "/taskrouter/openapi.json")}),
    ),
    Face(
        "crm",
        [(method, template) for method, template, _ in crm_table],
        _crm_key,
        _crm_payload,
        lambda body: body.get("status"),
        (401, 401),
        lambda method, template: (404, 404),
        schemes=("basic", "bearer", "x-api-key"),
        volatile=frozenset({"age", "longestTaskWaitingAge"}),
    ),
    # The same routes with the company named by its company id rather than its SID.
    Face(
        "crm by company id",
        [(method, template) for method, template, _ in crm_table],
        lambda segments, i: "companyAlias" if segments[i] == "{companyId}" else segments[i][1:-1],
        lambda method, template, values: _crm_payload(
            method, template, {**values, "companyId": values["companyAlias"]}
        ),
        lambda body: body.get("status"),
        (401, 401),
        lambda method, template: (404, 404),
        schemes=("basic", "bearer", "x-api-key"),
        volatile=frozenset({"age", "longestTaskWaitingAge"}),
    ),
]
COMPANY_ALIAS = "acme-north"


@dataclass
class Victim:
    creds: Credentials
    key: Credentials  # an API key of the victim's account
    values: Values
    # Words found only in the victim's objects (names, attributes).
    marker: str = "victim"


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
        # One finished task (the CRM face's history), then one live and reserved.
        finished = api.post(f"{ws.path}/Tasks", Attributes={"secret": "victim-done"})["sid"]
        api.post(f"{ws.path}/Tasks/{finished}", AssignmentStatus="canceled", Reason="victim")
        task = api.post(f"{ws.path}/Tasks", Attributes={"secret": "victim"})["sid"]
        (reservation,) = api.get(f"{ws.path}/Tasks/{task}/Reservations")["reservations"]
        channel = api.get(f"{ws.path}/TaskChannels")["channels"][0]["sid"]
        worker_channel = api.get(f"{ws.path}/Workers/{ws.workers[0]}/Channels")["channels"][0]
        event = api.get(f"{ws.path}/Events")["events"][0]["sid"]
        named = api.http.put(f"/companies/{ws.sid}/settings", json={"companyId": COMPANY_ALIAS})
        assert named.status_code == 200, named.text
    finally:
        api.close()
    values = {
        # Twilio: the collection before a `{Sid}`, or the parameter's name.
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
        # CPaaS: the collection.
        "workspaces": ws.sid,
        "taskqueues": ws.queue_sid,
        "workers": reservation["worker_sid"],
        "activities": ws.activities["Available"],
        "workflows": ws.workflow_sid,
        "tasks": task,
        # CRM: the parameter's name.
        "companyId": ws.sid,
        "companyAlias": COMPANY_ALIAS,
        "taskSid": task,
        "taskHistoryId": finished,
    }
    key = create_api_key(str(server.database_url), server.account.sid)
    return Victim(server.account, key, values)


@dataclass(frozen=True)
class Intruder:
    account: Credentials
    key: Credentials


@pytest.fixture(scope="module")
def intruder(server: TaskrouterServer) -> Intruder:
    account = create_account(str(server.database_url), "intruder")
    return Intruder(account, create_api_key(str(server.database_url), account.sid))


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def _present(scheme: str, sid: str, secret: str) -> dict[str, str]:
    if scheme == "basic":
        return _basic(sid, secret)
    if scheme == "bearer":
        return {"Authorization": f"Bearer {sid}:{secret}"}
    return {"X-API-Key": f"{sid}:{secret}"}


def _attempts(
    face: Face, victim: Victim, intruder: Intruder
) -> list[tuple[str, dict[str, str], bool]]:
    """(who, headers, whether the credentials are another account's valid ones)."""
    wrong = secrets.token_hex(16)
    out: list[tuple[str, dict[str, str], bool]] = [("no credentials", {}, False)]
    for scheme in face.schemes:
        out += [
            (f"{scheme}: wrong key secret", _present(scheme, victim.key.sid, wrong), False),
            (
                f"{scheme}: unknown API key",
                _present(scheme, "SK" + secrets.token_hex(16), victim.key.secret),
                False,
            ),
            (
                f"{scheme}: another account's key",
                _present(scheme, intruder.key.sid, intruder.key.secret),
                True,
            ),
        ]
        if scheme == "basic":
            out += [
                ("basic: wrong token", _basic(victim.creds.sid, wrong), False),
                (
                    "basic: unknown account",
                    _basic("AC" + secrets.token_hex(16), victim.creds.secret),
                    False,
                ),
                (
                    "basic: another account",
                    _basic(intruder.account.sid, intruder.account.secret),
                    True,
                ),
            ]
        else:
            # An account's own SID and token are not a key: these schemes take keys only.
            out.append(
                (
                    f"{scheme}: the victim's account token",
                    _present(scheme, victim.creds.sid, victim.creds.secret),
                    False,
                )
            )
    return out


def _snapshot(server: TaskrouterServer, victim: Victim) -> dict[str, Any]:
    """Everything the victim can read, through every GET route of every face."""
    seen: dict[str, Any] = {}
    with httpx.Client(
        base_url=server.base_url, auth=(victim.creds.sid, victim.creds.secret), timeout=10
    ) as http:
        for face in FACES:
            for method, template in face.routes:
                if method != "GET" or face.unstable(template):
                    continue
                response = http.get(
                    face.fill(template, victim.values),
                    **face.payload(method, template, victim.values),
                )
                assert response.status_code == 200, (face.name, template, response.text)
                seen[f"{face.name} {template}"] = _stable(response.json(), face.volatile)
    return seen


def _stable(value: Any, volatile: frozenset[str]) -> Any:
    """The body without what moves by itself as time passes (a task's age)."""
    if isinstance(value, dict):
        return {k: _stable(v, volatile) for k, v in value.items() if k not in volatile}
    if isinstance(value, list):
        return [_stable(v, volatile) for v in value]
    return value


SID = re.compile(r"\b[A-Z]{2}[0-9a-f]{32}\b")


def _leaks(victim: Victim, request: httpx.Request, response: httpx.Response) -> list[str]:
    """The victim's SIDs the request did not name, and the victim's words, in the answer."""
    asked = str(request.url) + request.content.decode(errors="replace")
    own = set(victim.values.values()) | {victim.creds.sid, victim.key.sid}
    found = [s for s in SID.findall(response.text) if s in own and s not in asked]
    if victim.marker in response.text:
        found.append(victim.marker)
    return found


CASES = [
    (face, method, template)
    for face in FACES
    for method, template in face.routes
    if (method, template) not in face.public
]


def test_every_route_refuses_every_intruder(
    server: TaskrouterServer, victim: Victim, intruder: Intruder
) -> None:
    before = _snapshot(server, victim)
    problems: list[str] = []
    tried = 0
    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        for face, method, template in CASES:
            path = face.fill(template, victim.values)
            payload = face.payload(method, template, victim.values)
            for who, headers, other_account in _attempts(face, victim, intruder):
                if other_account and (method, template) in face.own_scope:
                    continue
                response = http.request(method, path, headers=headers, **payload)
                tried += 1
                where = f"{face.name} {method} {template} with {who}"
                # Another account's objects are answered exactly like missing ones.
                status, code = (
                    face.not_found(method, template) if other_account else face.unauthenticated
                )
                if response.status_code != status:
                    problems.append(f"{where}: {response.status_code} {response.text[:160]}")
                    continue
                body = response.json()
                if face.error_code(body) != code:
                    problems.append(f"{where}: error code {face.error_code(body)!r} in {body}")
                leaked = _leaks(victim, response.request, response)
                if leaked:
                    problems.append(f"{where} leaked {leaked}: {response.text[:160]}")
    assert not problems, f"{len(problems)} of {tried} refusals wrong:\n" + "\n".join(problems)
    assert tried >= 4 * len(CASES)
    assert _snapshot(server, victim) == before


def test_public_routes_hold_no_accounts_data(server: TaskrouterServer, victim: Victim) -> None:
    public = [(face, m, t) for face in FACES for m, t in face.routes if (m, t) in face.public]
    assert public
    for face, method, template in public:
        response = httpx.request(method, server.base_url + template, timeout=10)
        assert response.status_code == 200, (face.name, template, response.text[:200])
        assert not _leaks(victim, response.request, response)


def test_another_account_sees_none_of_the_victims_objects_in_its_own_lists(
    server: TaskrouterServer, victim: Victim, intruder: Intruder
) -> None:
    api = Api(server.base_url, intruder.account)
    try:
        listed = api.call("GET", "/v1/Workspaces").text
        created = api.post("/v1/Workspaces", FriendlyName="intruder-own")
        searched = {
            collection: api.call("GET", f"/taskrouter/{collection}/search").text
            for collection in ("workspaces", "taskqueues", "workers", "activities", "workflows")
        }
        searched["tasks"] = api.call("GET", "/taskrouter/tasks/search", isLiveSession="true").text
    finally:
        api.close()
    assert victim.values["WorkspaceSid"] not in listed
    assert created["account_sid"] == intruder.account.sid
    for collection, text in searched.items():
        assert victim.marker not in text, collection
        assert victim.values["WorkspaceSid"] not in text, collection
    victims = Api(server.base_url, victim.creds)
    try:
        names = [w["friendly_name"] for w in victims.get("/v1/Workspaces")["workspaces"]]
    finally:
        victims.close()
    assert "intruder-own" not in names


# The Worker SDK's action endpoint: what a worker's Access Token may not reach.

# Parameters of an action that would change something if it got through.
HOSTILE_ACTION = {
    "ActivitySid": "",  # filled with the victim's Offline activity
    "Attributes": {"pwned": True},
    "ReservationStatus": "accepted",
    "AssignmentStatus": "canceled",
    "Reason": "pwned",
}


def _action(
    http: httpx.Client, token: str, url: str, method: str, params: dict[str, Any]
) -> httpx.Response:
    """One action as the SDK sends it: JSON, labelled as a form."""
    body = {"url": url, "method": method, "params": params, "token": token}
    return http.post(
        BRIDGE_PATH,
        content=httpx.Request("POST", "/", json=body).content,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


def _bridge_url(workspace_sid: str, pattern: str, values: dict[str, str]) -> str:
    return f"Workspaces/{workspace_sid}/" + pattern.format(**values)


def test_a_worker_token_reaches_nothing_outside_its_grant(
    server: TaskrouterServer, victim: Victim, intruder: Intruder
) -> None:
    v = victim.values
    ws = v["WorkspaceSid"]
    holder = v["WorkerSid"]  # holds the victim's live task's reservation
    api = Api(server.base_url, victim.creds)
    try:
        workers = [w["sid"] for w in api.get(f"/v1/Workspaces/{ws}/Workers")["workers"]]
        offline = next(
            a["sid"]
            for a in api.get(f"/v1/Workspaces/{ws}/Activities")["activities"]
            if a["friendly_name"] == "Offline"
        )
        # The victim account's other workspace, with a worker of its own.
        other = make_workspace(api, "other desk", workers=1)
    finally:
        api.close()
    (own,) = (w for w in workers if w != holder)
    now_s = int(time.time())
    token = worker_token(victim.key, ws, own, now_s)
    other_token = worker_token(victim.key, other.sid, other.workers[0], now_s)
    params = {
        **HOSTILE_ACTION,
        "ActivitySid": offline,
        "WorkflowSid": v["WorkflowSid"],
        "RoutingTarget": holder,
    }
    someone_elses = {
        "worker": holder,
        "reservation": v["Reservations"],
        "task": v["Tasks"],
        "activity": v["Activities"],
    }
    refused: list[tuple[str, str, str, int]] = []  # (why, token, url, status)
    for method, pattern, _ in bridge_routes:
        url = _bridge_url(ws, pattern, someone_elses)
        if "{worker}" in pattern or "{task}" in pattern or pattern == "Tasks":
            # Another worker, its reservation, the task it holds, a task routed to it.
            refused.append((f"{method} {pattern}: another worker's", token, url, 403))
        if "{reservation}" in pattern:
            mine = _bridge_url(ws, pattern, {**someone_elses, "worker": own})
            refused.append((f"{method} {pattern}: under its own worker", token, mine, 403))
        # A token of another workspace, even on paths naming only its own objects.
        theirs = {**someone_elses, "worker": other.workers[0]}
        refused.append((f"{method} {pattern}: another workspace", other_token, url, 403))
        refused.append(
            (
                f"{method} {pattern}: its own objects, another workspace in the url",
                token,
                _bridge_url(other.sid, pattern, theirs),
                403,
            )
        )
        # Not a valid token at all: expired, or signed by another account claiming ours.
        for why, bad in (
            ("expired", worker_token(victim.key, ws, own, now_s - 7200, ttl_s=3600)),
            ("another account's key", worker_token(intruder.key, ws, own, now_s)),
        ):
            mine = _bridge_url(ws, pattern, {**someone_elses, "worker": own})
            refused.append((f"{method} {pattern}: {why}", bad, mine, 401))
    tried = {m for m, _, _ in bridge_routes}
    assert tried >= {"GET", "POST"}

    before = _snapshot(server, victim)
    problems: list[str] = []
    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        for why, used, url, status in refused:
            method = why.split(" ", 1)[0]
            response = _action(http, used, url, method, params if method == "POST" else {})
            body = response.json()
            if response.status_code != status or body.get("status") != status:
                problems.append(f"{why} ({url}): {response.status_code} {response.text[:160]}")
            elif body.get("code") != {401: 20003, 403: 20403}[status]:
                problems.append(f"{why}: error code {body.get('code')!r}")
            elif "payload" in body or victim.marker in response.text:
                problems.append(f"{why}: answered with data {response.text[:160]}")
    assert not problems, f"{len(problems)} of {len(refused)} wrong:\n" + "\n".join(problems)
    assert _snapshot(server, victim) == before
    # The token itself is good: its own worker answers.
    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        mine = _action(http, token, f"Workspaces/{ws}/Workers/{own}", "GET", {})
    assert mine.status_code == 200, mine.text
    assert mine.json()["payload"]["sid"] == own
