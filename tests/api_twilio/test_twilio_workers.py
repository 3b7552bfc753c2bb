"""Workers: create defaults, attributes, unique names, ETag/If-Match, delete, every list filter."""

from __future__ import annotations

import json

import pytest
from twilio.rest import Client
from twilio.rest.taskrouter.v1.workspace import WorkspaceContext, WorkspaceInstance

from support.twilio_client import RawApi, assert_raw_error, raises_twilio, recorder_of


def _activity(ws: WorkspaceContext, name: str) -> str:
    return str(next(a.sid for a in ws.activities.list() if a.friendly_name == name))


def _attributes_of_length(n: int) -> str:
    """A JSON object string of exactly n characters."""
    skeleton = json.dumps({"pad": ""})
    text = json.dumps({"pad": "x" * (n - len(skeleton))})
    assert len(text) == n
    return text


def test_create_with_defaults(
    client: Client, ws: WorkspaceContext, workspace: WorkspaceInstance
) -> None:
    worker = ws.workers.create(friendly_name="Alice")
    assert recorder_of(client).last.status == 201
    assert worker.sid.startswith("WK")
    assert worker.friendly_name == "Alice"
    assert worker.workspace_sid == workspace.sid
    assert worker.account_sid == workspace.account_sid
    assert worker.activity_sid == workspace.default_activity_sid
    assert worker.activity_name == "Offline"
    assert worker.available is False
    assert json.loads(worker.attributes) == {}
    assert worker.date_status_changed is not None
    assert worker.url.endswith(f"/v1/Workspaces/{workspace.sid}/Workers/{worker.sid}")
    for link in ("activity", "channels", "workspace"):
        assert link in worker.links, worker.links

    fetched = ws.workers(worker.sid).fetch()
    assert (fetched.friendly_name, fetched.activity_name, fetched.available) == (
        "Alice",
        "Offline",
        False,
    )


def test_create_with_activity_and_attributes(ws: WorkspaceContext) -> None:
    available = _activity(ws, "Available")
    attributes = {"skills": ["support", "sales"], "level": 3, "languages": {"en": 9}}
    worker = ws.workers.create(
        friendly_name="Bob", activity_sid=available, attributes=json.dumps(attributes)
    )
    for w in (worker, ws.workers(worker.sid).fetch()):
        assert w.activity_sid == available
        assert w.activity_name == "Available"
        assert w.available is True
        assert json.loads(w.attributes) == attributes


def test_attributes_are_null_in_lists_and_present_on_fetch(ws: WorkspaceContext) -> None:
    # Spec note (a.4): worker attributes only appear on single-resource answers.
    worker = ws.workers.create(friendly_name="Carol", attributes='{"team": "blue"}')
    listed = ws.workers.list()
    assert [w.sid for w in listed] == [worker.sid]
    assert listed[0].attributes is None
    assert json.loads(ws.workers(worker.sid).fetch().attributes) == {"team": "blue"}


def test_update_activity_attributes_and_name(ws: WorkspaceContext) -> None:
    worker = ws.workers.create(friendly_name="Dan", attributes='{"level": 1}')
    available = _activity(ws, "Available")
    updated = ws.workers(worker.sid).update(activity_sid=available)
    assert (updated.activity_name, updated.available) == ("Available", True)
    assert json.loads(updated.attributes) == {"level": 1}

    updated = ws.workers(worker.sid).update(attributes='{"level": 2}', friendly_name="Daniel")
    fetched = ws.workers(worker.sid).fetch()
    for w in (updated, fetched):
        assert json.loads(w.attributes) == {"level": 2}
        assert w.friendly_name == "Daniel"
        assert w.activity_name == "Available"

    ws.workers(worker.sid).update(activity_sid=_activity(ws, "Unavailable"))
    fetched = ws.workers(worker.sid).fetch()
    assert (fetched.activity_name, fetched.available) == ("Unavailable", False)


