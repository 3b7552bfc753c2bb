"""CPaaS searches and fetches over HTTP against the real server (SQLite): latency.

    python bench/cpaas_search.py [--workers 2000] [--runs 3] [--requests 200]

Starts `python -m taskrouter serve` on a temporary SQLite database, makes one workspace with
`--workers` workers through the CPaaS face, then times, one request at a time:

1. `GET /taskrouter/workers/search/{sid}` (a fetch by SID alone, found by lookup);
2. `GET /taskrouter/workers/search?pageSize=10` (a first page: every matching worker is
   rendered and sorted before the page is cut, so this grows with the workspace);
3. `GET /taskrouter/workers/search?name=7&SortBy=name:desc&pageSize=50` (a filtered, sorted
   page).

Each is run `--runs` times and the median of the per-run medians and p99s reported. The client
runs on the same cores as the server, so figures are as measured under that load.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from http_workers import serve

TARGET_FETCH_P99_MS = 10
TARGET_PAGE_P99_MS = 100


def _time(client: httpx.Client, path: str, requests: int) -> tuple[float, float]:
    latencies = []
    for _ in range(requests):
        start = time.perf_counter()
        response = client.get(path)
        latencies.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.text
    latencies.sort()
    return statistics.median(latencies), latencies[int(len(latencies) * 0.99) - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    cases = {
        "fetch_worker": None,
        "first_page": "/taskrouter/workers/search?pageSize=10",
        "filtered_sorted_page": "/taskrouter/workers/search?name=7&SortBy=name:desc&pageSize=50",
    }
    figures: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in cases}
    with tempfile.TemporaryDirectory(prefix="bench-cpaas-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'taskrouter.db'}"
        with (
            serve(url, Path(tmp)) as server,
            httpx.Client(base_url=server.base_url, auth=server.auth, timeout=30) as client,
        ):
            ws = client.post(
                "/taskrouter/workspaces",
                json={"enterpriseSid": "EN" + "0" * 32, "name": "bench"},
            ).json()["data"]["sid"]
            sids = []
            for i in range(args.workers):
                body = {
                    "workspaceSid": ws,
                    "name": f"Worker {i}",
                    "attributes": json.dumps({"contact_uri": f"+1555{i:07d}", "n": i}),
                }
                sids.append(client.post("/taskrouter/workers", json=body).json()["data"]["sid"])
            cases["fetch_worker"] = f"/taskrouter/workers/search/{sids[len(sids) // 2]}"
            for run in range(1, args.runs + 1):
                for name, path in cases.items():
                    assert path is not None
                    p50, p99 = _time(client, path, args.requests)
                    figures[name][0].append(p50)
                    figures[name][1].append(p99)
                    print(f"  run {run}: {name:22s} p50 {p50:7.2f} ms  p99 {p99:7.2f} ms")
    print(f"cpaas_search: {args.workers} workers, {args.requests} sequential requests per run")
    results = []
    for name, (p50s, p99s) in figures.items():
        target = TARGET_FETCH_P99_MS if name == "fetch_worker" else TARGET_PAGE_P99_MS
        for metric, values, goal in (("p50", p50s, None), ("p99", p99s, target)):
            result: dict[str, object] = {
                "bench": "cpaas_search",
                "metric": f"{name}_{metric}_ms_{args.workers}_workers",
                "value": round(statistics.median(values), 3),
                "unit": "ms",
                "better": "lower",
            }
            if goal is not None:
                result["target"] = goal
            results.append(result)
    for result in results:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
