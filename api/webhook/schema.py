"""Root fields of webhooks (SPEC 13), administrators' only."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.webhook.types import Webhook, WebhookDelivery, WebhookDeliveryPayload, WebhookInput, WebhookPayload
from graph import ids
from graph.context import Info
from graph.permissions import ADMIN
from graph.write import Refused, write
from services import webhooks
from services.webhooks import WebhookData


async def webhooks_list(info: Info) -> list[Webhook]:
    async with info.context.db.read() as session:
        return [Webhook.from_model(w) for w in await webhooks.list_all(session)]


async def _public(data: WebhookData, info: Info) -> None:
    await webhooks.check_addresses(data, private_allowed=info.context.config.webhook_private_allowed)


async def create_webhook(
    info: Info, input: Annotated[WebhookInput, strawberry.argument(description="The webhook to register.")]
) -> WebhookPayload:
    outcome = await write(
        info,
        lambda: webhooks.checked(input.to_data(), creating=True),
        lambda session, data: webhooks.create(session, data, by=info.context.me.employee_id),
        check=lambda data: _public(data, info),
    )
    if isinstance(outcome, Refused):
        return WebhookPayload(user_errors=outcome.errors)
    return WebhookPayload(webhook=Webhook.from_model(outcome))


async def update_webhook(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="The webhook to change.")],
    input: Annotated[WebhookInput, strawberry.argument(description="The fields to change; those left out stay.")],
) -> WebhookPayload:
    outcome = await write(
        info,
        lambda: (ids.require(id, "Webhook", "id"), webhooks.checked(input.to_data(), creating=False)),
        lambda session, given: webhooks.update(session, *given, by=info.context.me.employee_id),
        check=lambda given: _public(given[1], info),
    )
    if isinstance(outcome, Refused):
        return WebhookPayload(user_errors=outcome.errors)
    return WebhookPayload(webhook=Webhook.from_model(outcome))


async def replay_webhook_delivery(
    info: Info,
    id: Annotated[
        strawberry.ID,
        strawberry.argument(description="The delivery to send again; one of a webhook that is off is VALIDATION."),
    ],
) -> WebhookDeliveryPayload:
    outcome = await write(info, lambda: ids.require(id, "WebhookDelivery", "id"), webhooks.replay)
    if isinstance(outcome, Refused):
        return WebhookDeliveryPayload(user_errors=outcome.errors)
    return WebhookDeliveryPayload(delivery=WebhookDelivery.from_row(outcome))


@strawberry.type
class WebhookQueries:
    webhooks: list[Webhook] = strawberry.field(
        resolver=webhooks_list,
        permission_classes=ADMIN,
        description="Every webhook, in the order they were registered. Administrators only.",
    )


@strawberry.type
class WebhookMutations:
    create_webhook: WebhookPayload = strawberry.mutation(
        resolver=create_webhook,
        permission_classes=ADMIN,
        description="Register a webhook: each event of its types from now on is POSTed to its URL, signed with its "
        "secret. Administrators only.",
    )
    update_webhook: WebhookPayload = strawberry.mutation(
        resolver=update_webhook,
        permission_classes=ADMIN,
        description="Change a webhook; switched off, it is sent nothing, and deliveries waiting for it wait. "
        "Administrators only.",
    )
    replay_webhook_delivery: WebhookDeliveryPayload = strawberry.mutation(
        resolver=replay_webhook_delivery,
        permission_classes=ADMIN,
        description="Send a delivery again, now, whatever became of it: it is PENDING again with "
        f"{webhooks.ATTEMPTS} more attempts before it is FAILED; `attempts` goes on counting. A delivery being sent "
        "at that moment is not sent twice at once. Administrators only.",
    )
