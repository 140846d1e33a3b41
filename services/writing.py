"""The two statements that write a new entry (SPEC 6), each compiled once and sent straight to the driver.

`facts` reads everything the write checks and decides with, in one round trip: the settings, the writer's employee
(with role), the case, the debtor, the activity, the employee's activity rate, and the case's book-year totals row,
locked FOR UPDATE (the lock that queues writers on a case's book year, SPEC 6 step 1). Its employee, activity,
debtor and case columns are those a listed entry shows (`time_queries.AROUND_ENTRY`), so the payload of the write
is built from them and the written rows, with nothing read back.

`WRITE` then writes, as data-modifying CTEs of one statement: the entry, its L line when the cap split it, the
totals row, the case's entry count, and the day and month rollups; it returns both written rows and the case's new
count.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Integer,
    Numeric,
    Table,
    Text,
    bindparam,
    case,
    func,
    literal,
    literal_column,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.driver import DriverRow, Prebuilt
from models import (
    Activity,
    Case,
    CaseYearTotals,
    CompanySettings,
    Debtor,
    Employee,
    EmployeeRate,
    EntrySource,
    Role,
    TimeEntry,
    TimeRollup,
    TimeRollupMonth,
    TimeStatus,
)
from services import rates, rollup, time_queries, totals
from services.book_year import year_start_sql
from services.company import PREFIXED

_SETTINGS: Table = CompanySettings.__table__  # type: ignore[assignment]
_TOTALS: Table = CaseYearTotals.__table__  # type: ignore[assignment]
_ENTRIES: Table = TimeEntry.__table__  # type: ignore[assignment]
_CASES: Table = Case.__table__  # type: ignore[assignment]

_EMPLOYEE_ID = bindparam("employee_id", type_=BigInteger)
_CASE_ID = bindparam("case_id", type_=BigInteger)
_ACTIVITY_ID = bindparam("activity_id", type_=BigInteger)
_WORK_DATE = bindparam("work_date", type_=Date)

_COUNTS = tuple((name, _TOTALS.c[name]) for name in totals.COUNT_COLUMNS)
_START_MONTH = select(_SETTINGS.c.book_year_start_month).where(_SETTINGS.c.id == 1).scalar_subquery()
_EMPLOYEE_ACTIVITY_RATE = (
    select(EmployeeRate.rate)
    .where(EmployeeRate.employee_id == _EMPLOYEE_ID, EmployeeRate.activity_id == _ACTIVITY_ID)
    .scalar_subquery()
    .label("employee_activity_rate")
)


def _facts(*, lock: bool) -> Any:
    # the totals row of the entry's case and book year, none yet for a book year nobody wrote in (see `NEW_TOTALS`)
    totals_row = select(
        _TOTALS.c.case_id.label("locked_case_id"), *(_TOTALS.c[name] for name in totals.COUNT_COLUMNS)
    ).where(_TOTALS.c.case_id == _CASE_ID, _TOTALS.c.year_start == year_start_sql(_WORK_DATE, _START_MONTH))
    locked = (totals_row.with_for_update() if lock else totals_row).cte("locked")
    return (
        select(
            *PREFIXED,
            *time_queries.AROUND_ENTRY,
            Debtor.id.label("found_debtor_id"),
            _EMPLOYEE_ACTIVITY_RATE,
            *locked.c,
        )
        .select_from(_SETTINGS)
        .outerjoin(Employee, Employee.id == _EMPLOYEE_ID)
        .outerjoin(Role, Role.id == Employee.role_id)
        .outerjoin(Case, Case.id == _CASE_ID)
        # a case's debtor is the entry's (CASE_DEBTOR_MISMATCH otherwise)
        .outerjoin(Debtor, Debtor.id == func.coalesce(Case.debtor_id, bindparam("debtor_id", type_=BigInteger)))
        .outerjoin(Activity, Activity.id == _ACTIVITY_ID)
        .outerjoin(locked, true())
        .where(_SETTINGS.c.id == 1)
    )


_FACTS = {True: Prebuilt(_facts(lock=True), locks=True), False: Prebuilt(_facts(lock=False))}


async def facts(session: AsyncSession, params: Mapping[str, Any]) -> DriverRow | None:
    """`FACTS`: the totals row locked, unless a test switched `totals.LOCK_ROWS` off (its negative control)."""
    return await _FACTS[totals.LOCK_ROWS].first(session, params)


def facts_params(
    *, employee_id: int, case_id: int | None, debtor_id: int | None, activity_id: int, day: date
) -> dict[str, Any]:
    return {
        "employee_id": employee_id,
        "case_id": case_id,
        "debtor_id": debtor_id,
        "activity_id": activity_id,
        "work_date": day,
    }


# the first write in a case's book year makes its totals row, then `facts` are read again to lock it
NEW_TOTALS = Prebuilt(
    select(literal(1).label("made")).add_cte(
        insert(_TOTALS)
        .values(
            case_id=_CASE_ID,
            year_start=year_start_sql(_WORK_DATE, _START_MONTH),
            # the columns' defaults are SQLAlchemy's, which no prebuilt statement runs
            **{name: literal_column("0") for name in totals.COUNT_COLUMNS},
        )
        .on_conflict_do_nothing()
        .cte("made")
    ),
    locks=True,
)


def _new(name: str, type_: Any) -> Any:
    """A value of `WRITE`, bound as `new_<name>`: SQLAlchemy reserves a column's own name for its INSERT."""
    return bindparam(f"new_{name}", type_=type_)


