"""The fan-out of live subscriptions (SPEC 13): one reader of the event feed a worker, handing each event to the
subscriptions of its topic.

Every worker of every machine follows the same outbox (services/event_feed.py), so a write on one reaches
subscribers on all, in feed order and none passed over, and no writer ever waits for a subscriber: the feed is read
after the commit, by a task of its own. The feed is read only while someone follows it, from where it stood when the
first follower came. A follower that falls too far behind (a client that stops reading) is ended rather than
buffered without bound; a token that stops authenticating ends what it follows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from services import auth, event_feed
from services.event_feed import FedEvent, Position

log = logging.getLogger("casetime.live")

POLL_SECONDS = 0.05
SWEEP_SECONDS = 1.0
RETRY_SECONDS = 1.0
BATCH = 500
BACKLOG = 100  # events a follower may have waiting before it is ended

# what a subscription resolver yields once it follows its topic, before any event: the edge waits for it
SUBSCRIBED = object()


class Topic(NamedTuple):
    kind: str  # TIMER (key: the employee), CASE_TIME or CAP (key: the case)
    key: int


TIMER, CASE_TIME, CAP = "timer", "caseTime", "cap"


def topics_of(event: FedEvent) -> list[Topic]:
    """Who follows an event: a timer's employee; an entry's case, and the case it left when an edit moved it; the
    case whose cap threshold was crossed."""
    if event.type == "timer.changed" and event.employee_id is not None:
        return [Topic(TIMER, event.employee_id)]
    if event.record_type == "TimeEntry" and event.case_id is not None:
        cases = [event.case_id]
        left = event.changes.get("case_id", [None, None])[0]
        if left is not None and left != event.case_id:
            cases.append(left)
        return [Topic(CASE_TIME, case) for case in cases]
    if event.type == "cap.threshold" and event.case_id is not None:
        return [Topic(CAP, event.case_id)]
    return []


class Ended(Exception):
    """A subscription ended by the server, with a reason the client may act on."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TooSlow(Ended):
    pass


class Follower:
    """The events of one topic for one subscription, in feed order."""

    def __init__(self, hub: Hub, topic: Topic) -> None:
        self.topic = topic
        self._hub = hub
        self._waiting: asyncio.Queue[FedEvent | None] = asyncio.Queue()
        self._end: Ended | None = None

    def offer(self, event: FedEvent) -> None:
        if self._end is not None:
            return
        if self._waiting.qsize() >= BACKLOG:
            self.end(TooSlow(f"More than {BACKLOG} events were waiting to be sent; subscribe again"))
            return
        self._waiting.put_nowait(event)

    def end(self, reason: Ended) -> None:
        self._end = reason
        self._waiting.put_nowait(None)

    def __aiter__(self) -> Follower:
        return self

    async def __anext__(self) -> FedEvent:
        event = await self._waiting.get()
        if event is None:
            assert self._end is not None
            raise self._end
        return event

    def close(self) -> None:
        self._hub._leave(self)


class Hub:
    """The worker's one reader of the feed, run while anyone follows it; `sessions` makes short-lived sessions."""

    def __init__(self, sessions: Callable[[], AbstractAsyncContextManager[AsyncSession]]) -> None:
        self._sessions = sessions
        self._followers: dict[Topic, set[Follower]] = defaultdict(set)
        self._watched: dict[bytes, set[Callable[[], None]]] = defaultdict(set)
        self._position: Position | None = None
        self._started = asyncio.Lock()
        # the hub reads on one connection at a time: the pool's others are its subscribers' (edge/live.py)
        self._connection = asyncio.Lock()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def followers(self) -> int:
        return sum(len(followers) for followers in self._followers.values())

    async def follow(self, topic: Topic) -> Follower:
        """Follow `topic` from now: every event committed from here on, and perhaps a few just before."""
        async with self._started:
            if self._position is None:
                async with self._connection, self._sessions() as session:
                    self._position = await event_feed.now(session)
            follower = Follower(self, topic)
            self._followers[topic].add(follower)
        self._run()
        return follower

    def _leave(self, follower: Follower) -> None:
        followers = self._followers.get(follower.topic)
        if followers is not None:
            followers.discard(follower)
            if not followers:
                del self._followers[follower.topic]
        if not self._followers:
            self._position = None  # nobody follows: whoever comes next starts from then

    def watch(self, digest: bytes, revoked: Callable[[], None]) -> Callable[[], None]:
        """Call `revoked` once the token of `digest` no longer authenticates; the answer stops watching."""
        self._watched[digest].add(revoked)
        self._run()

        def unwatch() -> None:
            callbacks = self._watched.get(digest)
            if callbacks is not None:
                callbacks.discard(revoked)
                if not callbacks:
                    del self._watched[digest]

        return unwatch

    def _run(self) -> None:
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._loop(), name="live feed")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        next_sweep = loop.time()
        while True:
            if not self._followers and not self._watched:
                self._wake.clear()
                await self._wake.wait()
            try:
                read = await self._read(sweep=loop.time() >= next_sweep)
            except Exception:  # the database away or busy: followers wait, nothing is skipped
                log.warning("reading the event feed failed; trying again", exc_info=True)
                await asyncio.sleep(RETRY_SECONDS)
                continue
            if read.swept:
                next_sweep = loop.time() + SWEEP_SECONDS
            if read.full:
                await asyncio.sleep(0)
            else:
                await asyncio.sleep(POLL_SECONDS)

    async def _read(self, *, sweep: bool) -> _Read:
        position = self._position
        watched = list(self._watched) if sweep else []
        if position is None and not watched:  # connections that follow nothing yet: only their tokens to check
            return _Read(full=False, swept=sweep)
        async with self._connection, self._sessions() as session:
            events = await event_feed.after(session, position, limit=BATCH) if position is not None else []
            valid = await auth.still_valid(session, watched) if watched else set()
        if position is not None and self._position == position:  # else everyone left meanwhile
            for event in events:
                for topic in topics_of(event):
                    for follower in list(self._followers.get(topic, ())):
                        follower.offer(event)
                self._position = event.position
        for digest in watched:
            if digest not in valid:
                for revoked in list(self._watched.pop(digest, ())):
                    revoked()
        return _Read(full=len(events) == BATCH, swept=sweep)


class _Read(NamedTuple):
    full: bool
    swept: bool
