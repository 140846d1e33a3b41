"""Root fields of any object by its global ID."""

from __future__ import annotations

from typing import Annotated, cast

import strawberry

from api.activity.types import Activity
from api.case.types import Case, Debtor
from api.employee.types import Employee
from api.invoice.types import Invoice
from api.role.types import Role
from api.time_entry.types import EntryBuilder
from api.webhook.types import Webhook, WebhookDelivery
from graph import ids
from graph.context import Info
from graph.declarations import DECLARATIONS, Seeing
from graph.node import Node
from graph.permissions import USER


async def node(
    info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The `id` of any object.")]
) -> Node | None:
    """Any object by global ID; null when malformed, unknown, or hidden from the viewer (SPEC 5b)."""
    decoded = ids.decode_any(id)
    if decoded is None:
        return None
    type_name, db_id = decoded
    ctx = info.context
    declaration = DECLARATIONS.get(type_name)
    seen = declaration.seen if declaration is not None else None
    if seen is not None and not seen(db_id, Seeing(ctx.visibility, ctx.viewer)):
        return None  # a hidden employee, an invoice for anyone but billing staff, a webhook (SPEC 5, 5a, 13)
    compiled = ctx.compiled_object(info, type_name)
    if compiled is not None:  # the object and its connections as one statement's JSON text, passed on as it is
        written = await compiled.one(
            ctx.db, db_id, viewer=ctx.viewer, visibility=ctx.visibility, variables=ctx.variables(info)
        )
        return cast(Node | None, written)
    loaders = ctx.loaders
    if type_name == "Employee":
        employee = await loaders.employee_by_id.load(db_id)
        return Employee.from_row(employee) if employee else None
    if type_name == "Role":
        role = await loaders.role_by_id.load(db_id)
        return Role.from_model(role) if role else None
    if type_name == "Activity":
        activity = await loaders.activity_by_id.load(db_id)
        return Activity.from_model(activity) if activity else None
    if type_name == "Debtor":
        debtor = await loaders.debtor_by_id.load(db_id)
        return Debtor.from_row(debtor) if debtor else None
    if type_name == "Case":
        case = await loaders.case_with_settings(db_id)
        return Case.from_row(case) if case else None
    if type_name == "TimeEntry":  # listed for every viewer; a hidden employee's name stays out (SPEC 5)
        entry = await loaders.time_entry_by_id.load(db_id)
        return EntryBuilder(info.context).build(entry) if entry else None
    if type_name == "Invoice":
        invoice = await loaders.invoice_by_id.load(db_id)
        return Invoice.from_row(invoice) if invoice else None
    if type_name == "Webhook":
        webhook = await loaders.webhook_by_id.load(db_id)
        return Webhook.from_model(webhook) if webhook else None
    if type_name == "WebhookDelivery":
        delivery = await loaders.webhook_delivery_by_id.load(db_id)
        return WebhookDelivery.from_row(delivery) if delivery else None
    return None


@strawberry.type
class NodeQueries:
    node: Node | None = strawberry.field(
        resolver=node,
        permission_classes=USER,
        description="Any object by its global ID; null when the ID is malformed, names nothing, or names something "
        "the viewer may not see (a hidden employee, an invoice without `canInvoice`, a webhook or delivery to anyone "
        "but administrators).",
    )
