"""Who may call the CRM face: HTTP Basic as on the Twilio face, and API keys as a bearer
token or in the X-API-Key header; another account's company is not found."""

from __future__ import annotations

import httpx
import pytest
from crm_harness import Company

from events.events_harness import EventServer
from support.server import Credentials, create_account, create_api_key


@pytest.fixture(scope="module")
def api_key(server: EventServer) -> Credentials:
    return create_api_key(server.database_url, server.account.sid)


def _get(server: EventServer, path: str, **headers: str) -> httpx.Response:
    return httpx.get(server.base_url + path, headers=headers, timeout=30.0)


def test_every_scheme_reaches_the_company(company: Company, api_key: Credentials) -> None:
    server = company.server
    path = f"{company.co}/twilio-queues"
    token = f"{api_key.sid}:{api_key.secret}"
    assert company.http.get(path).status_code == 200  # Basic, account SID and token
    basic_key = httpx.get(server.base_url + path, auth=(api_key.sid, api_key.secret), timeout=30.0)
    assert basic_key.status_code == 200
    assert _get(server, path, Authorization=f"Bearer {token}").status_code == 200
    assert _get(server, path, **{"X-API-Key": token}).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer SKnope:nope"},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic !!!"},
        {"X-API-Key": "just-a-secret"},
    ],
)
def test_bad_credentials_are_refused(company: Company, headers: dict[str, str]) -> None:
    response = _get(company.server, f"{company.co}/twilio-queues", **headers)
    assert response.status_code == 401
    assert response.json()["status"] == 401


def test_tokens_take_api_keys_only(company: Company, api_key: Credentials) -> None:
    server = company.server
    account_pair = f"{server.account.sid}:{server.account.secret}"
    path = f"{company.co}/twilio-queues"
    assert _get(server, path, Authorization=f"Bearer {account_pair}").status_code == 401
    assert _get(server, path, **{"X-API-Key": account_pair}).status_code == 401
    wrong = f"{api_key.sid}:{api_key.secret}x"
    assert _get(server, path, Authorization=f"Bearer {wrong}").status_code == 401


def test_another_accounts_company_is_not_found(company: Company) -> None:
    other = create_account(company.server.database_url, "other crm account")
    response = httpx.get(
        f"{company.server.base_url}{company.co}/twilio-unterminated-tasks",
        auth=(other.sid, other.secret),
        timeout=30.0,
    )
    assert response.status_code == 404 and response.json()["status"] == 404


def test_unknown_methods_answer_in_the_faces_shape(company: Company) -> None:
    response = company.http.post(f"{company.co}/twilio-queues")
    assert response.status_code == 405 and response.json()["status"] == 405
