"""Live tasks through /companies/{companyId}/twilio-unterminated-tasks: every filter, sorting,
paging both ways, include=reservation, fetch, delete and bulk delete."""

from __future__ import annotations

from typing import Any

from crm_harness import Company


def _crm_tasks(company: Company) -> dict[str, str]:
    """Four tasks covering the attribute mapping; no worker, so all stay pending."""
    return {
        "call": company.task(
            priority=5,
            taskType="answerInboundVoiceCall",
            caseId="C1",
            caseType="collection",
            supercaseId="S1",
            interactionId="I1",
            caseOwnerId="U7",
            rank=3,
        ),
        "text": company.task(
            priority=1,
            taskType="replyToNewText",
            caseId=2,
            caseType="bankruptcy",
            interactionId="I2",
            rank=1,
        ),
        "review": company.task(
            priority=9, taskType="reviewVoicemail", unableToComplete=True, rank=2
        ),
        "bare": company.task(priority=3),
    }


def test_each_filter_reads_its_attribute(company: Company) -> None:
    t = _crm_tasks(company)
    assert set(company.live_sids()) == set(t.values())
    assert company.live_sids(taskType="answerInboundVoiceCall") == [t["call"]]
    assert set(company.live_sids(taskType=["replyToNewText", "reviewVoicemail"])) == {
        t["text"],
        t["review"],
    }
    # Comma-joined and bracketed lists mean the same.
    assert set(company.live_sids(taskType="replyToNewText,reviewVoicemail")) == {
        t["text"],
        t["review"],
    }
    assert set(company.live_sids(**{"caseType[]": ["collection", "bankruptcy"]})) == {
        t["call"],
        t["text"],
    }
    assert company.live_sids(caseId="2") == [t["text"]]  # a number attribute matches its text
    assert company.live_sids(caseId=["C1", "nope"]) == [t["call"]]
    assert company.live_sids(supercaseId="S1") == [t["call"]]
    assert company.live_sids(interactionId="I2") == [t["text"]]
    assert company.live_sids(unableToComplete="true") == [t["review"]]
    assert set(company.live_sids(unableToComplete="false")) == {t["call"], t["text"], t["bare"]}
    assert set(company.live_sids(hasCase="true")) == {t["call"], t["text"]}
    assert set(company.live_sids(hasCase="false")) == {t["review"], t["bare"]}
    assert company.live_sids(hasCaseOwner="true") == [t["call"]]
    assert len(company.live_sids(hasCaseOwner="false")) == 3
    assert set(company.live_sids(taskQueueSid=company.queue)) == set(t.values())
    assert company.live_sids(taskQueueSid="WQ" + "0" * 32) == []
    # Filters combine with AND.
    assert company.live_sids(hasCase="true", taskType="replyToNewText") == [t["text"]]


def test_expression_filter(company: Company) -> None:
    t = _crm_tasks(company)
    found = company.live_sids(taskAttrMatchExpr="rank >= 2 AND taskType CONTAINS 'Voice'")
    assert set(found) == {t["call"], t["review"]}
    assert company.live_sids(taskAttrMatchExpr="caseType IN ['bankruptcy']") == [t["text"]]
    bad = company.crm(
        "GET", "twilio-unterminated-tasks", params={"taskAttrMatchExpr": "rank >>= 2"}, expect=400
    )
    assert bad["status"] == 400 and "taskAttrMatchExpr" in bad["message"]


def test_assignment_status_filter(company: Company) -> None:
    # Alice's one unit of capacity takes the first task; the second waits.
    company.worker("alice")
    reserved = company.task(taskType="b")
    pending = company.task(taskType="a")
    assert company.live_sids(assignmentStatus="pending") == [pending]
    assert company.live_sids(assignmentStatus="reserved") == [reserved]
    company.accept(reserved)
    assert company.live_sids(assignmentStatus="assigned") == [reserved]
    company.twilio("POST", f"{company.ws}/Tasks/{reserved}", AssignmentStatus="wrapping")
    assert company.live_sids(assignmentStatus=["wrapping", "pending"]) == [reserved, pending]
    for terminated in ("completed", "canceled", "bogus"):
        bad = company.crm(
            "GET",
            "twilio-unterminated-tasks",
            params={"assignmentStatus": terminated},
            expect=400,
        )
        assert bad["data"] == {"param": "assignmentStatus"}


