"""Demo data for a fresh database (SPEC 11, 12): every visibility kind, a supervisor chain, every kind of case, and
last week's time as a real team writes it: working days only, at most a working day per employee per day."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from models import CapBasis, CapKind, Case, EmployeeVisibility, EntryMode, TimeStatus
from services import activities, cases, company, debtors, employees, roles, time_entries
from services.auth import Viewer
from services.book_year import book_year_of
from services.passwords import Passwords
from services.time_entries import Writer
from services.visibility import EVERYONE

ADMIN_EMAIL = "admin@casetime.test"
ADMIN_PASSWORD = "casetime-admin"
DEMO_PASSWORD = "casetime-demo"

# (email, name, role, supervisor email, default rate)
DEMO_EMPLOYEES = [
    (ADMIN_EMAIL, "Ada Admin", "Administrator", None, None),
    ("billing@casetime.test", "Bill Ing", "Billing", None, None),
    ("lead@casetime.test", "Lena Lead", "Team lead", None, "90.00"),
    ("consultant@casetime.test", "Conrad Consultant", "Consultant", "lead@casetime.test", "80.00"),
    ("junior@casetime.test", "Judy Junior", "Consultant", "consultant@casetime.test", "60.00"),
    ("support@casetime.test", "Sam Support", "Support", "junior@casetime.test", None),
    ("reports@casetime.test", "Rita Reports", "Reporting", None, None),
]


WORKING_DAY_MINUTES = 480
# ACME's implementation budget: the week below writes 2,580 minutes on it, so its last entry runs over (an L line)
IMPL_MAX_MINUTES = 2400


class Stint(NamedTuple):
    """One entry of the demo week: on its working day (0 = Monday), by whom, where, what and how long."""

    day: int
    email: str
    case: str
    activity: str
    minutes: int
    description: str
    billable: bool | None = None
    mode: EntryMode = EntryMode.PER_DATE


_C, _J, _L, _S = "consultant@casetime.test", "junior@casetime.test", "lead@casetime.test", "support@casetime.test"
# in the order written: a day at a time, so the cap check meets IMPL-2026's entries in date order
DEMO_WEEK = [
    Stint(0, _C, "IMPL-2026", "CONSULT", 360, "Workshop: order-to-cash data model"),
    Stint(0, _C, "SUPPORT", "SUPPORT", 60, "Ticket triage"),
    Stint(0, _J, "IMPL-2026", "CONSULT", 300, "Test scripts for the order flow"),
    Stint(0, _J, "SUPPORT", "SUPPORT", 120, "Password resets and printer mapping"),
    Stint(0, _L, "MIGRATION", "CONSULT", 240, "Migration planning with Initech IT"),
    Stint(0, _L, "SUPPORT", "CONSULT", 60, "Monthly account call with Acme"),
    Stint(0, _S, "SUPPORT", "SUPPORT", 300, "Helpdesk queue"),
    Stint(0, _S, "RETAINER", "SUPPORT", 120, "Mailbox quota incident"),
    Stint(1, _C, "IMPL-2026", "CONSULT", 420, "Configuring the order flow"),
    Stint(1, _C, "SUPPORT", "SUPPORT", 45, "Escalated ticket: invoice layout"),
    Stint(1, _J, "IMPL-2026", "CONSULT", 240, "Running the test scripts"),
    Stint(1, _J, "WARRANTY", "SUPPORT", 180, "Fixing the report export", mode=EntryMode.PER_DEBTOR),
    Stint(1, _L, "MIGRATION", "CONSULT", 300, "Data mapping sessions"),
    Stint(1, _S, "SUPPORT", "SUPPORT", 240, "Helpdesk queue"),
    Stint(1, _S, "WARRANTY", "SUPPORT", 120, "Export fix: customer follow-up", mode=EntryMode.PER_DEBTOR),
    Stint(2, _C, "IMPL-2026", "CONSULT", 300, "Interfaces to the warehouse system"),
    Stint(2, _C, "MIGRATION", "TRAVEL", 90, "Travel to Initech", billable=False),
    Stint(2, _C, "MIGRATION", "CONSULT", 90, "Migration kick-off on site"),
    Stint(2, _J, "WARRANTY", "SUPPORT", 120, "Retesting the export fix", mode=EntryMode.PER_DEBTOR),
    Stint(2, _J, "SUPPORT", "SUPPORT", 240, "Helpdesk queue"),
    Stint(2, _L, "MIGRATION", "TRAVEL", 90, "Travel to Initech", billable=False),
    Stint(2, _L, "MIGRATION", "CONSULT", 240, "Migration kick-off on site"),
    Stint(2, _S, "RETAINER", "SUPPORT", 240, "Server patching window"),
    Stint(2, _S, "SUPPORT", "SUPPORT", 180, "Helpdesk queue"),
    Stint(3, _C, "IMPL-2026", "CONSULT", 360, "Key-user training"),
    Stint(3, _C, "SUPPORT", "SUPPORT", 60, "Ticket triage"),
    Stint(3, _J, "IMPL-2026", "CONSULT", 360, "Key-user training"),
    Stint(3, _J, "SUPPORT", "SUPPORT", 60, "Helpdesk queue"),
    Stint(3, _L, "RETAINER", "CONSULT", 180, "Architecture review"),
    Stint(3, _L, "MIGRATION", "CONSULT", 120, "Steering group"),
    Stint(3, _S, "SUPPORT", "SUPPORT", 360, "Helpdesk queue"),
    Stint(4, _C, "IMPL-2026", "CONSULT", 240, "Go-live preparation"),
    Stint(4, _C, "RETAINER", "CONSULT", 120, "Quarterly review"),
    Stint(4, _J, "MIGRATION", "CONSULT", 240, "Test migration of the customer file"),
    Stint(4, _J, "SUPPORT", "SUPPORT", 120, "Helpdesk queue"),
    Stint(4, _L, "MIGRATION", "CONSULT", 120, "Status report"),
    Stint(4, _L, "SUPPORT", "CONSULT", 90, "Go-live check-in with Acme"),
    Stint(4, _S, "SUPPORT", "SUPPORT", 240, "Helpdesk queue"),
    Stint(4, _S, "WARRANTY", "SUPPORT", 60, "Closing the export fix", mode=EntryMode.PER_DEBTOR),
]


def demo_week(today: date, *, book_year_start_month: int) -> list[date]:
    """Monday to Friday of the last whole work week before `today`; the week before that when a book year starts
    inside it, so that all its time counts towards the same caps (SPEC 12: a real recent work week)."""
    friday = today - timedelta(days=(today.weekday() - 4) % 7 or 7)
    monday = friday - timedelta(days=4)
    if book_year_of(monday, book_year_start_month) != book_year_of(friday, book_year_start_month):
        monday -= timedelta(days=7)
    return [monday + timedelta(days=n) for n in range(5)]


def _first_of_month(day: date, *, months_later: int = 0) -> date:
    index = day.year * 12 + day.month - 1 + months_later
    return date(index // 12, index % 12 + 1, 1)


async def load(session: AsyncSession, passwords: Passwords, *, today: date | None = None) -> bool:
    """Fill an empty database; a database that has employees is left alone. True when loaded.

    `today` (the company's, by default) decides which week the demo time falls in."""
    if await employees.count_all(session) > 0:
        return False
    role_ids = {}
    for name, admin, others, invoice, kind in [
        ("Administrator", True, True, True, EmployeeVisibility.ALL),
        ("Billing", False, False, True, EmployeeVisibility.ALL),
        ("Team lead", False, True, False, EmployeeVisibility.OWN_AND_SUBORDINATES),
        ("Consultant", False, False, False, EmployeeVisibility.OWN),
        ("Support", False, False, False, EmployeeVisibility.SELECTED_ROLES),
        ("Reporting", False, False, False, EmployeeVisibility.ALL),
    ]:
        role = await roles.create(
            session,
            {
                "name": name,
                "is_administrator": admin,
                "can_enter_time_for_others": others,
                "can_invoice": invoice,
                "employee_visibility": kind,
            },
        )
        role_ids[name] = role.id
    await roles.update(
        session, role_ids["Support"], {"visible_role_ids": [role_ids["Support"], role_ids["Consultant"]]}
    )

    employee_ids: dict[str, int] = {}
    for email, name, role_name, supervisor, rate in DEMO_EMPLOYEES:
        employee = await employees.create(
            session,
            passwords,
            {
                "name": name,
                "email": email,
                "role_id": role_ids[role_name],
                "password": ADMIN_PASSWORD if email == ADMIN_EMAIL else DEMO_PASSWORD,
                "supervisor_id": employee_ids[supervisor] if supervisor else None,
                "default_rate": Decimal(rate) if rate else None,
            },
        )
        employee_ids[email] = employee.id

    consult = await activities.create(
        session, {"code": "CONSULT", "name": "Consultancy", "default_rate": Decimal("95.00")}
    )
    await activities.create(session, {"code": "SUPPORT", "name": "Support call", "default_rate": Decimal("75.00")})
    await activities.create(session, {"code": "TRAVEL", "name": "Travel", "default_status": TimeStatus.NON_BILLABLE})
    await employees.set_rate(
        session, employee_id=employee_ids["consultant@casetime.test"], activity_id=consult.id, rate=Decimal("100.00")
    )

    settings = await company.get(session)
    week = demo_week(today or company.today(settings), book_year_start_month=settings.book_year_start_month)
    # a period that holds the demo week and the next months
    period = (_first_of_month(week[0]), _first_of_month(week[0], months_later=6) - timedelta(days=1))
    created: dict[str, Case] = {}
    acme = await debtors.create(session, {"code": "ACME", "name": "Acme Corporation"})
    globex = await debtors.create(session, {"code": "GLOBEX", "name": "Globex", "adjusted_rate": Decimal("110.00")})
    initech = await debtors.create(session, {"code": "INITECH", "name": "Initech"})
    for data in [
        {"debtor_id": acme.id, "code": "SUPPORT", "description": "Day-to-day support", "is_default": True},
        {
            "debtor_id": acme.id,
            "code": "IMPL-2026",
            "description": f"Implementation, capped at {IMPL_MAX_MINUTES // 60} hours a year",
            "max_per_book_year": CapKind.TIME,
            "max_minutes": IMPL_MAX_MINUTES,
        },
        {
            "debtor_id": globex.id,
            "code": "RETAINER",
            "description": "Retainer, capped at 5,000.00 a year",
            "max_per_book_year": CapKind.AMOUNT,
            "max_amount": Decimal("5000.00"),
            "adjusted_rate": Decimal("120.00"),
        },
        {"debtor_id": globex.id, "code": "LEGACY", "description": "Closed project", "blocked": True},
        {
            "debtor_id": initech.id,
            "code": "MIGRATION",
            "description": f"Migration project, {period[0]:%B %Y} to {period[1]:%B %Y}",
            "active_from": period[0],
            "active_until": period[1],
        },
        {
            "debtor_id": initech.id,
            "code": "WARRANTY",
            "description": "Warranty work, not billed",
            "invoicing": TimeStatus.NON_BILLABLE,
            "max_per_book_year": CapKind.TIME,
            "max_minutes": 1200,
            "max_based_on": CapBasis.NON_BILLABLE,
        },
    ]:
        created[str(data["code"])] = await cases.create(session, data)  # type: ignore[arg-type]
    activity_ids = {a.code: a.id for a in await activities.list_all(session)}
    await _write_week(session, week, employee_ids, created, activity_ids)
    return True


async def _write_week(
    session: AsyncSession,
    week: list[date],
    employee_ids: dict[str, int],
    case_by_code: dict[str, Case],
    activity_ids: dict[str, int],
) -> None:
    """DEMO_WEEK written by the administrator for everyone: Friday's implementation work runs over IMPL-2026's
    maximum, so its excess waits on an over-limit (L) line for billing's decision."""
    admin = Viewer(employee_ids[ADMIN_EMAIL], 0, True, True, True, EmployeeVisibility.ALL)
    writer = Writer(admin, EVERYONE)
    for stint in DEMO_WEEK:
        await time_entries.create(
            session,
            writer,
            {
                "employee_id": employee_ids[stint.email],
                "case_id": case_by_code[stint.case].id,
                "activity_id": activity_ids[stint.activity],
                "work_date": week[stint.day],
                "minutes": stint.minutes,
                "billable": stint.billable,
                "description": stint.description,
            },
            mode=stint.mode,
        )
