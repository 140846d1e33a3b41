from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

import strawberry

from graph.errors import UserError
from graph.node import Node
from graph.objects import Fields, Prefixed, declared_view, described_enum, fields, given, user_errors_field
from models import Activity as ActivityModel
from models import TimeStatus
from services.activities import ActivityData

TimeStatusEnum = described_enum(
    TimeStatus,
    name="TimeStatus",
    description="Whether time is billed, by the letters of the time-writing system: J, F, N, L. "
    "A writer sets J or N only (or `billable`); F and L come from the system.",
    values={
        "BILLABLE": "J: billable, not yet invoiced.",
        "INVOICED": "F: billable and on an invoice; cannot be edited or deleted (INVOICED_LOCKED). Voiding the "
        "invoice turns it back to J.",
        "NON_BILLABLE": "N: not billable.",
        "OVER_LIMIT": "L: time beyond its case's book-year maximum, parked until billing staff release it to J or N "
        "(`releaseOverLimit`); counts for neither cap basis and is never invoiced while L.",
    },
)


@strawberry.type(description="A kind of work time is written on, with the status and rate its time gets by default.")
class Activity(Node):
    id: strawberry.ID = strawberry.field(description="Opaque global ID.")
    code: str = strawberry.field(description="Short code, unique ignoring case.")
    name: str = strawberry.field(description="Display name.")
    default_status: TimeStatus = strawberry.field(
        description="Status of new time on this activity when neither the writer nor the case's `invoicing` "
        "decides: BILLABLE (J) or NON_BILLABLE (N)."
    )
    default_rate: Decimal | None = strawberry.field(
        description="Hourly rate, the last one tried: a case's or debtor's adjusted rate and the employee's rates "
        "come first. Null when it has none."
    )

    @classmethod
    def from_model(cls, activity: ActivityModel) -> Activity:
        return cls.from_fields(fields(activity))

    @classmethod
    def from_fields(cls, f: Fields, prefix: str = "") -> Activity:
        """From an activity's columns, named with `prefix` in a joined row."""
        return _activity_of_row(Prefixed(f, prefix) if prefix else f, None)


@strawberry.input(
    description="An activity to create, or the changes to one: a field left out stays as it is, null clears it."
)
class ActivityInput:
    code: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="1 to 200 characters, trimmed; unique ignoring case (DUPLICATE). Needed to create.",
    )
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description="1 to 200 characters, trimmed. Needed to create."
    )
    default_status: TimeStatus | None = strawberry.field(
        default=strawberry.UNSET, description="BILLABLE or NON_BILLABLE only; BILLABLE when left out on create."
    )
    default_rate: Decimal | None = strawberry.field(
        default=strawberry.UNSET, description="Hourly rate, 0 to 99999999.99 with at most 2 decimals; null for none."
    )

    def to_data(self) -> ActivityData:
        data: dict[str, Any] = given(self)
        return cast(ActivityData, data)


@strawberry.type(description="The answer to `createActivity` and `updateActivity`.")
class ActivityPayload:
    activity: Activity | None = strawberry.field(
        default=None, description="The activity as written; null when refused."
    )
    user_errors: list[UserError] = user_errors_field()


_activity_of_row = declared_view(Activity)
