"""Delivering webhooks (SPEC 13): events turned into deliveries, deliveries claimed, sent and their outcome recorded,
by a loop every instance runs.

Each step is one short transaction and none is open while a delivery is sent: a transaction holding an xid holds
back the event feed's horizon for every reader, and a slow endpoint must never slow a write.

- `feed`: the instance that takes the feed's position row (`FOR UPDATE SKIP LOCKED`; another instance holding it
  means skip) reads the events after it (services/event_feed.py: none is ever passed over) and adds a PENDING
  delivery per active webhook that chose the event's type and whose start lies before it; the unique (webhook,
  event) pair makes a second feeding of an event a no-op.
- `claim`: due deliveries, `FOR UPDATE SKIP LOCKED`, get a lease and their attempt is counted, committed before
  anything is sent. Under the lease no other instance claims them, so one event reaches one endpoint once however
  many instances run; a lease outlives the 10 s an attempt may take, and one whose instance died ends and is claimed
  again.
- `record`: a 2xx makes it DELIVERED; anything else keeps the error and retries after WEBHOOK_RETRY_BASE_MS x
  2^(attempt - 1) (1, 2, 4, ... s), FAILED after the last of its attempts (services/webhooks.ATTEMPTS).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.engine import SessionMakers
from models import Webhook, WebhookFeed
from services import event_feed, history, webhooks
from services.event_feed import FedEvent, Position
from services.webhook_sending import Sender, clipped

log = logging.getLogger("casetime.webhooks")

FEED_PAGE = 500
LEASE = timedelta(seconds=60)
POLL_SECONDS = 0.25
CONCURRENCY = 16  # attempts in flight per instance
SHUTDOWN_SECONDS = 5.0  # attempts still in flight then are cancelled; their lease ends and another instance retries

_ANY_ACTIVE = select(exists().where(Webhook.active))
_POSITION = select(WebhookFeed.xid, WebhookFeed.event_id).with_for_update(skip_locked=True)
_ACTIVE = select(Webhook.id, Webhook.event_types, Webhook.from_xid, Webhook.from_event_id).where(Webhook.active)
_ADD = text(
    """
    INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, attempt_limit)
    SELECT webhook_id, event_id, event_type, :attempt_limit
    FROM unnest(CAST(:webhook_ids AS integer[]), CAST(:event_ids AS bigint[]), CAST(:event_types AS text[]))
        AS given (webhook_id, event_id, event_type)
    ON CONFLICT (webhook_id, event_id) DO NOTHING
    """
)
# an event's columns as `fed_event` reads them, from the table aliased `e`
EVENT_COLUMNS = """e.xid::text::bigint AS xid, e.id, e.at, e.type, e.record_type, e.record_id, e.action,
    e.by_id, e.employee_id, e.left_employee_id, e.case_id, e.changes::text AS changes, e.data::text AS data"""
_LEASED = " AND (d.leased_until IS NULL OR d.leased_until < now())"
_CLAIM = text(
    f"""
    WITH due AS (
        SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
        WHERE d.status = 'PENDING' AND d.next_attempt_at <= now() AND w.active{_LEASED}
        ORDER BY d.next_attempt_at, d.id
        LIMIT :limit
        FOR UPDATE OF d SKIP LOCKED
    )
    UPDATE webhook_deliveries d
    SET leased_until = now() + make_interval(secs => :lease), attempts = d.attempts + 1
    FROM due, webhooks w, events e
    WHERE d.id = due.id AND w.id = d.webhook_id AND e.id = d.event_id
    RETURNING d.id AS delivery_id, d.attempts, d.attempt_limit, w.url, w.secret, {EVENT_COLUMNS}
    """
)
_RECORD = text(
    """
    UPDATE webhook_deliveries d SET
        status = CASE WHEN o.error IS NULL THEN 'DELIVERED'
                      WHEN d.attempts >= d.attempt_limit THEN 'FAILED' ELSE 'PENDING' END,
        delivered_at = CASE WHEN o.error IS NULL THEN now() ELSE d.delivered_at END,
        last_error = coalesce(o.error, d.last_error),
        next_attempt_at = CASE WHEN o.error IS NULL THEN d.next_attempt_at
                               ELSE now() + o.delay_ms * interval '1 millisecond' END,
        leased_until = NULL
    FROM unnest(CAST(:ids AS bigint[]), CAST(:attempts AS integer[]), CAST(:errors AS text[]),
                CAST(:delays AS bigint[])) AS o (id, attempts, error, delay_ms)
    WHERE d.id = o.id AND d.attempts = o.attempts
    """
)


async def any_active(session: AsyncSession) -> bool:
    """Whether any webhook is on: without one there is nothing to feed or send."""
    return bool(await session.scalar(_ANY_ACTIVE))


async def feed(session: AsyncSession, *, limit: int = FEED_PAGE) -> int:
    """Turn the events after the feed's position into deliveries, in the caller's transaction; how many events were
    read (0 when another instance is feeding or no webhook is on). Only `limit` at a time: more may follow."""
    held = (await session.execute(_POSITION)).first()
    if held is None:
        return 0
    hooks = [
        (h.id, frozenset(h.event_types), Position(h.from_xid, h.from_event_id)) for h in await session.execute(_ACTIVE)
    ]
    if not hooks:
        return 0
    held_position = Position(held.xid, held.event_id)
    # nothing before the oldest start of a webhook that is on is anyone's: skip it unread
    position = max(held_position, min(start for _, _, start in hooks))
    found = await event_feed.after(session, position, limit=limit)
    added = [
        (hook_id, event.id, event.type)
        for event in found
        for hook_id, types, start in hooks
        if event.type in types and event.position > start
    ]
    if added:
        webhook_ids, event_ids, event_types = zip(*added, strict=True)
        await session.execute(
            _ADD,
            {
                "webhook_ids": list(webhook_ids),
                "event_ids": list(event_ids),
                "event_types": list(event_types),
                "attempt_limit": webhooks.ATTEMPTS,
            },
        )
    end = found[-1].position if found else position
    if end != held_position:
        await session.execute(update(WebhookFeed).values(xid=end.xid, event_id=end.id))
    return len(found)


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery leased to this instance for one attempt; `attempts` counts this one."""

    id: int
    attempts: int
    attempt_limit: int
    url: str
    secret: str
    event: FedEvent

    def retry_delay_ms(self, base_ms: int) -> int:
        """How long after this attempt, failed, the next comes: `base_ms` x 2^(n - 1) after the n-th of its series."""
        in_series = min(max(self.attempts - (self.attempt_limit - webhooks.ATTEMPTS), 1), webhooks.ATTEMPTS)
        return base_ms * (1 << (in_series - 1))


