"""The schema: every root field with the permission that gates it, in one place (SPEC 5a)."""

from __future__ import annotations

import strawberry
from strawberry.permission import BasePermission
from strawberry.schema.config import StrawberryConfig

from graph.pagination import Connection
from graph.permissions import Administrator, Authenticated, Invoicer
from graph.scalars import SCALAR_MAP
from graph.types.activity import Activity, ActivityPayload
from graph.types.case import Case, CasePayload, Debtor, DebtorPayload, ImportCasesPayload
from graph.types.company import Settings, SettingsPayload
from graph.types.employee import ChangePasswordPayload, Employee, EmployeePayload, LoginPayload
from graph.types.invoice import Invoice, InvoicePayload
from graph.types.node import Node
from graph.types.report import TimeReport
from graph.types.role import Role, RolePayload
from graph.types.time_entry import (
    DeletePayload,
    TimeEntriesPayload,
    TimeEntry,
    TimeEntryPayload,
    Timer,
    TimerPayload,
)
from resolvers import auth, case, catalog, company, employee, invoice, node, report, role, time_entry

USER: list[type[BasePermission]] = [Authenticated]
ADMIN: list[type[BasePermission]] = [Administrator]
BILLING: list[type[BasePermission]] = [Invoicer]


@strawberry.type
class Query:
    node: Node | None = strawberry.field(resolver=node.node, permission_classes=USER)
    viewer: Employee = strawberry.field(resolver=employee.viewer, permission_classes=USER)
    settings: Settings = strawberry.field(resolver=company.settings, permission_classes=USER)
    roles: list[Role] = strawberry.field(resolver=role.roles_list, permission_classes=USER)
    employees: Connection[Employee] = strawberry.field(resolver=employee.employees_page, permission_classes=USER)
    activities: list[Activity] = strawberry.field(resolver=catalog.activities_list, permission_classes=USER)
    debtors: Connection[Debtor] = strawberry.field(resolver=catalog.debtors_page, permission_classes=USER)
    cases: Connection[Case] = strawberry.field(resolver=case.cases_page, permission_classes=USER)
    case_options: list[Case] = strawberry.field(resolver=case.case_options, permission_classes=USER)
    time_entries: Connection[TimeEntry] = strawberry.field(
        resolver=time_entry.time_entries_page, permission_classes=USER
    )
    running_timer: Timer | None = strawberry.field(resolver=time_entry.running_timer, permission_classes=USER)
    time_report: TimeReport = strawberry.field(resolver=report.time_report, permission_classes=USER)
    invoices: Connection[Invoice] = strawberry.field(resolver=invoice.invoices_page, permission_classes=BILLING)


@strawberry.type
class Mutation:
    login: LoginPayload = strawberry.mutation(resolver=auth.login)
    logout: bool = strawberry.mutation(resolver=auth.logout, permission_classes=USER)
    change_password: ChangePasswordPayload = strawberry.mutation(
        resolver=auth.change_password,
        permission_classes=USER,
        description="Change the viewer's own password; every other token of theirs is revoked, this one stays.",
    )
    update_settings: SettingsPayload = strawberry.mutation(resolver=company.update_settings, permission_classes=ADMIN)
    create_role: RolePayload = strawberry.mutation(resolver=role.create_role, permission_classes=ADMIN)
    update_role: RolePayload = strawberry.mutation(resolver=role.update_role, permission_classes=ADMIN)
    create_employee: EmployeePayload = strawberry.mutation(resolver=employee.create_employee, permission_classes=ADMIN)
    update_employee: EmployeePayload = strawberry.mutation(resolver=employee.update_employee, permission_classes=ADMIN)
    set_employee_rate: EmployeePayload = strawberry.mutation(
        resolver=employee.set_employee_rate, permission_classes=ADMIN
    )
    create_debtor: DebtorPayload = strawberry.mutation(resolver=catalog.create_debtor, permission_classes=ADMIN)
    update_debtor: DebtorPayload = strawberry.mutation(resolver=catalog.update_debtor, permission_classes=ADMIN)
    create_activity: ActivityPayload = strawberry.mutation(resolver=catalog.create_activity, permission_classes=ADMIN)
    update_activity: ActivityPayload = strawberry.mutation(resolver=catalog.update_activity, permission_classes=ADMIN)
    create_case: CasePayload = strawberry.mutation(resolver=case.create_case, permission_classes=ADMIN)
    update_case: CasePayload = strawberry.mutation(resolver=case.update_case, permission_classes=ADMIN)
    import_cases: ImportCasesPayload = strawberry.mutation(resolver=case.import_cases, permission_classes=ADMIN)
    create_time_entry: TimeEntryPayload = strawberry.mutation(
        resolver=time_entry.create_time_entry, permission_classes=USER
    )
    update_time_entry: TimeEntryPayload = strawberry.mutation(
        resolver=time_entry.update_time_entry, permission_classes=USER
    )
    delete_time_entry: DeletePayload = strawberry.mutation(
        resolver=time_entry.delete_time_entry, permission_classes=USER
    )
    copy_time_entries: TimeEntriesPayload = strawberry.mutation(
        resolver=time_entry.copy_time_entries, permission_classes=USER
    )
    save_case_time_list: TimeEntriesPayload = strawberry.mutation(
        resolver=time_entry.save_case_time_list, permission_classes=USER
    )
    start_timer: TimerPayload = strawberry.mutation(resolver=time_entry.start_timer, permission_classes=USER)
    stop_timer: TimeEntryPayload = strawberry.mutation(resolver=time_entry.stop_timer, permission_classes=USER)
    discard_timer: TimerPayload = strawberry.mutation(
        resolver=time_entry.discard_timer,
        permission_classes=USER,
        description="Drop the viewer's running timer without writing any time; none running is NO_TIMER.",
    )
    create_invoice: InvoicePayload = strawberry.mutation(resolver=invoice.create_invoice, permission_classes=BILLING)
    void_invoice: InvoicePayload = strawberry.mutation(resolver=invoice.void_invoice, permission_classes=BILLING)
    release_over_limit: TimeEntriesPayload = strawberry.mutation(
        resolver=invoice.release_over_limit, permission_classes=BILLING
    )


schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    types=[Role, Employee, Activity, Debtor, Case, TimeEntry, Invoice],
    config=StrawberryConfig(auto_camel_case=True, scalar_map=SCALAR_MAP),
)
