"""One signed, form-encoded POST to a receiver: what assignment and event callbacks share."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote_plus

from taskrouter.events.http import HttpClient, HttpResponse
from taskrouter.events.signature import HEADER, sign

USER_AGENT = "taskrouter-webhooks/1.0"
FORM = "application/x-www-form-urlencoded"

TokenOf = Callable[[str], str | None]


class Sender:
    """Posts `params` as a form, signed with the account's auth token (X-Twilio-Signature)
    when it has one, with the delivery's sid as Twilio's idempotency token."""

    def __init__(self, client: HttpClient, token_of: TokenOf) -> None:
        self.client = client
        self.token_of = token_of

    async def post(
        self, url: str, params: dict[str, str], account_sid: str, idempotency: str
    ) -> HttpResponse:
        headers = [("Content-Type", FORM), ("I-Twilio-Idempotency-Token", idempotency)]
        auth_token = self.token_of(account_sid)
        if auth_token:
            headers.append((HEADER, sign(auth_token, url, params)))
        return await self.client.post(url, form_body(params), headers)

    async def aclose(self) -> None:
        await self.client.aclose()


_PLAIN = re.compile(r"[A-Za-z0-9_.\-~]*")


def form_body(params: dict[str, str]) -> bytes:
    """`urlencode(params)`, three times faster: most values (SIDs, numbers, statuses) need no
    quoting, and the names are plain PascalCase."""
    plain = _PLAIN.fullmatch
    return "&".join(
        f"{name}={value}" if plain(value) else f"{quote_plus(name)}={quote_plus(value)}"
        for name, value in params.items()
    ).encode()