async def claim(session: AsyncSession, *, limit: int, lease: timedelta = LEASE) -> list[Claimed]:
    """Lease up to `limit` due deliveries of webhooks that are on, oldest due first, and count their attempt; run it
    in a transaction of its own (autocommit), committed before they are sent."""
    rows = await session.execute(_CLAIM, {"limit": limit, "lease": lease.total_seconds()})
    return [
        Claimed(row.delivery_id, row.attempts, row.attempt_limit, row.url, row.secret, fed_event(row)) for row in rows
    ]


def fed_event(row: Any) -> FedEvent:
    """The event of a row of EVENT_COLUMNS; money in its changes read exactly, as history reads it."""
    return event_feed.of_row(row, dict(history.changes_of(row.changes)), json.loads(row.data, parse_float=Decimal))


Outcome = tuple[Claimed, str | None]  # an attempt, and why it failed (None: delivered)


async def record(session: AsyncSession, outcomes: Sequence[Outcome], *, retry_base_ms: int) -> None:
    """The outcomes of claimed attempts, in one statement. An attempt whose lease ended and was claimed again by then
    records nothing: the later attempt's outcome is the one that counts."""
    await session.execute(
        _RECORD,
        {
            "ids": [claimed.id for claimed, _ in outcomes],
            "attempts": [claimed.attempts for claimed, _ in outcomes],
            "errors": [error for _, error in outcomes],
            "delays": [claimed.retry_delay_ms(retry_base_ms) for claimed, _ in outcomes],
        },
    )


Body = Callable[[FedEvent], bytes]


