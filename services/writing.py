"""The two statements that write new entries (SPEC 6), one entry or a list's many alike, each compiled once and sent
straight to the driver.

`facts` reads everything the writes check and decide with, in one round trip: for each wanted entry the settings,
its employee (with role), case, debtor, activity and the employee's activity rate, and the book-year totals row of
its case, each such row locked FOR UPDATE once, all in key order (the lock that queues writers on a case's book year,
SPEC 6 step 1). Its employee, activity, debtor and case columns are those a listed entry shows
(`time_queries.AROUND_ENTRY`), so a write's payload is built from them and the written rows, with nothing read back.

`write` then writes, as data-modifying CTEs of one statement: the entries, their L lines where the cap split them,
the totals rows, the cases' entry counts, and the day and month rollups; it returns the written rows, each with its
case's new count. Each table's rows travel as one JSON parameter (`db.recordset`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
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
    and_,
    bindparam,
    func,
    literal,
    literal_column,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.driver import DriverRow, Prebuilt
from db.recordset import Recordset
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
from services.book_year import book_year_of, year_start_sql
from services.company import PREFIXED

_SETTINGS: Table = CompanySettings.__table__  # type: ignore[assignment]
_TOTALS: Table = CaseYearTotals.__table__  # type: ignore[assignment]
_ENTRIES: Table = TimeEntry.__table__  # type: ignore[assignment]
_CASES: Table = Case.__table__  # type: ignore[assignment]
_COUNTS = tuple((name, _TOTALS.c[name]) for name in totals.COUNT_COLUMNS)
_MONEY = Numeric(12, 2)


# --- facts -----------------------------------------------------------------------------------------------------------

_WANTED = Recordset(
    "wanted",
    (
        ("i", Integer),
        ("employee_id", BigInteger),
        ("case_id", BigInteger),
        ("debtor_id", BigInteger),
        ("activity_id", BigInteger),
        ("work_date", Date),
    ),
)
_START_MONTH = select(_SETTINGS.c.book_year_start_month).where(_SETTINGS.c.id == 1).scalar_subquery()


def _facts(*, lock: bool) -> Any:
    # read once for both its uses below: a CTE used twice is materialized, its JSON parsed once
    wanted = select(_WANTED.table).cte("wanted")
    year_start = year_start_sql(wanted.c.work_date, _START_MONTH)
    # the totals rows of the wanted entries' cases and book years, none yet for a book year nobody wrote in (see
    # `NEW_TOTALS`); locked in key order, so that two writers never wait on each other in a circle
    keys = select(wanted.c.case_id, year_start).where(wanted.c.case_id.is_not(None))
    rows = (
        select(_TOTALS.c.case_id, _TOTALS.c.year_start, *(c for _, c in _COUNTS))
        .where(tuple_(_TOTALS.c.case_id, _TOTALS.c.year_start).in_(keys))
        .order_by(_TOTALS.c.case_id, _TOTALS.c.year_start)
    )
    locked = (rows.with_for_update() if lock else rows).cte("locked")
    employee_activity_rate = (
        select(EmployeeRate.rate)
        .where(EmployeeRate.employee_id == wanted.c.employee_id, EmployeeRate.activity_id == wanted.c.activity_id)
        .scalar_subquery()
        .label("employee_activity_rate")
    )
    return (
        select(
            *PREFIXED,
            *time_queries.AROUND_ENTRY,
            Debtor.id.label("found_debtor_id"),
            employee_activity_rate,
            locked.c.case_id.label("locked_case_id"),
            *(locked.c[name] for name, _ in _COUNTS),
        )
        .select_from(wanted)
        .join(_SETTINGS, _SETTINGS.c.id == 1)
        .outerjoin(Employee, Employee.id == wanted.c.employee_id)
        .outerjoin(Role, Role.id == Employee.role_id)
        .outerjoin(Case, Case.id == wanted.c.case_id)
        # a case's debtor is the entry's (CASE_DEBTOR_MISMATCH otherwise)
        .outerjoin(Debtor, Debtor.id == func.coalesce(Case.debtor_id, wanted.c.debtor_id))
        .outerjoin(Activity, Activity.id == wanted.c.activity_id)
        .outerjoin(
            locked,
            and_(
                locked.c.case_id == wanted.c.case_id,
                locked.c.year_start == year_start_sql(wanted.c.work_date, _SETTINGS.c.book_year_start_month),
            ),
        )
        .order_by(wanted.c.i)
    )


_FACTS = {True: Prebuilt(_facts(lock=True), locks=True), False: Prebuilt(_facts(lock=False))}

# the first write in a case's book year makes its totals row, then the facts are read again to lock it
_MADE = Recordset("made", (("case_id", BigInteger), ("work_date", Date)))
NEW_TOTALS = Prebuilt(
    select(literal(1).label("made")).add_cte(
        insert(_TOTALS)
        .from_select(
            ["case_id", "year_start", *totals.COUNT_COLUMNS],
            # the columns' defaults are SQLAlchemy's, which no prebuilt statement runs
            select(
                _MADE.c.case_id,
                year_start_sql(_MADE.c.work_date, _START_MONTH),
                *(literal_column("0") for _ in _COUNTS),
            ).distinct(),
        )
        .on_conflict_do_nothing()
        .cte("made_totals")
    ),
    locks=True,
)


@dataclass(frozen=True, slots=True)
class Wanted:
    """An entry to be written, as far as its facts go."""

    employee_id: int
    case_id: int | None
    debtor_id: int | None
    activity_id: int
    work_date: date


async def facts(session: AsyncSession, wanted: Sequence[Wanted], *, lock: bool = True) -> list[DriverRow]:
    """The facts of each wanted entry, in order; with `lock` its case's book-year totals row made when missing and
    locked (unless a test switched `totals.LOCK_ROWS` off: its negative control). [] when the settings row is
    missing."""
    params = _WANTED.bind(
        {
            "i": i,
            "employee_id": w.employee_id,
            "case_id": w.case_id,
            "debtor_id": w.debtor_id,
            "activity_id": w.activity_id,
            "work_date": w.work_date,
        }
        for i, w in enumerate(wanted, 1)
    )
    read = _FACTS[lock and totals.LOCK_ROWS]
    rows = await read.fetch(session, params)
    if not lock:
        return rows
    missing = [
        w for w, row in zip(wanted, rows, strict=False) if row["c_id"] is not None and row["locked_case_id"] is None
    ]
    if missing:
        await NEW_TOTALS.records(session, _MADE.bind({"case_id": w.case_id, "work_date": w.work_date} for w in missing))
        rows = await read.fetch(session, params)
    return rows


# --- write -----------------------------------------------------------------------------------------------------------

# each written row's own values, the rows numbered from 1 in the order written (`i`); a line's `of` is its entry's
# number, 0 for an entry
_ROWS = Recordset(
    "rows",
    (
        ("i", Integer),
        ("of", Integer),
        ("employee_id", BigInteger),
        ("debtor_id", BigInteger),
        ("case_id", BigInteger),
        ("activity_id", BigInteger),
        ("work_date", Date),
        ("minutes", Integer),
        ("status", Text),
        ("rate", _MONEY),
        ("amount", _MONEY),
        ("description", Text),
        ("tags", ARRAY(Text)),
        ("source", Text),
    ),
)
_ADDED = Recordset("added", (("case_id", BigInteger), ("year_start", Date), *((n, c.type) for n, c in _COUNTS)))
_COUNTED = Recordset("counts", (("case_id", BigInteger), ("added", Integer)))


def _write() -> Any:
    written_rows = _ROWS.table
    # every row's id is drawn first, in the order written, so ids run as if the rows were written one by one
    next_id = func.nextval(func.pg_get_serial_sequence(_ENTRIES.name, "id"))
    ids = select(func.generate_series(1, bindparam("row_count", type_=Integer)).label("i")).subquery("numbers")
    drawn = select(ids.c.i, next_id.label("id")).order_by(ids.c.i).cte("drawn")
    own, of = drawn.alias("own"), drawn.alias("of")
    writer, now = bindparam("writer_id", type_=BigInteger), bindparam("now", type_=DateTime(timezone=True))
    values = {
        "id": own.c.id,
        **{key: column for key, column in written_rows.c.items() if key not in ("i", "of")},
        "over_limit_of_id": of.c.id,
        "created_by_id": writer,
        "updated_by_id": writer.label("updated_by"),
        "created_at": now,
        "updated_at": now.label("updated"),
        "version": literal_column("1", Integer),  # as for NEW_TOTALS' counts
    }
    written = (
        insert(_ENTRIES)
        .from_select(
            list(values),
            select(*values.values())
            .select_from(written_rows)
            .join(own, own.c.i == written_rows.c.i)
            .outerjoin(of, of.c.i == written_rows.c["of"])
            .order_by(written_rows.c.i),
        )
        .returning(*_ENTRIES.c)
        .cte("written")
    )
    added = _ADDED.table
    totals_rows = (
        update(_TOTALS)
        .where(_TOTALS.c.case_id == added.c.case_id, _TOTALS.c.year_start == added.c.year_start)
        .values({name: column + added.c[name] for name, column in _COUNTS})
        .cte("totals")
    )
    counts = _COUNTED.table
    counted = (
        update(_CASES)
        .where(_CASES.c.id == counts.c.case_id)
        .values(time_entry_count=_CASES.c.time_entry_count + counts.c.added)
        .returning(_CASES.c.id, _CASES.c.time_entry_count)
        .cte("counted")
    )
    day = rollup.upsert(TimeRollup).cte("day_rollup")
    month = rollup.upsert(TimeRollupMonth).cte("month_rollup")
    case_count = (
        select(counted.c.time_entry_count)
        .where(counted.c.id == written.c.case_id)
        .scalar_subquery()
        .label("case_entry_count")
    )
    return select(*written.c, case_count).add_cte(totals_rows, counted, day, month).order_by(written.c.id)


WRITE = Prebuilt(_write(), locks=True)


@dataclass(frozen=True, slots=True)
class NewEntry:
    """An entry decided on, to be written: `line_minutes` > 0 adds its L line."""

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
    line_minutes: int

    def rows(self) -> list[tuple[TimeStatus, int, Decimal]]:
        """(status, minutes, amount) of the entry and of its L line when it has one."""
        written = [(self.status, self.minutes, rates.amount(self.minutes, self.rate))]
        if self.line_minutes:
            written.append((TimeStatus.OVER_LIMIT, self.line_minutes, rates.amount(self.line_minutes, self.rate)))
        return written


async def write(
    session: AsyncSession, new: Sequence[NewEntry], *, writer_id: int, start_month: int
) -> list[tuple[DriverRow, DriverRow | None]]:
    """`WRITE` of `new`: each written entry and its L line (None when it has none), in order, each with
    `case_entry_count`, its case's entry count after the write."""
    rows: list[dict[str, Any]] = []
    added: dict[tuple[int, date], dict[str, Any]] = defaultdict(lambda: dict.fromkeys(totals.COUNT_COLUMNS, 0))
    counts: dict[int, int] = defaultdict(int)
    contributions = []
    for entry in new:
        shares = entry.rows()
        position = len(rows) + 1
        for index, (status, minutes, amount) in enumerate(shares):
            rows.append(
                {
                    "i": len(rows) + 1,
                    "of": position if index else 0,
                    "employee_id": entry.employee_id,
                    "debtor_id": entry.debtor_id,
                    "case_id": entry.case_id,
                    "activity_id": entry.activity_id,
                    "work_date": entry.work_date,
                    "minutes": minutes,
                    "status": status,
                    "rate": entry.rate,
                    "amount": amount,
                    "description": entry.description,
                    "tags": entry.tags,
                    "source": entry.source,
                }
            )
            rolled = rollup.Key(
                entry.work_date, entry.employee_id, entry.debtor_id, entry.case_id or 0, entry.activity_id, str(status)
            )
            contributions.append(rollup.Contribution(rolled, minutes, amount))
        if entry.case_id is not None:
            year = book_year_of(entry.work_date, start_month).start
            for name, value in totals.added(shares).items():
                added[entry.case_id, year][name] += value
            counts[entry.case_id] += len(shares)
    keys = sorted(added)  # the rows are locked already; in key order all the same
    params: dict[str, Any] = {
        **_ROWS.bind(rows),
        "row_count": len(rows),
        "writer_id": writer_id,
        "now": datetime.now(UTC),
        **_ADDED.bind({"case_id": case_id, "year_start": year, **added[case_id, year]} for case_id, year in keys),
        **_COUNTED.bind({"case_id": case_id, "added": counts[case_id]} for case_id in sorted(counts)),
        **rollup.bind(*rollup.changes(added=contributions)),
    }
    written = await WRITE.fetch(session, params)
    lines = {row["over_limit_of_id"]: row for row in written if row["over_limit_of_id"] is not None}
    return [(row, lines.get(row["id"])) for row in written if row["over_limit_of_id"] is None]


def shown(facts: DriverRow, row: DriverRow, *, line_id: int | None) -> DriverRow:
    """A written row with everything a listed entry shows (`time_queries.ENTRY_COLUMNS`): the payload's row."""
    found = DriverRow(facts)
    found.update(row)
    found["over_limit_entry_id"] = line_id
    if found["c_id"] is not None:
        found["c_time_entry_count"] = row["case_entry_count"]
    return found
