"""The books audited: every figure casetime keeps beside the entries, recomputed from the entries (SPEC 6, 8, 9).

Writes keep case totals per book year, entry counts per case and two report rollups in the entry's transaction, and
invoicing turns entries F under a gap-free number; this module recomputes all of it from the rows themselves and
says each way they differ. `cli.py check` runs it for an operator, the soak (bench/soak.py) after its load, and the
tests after their scenarios. It reads; it never repairs.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from models import CapKind, Case, CaseYearTotals, CompanySettings, InvoiceCounter, TimeEntry, TimeStatus
from services.book_year import year_start_sql
from services.cap import CapSettings, counts_towards
from services.invoicing import invoice_number

_TOTALS_COLUMNS = {
    TimeStatus.BILLABLE: ("j_minutes", "j_amount"),
    TimeStatus.INVOICED: ("f_minutes", "f_amount"),
    TimeStatus.NON_BILLABLE: ("n_minutes", "n_amount"),
    TimeStatus.OVER_LIMIT: ("l_minutes", "l_amount"),
}

# the report rollups, per day and per month, recomputed from the entries and as kept (rows that went to zero left out)
_ROLLUP_KEY = "employee_id, debtor_id, coalesce(case_id, 0), activity_id, status::text"
_ROLLUPS = {
    "time_rollup": (
        f"SELECT work_date, {_ROLLUP_KEY}, sum(minutes), sum(amount), count(*) FROM time_entries"
        f" GROUP BY work_date, {_ROLLUP_KEY}",
        "SELECT work_date, employee_id, debtor_id, case_id, activity_id, status, minutes, amount, entries"
        " FROM time_rollup WHERE minutes <> 0 OR amount <> 0 OR entries <> 0",
    ),
    "time_rollup_month": (
        f"SELECT date_trunc('month', work_date::timestamp)::date AS month, {_ROLLUP_KEY},"
        f" sum(minutes), sum(amount), count(*) FROM time_entries GROUP BY month, {_ROLLUP_KEY}",
        "SELECT month, employee_id, debtor_id, case_id, activity_id, status, minutes, amount, entries"
        " FROM time_rollup_month WHERE minutes <> 0 OR amount <> 0 OR entries <> 0",
    ),
}

# each names the rows breaking one billing rule (SPEC 8); a live invoice is one not voided
_BILLING_RULES = {
    "an F entry without a live invoice": """
        SELECT e.id FROM time_entries e LEFT JOIN invoices i ON i.id = e.invoice_id
        WHERE e.status = 'F' AND (i.id IS NULL OR i.voided)""",
    "an entry pointing at an invoice but not F": """
        SELECT id FROM time_entries WHERE invoice_id IS NOT NULL AND status <> 'F'""",
    "an entry on more than one live invoice": """
        SELECT l.time_entry_id FROM invoice_entries l JOIN invoices i ON i.id = l.invoice_id AND NOT i.voided
        GROUP BY l.time_entry_id HAVING count(*) > 1""",
    "a live invoice's billed entries are not its F entries": """
        SELECT i.id FROM invoices i
        WHERE NOT i.voided AND (
            EXISTS (SELECT 1 FROM invoice_entries l JOIN time_entries e ON e.id = l.time_entry_id
                    WHERE l.invoice_id = i.id AND e.invoice_id IS DISTINCT FROM i.id)
            OR EXISTS (SELECT 1 FROM time_entries e WHERE e.invoice_id = i.id
                       AND NOT EXISTS (SELECT 1 FROM invoice_entries l
                                       WHERE l.invoice_id = i.id AND l.time_entry_id = e.id)))""",
    "an invoice whose total is not the sum of its lines": """
        SELECT i.id FROM invoices i LEFT JOIN invoice_lines l ON l.invoice_id = i.id
        GROUP BY i.id HAVING i.total <> coalesce(sum(l.amount), 0)""",
    "a live invoice whose lines are not its entries summed per case, activity and rate": """
        WITH billed AS (
            SELECT e.invoice_id, coalesce(e.case_id, 0) AS case_id, e.activity_id, e.rate,
                   sum(e.minutes) AS minutes, sum(e.amount) AS amount
            FROM time_entries e JOIN invoices i ON i.id = e.invoice_id AND NOT i.voided
            GROUP BY 1, 2, 3, 4),
        lines AS (
            SELECT l.invoice_id, coalesce(l.case_id, 0) AS case_id, l.activity_id, l.rate,
                   sum(l.minutes) AS minutes, sum(l.amount) AS amount
            FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id AND NOT i.voided
            GROUP BY 1, 2, 3, 4)
        SELECT DISTINCT coalesce(b.invoice_id, l.invoice_id)
        FROM billed b FULL JOIN lines l USING (invoice_id, case_id, activity_id, rate)
        WHERE b.minutes IS DISTINCT FROM l.minutes OR b.amount IS DISTINCT FROM l.amount""",
}


@dataclass(frozen=True, slots=True)
class YearSums:
    """One case's entries in one book year, per status."""

    case_id: int
    year_start: date
    minutes: dict[TimeStatus, int]
    amounts: dict[TimeStatus, Decimal]


async def audit(session: AsyncSession, *, capped_cases: Collection[int] = ()) -> list[str]:
    """Every way the kept figures differ from what the entries say; empty when the books are exact.

    `capped_cases` are cases written only through the cap check (SPEC 6): their counted time per book year must not
    exceed the maximum. Other cases may be over it by design (copies, releases, PER_DEBTOR), so only these are held
    to it."""
    sums = await _year_sums(session)
    problems = await _totals_problems(session, sums)
    problems += await _count_problems(session)
    problems += await rollup_problems(session)
    problems += await billing_problems(session)
    problems += await _cap_problems(session, sums, capped_cases)
    return problems