def test_bad_booleans_and_includes_are_refused(company: Company) -> None:
    for params in (
        {"hasCase": "maybe"},
        {"unableToComplete": "yes please"},
        {"include": "everything"},
        {"sortBy": "color"},
        {"sortBy": "priority:sideways"},
        {"taskQueueSid": "Everyone"},
    ):
        body = company.crm("GET", "twilio-unterminated-tasks", params=params, expect=400)
        assert body["status"] == 400 and body["message"]


def test_sorting(company: Company) -> None:
    t = _crm_tasks(company)
    assert company.live_sids() == [t["call"], t["text"], t["review"], t["bare"]]
    assert company.live_sids(sortBy="-priority") == [t["review"], t["call"], t["bare"], t["text"]]
    assert company.live_sids(sortBy="priority:asc") == [
        t["text"],
        t["bare"],
        t["call"],
        t["review"],
    ]
    # An attribute; tasks without it come first ascending.
    assert company.live_sids(sortBy="attributes.rank") == [
        t["bare"],
        t["text"],
        t["review"],
        t["call"],
    ]
    # Descending text; the task without a type sorts last.
    assert company.live_sids(sortBy=["attributes.taskType:desc", "priority"]) == [
        t["review"],
        t["text"],
        t["call"],
        t["bare"],
    ]


def test_paging_forward_and_back(company: Company) -> None:
    sids = [company.task(priority=p, n=p) for p in range(7)]
    newest_priority_first = list(reversed(sids))
    first = company.crm(
        "GET", "twilio-unterminated-tasks", params={"pageSize": 3, "sortBy": "-priority"}
    )
    assert [x["sid"] for x in first["data"]] == newest_priority_first[:3]
    assert first["previousUrl"] is None
    seen = [x["sid"] for x in first["data"]]
    url = first["nextUrl"]
    pages = [first]
    while url:
        assert "sortBy=-priority" in url and "pageSize=3" in url
        page = company.http.get(url).json()
        pages.append(page)
        seen += [x["sid"] for x in page["data"]]
        url = page["nextUrl"]
    assert seen == newest_priority_first
    assert len(pages) == 3
    # Back from the last page.
    back = company.http.get(pages[-1]["previousUrl"]).json()
    assert [x["sid"] for x in back["data"]] == newest_priority_first[3:6]
    back = company.http.get(back["previousUrl"]).json()
    assert [x["sid"] for x in back["data"]] == newest_priority_first[:3]
    assert back["previousUrl"] is None
    # A task deleted between pages does not shift the next one.
    company.crm("DELETE", f"twilio-unterminated-tasks/{newest_priority_first[2]}")
    page2 = company.http.get(pages[0]["nextUrl"]).json()
    assert [x["sid"] for x in page2["data"]] == newest_priority_first[3:6]
    bad = company.crm(
        "GET", "twilio-unterminated-tasks", params={"pageToken": "not-a-token"}, expect=400
    )
    assert bad["data"] == {"param": "pageToken"}
    company.crm("GET", "twilio-unterminated-tasks", params={"pageSize": 0}, expect=400)