def _write() -> Any:
    # The entry and its L line are one INSERT of the rows' own values (minutes, status, amount, and whether the row
    # is the line) unnested in step, beside what both share: SQLAlchemy compiles a bind of an INSERT's SELECT for
    # one INSERT only. The entry's id is drawn first, so that its line can point at it and has the higher id.
    next_id = func.nextval(func.pg_get_serial_sequence(_ENTRIES.name, "id"))
    entry_id = select(next_id.label("id")).cte("entry_id")
    rows = select(
        *(
            func.unnest(_new(name, ARRAY(type_))).label(name)
            # `line` is 1 for the L line: a BOOLEAN[] bind would need SQLAlchemy's conversion
            for name, type_ in (("minutes", Integer), ("status", Text), ("amount", Numeric(12, 2)), ("line", Integer))
        )
    ).subquery("rows")
    writer, now = _new("writer_id", BigInteger), _new("now", DateTime(timezone=True))
    shared = {
        "employee_id": _new("employee_id", BigInteger),
        "debtor_id": _new("debtor_id", BigInteger),
        "case_id": _new("case_id", BigInteger),
        "activity_id": _new("activity_id", BigInteger),
        "work_date": _new("work_date", Date),
        "rate": _new("rate", Numeric(12, 2)),
        "description": _new("description", Text),
        "tags": _new("tags", ARRAY(Text)),
        "source": _new("source", Text),
        "created_by_id": writer,
        "updated_by_id": writer.label("updated_by"),
        "created_at": now,
        "updated_at": now.label("updated"),
        "version": literal_column("1", Integer),  # as for NEW_TOTALS' counts
    }
    own = {
        "id": case(
            (rows.c.line == 1, func.nextval(func.pg_get_serial_sequence(_ENTRIES.name, "id"))), else_=entry_id.c.id
        ),
        "minutes": rows.c.minutes,
        "status": rows.c.status,
        "amount": rows.c.amount,
        "over_limit_of_id": case((rows.c.line == 1, entry_id.c.id)),
    }
    written = (
        insert(_ENTRIES)
        .from_select([*shared, *own], select(*shared.values(), *own.values()).select_from(entry_id, rows))
        .returning(*_ENTRIES.c)
        .cte("written")
    )
    case_id = _new("case", BigInteger)  # `new_case_id` is the INSERT's: SQLAlchemy wants another name here
    totals = (
        update(_TOTALS)
        .where(_TOTALS.c.case_id == case_id, _TOTALS.c.year_start == _new("year_start", Date))
        .values({name: column + _new(f"add_{name}", column.type) for name, column in _COUNTS})
        .cte("totals")
    )
    counted = (
        update(_CASES)
        .where(_CASES.c.id == case_id)
        .values(time_entry_count=_CASES.c.time_entry_count + _new("entries_added", Integer))
        .returning(_CASES.c.time_entry_count)
        .cte("counted")
    )
    day = rollup.upsert(TimeRollup, prefix="day_").cte("day_rollup")
    month = rollup.upsert(TimeRollupMonth, prefix="month_").cte("month_rollup")
    case_count = select(counted.c.time_entry_count).scalar_subquery().label("case_entry_count")
    return select(*written.c, case_count).add_cte(totals, counted, day, month)


