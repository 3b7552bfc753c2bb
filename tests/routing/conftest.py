"""Fixtures of the routing scenario tests: one clocked server per module and backend."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from routing.helpers import ClockedServer, World
from support.databases import BACKENDS, throwaway_database


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def server_database(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with throwaway_database(backend, tmp_path_factory.mktemp("routing-db")) as url:
        yield url


@pytest.fixture(scope="module")
def server(
    server_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ClockedServer]:
    """A clocked server shared by the module's tests; each test makes its own workspace."""
    clocked = ClockedServer(server_database, workdir=tmp_path_factory.mktemp("routing-server"))
    clocked.start()
    try:
        yield clocked
    finally:
        clocked.stop()


@pytest.fixture
def make_world(server: ClockedServer) -> Iterator[Callable[..., World]]:
    """`make_world(multi_task=..., prioritize_queue_order=...)`: a fresh workspace."""
    made: list[World] = []

    def make(**kwargs: Any) -> World:
        world = World(server, **kwargs)
        made.append(world)
        return world

    yield make
    for world in made:
        world.recorder.assert_clean()


@pytest.fixture
def world(make_world: Callable[..., World]) -> World:
    """A fresh multitasking workspace."""
    return make_world()