def test_include_reservation_and_fetch(company: Company) -> None:
    alice = company.worker("alice")
    offered = company.task(taskType="b")
    waiting = company.task(taskType="a")  # alice's one unit of capacity is taken
    listed = {x["sid"]: x for x in company.live(include="reservation")}
    assert listed[waiting]["reservation"] is None
    reservation: dict[str, Any] = listed[offered]["reservation"]
    assert reservation["workerSid"] == alice and reservation["reservationStatus"] == "pending"
    assert reservation["workerName"] == "alice" and reservation["taskSid"] == offered
    assert "reservation" not in company.live()[0]
    company.accept(offered)
    one = company.crm(
        "GET", f"twilio-unterminated-tasks/{offered}", params={"include": "reservation"}
    )
    assert one["data"]["assignmentStatus"] == "assigned"
    assert one["data"]["reservation"]["reservationStatus"] == "accepted"
    assert one["data"]["taskQueueSid"] == company.queue
    assert one["data"]["workflowSid"] == company.workflow
    assert '"taskType":"b"' in one["data"]["attributes"].replace(" ", "")
    company.complete(offered)
    gone = company.crm("GET", f"twilio-unterminated-tasks/{offered}", expect=404)
    assert gone["status"] == 404
    company.crm("GET", "twilio-unterminated-tasks/WTnot-a-sid", expect=404)


def test_delete_cancels_and_fires_task_deleted(company: Company) -> None:
    pending = company.task(taskType="a")
    body = company.crm("DELETE", f"twilio-unterminated-tasks/{pending}")
    assert body["status"] == 0 and pending in body["message"]
    assert company.live_sids() == []
    assert company.twilio_task(pending).status_code == 404
    types = company.event_types(pending)
    assert "task.canceled" in types and "task.deleted" in types
    history = company.crm("GET", f"twilio-terminated-tasks/{pending}")["data"]
    assert history["assignmentStatus"] == "canceled" and history["deleted"] is True
    assert history["reason"] == "Task deleted"
    # Gone already: a second delete is a 404 and changes nothing.
    company.crm("DELETE", f"twilio-unterminated-tasks/{pending}", expect=404)


def test_delete_of_an_accepted_task_frees_its_worker(company: Company) -> None:
    alice = company.worker("alice")
    first = company.task(taskType="a")
    assert company.accept(first) == alice
    company.crm("DELETE", f"twilio-unterminated-tasks/{first}")
    assert "task.deleted" in company.event_types(first)
    # Alice's channel capacity (1) is free again: the next task is offered to her.
    second = company.task(taskType="a")
    assert company.reserved_worker(second) == alice


def test_bulk_delete_reports_each_sid(company: Company) -> None:
    live = [company.task(n=i) for i in range(3)]
    finished = company.task(n=9)
    company.cancel(finished)
    unknown = "WT" + "0" * 32
    body = company.crm(
        "DELETE",
        "twilio-unterminated-tasks",
        json_body={"taskSids": [live[0], finished, unknown, "nonsense", live[1], live[0]]},
    )
    assert body["status"] == 0
    assert body["data"]["results"] == [
        {"sid": live[0], "result": "deleted"},
        {"sid": finished, "result": "alreadyTerminated"},
        {"sid": unknown, "result": "notFound"},
        {"sid": "nonsense", "result": "invalid"},
        {"sid": live[1], "result": "deleted"},
        {"sid": live[0], "result": "alreadyTerminated"},
    ]
    assert company.live_sids() == [live[2]]
    for sid in live[:2]:
        assert "task.deleted" in company.event_types(sid)
    assert "task.deleted" not in company.event_types(finished)
    # A finished task the Twilio face no longer shows is still known as terminated.
    company.server.advance(6 * 60_000)
    body = company.crm(
        "DELETE", "twilio-unterminated-tasks", json_body={"taskSids": [finished, live[0]]}
    )
    assert [r["result"] for r in body["data"]["results"]] == [
        "alreadyTerminated",
        "alreadyTerminated",
    ]


def test_bulk_delete_refuses_a_bad_body(company: Company) -> None:
    sid = company.task()
    for body in ({"taskSids": "WT1"}, {"taskSids": [1, 2]}, {}, [sid]):
        answer = company.crm("DELETE", "twilio-unterminated-tasks", json_body=body, expect=400)
        assert answer["status"] == 400
    assert company.live_sids() == [sid]
