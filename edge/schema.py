"""The schema, assembled from each domain's root fields (`api/<domain>/schema.py`), each with the permission that
gates it (SPEC 5a)."""

from __future__ import annotations

import strawberry
from strawberry.schema.config import StrawberryConfig

from api.activity.schema import ActivityMutations, ActivityQueries
from api.activity.types import Activity
from api.auth.schema import AuthMutations
from api.case.schema import CaseMutations, CaseQueries
from api.case.types import Case, Debtor
from api.company.schema import CompanyMutations, CompanyQueries
from api.employee.schema import EmployeeMutations, EmployeeQueries
from api.employee.types import Employee
from api.history.schema import HistoryQueries
from api.invoice.schema import InvoiceMutations, InvoiceQueries
from api.invoice.types import Invoice
from api.live.schema import Subscription
from api.node.schema import NodeQueries
from api.report.schema import ReportQueries
from api.role.schema import RoleMutations, RoleQueries
from api.role.types import Role
from api.time_entry.schema import TimeEntryMutations, TimeEntryQueries
from api.time_entry.types import TimeEntry
from api.webhook.schema import WebhookMutations, WebhookQueries
from api.webhook.types import Webhook, WebhookDelivery
from graph.scalars import SCALAR_MAP
from graph.strawberry_internals import CamelCaseOnce, plan_inputs


# the root fields in the order of the bases
@strawberry.type(
    description="What a logged-in employee may read: every field needs the header `Authorization: Bearer <token>`."
)
class Query(
    NodeQueries,
    CompanyQueries,
    RoleQueries,
    EmployeeQueries,
    ActivityQueries,
    CaseQueries,
    TimeEntryQueries,
    ReportQueries,
    InvoiceQueries,
    HistoryQueries,
    WebhookQueries,
):
    pass


@strawberry.type(
    description="Every write. What the user can fix comes back as the payload's `userErrors`, with nothing written; a "
    "field the viewer's role may not use at all is a top-level FORBIDDEN error."
)
class Mutation(
    AuthMutations,
    CompanyMutations,
    RoleMutations,
    EmployeeMutations,
    ActivityMutations,
    CaseMutations,
    TimeEntryMutations,
    InvoiceMutations,
    WebhookMutations,
):
    pass


schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    types=[Role, Employee, Activity, Debtor, Case, TimeEntry, Invoice, Webhook, WebhookDelivery],
    config=StrawberryConfig(name_converter=CamelCaseOnce(), scalar_map=SCALAR_MAP),
)
plan_inputs(schema)
