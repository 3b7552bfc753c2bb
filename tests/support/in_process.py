"""The app in the test's own process, for tests that reach into its service or swap its parts."""

from __future__ import annotations

from starlette.applications import Starlette

from support.server import Credentials, new_account
from taskrouter.app import create_app
from taskrouter.service.service import Service


def app_with_account(database_url: str) -> tuple[Starlette, Credentials]:
    """The app, with no timers running, and an account that exists once it has started."""
    account = new_account()

    async def bootstrap(service: Service) -> None:
        await service.accounts.ensure(account.sid, account.secret)

    return create_app(database_url, bootstrap=bootstrap, run_timers=False), account
