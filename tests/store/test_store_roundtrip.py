"""Put, get, load, query and delete behave the same on both backends."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from taskrouter.store import Delete, Put, Store, StoreClosed, open_store
from taskrouter.store.postgres import PostgresStore
from taskrouter.store.sqlite import SQLiteStore

NESTED = {
    "friendly_name": "Support — 日本語 🚀",
    "attributes": {"skills": ["en", "fr"], "level": 3, "ratio": 0.5, "none": None, "ok": True},
    "deep": [[{"a": [1, 2, {"b": 'ü\n\t"quoted"'}]}]],
}


def worker(sid: str, workspace: str = "WS1", **body: Any) -> Put:
    return Put(
        "workers",
        sid,
        {"account_sid": "AC1", "workspace_sid": workspace, "body": {"sid": sid, **body}},
    )


def task(sid: str, status: str, created: int, closed: int | None = None) -> Put:
    return Put(
        "tasks",
        sid,
        {
            "account_sid": "AC1",
            "workspace_sid": "WS1",
            "assignment_status": status,
            "date_created_ms": created,
            "date_closed_ms": closed,
            "body": {"sid": sid, "status": status},
        },
    )


def run_with_store(url: str, body: Callable[[Store], Awaitable[None]]) -> None:
    async def main() -> None:
        store = open_store(url)
        await store.open()
        try:
            await body(store)
        finally:
            await store.close()

    asyncio.run(main())


def test_open_store_picks_the_backend() -> None:
    assert isinstance(open_store("sqlite:///x/y.db"), SQLiteStore)
    assert isinstance(open_store("postgresql://u@h:5432/d"), PostgresStore)
    assert isinstance(open_store("postgres://u@h/d"), PostgresStore)
    with pytest.raises(ValueError):
        open_store("mysql://u@h/d")
    with pytest.raises(ValueError):
        open_store("sqlite:///:memory:")


def test_put_get_load_delete_round_trip(database_url: str) -> None:
    async def body(store: Store) -> None:
        account = {
            "friendly_name": "Acme ☃",
            "auth_token": "tok",
            "email": None,
            "status": "active",
            "date_created": "2024-05-01T10:00:00Z",
            "body": NESTED,
        }
        await store.commit([Put("accounts", "AC1", account), worker("WK1", **NESTED)])
        assert await store.get("accounts", "AC1") == {"sid": "AC1", **account}
        assert await store.get("workers", "WK1") == {
            "sid": "WK1",
            "account_sid": "AC1",
            "workspace_sid": "WS1",
            "body": {"sid": "WK1", **NESTED},
        }
        assert await store.get("workers", "WKmissing") is None
        assert [r["sid"] for r in await store.load("accounts")] == ["AC1"]

        await store.commit([Delete("workers", "WK1"), Delete("workers", "WKnever")])
        assert await store.get("workers", "WK1") is None
        assert await store.load("workers") == []
        # A list body, and a row that sets sid explicitly.
        await store.commit(
            [Put("workspaces", "WS9", {"sid": "WS9", "account_sid": "AC1", "body": [1, "x"]})]
        )
        assert (await store.get("workspaces", "WS9")) == {
            "sid": "WS9",
            "account_sid": "AC1",
            "body": [1, "x"],
        }

    run_with_store(database_url, body)


def test_put_replaces_the_whole_row(database_url: str) -> None:
    async def body(store: Store) -> None:
        await store.commit([task("WT1", "pending", 1000)])
        await store.commit([task("WT1", "completed", 1000, closed=2000)])
        row = await store.get("tasks", "WT1")
        assert row is not None
        assert row["assignment_status"] == "completed"
        assert row["date_closed_ms"] == 2000
        assert row["body"] == {"sid": "WT1", "status": "completed"}
        # Omitting a nullable column sets it to NULL: a Put is the row, not a patch.
        await store.commit(
            [
                Put(
                    "tasks",
                    "WT1",
                    {
                        "account_sid": "AC1",
                        "workspace_sid": "WS1",
                        "assignment_status": "pending",
                        "date_created_ms": 1000,
                        "body": {},
                    },
                )
            ]
        )
        row = await store.get("tasks", "WT1")
        assert row is not None
        assert row["date_closed_ms"] is None
        assert len(await store.load("tasks")) == 1

    run_with_store(database_url, body)


def test_last_change_to_a_row_wins_within_one_commit(database_url: str) -> None:
    async def body(store: Store) -> None:
        await store.commit([worker("WK1", v=1), Delete("workers", "WK1"), worker("WK2", v=1)])
        await store.commit([worker("WK2", v=2), worker("WK2", v=3), Delete("workers", "WK3")])
        await store.commit([Delete("workers", "WK2"), worker("WK2", v=4)])
        rows = await store.load("workers")
        assert [(r["sid"], r["body"]["v"]) for r in rows] == [("WK2", 4)]

    run_with_store(database_url, body)


def test_query_filters_orders_and_limits(database_url: str) -> None:
    async def body(store: Store) -> None:
        await store.commit(
            [
                task("WT3", "pending", 300),
                task("WT1", "pending", 100),
                task("WT2", "assigned", 200),
                task("WT4", "completed", 400, closed=500),
                task("WT5", "pending", 300),
            ]
        )

        async def sids(where: dict[str, Any], **kw: Any) -> list[str]:
            return [r["sid"] for r in await store.query("tasks", where, **kw)]

        assert await sids({"workspace_sid": "WS1"}) == ["WT1", "WT2", "WT3", "WT4", "WT5"]
        assert await sids({"workspace_sid": "WS1", "assignment_status": "pending"}) == [
            "WT1",
            "WT3",
            "WT5",
        ]
        assert await sids({"assignment_status": "pending"}, order_by="-date_created_ms") == [
            "WT5",  # ties on the order column fall back to sid, in the same direction
            "WT3",
            "WT1",
        ]
        assert await sids({}, order_by="date_created_ms", limit=2) == ["WT1", "WT2"]
        assert await sids({"date_closed_ms": None}, limit=0) == []
        assert await sids({"date_closed_ms": None}) == ["WT1", "WT2", "WT3", "WT5"]
        assert await sids({"date_closed_ms": 500}) == ["WT4"]
        assert await sids({"sid": "WT2"}) == ["WT2"]
        # NULLs sort last ascending and first descending, on both backends.
        assert (await sids({}, order_by="date_closed_ms"))[-1] != "WT4"
        assert (await sids({}, order_by="-date_closed_ms"))[-1] == "WT4"
        assert await sids({"workspace_sid": "WSother"}) == []
        rows = await store.query("tasks", {"sid": "WT4"})
        assert rows == [await store.get("tasks", "WT4")]

    run_with_store(database_url, body)


def test_query_orders_text_by_code_point(database_url: str) -> None:
    names = ["b", "B", "a", "é", "Z", "_", "aa", "ä"]

    async def body(store: Store) -> None:
        await store.commit([worker(name) for name in names])
        got = [r["sid"] for r in await store.query("workers", {}, order_by="sid")]
        assert got == sorted(names)

    run_with_store(database_url, body)


def test_query_rejects_what_the_schema_does_not_have(database_url: str) -> None:
    async def body(store: Store) -> None:
        with pytest.raises(ValueError, match="unknown table"):
            await store.query("nope", {})
        with pytest.raises(ValueError, match="cannot filter"):
            await store.query("tasks", {"sid = sid OR 1": "x"})
        with pytest.raises(ValueError, match="cannot filter"):
            await store.query("tasks", {"body": "{}"})
        with pytest.raises(ValueError, match="cannot order"):
            await store.query("tasks", {}, order_by="sid; DROP TABLE tasks")
        with pytest.raises(ValueError, match="limit"):
            await store.query("tasks", {}, limit=-1)
        with pytest.raises(ValueError, match="int64"):
            await store.query("tasks", {"date_created_ms": "1"})
        with pytest.raises(ValueError, match="unknown table"):
            await store.load("nope")
        with pytest.raises(ValueError, match="unknown table"):
            await store.get("nope", "x")
        # Values are bound, never spliced into SQL.
        assert await store.query("tasks", {"assignment_status": "x' OR '1'='1"}) == []

    run_with_store(database_url, body)


BAD_CHANGES: list[tuple[Any, str]] = [
    (Put("nope", "X1", {"body": {}}), "unknown table"),
    (Delete("nope", "X1"), "unknown table"),
    (Put("workspaces", "WS2", {"account_sid": "AC1", "body": {}, "color": "red"}), "unknown col"),
    (Put("workspaces", "WS2", {"body": {}}), "may not be null"),
    (Put("workspaces", "WS2", {"account_sid": "AC1"}), "body"),
    (Put("workspaces", "WS2", {"account_sid": "AC1", "body": "text"}), "body"),
    (Put("workspaces", "WS2", {"account_sid": 7, "body": {}}), "string"),
    (Put("workspaces", "WS2", {"account_sid": "A\x00C", "body": {}}), "NUL"),
    (Put("workspaces", "WS2", {"sid": "WS3", "account_sid": "AC1", "body": {}}), "differs"),
    (Put("workspaces", "", {"account_sid": "AC1", "body": {}}), "sid"),
    (Put("workspaces", "WS2", {"account_sid": "AC1", "body": {"x": {1, 2}}}), "JSON"),
    (task("WT9", "pending", 2**63), "int64"),
    (task("WT9", "pending", True), "int64"),  # type: ignore[arg-type]
    ("not a change", "not a change"),
]


def test_invalid_change_fails_its_commit_before_anything_is_written(database_url: str) -> None:
    async def body(store: Store) -> None:
        for bad, message in BAD_CHANGES:
            with pytest.raises(ValueError, match=message):
                await store.commit(
                    [Put("workspaces", "WS1", {"account_sid": "AC1", "body": {}}), bad]
                )
        assert await store.load("workspaces") == []
        assert await store.load("tasks") == []

    run_with_store(database_url, body)


def test_commit_after_close_is_refused(database_url: str) -> None:
    async def main() -> None:
        store = open_store(database_url)
        await store.open()
        await store.close()
        await store.close()  # idempotent
        with pytest.raises(StoreClosed):
            await store.commit([worker("WK1")])
        with pytest.raises(StoreClosed):
            await store.load("workers")

    asyncio.run(main())
