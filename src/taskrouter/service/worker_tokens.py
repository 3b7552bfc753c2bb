"""Access Tokens for workers: issued for the CLI, checked for the Worker SDK's face."""

from __future__ import annotations

from taskrouter.auth import access_tokens
from taskrouter.auth.access_tokens import TaskRouterGrant
from taskrouter.domain.entities import ApiKey
from taskrouter.domain.errors import Invalid, NotFound, Unauthenticated
from taskrouter.service.accounts import Accounts
from taskrouter.service.runtime import Runtime

# The API key `taskrouter token` signs with when it is not told which: made once per account.
TOKEN_KEY_NAME = "worker access tokens"


class WorkerTokens:
    def __init__(self, runtime: Runtime, accounts: Accounts) -> None:
        self._rt = runtime
        self._accounts = accounts

    async def verify(self, token: str) -> TaskRouterGrant:
        """The grant a token carries, if it is genuine, current, and names a worker that
        exists in a workspace of the key's account."""
        keys: dict[str, ApiKey | None] = {}
        iss = access_tokens.issuer(token)
        if iss is not None:
            keys[iss] = await self._accounts.api_key(iss)

        def secret_of(sid: str) -> tuple[str, str] | None:
            key = keys.get(sid)
            return None if key is None else (key.secret, key.account_sid)

        grant = access_tokens.verify(token, secret_of, self._rt.clock.now_ms() // 1000)
        state = self._rt.workspaces.get(grant.workspace_sid)
        if state is None or state.workspace.account_sid != grant.account_sid:
            raise Unauthenticated(f"The token's workspace {grant.workspace_sid} does not exist")
        if grant.worker_sid not in state.workers:
            raise Unauthenticated(f"The token's worker {grant.worker_sid} does not exist")
        return grant

    async def issue(
        self,
        workspace_sid: str,
        worker_sid: str,
        *,
        ttl_s: int = access_tokens.DEFAULT_TTL_S,
        key_sid: str | None = None,
    ) -> str:
        if not 1 <= ttl_s <= access_tokens.MAX_TTL_S:
            raise Invalid(f"ttl must be between 1 and {access_tokens.MAX_TTL_S} seconds")
        state = self._rt.workspaces.get(workspace_sid)
        if state is None:
            raise NotFound(f"workspace {workspace_sid} does not exist")
        if worker_sid not in state.workers:
            raise NotFound(f"worker {worker_sid} does not exist in workspace {workspace_sid}")
        account_sid = state.workspace.account_sid
        key = await self._signing_key(account_sid, key_sid)
        return access_tokens.issue(
            account_sid=account_sid,
            key_sid=key.sid,
            secret=key.secret,
            workspace_sid=workspace_sid,
            worker_sid=worker_sid,
            now_s=self._rt.clock.now_ms() // 1000,
            ttl_s=ttl_s,
        )

    async def _signing_key(self, account_sid: str, key_sid: str | None) -> ApiKey:
        if key_sid is not None:
            key = await self._accounts.api_key(key_sid)
            if key is None or key.account_sid != account_sid:
                raise NotFound(f"API key {key_sid} does not exist for account {account_sid}")
            return key
        for key in self._rt.api_keys.values():
            if key.account_sid == account_sid and key.friendly_name == TOKEN_KEY_NAME:
                return key
        return await self._accounts.create_key(account_sid, TOKEN_KEY_NAME)
