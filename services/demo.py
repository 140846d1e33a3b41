"""Demo data for a fresh database (SPEC 11): every visibility kind, a supervisor chain, every kind of case."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from models import CapBasis, CapKind, Case, EmployeeVisibility, EntryMode, TimeStatus
from services import activities, cases, company, debtors, employees, roles, time_entries
from services.auth import Viewer
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


async def load(session: AsyncSession, passwords: Passwords) -> bool:
    """Fill an empty database; a database that has employees is left alone. True when loaded."""
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

    today = company.today(await company.get(session))
    created: dict[str, Case] = {}
    acme = await debtors.create(session, {"code": "ACME", "name": "Acme Corporation"})
    globex = await debtors.create(session, {"code": "GLOBEX", "name": "Globex", "adjusted_rate": Decimal("110.00")})
    initech = await debtors.create(session, {"code": "INITECH", "name": "Initech"})
    for data in [
        {"debtor_id": acme.id, "code": "SUPPORT", "description": "Day-to-day support", "is_default": True},
        {
            "debtor_id": acme.id,
            "code": "IMPL-2026",
            "description": "Implementation, capped at 100 hours a year",
            "max_per_book_year": CapKind.TIME,
            "max_minutes": 6000,
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
            "description": f"Runs through {today.year}",
            "active_from": date(today.year, 1, 1),
            "active_until": date(today.year, 12, 31),
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
    await _write_time(session, employee_ids, created, {a.code: a.id for a in await activities.list_all(session)})
    return True


async def _write_time(
    session: AsyncSession, employee_ids: dict[str, int], case_by_code: dict[str, Case], activity_ids: dict[str, int]
) -> None:
    """Some time already written, ending with an entry that runs over the IMPL-2026 maximum (an L line)."""
    admin = Viewer(employee_ids[ADMIN_EMAIL], 0, True, True, True, EmployeeVisibility.ALL)
    writer = Writer(admin, EVERYONE)
    today = company.today(await company.get(session))
    for days_ago, email, case_code, activity, minutes, mode in [
        (6, "consultant@casetime.test", "SUPPORT", "SUPPORT", 45, EntryMode.PER_DATE),
        (5, "consultant@casetime.test", "IMPL-2026", "CONSULT", 480, EntryMode.PER_DATE),
        (4, "junior@casetime.test", "IMPL-2026", "CONSULT", 480, EntryMode.PER_DATE),
        (3, "lead@casetime.test", "MIGRATION", "TRAVEL", 90, EntryMode.PER_DATE),
        (3, "support@casetime.test", "RETAINER", "SUPPORT", 240, EntryMode.PER_DATE),
        (2, "junior@casetime.test", "WARRANTY", "SUPPORT", 120, EntryMode.PER_DEBTOR),
        (1, "consultant@casetime.test", "IMPL-2026", "CONSULT", 5100, EntryMode.PER_DATE),
    ]:
        case = case_by_code[case_code]
        remaining = minutes
        while remaining > 0:  # a long stretch is written as days of at most 1440 minutes
            chunk = min(remaining, 480)
            await time_entries.create(
                session,
                writer,
                {
                    "employee_id": employee_ids[email],
                    "case_id": case.id,
                    "activity_id": activity_ids[activity],
                    "work_date": max(today - timedelta(days=days_ago), date(today.year, 1, 1)),
                    "minutes": chunk,
                    "description": f"Demo: {activity.lower()} on {case_code}",
                },
                mode=mode,
            )
            remaining -= chunk
