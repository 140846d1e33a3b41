"""Root fields of activities: what time is spent doing."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.activity.types import Activity, ActivityInput, ActivityPayload
from graph import ids
from graph.context import Info
from graph.permissions import ADMIN, USER
from graph.write import Refused, write
from services import activities


async def activities_list(info: Info) -> list[Activity]:
    async with info.context.db.read() as session:
        return [Activity.from_model(a) for a in await activities.list_all(session)]


async def create_activity(
    info: Info, input: Annotated[ActivityInput, strawberry.argument(description="The activity to create.")]
) -> ActivityPayload:
    outcome = await write(info, input.to_data, activities.create)
    if isinstance(outcome, Refused):
        return ActivityPayload(user_errors=outcome.errors)
    return ActivityPayload(activity=Activity.from_model(outcome))


async def update_activity(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="The activity to change.")],
    input: Annotated[ActivityInput, strawberry.argument(description="The fields to change; those left out stay.")],
) -> ActivityPayload:
    outcome = await write(
        info,
        lambda: (ids.require(id, "Activity", "id"), input.to_data()),
        lambda session, given: activities.update(session, *given),
    )
    if isinstance(outcome, Refused):
        return ActivityPayload(user_errors=outcome.errors)
    return ActivityPayload(activity=Activity.from_model(outcome))


@strawberry.type
class ActivityQueries:
    activities: list[Activity] = strawberry.field(
        resolver=activities_list, permission_classes=USER, description="Every activity, by code."
    )


@strawberry.type
class ActivityMutations:
    create_activity: ActivityPayload = strawberry.mutation(
        resolver=create_activity,
        permission_classes=ADMIN,
        description="Create an activity. Administrators only.",
    )
    update_activity: ActivityPayload = strawberry.mutation(
        resolver=update_activity,
        permission_classes=ADMIN,
        description="Change an activity. Administrators only.",
    )
