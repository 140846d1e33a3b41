from __future__ import annotations

from datetime import datetime
from typing import Any, cast

import strawberry

from graph.compiler import Source
from graph.context import Info
from graph.errors import UserError
from graph.node import Node
from graph.objects import declared_view, described_enum, described_field, fields, given, user_errors_field
from graph.pagination import After, Connection, First, connection, decode_cursor, page_size
from models import DeliveryStatus
from services import events, webhook_sending, webhooks
from services.paging import Window
from services.webhooks import WebhookData

_TYPES = ", ".join(f"`{kind}`" for kind in events.TYPES)

DeliveryStatusEnum = described_enum(
    DeliveryStatus,
    name="DeliveryStatus",
    description="Where a webhook delivery stands.",
    values={
        "PENDING": "Not delivered yet: its next attempt is due, or under way.",
        "DELIVERED": "An attempt was answered with a 2xx.",
        "FAILED": f"All {webhooks.ATTEMPTS} attempts of its series failed; `replayWebhookDelivery` sends it again.",
    },
)


@strawberry.type(description="One event sent to one webhook, and how its attempts went.")
class WebhookDelivery(Node):
    id: strawberry.ID = strawberry.field(description="Opaque global ID.")
    event_id: str = strawberry.field(
        description="The event's id, as the POSTed JSON's `id` carries it: every attempt, and every webhook sent the "
        "event, carry the same, so a receiver can tell an event it has already handled."
    )
    event_type: str = strawberry.field(description=f"The event's type: one of {_TYPES}.")
    status: DeliveryStatus = strawberry.field(description="Where the delivery stands.")
    attempts: int = strawberry.field(
        description="Attempts made so far, replays' included; an attempt counts from when it is sent."
    )
    last_error: str | None = strawberry.field(
        description='Why the latest failed attempt failed ("HTTP 500", a timeout, a refused connection); it stays '
        "after a later attempt succeeds. Null when none failed."
    )
    created_at: datetime = strawberry.field(description="When the event was queued for this webhook.")
    delivered_at: datetime | None = strawberry.field(description="When an attempt last got a 2xx; null until one did.")
    db_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Any) -> WebhookDelivery:
        return _delivery_of_row(fields(row), None)


_OF_WEBHOOK = Source(webhooks.OF_WEBHOOK)


@strawberry.type(
    description="An endpoint that is POSTed each event of the types it chose, signed with its secret. "
    "Administrators only."
)
class Webhook(Node):
    id: strawberry.ID = strawberry.field(description="Opaque global ID.")
    url: str = strawberry.field(description="Where events are POSTed.")
    event_types: list[str] = strawberry.field(description="The event types it receives, in the order of the list.")
    active: bool = strawberry.field(
        description="Whether it receives events; while off it is sent nothing, and switched on again it receives the "
        "events from then on."
    )
    db_id: strawberry.Private[int]

    @classmethod
    def from_model(cls, row: Any) -> Webhook:
        return _webhook_of_row(fields(row), None)

    @described_field("Every event queued for it, newest first, with its attempts.")
    async def deliveries(self, info: Info, first: First = 50, after: After = None) -> Connection[WebhookDelivery]:
        ctx = info.context
        window = Window(page_size(first), decode_cursor(after, webhooks.DELIVERIES_KEYSET))
        compiled = ctx.compiled_edges(info)
        if compiled is not None:
            return await ctx.connection(
                info, compiled, _OF_WEBHOOK, webhooks.DELIVERIES_KEYSET, window, params={"webhook_id": self.db_id}
            )
        page = await ctx.loaders.webhook_deliveries_page(self.db_id, window)

        async def count_total() -> int:
            return await ctx.loaders.webhook_deliveries_total(self.db_id)

        return connection(page, webhooks.DELIVERIES_KEYSET, WebhookDelivery.from_row, count_total)


@strawberry.input(
    description="A webhook to register, or the changes to one: a field left out stays as it is (on create: on)."
)
class WebhookInput:
    url: str | None = strawberry.field(
        default=strawberry.UNSET,
        description=f"An http or https URL of at most {webhooks.URL_MAX} characters, without user or password. In "
        "production it must resolve to public addresses only (unless WEBHOOK_ALLOW_PRIVATE): each refused as "
        "VALIDATION. Needed to create.",
    )
    event_types: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description=f"At least one of {_TYPES}; each is POSTed as it happens. Needed to create.",
    )
    secret: str | None = strawberry.field(
        default=strawberry.UNSET,
        description=f"{webhooks.SECRET_MIN} to {webhooks.SECRET_MAX} characters that key each POST's "
        f"`{webhook_sending.SIGNATURE_HEADER}`; written, never readable. Needed to create.",
    )
    active: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Whether it receives events; on by default."
    )

    def to_data(self) -> WebhookData:
        return cast(WebhookData, given(self))


@strawberry.type(description="The answer to `createWebhook` and `updateWebhook`.")
class WebhookPayload:
    webhook: Webhook | None = strawberry.field(default=None, description="The webhook as written; null when refused.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The answer to `replayWebhookDelivery`.")
class WebhookDeliveryPayload:
    delivery: WebhookDelivery | None = strawberry.field(
        default=None, description="The delivery, queued to be sent again; null when refused."
    )
    user_errors: list[UserError] = user_errors_field()


_webhook_of_row = declared_view(Webhook)
_delivery_of_row = declared_view(WebhookDelivery)
