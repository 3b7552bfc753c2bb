"""Benchmark of the expression language: compile time and evaluation throughput.

Run: .venv/bin/python bench/expressions.py   (or ./dev bench expressions)

Figures (medians over 5 runs, each run doing the whole workload once):
- compile_us_per_expression: `compile_expression` on each of 5,000 varied TargetWorkers
  expressions, with the per-text cache bypassed and the code-template cache emptied at the start
  of every run, so each run pays Python's compile() for every shape it meets, as a freshly
  started process would.
- evaluations_per_second: 50 queue expressions, each evaluated against all 10,000 workers (with
  nested attributes) through `CompiledExpression.evaluate_many`, the batch entry point for
  computing queue membership. Caches are emptied first, so the first run also pays for building
  the fused batch loops.
Human lines add the per-call figures, the cost of fusing, and compilation with no template
reuse at all.

Everything is generated from fixed seeds, so runs are comparable.
"""

from __future__ import annotations

import gc
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

try:
    from taskrouter import expressions as ex
except ModuleNotFoundError:  # running from a checkout without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from taskrouter import expressions as ex

RUNS = 5
COMPILE_COUNT = 5_000
QUEUE_COUNT = 50
WORKER_COUNT = 10_000
EVALUATIONS_TARGET = 5_000_000
COMPILE_TARGET_US = 50

SKILLS = [
    "support",
    "sales",
    "billing",
    "tech",
    "vip",
    "returns",
    "fraud",
    "onboarding",
    "retention",
    "escalations",
    "chat",
    "email",
]
LANGUAGES = ["en", "es", "fr", "de", "pt", "jp", "vn", "hi"]
TEAMS = ["alpha", "bravo", "charlie", "delta", "echo"]
REGIONS = ["us-east", "us-west", "emea", "apac", "latam"]
COUNTRIES = ["US", "GB", "DE", "JP", "BR", "IN"]
CERTS = ["pci", "hipaa", "gdpr", "sox"]


def make_worker(rng: random.Random, i: int) -> dict[str, Any]:
    level: Any = rng.randint(0, 10)
    if rng.random() < 0.1:
        level = str(level)  # attribute documents from forms often carry numbers as strings
    worker: dict[str, Any] = {
        "skills": rng.sample(SKILLS, rng.randint(0, 5)),
        "languages": rng.sample(LANGUAGES, rng.randint(1, 3)),
        "level": level,
        "team": rng.choice(TEAMS),
        "region": rng.choice(REGIONS),
        "vip": rng.random() < 0.2,
        "contact_uri": f"client:agent_{i}",
        "routing": {
            "tier": rng.randint(1, 3),
            "certs": rng.sample(CERTS, rng.randint(0, 2)),
            "queue_pref": rng.choice(TEAMS),
        },
        "profile": {
            "location": {"country": rng.choice(COUNTRIES), "city": f"city{rng.randint(1, 50)}"},
            "seniority": round(rng.uniform(0, 10), 1),
        },
    }
    for key in ("level", "team", "routing", "vip"):
        if rng.random() < 0.05:
            del worker[key]  # some workers lack some attributes
    return worker


def _kw(rng: random.Random, word: str) -> str:
    return rng.choice([word, word.lower(), word.capitalize()]) if rng.random() < 0.3 else word


def make_clause(rng: random.Random) -> str:
    q = rng.choice(["'", '"'])
    kind = rng.randrange(16)
    if kind == 0:
        return f"skills {_kw(rng, 'HAS')} {q}{rng.choice(SKILLS)}{q}"
    if kind == 1:
        return f"languages {rng.choice(['HAS', '>-'])} {q}{rng.choice(LANGUAGES)}{q}"
    if kind == 2:
        return f"{q}{rng.choice(LANGUAGES)}{q} {_kw(rng, 'IN')} languages"
    if kind == 3:
        return f"level {rng.choice(['>=', '>', '<', '<='])} {rng.randint(0, 10)}"
    if kind == 4:
        return f"team {rng.choice(['==', '='])} {q}{rng.choice(TEAMS)}{q}"
    if kind == 5:
        picked = ", ".join(f"{q}{r}{q}" for r in rng.sample(REGIONS, rng.randint(1, 3)))
        return f"region {rng.choice(['IN', '<-', 'NOT IN'])} [{picked}]"
    if kind == 6:
        return f"vip == {rng.choice(['true', 'false'])}"
    if kind == 7:
        return f"routing.tier <= {rng.randint(1, 3)}"
    if kind == 8:
        return f"profile.location.country == {q}{rng.choice(COUNTRIES)}{q}"
    if kind == 9:
        return f"routing.certs HAS {q}{rng.choice(CERTS)}{q}"
    if kind == 10:
        return f"skills[any] = {q}{rng.choice(SKILLS)}{q}"
    if kind == 11:
        return f"contact_uri {_kw(rng, 'CONTAINS')} {q}agent_{rng.randint(0, 9)}{q}"
    if kind == 12:
        return f"team != {q}{rng.choice(TEAMS)}{q}"
    if kind == 13:
        return f"profile.seniority > {rng.randint(0, 9)}.5"
    if kind == 14:
        return f"worker.routing.queue_pref == {q}{rng.choice(TEAMS)}{q}"
    return f"skills NOT HAS {q}{rng.choice(SKILLS)}{q}"