def test_friendly_name_unique_case_insensitively(client: Client, ws: WorkspaceContext) -> None:
    # Twilio's code for the duplicate is [unverified] (notes a.1: 20409/409 is a candidate), so
    # 400 and 409 are both accepted; the message must name the clashing name.
    alice = ws.workers.create(friendly_name="Alice")
    with raises_twilio(client, (400, 409)) as error:
        ws.workers.create(friendly_name="alice")
    assert "alice" in error[0].message.lower(), error[0].message
    assert [w.sid for w in ws.workers.list()] == [alice.sid]

    bob = ws.workers.create(friendly_name="Bob")
    with raises_twilio(client, (400, 409)) as error:
        ws.workers(bob.sid).update(friendly_name="ALICE")
    assert "alice" in error[0].message.lower(), error[0].message
    assert ws.workers(bob.sid).fetch().friendly_name == "Bob"

    # A worker may change the case of its own name, and a freed name can be taken again.
    assert ws.workers(alice.sid).update(friendly_name="ALICE").friendly_name == "ALICE"
    ws.workers(alice.sid).delete()
    assert ws.workers.create(friendly_name="alice").friendly_name == "alice"


def test_same_name_in_another_workspace_is_fine(client: Client, ws: WorkspaceContext) -> None:
    ws.workers.create(friendly_name="Eve")
    other = client.taskrouter.v1.workspaces.create(friendly_name="other-for-eve")
    eve = client.taskrouter.v1.workspaces(other.sid).workers.create(friendly_name="EVE")
    assert eve.friendly_name == "EVE"


def test_attributes_limit_is_4096_characters(client: Client, ws: WorkspaceContext) -> None:
    at_limit = _attributes_of_length(4096)
    worker = ws.workers.create(friendly_name="Full", attributes=at_limit)
    assert json.loads(ws.workers(worker.sid).fetch().attributes) == json.loads(at_limit)

    with raises_twilio(client, 400, code=20001, mentions="Attributes"):
        ws.workers.create(friendly_name="Overfull", attributes=_attributes_of_length(4097))
    with raises_twilio(client, 400, code=20001, mentions="Attributes"):
        ws.workers(worker.sid).update(attributes=_attributes_of_length(4097))
    assert [w.friendly_name for w in ws.workers.list()] == ["Full"]
    assert json.loads(ws.workers(worker.sid).fetch().attributes) == json.loads(at_limit)


@pytest.mark.parametrize("bad", ['{"skills": [', "not json", "{'single': 'quotes'}"])
def test_malformed_attributes_rejected(client: Client, ws: WorkspaceContext, bad: str) -> None:
    with raises_twilio(client, 400, code=20001, mentions="Attributes"):
        ws.workers.create(friendly_name="Malformed", attributes=bad)
    assert ws.workers.list() == []


def test_friendly_name_required_and_at_most_64(
    client: Client, ws: WorkspaceContext, raw: RawApi, workspace: WorkspaceInstance
) -> None:
    response = raw.post(f"/v1/Workspaces/{workspace.sid}/Workers", data={"Attributes": "{}"})
    assert_raw_error(response, 400, code=20001, mentions="FriendlyName")
    assert ws.workers.create(friendly_name="n" * 64).friendly_name == "n" * 64
    with raises_twilio(client, 400, code=20001, mentions="FriendlyName"):
        ws.workers.create(friendly_name="m" * 65)
    assert [w.friendly_name for w in ws.workers.list()] == ["n" * 64]


def test_unknown_activity_rejected(client: Client, ws: WorkspaceContext) -> None:
    missing = "WA" + "f" * 32
    with raises_twilio(client, (400, 404)) as error:
        ws.workers.create(friendly_name="Lost", activity_sid=missing)
    assert "ActivitySid" in error[0].message or missing in error[0].message
    assert ws.workers.list() == []


# -- ETag / If-Match ----------------------------------------------------------------------------


