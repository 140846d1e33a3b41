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


@strawberry.type(
    description="What a logged-in employee may read: every field needs the header `Authorization: Bearer <token>`."
)
class Query:
    node: Node | None = strawberry.field(
        resolver=node.node,
        permission_classes=USER,
        description="Any object by its global ID; null when the ID is malformed, names nothing, or names something "
        "the viewer may not see (a hidden employee, an invoice without `canInvoice`).",
    )
    viewer: Employee = strawberry.field(
        resolver=employee.viewer, permission_classes=USER, description="The logged-in employee."
    )
    settings: Settings = strawberry.field(
        resolver=company.settings, permission_classes=USER, description="The company's settings."
    )
    roles: list[Role] = strawberry.field(
        resolver=role.roles_list, permission_classes=USER, description="Every role, by name."
    )
    employees: Connection[Employee] = strawberry.field(
        resolver=employee.employees_page,
        permission_classes=USER,
        description="The employees whose names the viewer may see, by name.",
    )
    activities: list[Activity] = strawberry.field(
        resolver=catalog.activities_list, permission_classes=USER, description="Every activity, by code."
    )
    debtors: Connection[Debtor] = strawberry.field(
        resolver=catalog.debtors_page, permission_classes=USER, description="Debtors, by code."
    )
    cases: Connection[Case] = strawberry.field(
        resolver=case.cases_page, permission_classes=USER, description="Cases, by code; blocked ones only when asked."
    )
    case_options: list[Case] = strawberry.field(
        resolver=case.case_options,
        permission_classes=USER,
        description="The cases a debtor's time can be written on at a date: not blocked and active then, default "
        "cases first, then by code.",
    )
    time_entries: Connection[TimeEntry] = strawberry.field(
        resolver=time_entry.time_entries_page,
        permission_classes=USER,
        description="Time entries matching the filter, newest work date first. Every entry is listed; names the "
        "viewer may not see are not.",
    )
    running_timer: Timer | None = strawberry.field(
        resolver=time_entry.running_timer,
        permission_classes=USER,
        description="The viewer's running timer; null when none runs.",
    )
    time_report: TimeReport = strawberry.field(
        resolver=report.time_report,
        permission_classes=USER,
        description="Minutes and money of the filtered entries, grouped; rows in the order of `groupBy`. Hidden "
        "employees fold into one row per group.",
    )
    invoices: Connection[Invoice] = strawberry.field(
        resolver=invoice.invoices_page,
        permission_classes=BILLING,
        description="Invoices, newest first. Billing staff (`canInvoice`) and administrators only.",
    )


