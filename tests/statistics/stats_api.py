"""Plain HTTP against one workspace's statistics, every answer checked against the spec."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import httpx

from routing.helpers import ClockedServer
from support.twilio_client import RawApi


class Api:
    def __init__(self, server: ClockedServer, workspace_sid: str) -> None:
        self.server = server
        self.base = server.base_url
        self.account_sid = server.account.sid
        self.workspace_sid = workspace_sid
        self.raw = RawApi(server.base_url, (server.account.sid, server.account.secret))

    def close(self) -> None:
        self.raw.close()

    def path(self, tail: str) -> str:
        return f"/v1/Workspaces/{self.workspace_sid}/{tail}"

    def url(self, tail: str) -> str:
        return self.base + self.path(tail)

    def get(self, tail: str, **params: Any) -> Any:
        response = self.raw.get(self.path(tail), params=params)
        assert response.status_code == 200, f"GET {tail}: {response.status_code} {response.text}"
        return response.json()

    def get_url(self, url: str) -> Any:
        parts = urlsplit(url)
        response = self.raw.get(f"{parts.path}?{parts.query}")
        assert response.status_code == 200, f"GET {url}: {response.status_code} {response.text}"
        return response.json()

    def get_raw(self, tail: str, **params: Any) -> httpx.Response:
        return self.raw.get(self.path(tail), params=params)

    def post_raw(self, tail: str, content: str | bytes, content_type: str) -> httpx.Response:
        return self.raw.post(
            self.path(tail), content=content, headers={"Content-Type": content_type}
        )

    def post_json(self, tail: str, body: Any) -> Any:
        response = self.post_raw(tail, json.dumps(body), "application/json")
        assert response.status_code == 200, f"POST {tail}: {response.status_code} {response.text}"
        return response.json()
