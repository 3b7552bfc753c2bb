"""Accounts and API keys, and checking the credentials a request carries."""

from __future__ import annotations

import hmac
import secrets

from taskrouter.domain.entities import Account, ApiKey
from taskrouter.domain.errors import Invalid, NotFound, Unauthenticated
from taskrouter.domain.sids import Prefix, is_sid, new_sid
from taskrouter.service import records
from taskrouter.service.runtime import Runtime


class Accounts:
    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime

    async def create(
        self,
        friendly_name: str = "taskrouter account",
        *,
        sid: str | None = None,
        auth_token: str | None = None,
        email: str | None = None,
    ) -> Account:
        if sid is not None and not is_sid(sid, Prefix.ACCOUNT):
            raise Invalid(f"{sid!r} is not an account SID (AC and 32 hex digits)")
        account = Account(
            sid=sid or new_sid(Prefix.ACCOUNT),
            friendly_name=friendly_name,
            auth_token=auth_token or secrets.token_hex(16),
            date_created=self._rt.clock.now_ms(),
            email=email,
        )
        await self._rt.commit([records.put(account)])
        self._rt.accounts[account.sid] = account
        return account

    def fetch(self, sid: str) -> Account:
        account = self._rt.accounts.get(sid)
        if account is None:
            raise NotFound(f"account {sid} does not exist")
        return account

    async def ensure(self, sid: str, auth_token: str, email: str | None = None) -> Account:
        """The account given by the environment exists afterwards, with that token (and that
        email, when one is given)."""
        account = self._rt.accounts.get(sid)
        if account is None:
            return await self.create(sid=sid, auth_token=auth_token, email=email)
        if account.auth_token != auth_token or (email is not None and account.email != email):
            account.auth_token = auth_token
            if email is not None:
                account.email = email
            await self._rt.commit([records.put(account)])
        return account

    async def create_key(self, account_sid: str, friendly_name: str = "") -> ApiKey:
        if account_sid not in self._rt.accounts:
            raise NotFound(f"account {account_sid} does not exist")
        key = ApiKey(
            sid=new_sid(Prefix.API_KEY),
            account_sid=account_sid,
            secret=secrets.token_urlsafe(24),
            friendly_name=friendly_name,
            date_created=self._rt.clock.now_ms(),
        )
        await self._rt.commit([records.put(key)])
        self._rt.api_keys[key.sid] = key
        return key

    async def authenticate(self, username: str, password: str) -> str:
        """The account SID that `username:password` (AccountSid:AuthToken or Key:Secret) names."""
        if username.startswith(Prefix.API_KEY.value):
            key = self._rt.api_keys.get(username) or await self._fetch_key(username)
            if key is not None and hmac.compare_digest(key.secret, password):
                return self._admit(key.account_sid)
        else:
            account = self._rt.accounts.get(username) or await self._fetch_account(username)
            if (
                account is not None
                and account.status == "active"
                and hmac.compare_digest(account.auth_token, password)
            ):
                return self._admit(account.sid)
        raise Unauthenticated("Authenticate")

    async def api_key(self, sid: str) -> ApiKey | None:
        return self._rt.api_keys.get(sid) or await self._fetch_key(sid)

    def _admit(self, account_sid: str) -> str:
        # Every face authenticates here, so one per-account rate covers them all.
        limiter = self._rt.rate_limiter
        if limiter is not None:
            limiter.admit(account_sid)
        return account_sid

    # Accounts and keys made by the CLI while the server runs are found on first use.
    async def _fetch_account(self, sid: str) -> Account | None:
        if not is_sid(sid, Prefix.ACCOUNT):
            return None
        row = await self._rt.store.get("accounts", sid)
        if row is None:
            return None
        account = Account.from_record(row["body"])
        self._rt.accounts[sid] = account
        return account

    async def _fetch_key(self, sid: str) -> ApiKey | None:
        if not is_sid(sid, Prefix.API_KEY):
            return None
        row = await self._rt.store.get("api_keys", sid)
        if row is None:
            return None
        key = ApiKey.from_record(row["body"])
        self._rt.api_keys[sid] = key
        return key