@strawberry.type(
    description="Every write. What the user can fix comes back as the payload's `userErrors`, with nothing written; a "
    "field the viewer's role may not use at all is a top-level FORBIDDEN error."
)
class Mutation:
    login: LoginPayload = strawberry.mutation(
        resolver=auth.login,
        description="Exchange an email and password for a bearer token: the one field that needs no token.",
    )
    logout: bool = strawberry.mutation(
        resolver=auth.logout,
        permission_classes=USER,
        description="Revoke the token this request carries; true when it was revoked.",
    )
    change_password: ChangePasswordPayload = strawberry.mutation(
        resolver=auth.change_password,
        permission_classes=USER,
        description="Change the viewer's own password; every other token of theirs is revoked, this one stays.",
    )
    update_settings: SettingsPayload = strawberry.mutation(
        resolver=company.update_settings,
        permission_classes=ADMIN,
        description="Change the company's settings. Administrators only.",
    )
    create_role: RolePayload = strawberry.mutation(
        resolver=role.create_role, permission_classes=ADMIN, description="Create a role. Administrators only."
    )
    update_role: RolePayload = strawberry.mutation(
        resolver=role.update_role, permission_classes=ADMIN, description="Change a role. Administrators only."
    )
    create_employee: EmployeePayload = strawberry.mutation(
        resolver=employee.create_employee,
        permission_classes=ADMIN,
        description="Create an employee. Administrators only.",
    )
    update_employee: EmployeePayload = strawberry.mutation(
        resolver=employee.update_employee,
        permission_classes=ADMIN,
        description="Change an employee; a new password or `active: false` revokes all their tokens. Administrators "
        "only.",
    )
    set_employee_rate: EmployeePayload = strawberry.mutation(
        resolver=employee.set_employee_rate,
        permission_classes=ADMIN,
        description="Set or remove an employee's rate for one activity. Administrators only.",
    )
    create_debtor: DebtorPayload = strawberry.mutation(
        resolver=catalog.create_debtor, permission_classes=ADMIN, description="Create a debtor. Administrators only."
    )
    update_debtor: DebtorPayload = strawberry.mutation(
        resolver=catalog.update_debtor, permission_classes=ADMIN, description="Change a debtor. Administrators only."
    )
    create_activity: ActivityPayload = strawberry.mutation(
        resolver=catalog.create_activity,
        permission_classes=ADMIN,
        description="Create an activity. Administrators only.",
    )
    update_activity: ActivityPayload = strawberry.mutation(
        resolver=catalog.update_activity,
        permission_classes=ADMIN,
        description="Change an activity. Administrators only.",
    )
    create_case: CasePayload = strawberry.mutation(
        resolver=case.create_case, permission_classes=ADMIN, description="Create a case. Administrators only."
    )
    update_case: CasePayload = strawberry.mutation(
        resolver=case.update_case, permission_classes=ADMIN, description="Change a case. Administrators only."
    )
    import_cases: ImportCasesPayload = strawberry.mutation(
        resolver=case.import_cases,
        permission_classes=ADMIN,
        description="Create the same case for each of a group of debtors, all or nothing unless `bestEffort`. "
        "Administrators only.",
    )
    create_time_entry: TimeEntryPayload = strawberry.mutation(
        resolver=time_entry.create_time_entry,
        permission_classes=USER,
        description="Write an entry. In PER_DATE mode, time beyond its case's book-year maximum goes to an over-limit "
        "(L) entry, with a CAP_EXCEEDED warning.",
    )
    update_time_entry: TimeEntryPayload = strawberry.mutation(
        resolver=time_entry.update_time_entry,
        permission_classes=USER,
        description="Change an entry that is not invoiced. In PER_DATE mode the cap check runs again without the "
        "entry's old share; its rate stays unless its employee, activity, case or debtor changes.",
    )
    delete_time_entry: DeletePayload = strawberry.mutation(
        resolver=time_entry.delete_time_entry,
        permission_classes=USER,
        description="Delete an entry that is not invoiced.",
    )
    copy_time_entries: TimeEntriesPayload = strawberry.mutation(
        resolver=time_entry.copy_time_entries,
        permission_classes=USER,
        description="Copy entries to another date at fresh rates, without cap check: J and F copy as J, N as N, L as "
        "a new entry's status.",
    )
    save_case_time_list: TimeEntriesPayload = strawberry.mutation(
        resolver=time_entry.save_case_time_list,
        permission_classes=USER,
        description="Save a case time list's changes in order, in one transaction, each as its single mutation in "
        "PER_DATE mode; any refusal writes nothing. A STATIC list is refused (STATIC_LIST).",
    )
    start_timer: TimerPayload = strawberry.mutation(
        resolver=time_entry.start_timer,
        permission_classes=USER,
        description="Start the viewer's timer; one running already is TIMER_RUNNING.",
    )
    stop_timer: TimeEntryPayload = strawberry.mutation(
        resolver=time_entry.stop_timer,
        permission_classes=USER,
        description="Stop the viewer's timer and write its time, rounded up to whole minutes (at least 1; past 1440, "
        "1440 with TIMER_TRUNCATED), as a TIMER entry dated the day it started, through the PER_DATE cap check. None "
        "running is NO_TIMER.",
    )
    discard_timer: TimerPayload = strawberry.mutation(
        resolver=time_entry.discard_timer,
        permission_classes=USER,
        description="Drop the viewer's running timer without writing any time; none running is NO_TIMER.",
    )
    create_invoice: InvoicePayload = strawberry.mutation(
        resolver=invoice.create_invoice,
        permission_classes=BILLING,
        description="Put a debtor's billable (J) time not yet invoiced on a new invoice, one line per case, activity "
        "and rate, and turn it F. None is NOTHING_TO_INVOICE. Billing staff and administrators only.",
    )
    void_invoice: InvoicePayload = strawberry.mutation(
        resolver=invoice.void_invoice,
        permission_classes=BILLING,
        description="Void an invoice: its entries go back to J, its number stays used. Billing staff and "
        "administrators only.",
    )
    release_over_limit: TimeEntriesPayload = strawberry.mutation(
        resolver=invoice.release_over_limit,
        permission_classes=BILLING,
        description="Release over-limit (L) entries to J or N, without cap check. Billing staff and administrators "
        "only.",
    )


schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    types=[Role, Employee, Activity, Debtor, Case, TimeEntry, Invoice],
    config=StrawberryConfig(auto_camel_case=True, scalar_map=SCALAR_MAP),
)
