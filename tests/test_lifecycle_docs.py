"""docs/lifecycles.md is written from the transition tables; this keeps the two in step."""

from __future__ import annotations

import re
from pathlib import Path

from taskrouter.domain.lifecycles import RESERVATION_TRANSITIONS, TASK_TRANSITIONS

DOC = Path(__file__).resolve().parents[1] / "docs" / "lifecycles.md"


def _table(section: str) -> set[tuple[str, str]]:
    text = DOC.read_text()
    body = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| (\w+) \| (\w+) \|", body, flags=re.MULTILINE)) - {("from", "to")}


def test_task_table_matches_code() -> None:
    assert _table("Task") == {(a.value, b.value) for a, b in TASK_TRANSITIONS}


def test_reservation_table_matches_code() -> None:
    assert _table("Reservation") == {(a.value, b.value) for a, b in RESERVATION_TRANSITIONS}
