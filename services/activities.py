"""Activities: what time is spent on, with a default status and rate (SPEC 2, 3, 4)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TypedDict, cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Activity, TimeStatus
from services import validation
from services.errors import not_found
from services.integrity import flush, touch

_RULES = {"uq_activities_code_ci": validation.duplicate("an activity with this code", "code")}


class ActivityData(TypedDict, total=False):
    code: str | None
    name: str | None
    default_status: TimeStatus | None
    default_rate: Decimal | None


async def list_all(session: AsyncSession) -> Sequence[Activity]:
    return (await session.scalars(select(Activity).order_by(Activity.code, Activity.id))).all()


async def by_ids(session: AsyncSession, ids: Sequence[int]) -> list[Activity | None]:
    found = {a.id: a for a in (await session.scalars(select(Activity).where(Activity.id.in_(ids)))).all()}
    return [found.get(i) for i in ids]


_FIELDS = validation.Fields(
    {
        "code": validation.name,
        "name": validation.name,
        "default_status": validation.writable_status,
        "default_rate": validation.money,
    },
    needed=("code", "name"),
    defaulted=("default_status",),
)


def _checked(data: ActivityData, *, creating: bool) -> ActivityData:
    """The given fields, each checked (SPEC 5b); every broken rule is refused at once."""
    return cast(ActivityData, _FIELDS.checked(data, creating=creating))


async def create(session: AsyncSession, data: ActivityData) -> Activity:
    activity = Activity(**{"default_status": TimeStatus.BILLABLE, **_checked(data, creating=True)})
    session.add(activity)
    await flush(session, _RULES)
    return activity


async def update(session: AsyncSession, activity_id: int, data: ActivityData) -> Activity:
    checked = _checked(data, creating=False)
    activity = await session.get(Activity, activity_id, with_for_update=True)
    if activity is None:
        raise not_found("Activity", "id")
    for key, value in checked.items():
        setattr(activity, key, value)
    touch(activity)
    await flush(session, _RULES)
    return activity
