"""Kill -9 the server again and again under load, cut its database connections, and show
that nothing was lost, nothing assigned twice, every event delivered, and `check` is clean.

The longer version of the same run is `bench/soak.py --minutes N`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chaos.harness import run_chaos


@pytest.mark.timeout(240)
def test_kills_and_cuts_under_load_lose_nothing(database_url: str, tmp_path: Path) -> None:
    report = run_chaos(
        database_url,
        tmp_path,
        seconds=12,
        kills=4,
        clients=4,
        cut_connections=database_url.startswith("postgres"),
    )
    print(json.dumps(report.summary()))
    assert report.problems == []
    assert report.kills == 4
    # The load really ran through the kills: tasks were in flight when the server died.
    assert report.tasks_answered > 20
    assert max(report.live_tasks_at_kill) > 0
    assert report.requests["accepted"] > 0 and report.requests["rejected"] > 0
    assert report.requests["complete"] > 0
    assert report.events_logged > 0
