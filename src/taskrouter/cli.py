"""The `taskrouter` command line: run the server and manage its database and accounts."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import orjson

from taskrouter import __version__

DEFAULT_DATABASE = "sqlite:///taskrouter-data/taskrouter.db"


def _database(args: argparse.Namespace) -> str:
    url: str = args.database or os.environ.get("TASKROUTER_DATABASE_URL") or DEFAULT_DATABASE
    return url


def _print_json(value: object) -> None:
    sys.stdout.write(orjson.dumps(value).decode() + "\n")
    sys.stdout.flush()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="taskrouter", description="A self-hosted task routing engine."
    )
    parser.add_argument("--version", action="version", version=f"taskrouter {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def with_database(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument(
            "--database",
            help="sqlite:///path or postgresql://user@host:port/db "
            f"(default: $TASKROUTER_DATABASE_URL, else {DEFAULT_DATABASE})",
        )
        return p

    serve = with_database(commands.add_parser("serve", help="run the HTTP server"))
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--public-url", help="base URL that links and paging URLs point at")
    serve.add_argument("--log-level", default="info")
    serve.add_argument(
        "--log-format",
        choices=("text", "json"),
        default=os.environ.get("TASKROUTER_LOG_FORMAT", "text"),
        help="text, or json: one JSON object per line (default: $TASKROUTER_LOG_FORMAT, else text)",
    )
    serve.add_argument(
        "--access-log",
        action="store_true",
        default=os.environ.get("TASKROUTER_ACCESS_LOG", "").lower() in ("1", "true", "yes"),
        help="log one line per request: method, route, status, time (or $TASKROUTER_ACCESS_LOG)",
    )
    serve.add_argument(
        "--max-body-bytes",
        type=int,
        help="refuse larger request bodies with 413"
        " (default: $TASKROUTER_MAX_BODY_BYTES, else 1 MiB)",
    )
    serve.add_argument(
        "--rate-limit",
        type=float,
        help="requests per second per account, 0 for none"
        " (default: $TASKROUTER_RATE_LIMIT, else 0)",
    )
    serve.add_argument(
        "--rate-burst",
        type=int,
        help="requests an idle account may make at once (default: $TASKROUTER_RATE_BURST, else"
        " the rate)",
    )
    serve.add_argument(
        "--max-streams",
        type=int,
        help="live event streams per account, 0 for no limit"
        " (default: $TASKROUTER_MAX_STREAMS, else 100)",
    )
    serve.add_argument(
        "--max-connections",
        type=int,
        help="HTTP connections at once, 503 beyond, 0 for no limit"
        " (default: $TASKROUTER_MAX_CONNECTIONS, else 0)",
    )
    for flag, variable, what, default in (
        (
            "--max-attributes",
            "MAX_ATTRIBUTES",
            "characters of a task's or worker's Attributes",
            4096,
        ),
        ("--max-page-size", "MAX_PAGE_SIZE", "items in one page of a list", 1000),
        ("--max-expression-length", "MAX_EXPRESSION_LENGTH", "characters of an expression", 4096),
        ("--max-expression-depth", "MAX_EXPRESSION_DEPTH", "nesting of an expression, 1 to 64", 64),
    ):
        serve.add_argument(
            flag, type=int, help=f"{what} (default: $TASKROUTER_{variable}, else {default})"
        )
    serve.add_argument(
        "--callbacks",
        choices=("apart", "inline"),
        default=os.environ.get("TASKROUTER_CALLBACKS", "apart"),
        help="post event callbacks from a child process at lower priority (apart), or from the"
        " server's own (inline) (default: $TASKROUTER_CALLBACKS, else apart)",
    )
    serve.add_argument(
        "--audit-interval",
        type=float,
        help="seconds between self-audits, 0 for none"
        " (default: $TASKROUTER_AUDIT_INTERVAL, else 60)",
    )

    accounts = commands.add_parser("accounts", help="manage accounts").add_subparsers(
        dest="action", metavar="ACTION", required=True
    )
    create = with_database(accounts.add_parser("create", help="create an account"))
    create.add_argument("--friendly-name", default="taskrouter account")
    create.add_argument("--email")
    with_database(accounts.add_parser("list", help="list accounts"))

    keys = commands.add_parser("keys", help="manage API keys").add_subparsers(
        dest="action", metavar="ACTION", required=True
    )
    key_create = with_database(keys.add_parser("create", help="create an API key"))
    key_create.add_argument("--account", required=True, help="the owning account's AC SID")
    key_create.add_argument("--friendly-name", default="")

    token = with_database(
        commands.add_parser("token", help="print a worker Access Token for the Worker SDK")
    )
    token.add_argument("--workspace", required=True, help="the workspace's WS SID")
    token.add_argument("--worker", required=True, help="the worker's WK SID")
    token.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds (default 3600)")
    token.add_argument(
        "--key",
        help="the API key (SK SID) to sign with; default: a key of the workspace's account"
        " kept for worker tokens, made on first use",
    )
    check = with_database(
        commands.add_parser(
            "check",
            help="audit a database for broken invariants (exit 1 if any remain)",
            description="Audit a database, with its server running or stopped, for broken"
            " invariants. --repair fixes what it safely can; run it with the server stopped.",
        )
    )
    check.add_argument("--repair", action="store_true", help="fix what can be fixed safely")
    check.add_argument(
        "--grace-seconds",
        type=float,
        default=5.0,
        help="a deadline overdue by more than this counts as missed (default 5)",
    )
    check.add_argument("--json", action="store_true", help="print one JSON report")

    db = commands.add_parser("db", help="database maintenance").add_subparsers(
        dest="action", metavar="ACTION", required=True
    )
    with_database(db.add_parser("upgrade", help="run schema migrations"))

    deliveries = commands.add_parser(
        "deliveries", help="callbacks whose retry period ran out"
    ).add_subparsers(dest="action", metavar="ACTION", required=True)
    for action, text in (("list", "list them"), ("redeliver", "send them again")):
        sub = with_database(deliveries.add_parser(action, help=text))
        sub.add_argument("--workspace", help="only this workspace's (WS SID)")
        if action == "redeliver":
            sub.add_argument("--sid", action="append", help="only these (repeatable)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if args.command == "serve":
        return serve(args)
    if args.command == "check":
        return asyncio.run(_check(args))
    return asyncio.run(_admin(args))


def serve(args: argparse.Namespace) -> int:
    from taskrouter.app import create_app
    from taskrouter.limits import ServerLimits
    from taskrouter.logs import configure
    from taskrouter.server import run_server
    from taskrouter.service.service import Service

    configure(args.log_level, args.log_format)
    try:
        limits = ServerLimits.from_env(
            max_body_bytes=args.max_body_bytes,
            rate_per_second=args.rate_limit,
            rate_burst=args.rate_burst,
            audit_interval_s=args.audit_interval,
            max_streams_per_account=args.max_streams,
            max_connections=args.max_connections,
            max_attributes=args.max_attributes,
            max_page_size=args.max_page_size,
            max_expression_length=args.max_expression_length,
            max_expression_depth=args.max_expression_depth,
        )
    except ValueError as exc:
        print(f"taskrouter serve: {exc}", file=sys.stderr)
        return 2
    database = _database(args)
    _make_sqlite_folder(database)

    async def bootstrap(service: Service) -> None:
        sid = os.environ.get("TASKROUTER_ACCOUNT_SID")
        token = os.environ.get("TASKROUTER_AUTH_TOKEN")
        if sid and token:
            await service.accounts.ensure(sid, token, os.environ.get("TASKROUTER_ACCOUNT_EMAIL"))
        elif not service.runtime.accounts:
            account = await service.accounts.create()
            # Shown once: the first start on an empty database is the only time.
            print(
                f"Created account: account_sid={account.sid} auth_token={account.auth_token}",
                flush=True,
            )

    app = create_app(
        database,
        public_url=args.public_url,
        bootstrap=bootstrap,
        limits=limits,
        log_requests=args.access_log,
        callbacks_apart=args.callbacks == "apart",
    )
    run_server(app, args.host, args.port, max_connections=limits.max_connections)
    return 0


def _make_sqlite_folder(url: str) -> None:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


async def _check(args: argparse.Namespace) -> int:
    from taskrouter.service.check import check_store
    from taskrouter.store import open_store

    database = _database(args)
    report = await check_store(
        open_store(database),
        fix=args.repair,
        deadline_grace_ms=int(args.grace_seconds * 1000),
    )
    if args.json:
        _print_json(report.to_json())
    else:
        for located in report.findings:
            print(f"found: {located.workspace_sid} {located.finding.kind}: {located.finding}")
        for repair in report.repairs:
            print(f"repaired: {repair['workspace_sid']} {repair['message']}")
        if args.repair:
            for located in report.remaining:
                print(f"remains: {located.workspace_sid} {located.finding.kind}: {located.finding}")
        print(
            f"{len(report.findings)} findings, {len(report.repairs)} repairs,"
            f" {len(report.remaining)} remaining"
        )
    return 0 if not report.remaining else 1


async def _admin(args: argparse.Namespace) -> int:
    from taskrouter.domain.errors import DomainError
    from taskrouter.service.service import Service
    from taskrouter.store import open_store

    database = _database(args)
    _make_sqlite_folder(database)
    if args.command == "db":
        from taskrouter.store.migrations import upgrade

        await asyncio.to_thread(upgrade, database)
        print(f"database at {database.split('@')[-1]} is up to date")
        return 0
    if args.command == "deliveries":
        return await _deliveries(args, database)
    service = Service(open_store(database))
    await service.start()
    try:
        if args.command == "token":
            try:
                jwt = await service.worker_tokens.issue(
                    args.workspace, args.worker, ttl_s=args.ttl, key_sid=args.key
                )
            except DomainError as exc:
                print(f"taskrouter token: {exc.message}", file=sys.stderr)
                return 1
            print(jwt)
        elif args.command == "accounts" and args.action == "create":
            account = await service.accounts.create(args.friendly_name, email=args.email)
            _print_json(
                {
                    "sid": account.sid,
                    "auth_token": account.auth_token,
                    "friendly_name": account.friendly_name,
                }
            )
        elif args.command == "accounts" and args.action == "list":
            _print_json(
                [
                    {"sid": a.sid, "friendly_name": a.friendly_name}
                    for a in service.runtime.accounts.values()
                ]
            )
        elif args.command == "keys" and args.action == "create":
            key = await service.accounts.create_key(args.account, args.friendly_name)
            _print_json({"sid": key.sid, "secret": key.secret, "account_sid": key.account_sid})
    finally:
        await service.stop()
    return 0


async def _deliveries(args: argparse.Namespace, database: str) -> int:
    """Works on the store alone: a running server picks marked rows up within a second, a
    stopped one at its next start."""
    from taskrouter.events import outbox
    from taskrouter.store import open_store

    store = open_store(database)
    await store.open()
    try:
        if args.action == "list":
            found = await outbox.failed_deliveries(store, args.workspace)
        else:
            found = await outbox.request_redelivery(
                store, workspace_sid=args.workspace, sids=args.sid
            )
    finally:
        await store.close()
    _print_json([d.view() for d in found])
    return 0
