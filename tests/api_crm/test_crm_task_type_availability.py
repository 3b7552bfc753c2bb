"""Task-type availability: read and replace `availableByUserConfig`; routing gives a worker
no reservations of the types it is unavailable for, and only those."""

from __future__ import annotations

from crm_harness import Company

PATH = "/twilio/tasktype-availability"


def _put(company: Company, config: object, expect: int = 200) -> dict[str, object]:
    body: dict[str, object] = company.crm(
        "PUT",
        PATH,
        params={"companyId": company.sid},
        json_body={"availableByUserConfig": config},
        expect=expect,
    )
    return body


def test_unavailable_type_stops_only_that_type(company: Company) -> None:
    alice = company.worker("alice")
    body = _put(company, {"alice": {"answerInboundVoiceCall": False, "replyToNewText": True}})
    assert body["status"] == 0
    # Keys are stored as worker SIDs, whichever way they were given.
    assert body["data"] == {
        "availableByUserConfig": {alice: {"answerInboundVoiceCall": False, "replyToNewText": True}}
    }
    got = company.crm("GET", PATH, params={"companyId": company.sid})
    assert got["data"] == body["data"]

    call = company.task(taskType="answerInboundVoiceCall")
    assert company.status(call) == "pending"  # alice is idle, but not for calls
    text = company.task(taskType="replyToNewText")
    assert company.reserved_worker(text) == alice
    company.accept(text)
    company.complete(text)
    untyped = company.task(other="x")
    assert company.reserved_worker(untyped) == alice  # types not named stay available
    company.accept(untyped)
    company.complete(untyped)
    assert company.status(call) == "pending"
    # Another worker takes the call.
    bob = company.worker("bob")
    assert company.reserved_worker(call) == bob
    assert company.audit() == []


def test_making_a_type_available_again_offers_waiting_work(company: Company) -> None:
    alice = company.worker("alice")
    _put(company, {alice: {"reviewVoicemail": False}})
    voicemail = company.task(taskType="reviewVoicemail")
    assert company.status(voicemail) == "pending"
    _put(company, {alice: {"reviewVoicemail": True}})
    assert company.reserved_worker(voicemail) == alice
    assert company.audit() == []
    # An empty configuration makes everyone available for everything.
    assert _put(company, {})["data"] == {"availableByUserConfig": {}}


def test_pending_offers_of_a_type_made_unavailable_go_to_others(company: Company) -> None:
    alice = company.worker("alice")
    task = company.task(taskType="smartReviewCase")
    assert company.reserved_worker(task) == alice
    bob = company.worker("bob", available=False)
    _put(company, {"alice": {"smartReviewCase": False}})
    assert [r["reservation_status"] for r in company.reservations(task)] == ["canceled"]
    assert company.status(task) == "pending"
    assert company.audit() == []  # alice is idle with a pending task she may not take
    company.set_available(bob, True)
    assert company.reserved_worker(task) == bob


def test_bad_configurations_change_nothing(company: Company) -> None:
    alice = company.worker("alice")
    _put(company, {alice: {"a": False}})
    for bad in (
        ["alice"],
        {"nobody": {"a": False}},
        {"alice": {"a": "no"}},
        {"alice": ["a"]},
        {"alice": {"": False}},
    ):
        answer = _put(company, bad, expect=400)
        assert answer["status"] == 400
    company.crm("PUT", PATH, params={"companyId": company.sid}, json_body={"other": 1}, expect=400)
    got = company.crm("GET", PATH, params={"companyId": company.sid})
    assert got["data"] == {"availableByUserConfig": {alice: {"a": False}}}


def test_without_company_id_the_only_workspace_is_meant(company: Company) -> None:
    # The suite's account holds many workspaces, so the company must be named.
    refused = company.crm("GET", PATH, expect=400)
    assert refused["data"] == {"param": "companyId"}
    company.crm("GET", PATH, params={"companyId": "no-such-company"}, expect=404)


def test_direct_routing_honours_availability_too(company: Company) -> None:
    alice = company.worker("alice")
    _put(company, {alice: {"makeScheduledCall": False}})
    direct = company.twilio(
        "POST",
        f"{company.ws}/Tasks",
        Attributes='{"taskType": "makeScheduledCall"}',
        RoutingTarget=alice,
    )["sid"]
    assert company.status(direct) == "pending"
    _put(company, {})
    assert company.reserved_worker(direct) == alice


def test_availability_survives_a_restart(company: Company) -> None:
    alice = company.worker("alice")
    _put(company, {alice: {"reviewSnoozedCase": False}})
    server = company.server
    now = server.advance(0)
    server.kill()
    server.start(start_ms=now)
    assert server.http is not None
    company.http = server.http
    snoozed = company.task(taskType="reviewSnoozedCase")
    assert company.status(snoozed) == "pending"
    other = company.task(taskType="reviewAutoCreatedCase")
    assert company.reserved_worker(other) == alice
    got = company.crm("GET", PATH, params={"companyId": company.sid})
    assert got["data"] == {"availableByUserConfig": {alice: {"reviewSnoozedCase": False}}}
