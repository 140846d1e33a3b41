"""Root fields of live subscriptions (SPEC 13): each follows one topic of the worker's fan-out (services/live.py)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from typing import Annotated, TypeVar, cast

import strawberry

from api.live.types import CapThresholdEvent, TimeEntryChange, TimerEvent
from graph import ids
from graph.context import Info
from graph.errors import ApiError, TopCode
from graph.permissions import USER
from services import live
from services.event_feed import FedEvent
from services.live import Topic

T = TypeVar("T")


async def _follow(info: Info, topic: Topic, sent: Callable[[FedEvent], T]) -> AsyncGenerator[T, None]:
    """What `topic` tells from now on, as `sent` shows it; first SUBSCRIBED, once it is followed (services/live.py)."""
    hub = info.context.live
    if hub is None:
        raise ApiError(TopCode.BAD_REQUEST, "Subscriptions run over the websocket at /graphql (graphql-transport-ws)")
    follower = await hub.follow(topic)
    try:
        yield cast(T, live.SUBSCRIBED)
        async for event in follower:
            yield sent(event)
    finally:
        follower.close()


async def _readable_case(info: Info, case_id: str) -> int:
    db_id = ids.decode(case_id, "Case")
    if db_id is None or await info.context.loaders.case_by_id.load(db_id) is None:
        raise ApiError(TopCode.NOT_FOUND, "No case has this ID")
    return db_id


async def timer_changed(info: Info) -> AsyncGenerator[TimerEvent, None]:
    me = info.context.me.employee_id
    async for event in _follow(info, Topic(live.TIMER, me), lambda e: TimerEvent(at=e.at, employee_id=me)):
        yield event


async def case_time_changed(
    info: Info, case_id: Annotated[strawberry.ID, strawberry.argument(description="The case to follow.")]
) -> AsyncGenerator[TimeEntryChange, None]:
    case = await _readable_case(info, case_id)
    async for change in _follow(info, Topic(live.CASE_TIME, case), TimeEntryChange.of):
        yield change


async def cap_threshold_reached(
    info: Info, case_id: Annotated[strawberry.ID, strawberry.argument(description="The case to follow.")]
) -> AsyncGenerator[CapThresholdEvent, None]:
    case = await _readable_case(info, case_id)
    async for crossed in _follow(info, Topic(live.CAP, case), CapThresholdEvent.of):
        yield crossed


@strawberry.type(
    description="Live pushes over the `graphql-transport-ws` protocol on `/graphql`, the bearer token in "
    '`connection_init`\'s payload as `{"Authorization": "Bearer <token>"}`. Events reach subscribers on every '
    "worker within a second; a logout, an expired token or an inactive employee ends the connection (close code "
    "4403)."
)
class Subscription:
    timer_changed: AsyncGenerator[TimerEvent, None] = strawberry.subscription(
        resolver=timer_changed,
        permission_classes=USER,
        description="The viewer's own timer whenever it starts, stops or is discarded, whichever device did it.",
    )
    case_time_changed: AsyncGenerator[TimeEntryChange, None] = strawberry.subscription(
        resolver=case_time_changed,
        permission_classes=USER,
        description="Each entry created, updated or deleted on the case, with the names the viewer may not see left "
        "out, as everywhere. "
        "NOT_FOUND for an ID that names no case.",
    )
    cap_threshold_reached: AsyncGenerator[CapThresholdEvent, None] = strawberry.subscription(
        resolver=cap_threshold_reached,
        permission_classes=USER,
        description="Each crossing of one of the case's cap thresholds (by default 50, 80 and 100% of its book-year "
        "maximum) by counted time. NOT_FOUND for an ID that names no case.",
    )