def make_expression(rng: random.Random) -> str:
    if rng.random() < 0.03:
        return "1==1"
    count = rng.choices([1, 2, 3, 4], weights=[35, 40, 18, 7])[0]
    clauses = [make_clause(rng) for _ in range(count)]
    if rng.random() < 0.05:
        clauses[0] = f"NOT ({clauses[0]})"
    text = clauses[0]
    for clause in clauses[1:]:
        joiner = _kw(rng, "AND") if rng.random() < 0.75 else _kw(rng, "OR")
        grouped = rng.random() < 0.15
        text = f"({text}) {joiner} {clause}" if grouped else f"{text} {joiner} {clause}"
    return text


def bench_compile(texts: list[str], *, reuse_templates: bool = True, fuse: bool = False) -> float:
    """Microseconds per expression, compiling every text once, text cache bypassed."""
    ex.clear_caches()
    compile_expression = ex.compile_expression
    clear = ex.clear_caches
    start = time.perf_counter()
    if not reuse_templates:
        for text in texts:
            clear()
            compile_expression(text, cache=False)
    elif fuse:
        for text in texts:
            compile_expression(text, cache=False).fused()
    else:
        for text in texts:
            compile_expression(text, cache=False)
    elapsed = time.perf_counter() - start
    return elapsed / len(texts) * 1e6


def bench_eval(
    compiled: list[ex.CompiledExpression], workers: list[dict[str, Any]], mode: str
) -> float:
    """Evaluations per second over every (expression, worker) pair."""
    start = time.perf_counter()
    if mode == "batch":
        for expression in compiled:
            expression.evaluate_many(workers)
    elif mode == "fused":
        for expression in compiled:
            list(map(expression.fused(), workers))
    else:
        for expression in compiled:
            list(map(expression.predicate, workers))
    elapsed = time.perf_counter() - start
    return len(compiled) * len(workers) / elapsed


def median_of(runs: int, measure: Callable[[], float]) -> tuple[float, list[float]]:
    values = [measure() for _ in range(runs)]
    return statistics.median(values), values


def _runs(values: list[float], scale: float = 1.0) -> str:
    return ", ".join(f"{v / scale:.2f}" for v in values)


def main() -> None:
    rng = random.Random(20240602)
    texts = [make_expression(rng) for _ in range(COMPILE_COUNT)]
    queues = [make_expression(rng) for _ in range(QUEUE_COUNT)]
    workers = [make_worker(rng, i) for i in range(WORKER_COUNT)]

    ex.clear_caches()
    for text in texts:
        ex.compile_expression(text, cache=False)
    composed_templates = ex.compiler.template_count()
    for text in texts:
        ex.compile_expression(text, cache=False).fused()
    all_templates = ex.compiler.template_count()
    gc.collect()

    compile_us, compile_runs = median_of(RUNS, lambda: bench_compile(texts))
    fused_us, fused_runs = median_of(RUNS, lambda: bench_compile(texts[:1000], fuse=True))
    cold_us, cold_runs = median_of(RUNS, lambda: bench_compile(texts[:500], reuse_templates=False))

    ex.clear_caches()
    compiled = [ex.compile_expression(text, cache=False) for text in queues]
    matches = sum(sum(map(expression.predicate, workers)) for expression in compiled)
    batch_eps, batch_runs = median_of(RUNS, lambda: bench_eval(compiled, workers, "batch"))
    fused_eps, fused_call_runs = median_of(RUNS, lambda: bench_eval(compiled, workers, "fused"))
    call_eps, call_runs = median_of(RUNS, lambda: bench_eval(compiled, workers, "composed"))

    print(
        f"{COMPILE_COUNT} varied TargetWorkers expressions, e.g. {texts[0]!r}; they need "
        f"{composed_templates} code templates composed, {all_templates} with their fused forms"
    )
    print(
        f"compile_expression, text cache bypassed: {compile_us:.1f} us/expression "
        f"(runs: {_runs(compile_runs)})"
    )
    print(
        f"  plus fused() on first use (first 1,000): {fused_us:.1f} us/expression in total "
        f"(runs: {_runs(fused_runs)})"
    )
    print(
        f"  with no template reuse at all (first 500): {cold_us:.1f} us/expression "
        f"(runs: {_runs(cold_runs)})"
    )
    print(
        f"evaluation: {QUEUE_COUNT} queue expressions x {WORKER_COUNT} workers, "
        f"{matches} matches per pass; M evaluations/s:"
    )
    print(
        f"  evaluate_many (fused batch loop): {batch_eps / 1e6:.2f} "
        f"(runs: {_runs(batch_runs, 1e6)}; the first builds the loops)"
    )
    print(
        f"  fused() predicate, one call each:  {fused_eps / 1e6:.2f} "
        f"(runs: {_runs(fused_call_runs, 1e6)})"
    )
    print(
        f"  composed predicate, one call each: {call_eps / 1e6:.2f} (runs: {_runs(call_runs, 1e6)})"
    )
    print(
        json.dumps(
            {
                "bench": "expressions",
                "metric": "evaluations_per_second",
                "value": round(batch_eps, 1),
                "unit": "1/s",
                "target": EVALUATIONS_TARGET,
                "better": "higher",
            }
        )
    )
    print(
        json.dumps(
            {
                "bench": "expressions",
                "metric": "compile_us_per_expression",
                "value": round(compile_us, 1),
                "unit": "us",
                "target": COMPILE_TARGET_US,
                "better": "lower",
            }
        )
    )


if __name__ == "__main__":
    main()
