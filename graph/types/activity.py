from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

import strawberry

from graph import ids
from graph.errors import UserError
from graph.types.common import Fields, fields, given
from graph.types.node import Node
from models import Activity as ActivityModel
from models import TimeStatus
from services.activities import ActivityData

TimeStatusEnum = strawberry.enum(TimeStatus, name="TimeStatus")


@strawberry.type
class Activity(Node):
    id: strawberry.ID
    code: str
    name: str
    default_status: TimeStatus
    default_rate: Decimal | None

    @classmethod
    def from_model(cls, activity: ActivityModel) -> Activity:
        return cls.from_fields(fields(activity))

    @classmethod
    def from_fields(cls, f: Fields, prefix: str = "") -> Activity:
        """From an activity's columns, named with `prefix` in a joined row."""
        db_id = f[f"{prefix}id"]
        return cls(
            id=ids.encode("Activity", db_id),
            code=f[f"{prefix}code"],
            name=f[f"{prefix}name"],
            default_status=f[f"{prefix}default_status"],
            default_rate=f[f"{prefix}default_rate"],
        )


@strawberry.input
class ActivityInput:
    code: str | None = strawberry.UNSET
    name: str | None = strawberry.UNSET
    default_status: TimeStatus | None = strawberry.UNSET
    default_rate: Decimal | None = strawberry.UNSET

    def to_data(self) -> ActivityData:
        data: dict[str, Any] = given(self)
        return cast(ActivityData, data)


@strawberry.type
class ActivityPayload:
    activity: Activity | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
