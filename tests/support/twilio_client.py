"""The official twilio-python client pointed at a local taskrouter, with every response checked.

`make_client(base_url, username, password)` builds `twilio.rest.Client` as the official-clients
notes show (a non-empty `environment=` so TWILIO_EDGE/TWILIO_REGION cannot leak in, and
`client.taskrouter.base_url` set to the server), with an http_client that

- rewrites the scheme and host of every URL to the local server (immune to edge/region
  splicing, and to paging URLs that point elsewhere; those are caught by the link check), and
- records every exchange and checks each response with `support.spec.check_response`. A
  problem raises `SpecViolation` (an AssertionError) from the SDK call that made the request,
  and is also kept in `violations` so a fixture can fail a test that swallowed the exception.

`RawApi` does the same for the few requests the SDK cannot express (httpx).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import pytest
from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from support.spec import check_response


class SpecViolation(AssertionError):
    """A response of the server broke the Twilio spec or the wire rules."""


@dataclass
class Exchange:
    method: str
    url: str
    status: int
    headers: Mapping[str, str]
    text: str
    params: Mapping[str, Any] | None = None
    data: Mapping[str, Any] | None = None

    def json(self) -> Any:
        return json.loads(self.text) if self.text else None

    @property
    def path(self) -> str:
        return urlsplit(self.url).path


@dataclass
class Recorder:
    """Exchanges seen by one client, and the problems found in them."""

    public_base: str | None
    exchanges: list[Exchange] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)

    def record(self, exchange: Exchange) -> None:
        self.exchanges.append(exchange)
        problems = check_response(
            exchange.method,
            exchange.url,
            exchange.status,
            exchange.headers.get("content-type"),
            exchange.text,
            public_base=self.public_base,
        )
        if problems:
            self.violations.extend(problems)
            raise SpecViolation("\n".join(problems))

    @property
    def last(self) -> Exchange:
        assert self.exchanges, "no request was made"
        return self.exchanges[-1]

    def assert_clean(self) -> None:
        assert not self.violations, "responses broke the spec:\n" + "\n".join(self.violations)


class LocalRecordingHttpClient(TwilioHttpClient):
    """TwilioHttpClient that sends everything to `base_url` and records every response."""

    def __init__(self, base_url: str, recorder: Recorder, timeout: float = 30.0) -> None:
        super().__init__(timeout=timeout)
        self.base_url = base_url.rstrip("/")
        self.recorder = recorder

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        parts = urlsplit(url)
        local = self.base_url + parts.path + (f"?{parts.query}" if parts.query else "")
        response = super().request(
            method,
            local,
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )
        self.recorder.record(
            Exchange(
                method=method.upper(),
                url=local,
                status=response.status_code,
                headers=response.headers,
                text=response.text,
                params=params,
                data=data,
            )
        )
        return response


def make_client(
    base_url: str,
    username: str,
    password: str,
    *,
    account_sid: str | None = None,
    public_base: str | None = None,
) -> Client:
    """A twilio-python Client for the server at `base_url` (see the module docstring).

    `public_base` is where the server's URLs must point (its --public-url); default
    `base_url`. The recorder is `client.http_client.recorder`.
    """
    recorder = Recorder(public_base=(public_base or base_url).rstrip("/"))
    http_client = LocalRecordingHttpClient(base_url, recorder)
    client = Client(
        username,
        password,
        account_sid=account_sid,
        http_client=http_client,
        environment={"TWILIO_ACCOUNT_SID": account_sid or username},
    )
    client.taskrouter.base_url = base_url.rstrip("/")
    return client


def recorder_of(client: Client) -> Recorder:
    http_client = client.http_client
    assert isinstance(http_client, LocalRecordingHttpClient)
    return http_client.recorder


class RawApi:
    """httpx against the server for what the SDK cannot send; every response is checked."""

    def __init__(
        self,
        base_url: str,
        auth: tuple[str, str] | None,
        *,
        public_base: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.recorder = Recorder(public_base=(public_base or base_url).rstrip("/"))
        self.http = httpx.Client(base_url=self.base_url, auth=auth, timeout=30.0)

    def close(self) -> None:
        self.http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        data: Mapping[str, Any] | Sequence[tuple[str, str]] | None = None,
        content: str | bytes | None = None,
        headers: Mapping[str, str] | None = None,
        check: bool = True,
        **kwargs: Any,
    ) -> httpx.Response:
        all_headers = dict(headers or {})
        if data is not None:
            # Encoded here so repeated keys (a list of pairs) and exact bodies are possible.
            content = urlencode(list(data.items()) if isinstance(data, Mapping) else data)
        if content is not None:
            all_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        response = self.http.request(
            method, path, params=params, content=content, headers=all_headers, **kwargs
        )
        exchange = Exchange(
            method=method.upper(),
            url=str(response.request.url),
            status=response.status_code,
            headers=response.headers,
            text=response.text,
        )
        if check:
            self.recorder.record(exchange)
        else:
            self.recorder.exchanges.append(exchange)
        return response

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)


# -- asserting errors ---------------------------------------------------------------------------


@dataclass
class TwilioError:
    status: int
    code: int
    message: str
    body: dict[str, Any]


def _as_set(value: int | Sequence[int]) -> set[int]:
    return {value} if isinstance(value, int) else set(value)


def assert_error(
    status: int,
    body: Any,
    *,
    expect_status: int | Sequence[int],
    code: int | Sequence[int] | None = None,
    mentions: str | Sequence[str] = (),
) -> TwilioError:
    """Check one Twilio error answer; `mentions` must each appear in its message."""
    assert status in _as_set(expect_status), f"status {status}, expected {expect_status}: {body}"
    assert isinstance(body, dict), f"error body {body!r}"
    if code is None:
        code = {400: 20001, 401: 20003, 404: 20404, 409: 20409, 412: 412, 429: 20429}.get(
            status, status
        )
    assert body.get("code") in _as_set(code), f"code {body.get('code')}, expected {code}: {body}"
    message = str(body.get("message", ""))
    for text in [mentions] if isinstance(mentions, str) else mentions:
        assert text in message, f"error message {message!r} does not mention {text!r}"
    return TwilioError(status, int(body["code"]), message, body)


@contextmanager
def raises_twilio(
    client: Client,
    status: int | Sequence[int],
    *,
    code: int | Sequence[int] | None = None,
    mentions: str | Sequence[str] = (),
) -> Iterator[list[TwilioError]]:
    """The SDK call inside raises (TwilioRestException, or TwilioException for list pages),
    and the server's answer is a Twilio error with that status, code and message text.

    Yields a list that holds the parsed error once the block is done.
    """
    recorder = recorder_of(client)
    before = len(recorder.exchanges)
    found: list[TwilioError] = []
    with pytest.raises(TwilioException) as info:
        yield found
    assert len(recorder.exchanges) > before, f"no request reached the server: {info.value!r}"
    last = recorder.last
    found.append(
        assert_error(last.status, last.json(), expect_status=status, code=code, mentions=mentions)
    )


def assert_raw_error(
    response: httpx.Response,
    status: int | Sequence[int],
    *,
    code: int | Sequence[int] | None = None,
    mentions: str | Sequence[str] = (),
) -> TwilioError:
    body = response.json() if response.content else None
    return assert_error(
        response.status_code, body, expect_status=status, code=code, mentions=mentions
    )
