"""Every expression example in the CPaaS seed (seed 000) and in the TaskRouter notes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from expr_helpers import evaluate_all_ways

from taskrouter.expressions import (
    Context,
    compile_expression,
    parse_order_by,
    skip_if_root,
    target_root,
    task_root,
    worker_view,
)

# Seed 000, "Workers are assigned dynamically to TaskQueue": two workers, two queues.
WORKER_X = {"skills": ["support", "sales"], "languages": ["EN"]}
WORKER_Y = {"skills": ["sales"], "languages": ["JP", "EN"]}
# Seed 000, Create Worker: a worker document from the request example.
WORKER_TEST1 = {"language": ["en", "hi"], "contact_uri": "919960639901"}


@pytest.mark.parametrize(
    ("text", "document", "expected"),
    [
        # The queue TargetWorkers used throughout seed 000.
        ("language[any]='vn'", {"language": ["en", "vn"]}, True),
        ("language[any]='vn'", WORKER_TEST1, False),
        # Sales and Support queues: X is in both, Y only in Sales. The seed's prose uses
        # typographic quotes; both spellings are accepted.
        ("skills[any]='sales'", WORKER_X, True),
        ("skills[any]='sales'", WORKER_Y, True),
        ("skills[any]='support'", WORKER_X, True),
        ("skills[any]='support'", WORKER_Y, False),
        ("skills[any]=\u2019sales\u2019", WORKER_Y, True),
        ("skills[any]=\u2019support\u2019", WORKER_Y, False),
        # The TargetWorkers parameter example: two string constants, so never true.
        ('"language" == "spanish"', {"language": "spanish"}, False),
        ("1==1", WORKER_Y, True),
    ],
)
def test_seed_queue_expressions(text: str, document: dict[str, Any], expected: bool) -> None:
    assert evaluate_all_ways(text, document, Context.WORKER) is expected


JP_SUPPORT_TASK = {"skill": "support", "selected_language": "jp"}


@pytest.mark.parametrize(
    ("text", "task", "expected"),
    [
        # The seed's workflow filters, with its example task.
        ("(skill='support') AND (selected_language='jp')", JP_SUPPORT_TASK, True),
        ("(skill='support') AND (selected_language='jp')", {"skill": "support"}, False),
        ("(skill='sales')", JP_SUPPORT_TASK, False),
        ("(skill='support') ", JP_SUPPORT_TASK, True),
        ("selected_language = 'vn'", {"selected_language": "vn"}, True),
        ("selected_language = 'vn'", {"selected_language": "es"}, False),
        ("selected_language = 'en'", {"selected_language": "en"}, True),
        ("type=='sales'", {"type": "sales"}, True),
        ("type=='marketing'", {"type": "sales"}, False),
        ("type=='support'", {"type": "support"}, True),
    ],
)
def test_seed_filter_expressions(text: str, task: dict[str, Any], expected: bool) -> None:
    root = task_root(task, datetime(2024, 6, 1, tzinfo=UTC))
    assert evaluate_all_ways(text, root, Context.TASK) is expected


def test_seed_workflow_picks_the_first_matching_filter() -> None:
    filters = [
        "(skill='support') AND (selected_language='jp')",
        "(skill='sales')",
        "(skill='support') ",
    ]
    compiled = [compile_expression(text, Context.TASK) for text in filters]
    now = datetime(2024, 6, 1, tzinfo=UTC)

    def first_match(task: dict[str, Any]) -> int | None:
        root = task_root(task, now)
        return next((i for i, expression in enumerate(compiled) if expression(root)), None)

    assert first_match(JP_SUPPORT_TASK) == 0
    assert first_match({"skill": "support", "selected_language": "en"}) == 2
    assert first_match({"skill": "sales"}) == 1
    assert first_match({"selected_language": "es"}) is None  # the seed's <Enqueue> task


@pytest.mark.parametrize(
    ("text", "document", "expected"),
    [
        # Notes, section b: queue expressions (worker attributes).
        ("skills HAS 'support'", {"skills": ["support"]}, True),
        ('language IN ["en","es"]', {"language": "es"}, True),
        ("tech_support_skill > 5", {"tech_support_skill": "6"}, True),
        ("activity_name contains 'MNO'", {"activity_name": "MNO team"}, True),
        ("object.array[2] == 'c'", {"object": {"array": ["a", "b", "c"]}}, True),
        ("TargetWorkers == 1", {}, False),  # just a missing attribute, not a keyword
    ],
)
def test_notes_worker_expressions(text: str, document: dict[str, Any], expected: bool) -> None:
    assert evaluate_all_ways(text, document, Context.WORKER) is expected


def test_notes_filter_and_target_expressions() -> None:
    saturday = datetime(2024, 6, 1, 10, 0, tzinfo=UTC)
    task = {"preferred_agents": ["WK1"], "required_language": "es", "x": "WK1"}
    assert evaluate_all_ways("preferred_agents != null", task_root(task, saturday), Context.TASK)
    assert evaluate_all_ways(
        "taskrouter.dayOfWeek = 'Sat'", task_root(task, saturday), Context.TASK
    )
    assert evaluate_all_ways("taskrouter.currentHour > 8", task_root(task, saturday), Context.TASK)
    worker = worker_view(
        "WK1",
        "alice",
        "WA1",
        "Available",
        {"id": "WK1", "spoken_languages": ["en", "es"]},
        {
            "voice": {"configured_capacity": 1, "assigned_tasks": 0},
            "chat": {"configured_capacity": 2, "assigned_tasks": 1},
        },
    )
    root = target_root(task, worker, saturday)
    for text in [
        "worker.id IN task.preferred_agents",
        "task.required_language IN worker.spoken_languages",
        "worker.channel.voice.assigned_tasks == 0",
        "worker.channel.chat.available_capacity_percentage <= 50",
        "worker.sid == task.x",
        "worker.activity_name == 'Available'",
        "1==1",
    ]:
        assert evaluate_all_ways(text, root, Context.TARGET), text


def test_notes_skip_if_and_order_by() -> None:
    assert evaluate_all_ways("workers.available == 0", skip_if_root(0, 2, {}), Context.SKIP_IF)
    assert evaluate_all_ways("1==1", skip_if_root(3, 0, {}), Context.SKIP_IF)
    order = parse_order_by("worker.english_level ASC")
    assert [c.segments for c in order.clauses] == [("english_level",)]
    order = parse_order_by("worker.level DESC, worker.english ASC")
    assert [(c.segments, c.descending) for c in order.clauses] == [
        (("level",), True),
        (("english",), False),
    ]
