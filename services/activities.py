"""Activities: what time is spent on, with a default status and rate (SPEC 2, 3, 4)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TypedDict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Activity, TimeStatus
from services import validation
from services.errors import invalid, not_found
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


def writable_status(value: TimeStatus | None, field: str) -> TimeStatus:
    """A writer may set J or N only; F and L come from the system (SPEC 5b)."""
    if value not in (TimeStatus.BILLABLE, TimeStatus.NON_BILLABLE):
        raise invalid(f"{field} must be BILLABLE or NON_BILLABLE", field)
    return value


async def create(session: AsyncSession, data: ActivityData) -> Activity:
    status = data.get("default_status")
    activity = Activity(
        code=validation.name(data.get("code"), "code"),
        name=validation.name(data.get("name"), "name"),
        default_status=TimeStatus.BILLABLE if status is None else writable_status(status, "defaultStatus"),
        default_rate=validation.money(data.get("default_rate"), "defaultRate"),
    )
    session.add(activity)
    await flush(session, _RULES)
    return activity


async def update(session: AsyncSession, activity_id: int, data: ActivityData) -> Activity:
    activity = await session.get(Activity, activity_id, with_for_update=True)
    if activity is None:
        raise not_found("Activity", "id")
    if "code" in data:
        activity.code = validation.name(data["code"], "code")
    if "name" in data:
        activity.name = validation.name(data["name"], "name")
    if "default_status" in data:
        activity.default_status = writable_status(data["default_status"], "defaultStatus")
    if "default_rate" in data:
        activity.default_rate = validation.money(data["default_rate"], "defaultRate")
    touch(activity)
    await flush(session, _RULES)
    return activity