def test_etag_and_if_match(client: Client, ws: WorkspaceContext) -> None:
    worker = ws.workers.create(friendly_name="Versioned")
    created_etag = recorder_of(client).last.headers.get("ETag")

    fetched = ws.workers(worker.sid).fetch_with_http_info()
    etag = recorder_of(client).last.headers.get("ETag")
    assert etag, "fetch of a worker carries an ETag header"
    assert fetched.status_code == 200
    if created_etag is not None:
        assert created_etag == etag

    updated = ws.workers(worker.sid).update(if_match=etag, attributes='{"v": 2}')
    assert json.loads(updated.attributes) == {"v": 2}
    new_etag = recorder_of(client).last.headers.get("ETag")
    assert new_etag and new_etag != etag
    ws.workers(worker.sid).fetch()
    assert recorder_of(client).last.headers.get("ETag") == new_etag

    # The old version no longer matches: 412, and nothing changes.
    with raises_twilio(client, 412):
        ws.workers(worker.sid).update(if_match=etag, attributes='{"v": 3}', friendly_name="No")
    after = ws.workers(worker.sid).fetch()
    assert json.loads(after.attributes) == {"v": 2}
    assert after.friendly_name == "Versioned"
    assert recorder_of(client).last.headers.get("ETag") == new_etag

    # Without If-Match, writes are unconditional.
    ws.workers(worker.sid).update(friendly_name="Versioned 2")
    assert ws.workers(worker.sid).fetch().friendly_name == "Versioned 2"


def test_delete_honours_if_match(raw: RawApi, workspace: WorkspaceInstance) -> None:
    # twilio-python 9.13.0 drops the If-Match header of Worker delete (its _delete resets the
    # headers), so this goes over raw HTTP.
    path = f"/v1/Workspaces/{workspace.sid}/Workers"
    created = raw.post(path, data={"FriendlyName": "Deletable"})
    worker_path = f"{path}/{created.json()['sid']}"
    etag = raw.get(worker_path).headers["ETag"]
    raw.post(worker_path, data={"Attributes": '{"changed": true}'})

    stale = raw.delete(worker_path, headers={"If-Match": etag})
    assert_raw_error(stale, 412)
    assert raw.get(worker_path).status_code == 200

    current = raw.get(worker_path).headers["ETag"]
    assert current != etag
    deleted = raw.delete(worker_path, headers={"If-Match": current})
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert_raw_error(raw.get(worker_path), 404, code=20404)


def test_delete_then_gone(client: Client, ws: WorkspaceContext) -> None:
    worker = ws.workers.create(friendly_name="Leaver")
    assert ws.workers(worker.sid).delete() is True
    assert recorder_of(client).last.status == 204
    with raises_twilio(client, 404, code=20404):
        ws.workers(worker.sid).fetch()
    with raises_twilio(client, 404, code=20404):
        ws.workers(worker.sid).update(friendly_name="back")
    with raises_twilio(client, 404, code=20404):
        ws.workers(worker.sid).worker_channels.list()
    assert ws.workers.list() == []


# -- list filters --------------------------------------------------------------------------------


@pytest.fixture
def team(ws: WorkspaceContext) -> dict[str, str]:
    """Five workers in known activities, with skills, and two queues."""
    available = _activity(ws, "Available")
    unavailable = _activity(ws, "Unavailable")
    ws.task_queues.create(friendly_name="Support", target_workers='skills HAS "support"')
    ws.task_queues.create(friendly_name="Experts", target_workers="level >= 3")
    specs = {
        "ann": (available, {"skills": ["support"], "level": 1}),
        "ben": (available, {"skills": ["sales"], "level": 3}),
        "cid": (unavailable, {"skills": ["support", "sales"], "level": 5}),
        "dee": (None, {"skills": [], "level": 0}),
        "eli": (None, {"skills": ["support"], "level": 4}),
    }
    sids = {}
    for name, (activity, attributes) in specs.items():
        kwargs: dict[str, str] = {"attributes": json.dumps(attributes)}
        if activity:
            kwargs["activity_sid"] = activity
        sids[name] = ws.workers.create(friendly_name=name, **kwargs).sid
    return sids


