"""An HTTP client for the CPaaS face whose every answer is checked against the face's OpenAPI
document before the test sees it."""

from __future__ import annotations

from typing import Any

import httpx

from api_cpaas.openapi_check import problems
from support.server import Credentials


class CpaasClient:
    def __init__(self, base_url: str, credentials: Credentials) -> None:
        self.credentials = credentials
        self.http = httpx.Client(
            base_url=base_url, auth=(credentials.sid, credentials.secret), timeout=30.0
        )
        self.checked = 0

    def close(self) -> None:
        self.http.close()

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content: bytes | None = None,
        auth: tuple[str, str] | None = None,
    ) -> httpx.Response:
        kwargs: dict[str, Any] = {}
        if content is not None:
            kwargs["content"] = content
            kwargs["headers"] = {"Content-Type": "application/json"}
        elif body is not None:
            kwargs["json"] = body
        if auth is not None:
            kwargs["auth"] = auth
        response = self.http.request(method, path, **kwargs)
        found = problems(method, path, response.status_code, response.json())
        assert not found, "\n".join(found)
        self.checked += 1
        return response

    def get(self, path: str) -> httpx.Response:
        return self.request("GET", path)

    def post(self, path: str, body: Any) -> httpx.Response:
        return self.request("POST", path, body)

    def put(self, path: str, body: Any) -> httpx.Response:
        return self.request("PUT", path, body)

    def delete(self, path: str) -> httpx.Response:
        return self.request("DELETE", path)

    def ok(self, method: str, path: str, body: Any = None) -> Any:
        """The `data` of a successful answer (asserting it succeeded)."""
        response = self.request(method, path, body)
        assert response.status_code == 200, f"{method} {path}: {response.text}"
        payload = response.json()
        assert payload["code"] == 200 and payload["message"] == "OK", payload
        return payload["data"]

    def fails(self, method: str, path: str, body: Any = None, *, status: int = 409) -> Any:
        """The error body of a failed answer (asserting the status)."""
        response = self.request(method, path, body)
        assert response.status_code == status, f"{method} {path}: {response.text}"
        error = response.json()
        assert set(error) == {"errorCode", "message", "data"}, error
        return error

    def search(self, collection: str, query: str = "") -> Any:
        return self.ok("GET", f"/taskrouter/{collection}/search{'?' + query if query else ''}")
