"""The delivery loop: posts what the outbox holds, after the commit, never in a request's way.

Event callbacks go out in order, one lane per workspace: a lane posts its oldest delivery, and
the next only once that one succeeded or was given up. A failure waits `backoff_ms(attempts)`
on the service clock, and after `retry_period_ms` since the event the delivery is marked
failed (kept in the outbox, listed, redeliverable) and the lane moves on. A lane that waits on
a slow or dead receiver holds up only itself.

Assignment callbacks go out at once, concurrently, each within its budget; an answer that
does not come (error, non-2xx, timeout) sends the same request to the fallback URL. They are
not retried beyond that (Twilio does not either).

A delivered row is deleted from the outbox; the deletes are batched. A crash before that
delete means the delivery is made again after the restart: at least once, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections import deque
from collections.abc import Callable
from typing import Any
from urllib.parse import quote_plus

from taskrouter.domain.clock import Clock
from taskrouter.events import assignment, outbox
from taskrouter.events.http import HttpClient, HttpError, HttpResponse
from taskrouter.events.log import callback_params
from taskrouter.events.outbox import Delivery
from taskrouter.events.settings import EventSettings
from taskrouter.events.signature import HEADER, sign
from taskrouter.store import Delete, Store

log = logging.getLogger("taskrouter.events.delivery")

USER_AGENT = "taskrouter-webhooks/1.0"
FORM = "application/x-www-form-urlencoded"
# Real seconds between looks for rows an operator marked for redelivery.
REDELIVER_CHECK_S = 1.0

TokenOf = Callable[[str], str | None]
StatusOf = Callable[[str, str], str | None]  # (workspace sid, reservation sid) -> status


class _Lane:
    """One workspace's event callbacks, oldest first. At most `memory` are held in memory;
    beyond that they wait in the outbox table only (a long outage at a high event rate must
    not fill memory) and are read back in order as the lane drains."""

    __slots__ = ("busy", "items", "memory", "reloading", "spilled", "workspace_sid")

    def __init__(self, workspace_sid: str, memory: int) -> None:
        self.workspace_sid = workspace_sid
        self.memory = memory
        self.items: deque[Delivery] = deque()
        self.busy = False
        # Pending rows exist in the outbox beyond the last one in memory.
        self.spilled = False
        self.reloading = False

    def add(self, delivery: Delivery) -> None:
        items = self.items
        if not items or items[-1].sid < delivery.sid:
            if self.reloading or self.spilled or len(items) >= self.memory:
                self.spilled = True  # its row is committed: it is read back in its turn
                return
            items.append(delivery)
            return
        # Out of order (a redelivery, or commits that finished in another order).
        for i, existing in enumerate(items):
            if existing.sid == delivery.sid:
                return
            if existing.sid > delivery.sid and not (i == 0 and self.busy):
                items.insert(i, delivery)
                return
        items.append(delivery)


class Deliverer:
    def __init__(self, store: Store, clock: Clock, settings: EventSettings) -> None:
        self._store = store
        self._clock = clock
        self._settings = settings
        self._lanes: dict[str, _Lane] = {}
        self._wake = asyncio.Event()
        self._acks: list[str] = []
        self._acked = asyncio.Event()
        self._ack_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loops: list[asyncio.Task[Any]] = []
        self._client: HttpClient | None = None
        self._token_of: TokenOf = lambda _sid: None
        self._status_of: StatusOf = lambda _ws, _sid: None
        self._reservations: assignment.ReservationCommands | None = None
        self._assign_slots = asyncio.Semaphore(settings.assignment_concurrency)
        self._running = False
        # Deliveries committed before start() (a CLI command, the start's own tick).
        self._early: list[Delivery] = []

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(
        self,
        *,
        token_of: TokenOf,
        status_of: StatusOf,
        reservations: assignment.ReservationCommands,
        client: HttpClient | None = None,
    ) -> None:
        self._token_of = token_of
        self._status_of = status_of
        self._reservations = reservations
        self._client = client or HttpClient(
            connect_timeout=min(self._settings.callback_timeout_s, 5.0), user_agent=USER_AGENT
        )
        early, self._early = self._early, []
        known = {d.sid for d in early}
        rows = await self._store.query(outbox.TABLE, {"status": outbox.PENDING})
        pending = [Delivery.from_row(r) for r in rows if r["sid"] not in known]
        self._running = True
        self.enqueue(sorted([*pending, *early], key=lambda d: d.sid))
        await self._take_redeliveries()
        self._loops = [
            asyncio.create_task(self._schedule(), name="taskrouter-delivery"),
            asyncio.create_task(self._flush_acks(), name="taskrouter-delivery-acks"),
        ]

    async def stop(self) -> None:
        self._running = False
        for task in [*self._loops, *self._tasks]:
            task.cancel()
        for task in [*self._loops, *self._tasks]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._loops = []
        self._tasks.clear()
        await self._commit_acks()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # -- intake --------------------------------------------------------------------------------

    def enqueue(self, deliveries: list[Delivery]) -> None:
        """Take deliveries whose rows are committed; never blocks, never awaits."""
        if not deliveries:
            return
        if not self._running:
            self._early.extend(deliveries)
            return
        for delivery in deliveries:
            if delivery.kind == outbox.ASSIGNMENT:
                self._spawn(self._assign(delivery))
                continue
            lane = self._lanes.get(delivery.workspace_sid)
            if lane is None:
                lane = self._lanes[delivery.workspace_sid] = _Lane(
                    delivery.workspace_sid, self._settings.lane_memory
                )
            lane.add(delivery)
        self._wake.set()

    async def redeliver(
        self, workspace_sid: str | None = None, sids: list[str] | None = None
    ) -> list[Delivery]:
        """Failed deliveries back into their lanes, with a fresh retry period."""
        chosen = await outbox.request_redelivery(
            self._store, workspace_sid=workspace_sid, sids=sids
        )
        if chosen:
            await self._take_redeliveries()
        return chosen

    async def _take_redeliveries(self) -> None:
        rows = await self._store.query(outbox.TABLE, {"status": outbox.REDELIVER}, limit=1000)
        if not rows:
            return
        now = self._clock.now_ms()
        taken = [Delivery.from_row(r) for r in rows]
        for d in taken:
            d.status = outbox.PENDING
            d.attempts = 0
            d.created_ms = now
            d.next_attempt_ms = now
            d.body.pop("last_error", None)
        await self._store.commit([d.put() for d in taken])
        self.enqueue(taken)

    # -- the scheduler -------------------------------------------------------------------------

    async def _schedule(self) -> None:
        loop = asyncio.get_running_loop()
        next_redeliver_check = loop.time() + REDELIVER_CHECK_S
        while True:
            try:
                now = self._clock.now_ms()
                waiting = False
                for workspace_sid, lane in list(self._lanes.items()):
                    if lane.busy:
                        continue
                    if not lane.items and not lane.spilled:
                        del self._lanes[workspace_sid]
                        continue
                    if not lane.items or lane.items[0].next_attempt_ms <= now:
                        lane.busy = True
                        self._spawn(self._drain(lane))
                    else:
                        waiting = True
                if loop.time() >= next_redeliver_check:
                    next_redeliver_check = loop.time() + REDELIVER_CHECK_S
                    await self._take_redeliveries()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("delivery scheduling failed; will retry")
                waiting = True
            # Retries wait on the service clock, which tests move by hand: look again soon.
            timeout = self._settings.poll_s if waiting else REDELIVER_CHECK_S
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
            self._wake.clear()

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- event callbacks -----------------------------------------------------------------------

    async def _drain(self, lane: _Lane) -> None:
        """Post the lane's due deliveries in order until one fails or none is due."""
        try:
            while True:
                if not lane.items and lane.spilled:
                    await self._reload(lane)
                if not lane.items:
                    break
                head = lane.items[0]
                if head.next_attempt_ms > self._clock.now_ms():
                    break
                error = await self._post_event(head)
                if error is None:
                    _remove(lane, head)
                    self._ack(head.sid)
                    continue
                now = self._clock.now_ms()
                head.attempts += 1
                head.body["last_error"] = error
                if now - head.created_ms >= self._settings.retry_period_ms:
                    head.status = outbox.FAILED
                    _remove(lane, head)
                    log.warning(
                        "event callback %s to %s failed for good after %d attempts: %s",
                        head.sid,
                        head.body.get("url"),
                        head.attempts,
                        error,
                    )
                else:
                    head.next_attempt_ms = now + self._settings.backoff_ms(head.attempts)
                try:
                    await self._store.commit([head.put()])
                except Exception:
                    log.exception("could not record the failed delivery %s", head.sid)
                if head.status == outbox.PENDING:
                    break
        finally:
            lane.busy = False
            self._wake.set()

    async def _reload(self, lane: _Lane) -> None:
        """The next pending rows of a lane that spilled, from the outbox, in order."""
        # Rows delivered so far must be gone from the table before it is read.
        await self._commit_acks()
        lane.spilled = False
        lane.reloading = True
        try:
            where = {"workspace_sid": lane.workspace_sid, "status": outbox.PENDING}
            rows = await self._store.query(
                outbox.TABLE, where | {"kind": outbox.EVENT}, order_by="sid", limit=lane.memory
            )
        except BaseException:
            lane.spilled = True
            raise
        finally:
            lane.reloading = False
        lane.items.extend(Delivery.from_row(r) for r in rows)
        if len(rows) >= lane.memory:
            lane.spilled = True

    async def _post_event(self, delivery: Delivery) -> str | None:
        """None when the receiver took it (2xx), else what went wrong."""
        body = delivery.body
        event = delivery.event
        if event is None:  # loaded from the outbox after a restart: the event is in the log
            try:
                row = await self._store.get("events", delivery.sid)
            except Exception as exc:
                return f"reading the event failed: {exc}"
            if row is None:
                return "the event is no longer in the log"
            event = delivery.event = row["body"]
        try:
            async with asyncio.timeout(self._settings.callback_timeout_s):
                response = await self._post(
                    body["url"], callback_params(event), body["account_sid"], delivery.sid
                )
        except TimeoutError:
            return f"no answer within {self._settings.callback_timeout_s:g} s"
        except HttpError as exc:
            return str(exc)
        except Exception as exc:  # a bad URL or event: fails like a refusal, never spins
            log.exception("event callback %s could not be sent", delivery.sid)
            return f"{type(exc).__name__}: {exc}"
        if 200 <= response.status_code < 300:
            return None
        return f"HTTP {response.status_code}"

    async def _post(
        self, url: str, params: dict[str, str], account_sid: str, idempotency: str
    ) -> HttpResponse:
        assert self._client is not None
        headers = [("Content-Type", FORM), ("I-Twilio-Idempotency-Token", idempotency)]
        auth_token = self._token_of(account_sid)
        if auth_token:
            headers.append((HEADER, sign(auth_token, url, params)))
        return await self._client.post(url, form_body(params), headers)

    # -- assignment callbacks ------------------------------------------------------------------

    async def _assign(self, delivery: Delivery) -> None:
        body = delivery.body
        done = True
        try:
            async with self._assign_slots:
                status = self._status_of(delivery.workspace_sid, body["reservation_sid"])
                if status != "pending":
                    return  # answered, timed out or gone meanwhile (or before a restart)
                document = await self._ask(delivery)
                if document is None or self._reservations is None:
                    return
                await assignment.carry_out(
                    self._reservations,
                    account_sid=body["account_sid"],
                    workspace_sid=delivery.workspace_sid,
                    task_sid=body["task_sid"],
                    reservation_sid=body["reservation_sid"],
                    document=document,
                )
        except asyncio.CancelledError:
            done = False  # stopping: the row stays, and is tried again after the restart
            raise
        except Exception as exc:
            log.warning(
                "assignment instruction for reservation %s not carried out: %s",
                body.get("reservation_sid"),
                getattr(exc, "message", None) or exc,
            )
        finally:
            if done:
                self._ack(delivery.sid)

    async def _ask(self, delivery: Delivery) -> dict[str, Any] | None:
        """The instruction from the callback URL, else from the fallback URL."""
        body = delivery.body
        budget = self._settings.assignment_timeout_s
        for url in (body["url"], body.get("fallback_url")):
            if not url:
                continue
            try:
                async with asyncio.timeout(budget):
                    response = await self._post(
                        url, body["params"], body["account_sid"], delivery.sid
                    )
                return assignment.read_answer(
                    response.status_code, response.headers.get("content-type"), response.content
                )
            except (TimeoutError, HttpError, assignment.Unanswered) as exc:
                log.info("assignment callback %s unanswered: %s", url, exc or type(exc).__name__)
        return None

    # -- acknowledgements ----------------------------------------------------------------------

    def _ack(self, sid: str) -> None:
        self._acks.append(sid)
        self._acked.set()

    async def _flush_acks(self) -> None:
        while True:
            await self._acked.wait()
            self._acked.clear()
            await self._commit_acks()

    async def _commit_acks(self) -> None:
        async with self._ack_lock:  # returns once every ack so far is committed
            if not self._acks:
                return
            batch, self._acks = self._acks, []
            try:
                await self._store.commit([Delete(outbox.TABLE, sid) for sid in batch])
            except Exception:
                # Not fatal: the rows stay pending and are delivered again after a restart.
                log.exception("could not clear %d delivered outbox rows", len(batch))

    # -- inspection ----------------------------------------------------------------------------

    def backlog(self) -> dict[str, int]:
        """Pending event callbacks per workspace held in memory (a spilled lane has more)."""
        return {
            ws: len(lane.items) for ws, lane in self._lanes.items() if lane.items or lane.spilled
        }


_PLAIN = re.compile(r"[A-Za-z0-9_.\-~]*")


def form_body(params: dict[str, str]) -> bytes:
    """`urlencode(params)`, three times faster: most values (SIDs, numbers, statuses) need no
    quoting, and the names are plain PascalCase."""
    plain = _PLAIN.fullmatch
    return "&".join(
        f"{name}={value}" if plain(value) else f"{quote_plus(name)}={quote_plus(value)}"
        for name, value in params.items()
    ).encode()


def _remove(lane: _Lane, delivery: Delivery) -> None:
    if lane.items and lane.items[0] is delivery:
        lane.items.popleft()
    else:
        with contextlib.suppress(ValueError):
            lane.items.remove(delivery)