def _names(workers: list) -> set[str]:  # type: ignore[type-arg]
    return {w.friendly_name for w in workers}


def test_filter_activity_name_and_sid(ws: WorkspaceContext, team: dict[str, str]) -> None:
    assert _names(ws.workers.list(activity_name="Available")) == {"ann", "ben"}
    assert _names(ws.workers.list(activity_name="Offline")) == {"dee", "eli"}
    assert _names(ws.workers.list(activity_sid=_activity(ws, "Unavailable"))) == {"cid"}
    assert ws.workers.list(activity_name="Nonexistent") == []


@pytest.mark.parametrize("word", ["true", "1", "yes"])
def test_filter_available_true_words(ws: WorkspaceContext, team: dict[str, str], word: str) -> None:
    assert _names(ws.workers.list(available=word)) == {"ann", "ben"}


def test_filter_available_false(ws: WorkspaceContext, team: dict[str, str]) -> None:
    assert _names(ws.workers.list(available="false")) == {"cid", "dee", "eli"}


def test_filter_friendly_name(ws: WorkspaceContext, team: dict[str, str]) -> None:
    assert [w.sid for w in ws.workers.list(friendly_name="ben")] == [team["ben"]]
    assert ws.workers.list(friendly_name="zed") == []


def test_filter_target_workers_expression(ws: WorkspaceContext, team: dict[str, str]) -> None:
    def matching(expression: str) -> set[str]:
        return _names(ws.workers.list(target_workers_expression=expression))

    assert matching('skills HAS "support"') == {"ann", "cid", "eli"}
    assert matching("level >= 3 AND level < 5") == {"ben", "eli"}
    assert matching(f'sid == "{team["dee"]}"') == {"dee"}
    assert matching('friendly_name == "cid"') == {"cid"}
    assert matching('activity_name == "Available"') == {"ann", "ben"}
    assert matching(f'activity_sid == "{_activity(ws, "Unavailable")}"') == {"cid"}
    assert matching("1==1") == set(team)


def test_filter_target_workers_expression_invalid_is_400(
    raw: RawApi, workspace: WorkspaceInstance, team: dict[str, str]
) -> None:
    response = raw.get(
        f"/v1/Workspaces/{workspace.sid}/Workers",
        params={"TargetWorkersExpression": "level >= "},
    )
    error = assert_raw_error(response, 400, code=20001)
    assert "column" in error.message, error.message


def test_filter_task_queue_sid_and_name(ws: WorkspaceContext, team: dict[str, str]) -> None:
    support = ws.task_queues.list(friendly_name="Support")[0].sid
    assert _names(ws.workers.list(task_queue_sid=support)) == {"ann", "cid", "eli"}
    assert _names(ws.workers.list(task_queue_name="Support")) == {"ann", "cid", "eli"}
    assert _names(ws.workers.list(task_queue_name="Experts")) == {"ben", "cid", "eli"}


def test_filters_combine(ws: WorkspaceContext, team: dict[str, str]) -> None:
    assert _names(ws.workers.list(task_queue_name="Support", available="true")) == {"ann"}
    assert _names(
        ws.workers.list(activity_name="Offline", target_workers_expression="level > 1")
    ) == {"eli"}


def test_filters_see_updates(ws: WorkspaceContext, team: dict[str, str]) -> None:
    ws.workers(team["dee"]).update(
        activity_sid=_activity(ws, "Available"), attributes='{"skills": ["support"], "level": 9}'
    )
    assert _names(ws.workers.list(available="true")) == {"ann", "ben", "dee"}
    assert _names(ws.workers.list(task_queue_name="Experts")) == {"ben", "cid", "dee", "eli"}
    assert _names(ws.workers.list(target_workers_expression="level > 8")) == {"dee"}
