"""The chaos run of tests/chaos for as long as you like: load, kill -9, restart, verify.

    ./dev bench soak --minutes 10 [--database postgresql://...] [--kills-per-minute 6]

Prints the run's summary, then one JSON line per figure. Exits 1 if anything was lost,
assigned twice, left undelivered or reported by `taskrouter check`.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from chaos.harness import run_chaos
from support.databases import create_postgres_database, drop_postgres_database


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--kills-per-minute", type=float, default=6.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=6)
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument(
        "--backend",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="a fresh database of this kind (PostgreSQL at 127.0.0.1:5432, as the tests use)",
    )
    args = parser.parse_args()
    seconds = args.minutes * 60
    kills = max(1, round(args.minutes * args.kills_per_minute))
    with tempfile.TemporaryDirectory(prefix="taskrouter-soak-") as tmp:
        url = (
            f"sqlite:///{Path(tmp) / 'soak.db'}"
            if args.backend == "sqlite"
            else create_postgres_database()
        )
        try:
            report = run_chaos(
                url,
                Path(tmp) / "server",
                seconds=seconds,
                kills=kills,
                clients=args.clients,
                workers=args.workers,
                seed=args.seed,
                cut_connections=args.backend == "postgres",
            )
        finally:
            if args.backend == "postgres":
                drop_postgres_database(url)
    summary = report.summary()
    print(json.dumps(summary, indent=1))
    figures = [
        ("kills_survived", report.kills if not report.problems else 0, "count", "higher"),
        ("connection_cuts_survived", report.connection_cuts, "count", "higher"),
        ("tasks_answered", report.tasks_answered, "count", "higher"),
        ("max_live_tasks_at_kill", max(report.live_tasks_at_kill, default=0), "count", "higher"),
        ("events_undelivered", report.events_logged - report.events_received, "count", "lower"),
        ("problems", len(report.problems), "count", "lower"),
    ]
    for metric, value, unit, better in figures:
        line = {
            "bench": f"soak_{args.backend}",
            "metric": metric,
            "value": float(value),
            "unit": unit,
            "better": better,
        }
        print(json.dumps(line))
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
