"""The face's own OpenAPI document, written by hand beside this module and served as is."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response


@cache
def raw() -> bytes:
    return resources.files(__package__).joinpath("openapi.json").read_bytes()


def spec() -> dict[str, Any]:
    value: dict[str, Any] = orjson.loads(raw())
    return value


async def document(request: Request) -> Response:
    # Public, like any API description: it holds no account's data.
    return Response(raw(), media_type="application/json")
