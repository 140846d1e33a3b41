"""The schema, assembled from each domain's root fields (`api/<domain>/schema.py`), each with the permission that
gates it (SPEC 5a)."""

from __future__ import annotations

import strawberry
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.name_converter import NameConverter

from api.activity.schema import ActivityMutations, ActivityQueries
from api.activity.types import Activity
from api.auth.schema import AuthMutations
from api.case.schema import CaseMutations, CaseQueries
from api.case.types import Case, Debtor
from api.company.schema import CompanyMutations, CompanyQueries
from api.employee.schema import EmployeeMutations, EmployeeQueries
from api.employee.types import Employee
from api.invoice.schema import InvoiceMutations, InvoiceQueries
from api.invoice.types import Invoice
from api.node.schema import NodeQueries
from api.report.schema import ReportQueries
from api.role.schema import RoleMutations, RoleQueries
from api.role.types import Role
from api.time_entry.schema import TimeEntryMutations, TimeEntryQueries
from api.time_entry.types import TimeEntry
from graph.scalars import SCALAR_MAP


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
):
    pass


class _CamelCaseOnce(NameConverter):
    """Strawberry's names, each camel-cased once: converting a mutation's input asks for the name of every field of
    it on every request (`to_camel_case` was ~1% of a write's CPU)."""

    def __init__(self) -> None:
        super().__init__(auto_camel_case=True)
        self._names: dict[str, str] = {}

    def apply_naming_config(self, name: str) -> str:
        found = self._names.get(name)
        if found is None:
            found = self._names[name] = super().apply_naming_config(name)
        return found


schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    types=[Role, Employee, Activity, Debtor, Case, TimeEntry, Invoice],
    config=StrawberryConfig(name_converter=_CamelCaseOnce(), scalar_map=SCALAR_MAP),
)