class Deliverer:
    """The delivery loop of one instance: feeds, claims what there is room for (CONCURRENCY attempts at once), and
    sends each claimed delivery in a task of its own; a recorder writes the outcomes that ended meanwhile, all in one
    statement. It polls every `poll_seconds`, and at once when half the attempts of a round that took all it had room
    for have ended. A failing round is logged and the next tried; nothing escapes. `body` writes an event as the JSON
    POSTed (the API's encoding, given by the edge)."""

    def __init__(
        self,
        makers: SessionMakers,
        body: Body,
        *,
        retry_base_ms: int,
        private_allowed: bool,
        concurrency: int = CONCURRENCY,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self._makers = makers
        self._body = body
        self._retry_base_ms = retry_base_ms
        self._private_allowed = private_allowed
        self._concurrency = concurrency
        self._poll_seconds = poll_seconds
        self._sending: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()
        self._room = asyncio.Event()  # half the attempts in flight ended: claim more without waiting for the poll
        self._full = False  # the last round claimed all it had room for
        self._outcomes: list[Outcome] = []
        self._ended_some = asyncio.Event()  # outcomes wait to be recorded, or the last attempt ended at a stop
        self._closing = False  # stopped, and no attempt is in flight any more
        self._sender: Sender | None = None
        self._loop: asyncio.Task[None] | None = None
        self._recorder: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._sender = Sender(private_allowed=self._private_allowed, slots=self._concurrency)
        self._loop = asyncio.create_task(self._run(), name="webhook deliveries")
        self._recorder = asyncio.create_task(self._record(), name="webhook outcomes")

    async def stop(self) -> None:
        """Stop claiming, give the attempts in flight SHUTDOWN_SECONDS to finish, cancel the rest."""
        self._stopping.set()
        if self._loop is not None:
            await self._loop
        if self._sending:
            _, late = await asyncio.wait(self._sending, timeout=SHUTDOWN_SECONDS)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        self._closing = True
        self._ended_some.set()
        if self._recorder is not None:
            await self._recorder
        if self._sender is not None:
            await self._sender.aclose()

    async def _run(self) -> None:
        failing = False
        feeding = True
        while not self._stopping.is_set():
            more = False
            try:
                more = await self._round(feeding=feeding)
            except Exception:
                if not failing:  # once per stretch of failures, not every poll
                    log.exception("webhook deliveries: a round failed; trying again every %g s", self._poll_seconds)
                failing = True
            else:
                if failing:
                    log.warning("webhook deliveries: rounds succeed again")
                failing = False
            feeding = more or not await self._pause()

    async def _pause(self) -> bool:
        """Until the next poll, an early stop, or room for more attempts after a round that filled it all; whether
        it was the room (then the next round only claims: the feed waits for its poll)."""
        room = asyncio.ensure_future(self._room.wait())
        waits = [asyncio.ensure_future(self._stopping.wait()), room]
        try:
            await asyncio.wait(waits, timeout=self._poll_seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()
        return room.done() and not room.cancelled()

    async def _round(self, *, feeding: bool) -> bool:
        """Feed (when `feeding`), claim and start sending; whether more events may wait to be fed."""
        read = 0
        if feeding:
            async with self._makers.query() as session:
                if not await any_active(session):
                    return False
            async with self._makers.write() as session, session.begin():
                read = await feed(session)
        self._room.clear()
        room = self._concurrency - len(self._sending)
        claimed: Sequence[Claimed] = []
        if room > 0:
            async with self._makers.query() as session:
                claimed = await claim(session, limit=room)
        for one in claimed:
            task = asyncio.create_task(self._deliver(one), name=f"webhook delivery {one.id}")
            self._sending.add(task)
            task.add_done_callback(self._ended)
        self._full = room > 0 and len(claimed) == room
        return read == FEED_PAGE

    def _ended(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        # after a round that claimed all it had room for, more are likely due: claim again once half are back
        if self._full and len(self._sending) <= self._concurrency // 2:
            self._room.set()

    async def _deliver(self, claimed: Claimed) -> None:
        assert self._sender is not None
        try:
            error = await self._sender.post(claimed.url, claimed.secret, self._body(claimed.event))
        except Exception as failure:  # a bug, not the endpoint's: recorded as the attempt's error all the same
            log.exception("webhook delivery %d: the attempt failed", claimed.id)
            error = clipped(f"{type(failure).__name__}: {failure}")
        self._outcomes.append((claimed, error))
        self._ended_some.set()

    async def _record(self) -> None:
        """Write the outcomes waiting, all at once, while more attempts end; at a stop, the last ones."""
        while not self._closing or self._outcomes:
            await self._ended_some.wait()
            self._ended_some.clear()
            outcomes, self._outcomes = self._outcomes, []
            if not outcomes:
                continue
            try:
                async with self._makers.query() as session:
                    await record(session, outcomes, retry_base_ms=self._retry_base_ms)
            except Exception:
                log.exception(
                    "webhook deliveries: %d outcomes were not recorded; each is retried once its lease ends",
                    len(outcomes),
                )