WRITE = Prebuilt(_write(), locks=True)


@dataclass(frozen=True, slots=True)
class NewEntry:
    """An entry decided on, to be written: `line_minutes` > 0 adds its L line; `year_start` is its case's book year
    (None without a case)."""

    employee_id: int
    debtor_id: int
    case_id: int | None
    activity_id: int
    work_date: date
    minutes: int
    status: TimeStatus
    rate: Decimal
    description: str | None
    tags: list[str]
    source: EntrySource
    writer_id: int
    line_minutes: int
    year_start: date | None


async def write(session: AsyncSession, new: NewEntry) -> tuple[DriverRow, DriverRow | None]:
    """`WRITE` of `new`: the written entry and its L line (None when there is none), each with `case_entry_count`,
    the case's entry count after the write."""
    amount, line_amount = rates.amount(new.minutes, new.rate), rates.amount(new.line_minutes, new.rate)
    shares = [(new.status, new.minutes, amount)]
    if new.line_minutes:
        shares.append((TimeStatus.OVER_LIMIT, new.line_minutes, line_amount))
    day_rows, month_rows = rollup.changes(
        added=[
            rollup.Contribution(
                rollup.Key(new.work_date, new.employee_id, new.debtor_id, new.case_id or 0, new.activity_id, status),
                minutes,
                share_amount,
            )
            for status, minutes, share_amount in shares
        ]
    )
    values: dict[str, Any] = {
        "employee_id": new.employee_id,
        "debtor_id": new.debtor_id,
        "case_id": new.case_id,
        "activity_id": new.activity_id,
        "work_date": new.work_date,
        "minutes": [minutes for _, minutes, _ in shares],
        "status": [status.value for status, _, _ in shares],
        "amount": [share_amount for _, _, share_amount in shares],
        "line": [0, 1][: len(shares)],
        "rate": new.rate,
        "description": new.description,
        "tags": new.tags,
        "source": new.source.value,
        "writer_id": new.writer_id,
        "now": datetime.now(UTC),
        "case": new.case_id,
        "year_start": new.year_start,
        "entries_added": len(shares) if new.case_id is not None else 0,
    }
    values.update((f"add_{name}", value) for name, value in totals.added(shares).items())
    params = {f"new_{name}": value for name, value in values.items()}
    params.update((f"day_{name}", values) for name, values in day_rows.items())
    params.update((f"month_{name}", values) for name, values in month_rows.items())
    rows = await WRITE.fetch(session, params)
    entry = next(row for row in rows if row["over_limit_of_id"] is None)
    line = next((row for row in rows if row["over_limit_of_id"] is not None), None)
    return entry, line


def shown(facts: Mapping[str, Any], row: DriverRow, *, line_id: int | None) -> DriverRow:
    """A written row with everything a listed entry shows (`time_queries.ENTRY_COLUMNS`): the payload's row."""
    found = DriverRow(facts)
    found.update(row)
    found["over_limit_entry_id"] = line_id
    if found["c_id"] is not None:
        found["c_time_entry_count"] = row["case_entry_count"]
    return found