async def totals_problems(session: AsyncSession) -> list[str]:
    """The case totals per book year and status, and each case's entry count, against the entries (SPEC 6, 7)."""
    return await _totals_problems(session, await _year_sums(session)) + await _count_problems(session)


async def _year_sums(session: AsyncSession) -> list[YearSums]:
    entries, settings = TimeEntry.__table__.c, CompanySettings.__table__.c
    year_start = year_start_sql(entries.work_date, settings.book_year_start_month).label("year_start")
    rows = await session.execute(
        select(entries.case_id, year_start, entries.status, func.sum(entries.minutes), func.sum(entries.amount))
        .join(CompanySettings, settings.id == 1)
        .where(entries.case_id.is_not(None))
        .group_by(entries.case_id, year_start, entries.status)
    )
    grouped: dict[tuple[int, date], YearSums] = {}
    for case_id, start, status, minutes, amount in rows:
        year = grouped.setdefault((case_id, start), YearSums(case_id, start, {}, {}))
        year.minutes[status], year.amounts[status] = int(minutes), Decimal(amount)
    return list(grouped.values())


async def _totals_problems(session: AsyncSession, sums: list[YearSums]) -> list[str]:
    expected = {(year.case_id, year.year_start): year for year in sums}
    kept = {(row.case_id, row.year_start): row for row in await session.scalars(select(CaseYearTotals))}
    problems = []
    for key in sorted(expected.keys() | kept.keys()):
        year, row = expected.get(key), kept.get(key)
        for status, (minutes_column, amount_column) in _TOTALS_COLUMNS.items():
            want: tuple[Any, Any] = (0, Decimal(0))
            if year is not None:
                want = (year.minutes.get(status, 0), year.amounts.get(status, Decimal(0)))
            have = (getattr(row, minutes_column), getattr(row, amount_column)) if row is not None else (0, Decimal(0))
            if want != have:
                case_id, year_start = key
                problems.append(f"totals of case {case_id}, {year_start}, {status.name}: kept {have}, entries {want}")
    return problems


async def _count_problems(session: AsyncSession) -> list[str]:
    rows = await session.execute(
        select(Case.id, Case.time_entry_count, func.count(TimeEntry.id))
        .outerjoin(TimeEntry, TimeEntry.case_id == Case.id)
        .group_by(Case.id)
        .having(Case.time_entry_count != func.count(TimeEntry.id))
    )
    return [f"entry count of case {case_id}: kept {kept}, entries {real}" for case_id, kept, real in rows]


async def rollup_problems(session: AsyncSession) -> list[str]:
    """Each report rollup, per day and per month, against the same sums recomputed from the entries."""
    problems = []
    for table, (from_entries, kept) in _ROLLUPS.items():
        expected = _rollup_rows(await session.execute(text(from_entries)))
        stored = _rollup_rows(await session.execute(text(kept)))
        problems += [
            f"{table} {key}: kept {stored.get(key)}, entries {expected.get(key)}"
            for key in sorted(expected.keys() | stored.keys(), key=str)
            if stored.get(key) != expected.get(key)
        ]
    return problems


def _rollup_rows(rows: Iterable[Sequence[Any]]) -> dict[tuple[Any, ...], tuple[int, Decimal, int]]:
    """Key (the date and the five other key columns) to minutes, amount and entry count."""
    return {tuple(row[:6]): (int(row[6]), Decimal(row[7]), int(row[8])) for row in rows}


async def billing_problems(session: AsyncSession) -> list[str]:
    """Each billing rule of SPEC 8 the rows break: F entries and live invoices in step, no entry billed twice,
    totals equal to lines and lines to entries, numbers consecutive from the first with none missing or reused."""
    problems = []
    for rule, query in _BILLING_RULES.items():
        ids = list((await session.scalars(text(query))).all())
        if ids:
            problems.append(f"{rule}: {sorted(ids)[:10]}")
    last = await session.scalar(select(InvoiceCounter.last_number).where(InvoiceCounter.id == 1)) or 0
    numbers = list((await session.scalars(text("SELECT number FROM invoices"))).all())
    expected = {invoice_number(running) for running in range(1, last + 1)}
    if len(numbers) != len(expected) or set(numbers) != expected:
        missing, extra = sorted(expected - set(numbers))[:5], sorted(set(numbers) - expected)[:5]
        problems.append(f"invoice numbers not 1..{last} once each: missing {missing}, unexpected {extra}")
    return problems


async def _cap_problems(session: AsyncSession, sums: list[YearSums], capped_cases: Collection[int]) -> list[str]:
    if not capped_cases:
        return []
    caps = select(Case.id, Case.max_per_book_year, Case.max_based_on, Case.max_minutes, Case.max_amount)
    cases = {case.id: case for case in await session.execute(caps.where(Case.id.in_(list(capped_cases))))}
    problems = []
    for year in sums:
        case = cases.get(year.case_id)
        if case is None:
            continue
        minutes = sum(m for status, m in year.minutes.items() if counts_towards(case, status))
        amount = sum((a for status, a in year.amounts.items() if counts_towards(case, status)), Decimal(0))
        used, limit = _used_and_limit(case, minutes, amount)
        if limit is not None and used > limit:
            problems.append(f"case {case.id} over its maximum in book year {year.year_start}: {used} > {limit}")
    return problems


def _used_and_limit(case: CapSettings, minutes: int, amount: Decimal) -> tuple[Decimal, Decimal | None]:
    if case.max_per_book_year is CapKind.TIME:
        return Decimal(minutes), Decimal(case.max_minutes) if case.max_minutes is not None else None
    if case.max_per_book_year is CapKind.AMOUNT:
        return amount, case.max_amount
    return Decimal(0), None
