"""Time reports (SPEC 5, 9): the rollup answers exactly what a plain recomputation over the entries gives."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import orjson
import pytest
from graphql import OperationDefinitionNode, parse
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from edge.execution import Plan
from edge.schema import schema
from graph.compiler import CompiledRows, WrittenRows
from graph.declarations import DECLARATIONS, Column
from models import Activity, CapKind, Case, Debtor, Employee, EmployeeVisibility, EntryMode, TimeEntry, TimeStatus
from services import auth, cases, company, invoicing, reporting, time_entries, visibility
from services.errors import DomainError, ErrorCode
from services.reporting import PERIODS, Dimension, Report
from services.time_entries import Writer
from services.time_queries import EntryFilter
from services.visibility import EVERYONE, Visibility
from tests.factories import Factory

FIRST_DAY = date(2025, 6, 1)
DAYS = 730  # two years, so every period dimension has several groups
PERIOD_FROM, PERIOD_UNTIL = date(2025, 9, 1), date(2026, 8, 31)  # the third case's active period
PLAIN = [d for d in Dimension if d not in PERIODS]
Key = tuple[Any, ...]


@dataclass
class World:
    """Master data made once per test; each example writes its own entries in a savepoint."""

    admin: Writer
    restricted: Visibility  # sees the viewer and their subordinate, not the two others
    employee_ids: list[int]
    debtor_ids: list[int]
    case_ids: list[int]  # two per debtor: the second has a TIME cap of 90 minutes, the third an active period
    targets: list[tuple[int, int | None]] = field(default_factory=list)  # (debtor, case) an entry is written on
    activity_ids: list[int] = field(default_factory=list)


async def writer_of(session: AsyncSession, token: str) -> Writer:
    viewer = await auth.authenticate(session, token=token)
    assert viewer is not None
    return Writer(viewer, await visibility.for_viewer(session, viewer))


@pytest.fixture
async def world(session: AsyncSession, factory: Factory) -> World:
    _, admin_token = await factory.admin()
    viewer = await factory.employee(role=await factory.role(visibility=EmployeeVisibility.OWN_AND_SUBORDINATES))
    subordinate = await factory.employee(supervisor=viewer)
    hidden = await factory.employee(default_rate=Decimal("99.99"))
    other_hidden = await factory.employee()
    debtors = [await factory.debtor(), await factory.debtor(adjusted_rate=Decimal("80.00"))]
    case_list = [
        await factory.case(debtor=debtors[0]),
        await factory.case(debtor=debtors[0], max_per_book_year=CapKind.TIME, max_minutes=90),
        await factory.case(debtor=debtors[1], active_from=PERIOD_FROM, active_until=PERIOD_UNTIL),
        await factory.case(debtor=debtors[1]),
    ]
    activity_ids = [
        (await factory.activity(default_rate=Decimal("60.00"))).id,
        (await factory.activity(default_rate=Decimal("75.50"), default_status=TimeStatus.NON_BILLABLE)).id,
    ]
    case_ids = [c.id for c in case_list]
    targets: list[tuple[int, int | None]] = [(c.debtor_id, c.id) for c in case_list] + [(d.id, None) for d in debtors]
    restricted_viewer = await auth.authenticate(session, token=await factory.token(viewer))
    assert restricted_viewer is not None
    return World(
        admin=await writer_of(session, admin_token),
        restricted=await visibility.for_viewer(session, restricted_viewer),
        employee_ids=[viewer.id, subordinate.id, hidden.id, other_hidden.id],
        debtor_ids=[d.id for d in debtors],
        case_ids=case_ids,
        targets=targets,
        activity_ids=activity_ids,
    )


# days where ISO weeks, months and book years (starting in January, April or October) turn over
EDGES = [
    (day - FIRST_DAY).days
    for day in (
        date(2025, 9, 30), date(2025, 10, 1), date(2025, 12, 29), date(2026, 1, 1), date(2026, 1, 4),
        date(2026, 3, 31), date(2026, 4, 1), date(2026, 12, 31), date(2027, 1, 1), date(2027, 1, 3),
    )
]  # fmt: skip
DAY_OFFSET = st.integers(0, DAYS - 1) | st.sampled_from(EDGES)
# first and last days of months, so that filters also fall on whole months of the monthly rollup
MONTH_STARTS = [(date(y, m, 1) - FIRST_DAY).days for y in (2025, 2026, 2027) for m in range(1, 13)]
MONTH_STARTS = [o for o in MONTH_STARTS if 0 <= o < DAYS]
MONTH_ENDS = [o - 1 for o in MONTH_STARTS if o > 0]
# spellings the tags filter finds ignoring case and spaces around; "none" is no entry's
TAGS = st.lists(st.sampled_from(["Urgent", "urgent", "Review", "x"]), max_size=3)
FILTER_TAGS = st.lists(st.sampled_from(["urgent", "REVIEW", " x ", "none"]), max_size=2)
ENTRY = st.tuples(
    st.integers(0, 3),  # employee
    st.integers(0, 5),  # target: one of four cases, or a debtor without a case
    st.integers(0, 1),  # activity
    DAY_OFFSET,  # work date
    st.integers(1, 300),  # minutes
    st.sampled_from([TimeStatus.BILLABLE, TimeStatus.NON_BILLABLE]),
    st.sampled_from([EntryMode.PER_DEBTOR, EntryMode.PER_DATE]),
    TAGS,
)
# PER_DATE time over the 90 minutes of the capped case, so every example has L time too
OVERFLOW = st.tuples(
    st.integers(0, 3),
    st.just(1),
    st.integers(0, 1),
    DAY_OFFSET,
    st.integers(91, 300),
    st.just(TimeStatus.BILLABLE),
    st.just(EntryMode.PER_DATE),
    TAGS,  # its L line carries them too
)


@st.composite
def entry_lists(draw: st.DrawFn) -> list[tuple[Any, ...]]:
    return [draw(OVERFLOW), *draw(st.lists(ENTRY, min_size=4, max_size=10))]


@st.composite
def sometimes(draw: st.DrawFn, strategy: st.SearchStrategy[Any]) -> Any:
    """None four times in five, so that most reports keep rows to compare."""
    return draw(strategy) if draw(st.integers(0, 4)) == 0 else None


def subset(n: int) -> st.SearchStrategy[list[int] | None]:
    return sometimes(st.lists(st.integers(0, n - 1), unique=True, min_size=1, max_size=n))


NO_FILTER: dict[str, Any] = dict.fromkeys(
    ("start", "span", "end", "employees", "debtors", "cases", "activities", "statuses", "active_cases_only", "tags")
)
FILTER = st.just(NO_FILTER) | st.fixed_dictionaries(  # unfiltered half the time
    {
        "start": sometimes(DAY_OFFSET | st.sampled_from(MONTH_STARTS)),
        "span": sometimes(st.integers(0, DAYS)),  # the period's last day, counted from its first
        "end": sometimes(st.sampled_from(MONTH_ENDS) | DAY_OFFSET),  # the period's last day, when no span
        "employees": subset(4),
        "debtors": subset(2),
        "cases": subset(4),
        "activities": subset(2),
        "statuses": sometimes(st.lists(st.sampled_from(list(TimeStatus)), unique=True, min_size=1)),
        "active_cases_only": sometimes(st.just(True)),
        "tags": sometimes(FILTER_TAGS),
    }
)


@st.composite
def group_bys(draw: st.DrawFn) -> list[Dimension]:
    """Any plain dimensions and, four times in five, one period, in any order."""
    chosen = draw(st.lists(st.sampled_from(PLAIN), unique=True))
    period = draw(st.sampled_from([None, *sorted(PERIODS)]))
    return list(draw(st.permutations(chosen + ([period] if period else []))))


def period_label(dimension: Dimension, day: date, start_month: int) -> str:
    if dimension is Dimension.DAY:
        return day.isoformat()
    if dimension is Dimension.WEEK:
        iso = day.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    if dimension is Dimension.MONTH:
        return f"{day.year}-{day.month:02d}"
    year = day.year if day.month >= start_month else day.year - 1
    return date(year, start_month, 1).isoformat()


async def model_report(
    session: AsyncSession, seen: Visibility, f: EntryFilter, group_by: list[Dimension], start_month: int
) -> dict[Key, list[Any]]:
    """The report recomputed in plain Python from the entries as stored."""
    case_rows = {
        row.id: row for row in await session.execute(select(Case.id, Case.blocked, Case.active_from, Case.active_until))
    }
    rows: dict[Key, list[Any]] = defaultdict(lambda: [0, Decimal(0), 0, 0, Decimal(0), 0])
    for e in await session.execute(select(TimeEntry)):
        entry = e[0]
        if (f.start is not None and entry.work_date < f.start) or (f.end is not None and entry.work_date > f.end):
            continue
        if f.employee_ids is not None and entry.employee_id not in [i for i in f.employee_ids if seen.can_see(i)]:
            continue
        if f.debtor_ids is not None and entry.debtor_id not in f.debtor_ids:
            continue
        if f.case_ids is not None and entry.case_id not in f.case_ids:
            continue
        if f.activity_ids is not None and entry.activity_id not in f.activity_ids:
            continue
        if f.statuses is not None and entry.status not in f.statuses:
            continue
        if f.active_cases_only:
            case = case_rows.get(entry.case_id)
            if case is None or case.blocked:
                continue
            if f.end is not None and case.active_from is not None and case.active_from > f.end:
                continue
            if f.start is not None and case.active_until is not None and case.active_until < f.start:
                continue
        if f.tags is not None and not {t.strip().lower() for t in f.tags} & {t.lower() for t in entry.tags}:
            continue
        grouped = set(group_by)
        hidden = Dimension.EMPLOYEE in grouped and not seen.can_see(entry.employee_id)
        period = next((d for d in group_by if d in PERIODS), None)
        key = (
            entry.debtor_id if Dimension.DEBTOR in grouped else None,
            entry.case_id if Dimension.CASE in grouped else None,
            entry.employee_id if Dimension.EMPLOYEE in grouped and not hidden else None,
            hidden,
            entry.activity_id if Dimension.ACTIVITY in grouped else None,
            entry.status if Dimension.STATUS in grouped else None,
            period_label(period, entry.work_date, start_month) if period else None,
        )
        row = rows[key]
        billable = entry.status in (TimeStatus.BILLABLE, TimeStatus.INVOICED)
        row[0] += entry.minutes
        row[1] += entry.amount
        row[2] += entry.minutes if billable else 0
        row[3] += entry.minutes if entry.status is TimeStatus.NON_BILLABLE else 0
        row[4] += entry.amount if billable else Decimal(0)
        row[5] += 1
    return dict(rows)


def report_rows(report: Report) -> dict[Key, list[Any]]:
    keyed = {
        (r.debtor_id, r.case_id, r.employee_id, r.employee_hidden, r.activity_id, r.status, r.period): [
            r.minutes,
            r.amount,
            r.billable_minutes,
            r.non_billable_minutes,
            r.billable_amount,
            r.entry_count,
        ]
        for r in report.rows
    }
    assert len(keyed) == len(report.rows)  # one row per group, hidden employees folded into one
    return keyed


NAMED_TABLES: dict[str, tuple[Any, str]] = {  # a row's field naming a row of a table, and the group's id of it
    "debtor": (Debtor, "debtor_id"),
    "case": (Case, "case_id"),
    "employee": (Employee, "employee_id"),
    "activity": (Activity, "activity_id"),
}
MEASURES: dict[str, Any] = {  # the other fields of a row, as the API writes an object row's values
    "minutes": lambda row: row.minutes,
    "amount": lambda row: f"{row.amount:.2f}",
    "billableMinutes": lambda row: row.billable_minutes,
    "nonBillableMinutes": lambda row: row.non_billable_minutes,
    "billableAmount": lambda row: f"{row.billable_amount:.2f}",
    "entryCount": lambda row: row.entry_count,
    "employeeHidden": lambda row: row.employee_hidden,
    "status": lambda row: None if row.status is None else row.status.name,
    "period": lambda row: row.period,
}
# (key, field, the named row's members as (key, field) when the field names a row)
Selection = tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...]


def selection_text(selection: Selection) -> str:
    def member(key: str, name: str, members: tuple[tuple[str, str], ...]) -> str:
        below = " ".join(f"{k}: {n}" for k, n in members)
        return f"{key}: {name}" + (f" {{ {below} }}" if members else "")

    return " ".join(member(*m) for m in selection)


@st.composite
def selections(draw: st.DrawFn) -> Selection:
    """Every field of a row, and every named row with any of its columns, in any order: each example checks all."""
    members: list[tuple[str, str, tuple[tuple[str, str], ...]]] = [(f"m_{name}", name, ()) for name in MEASURES]
    members.append(("typename", "__typename", ()))
    for name, (table, _) in NAMED_TABLES.items():
        declared = DECLARATIONS[table.__name__].fields
        attribute = st.sampled_from(["__typename", *sorted(f for f, d in declared.items() if isinstance(d, Column))])
        attributes = draw(st.lists(attribute, min_size=1, max_size=3))
        members.append((name, name, tuple((f"a{i}", a) for i, a in enumerate(attributes))))
    return tuple(draw(st.permutations(members)))


def compiled_rows(selection: str) -> CompiledRows:
    """What the plan of `timeReport { rows { <selection> } }` compiles."""
    document = parse("{ timeReport(filter: {}, groupBy: []) { rows { " + selection + " } } }")
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    (compiled,) = Plan(schema._schema, document, operation).compiled.values()
    assert isinstance(compiled, CompiledRows)
    return compiled


async def written_report(
    session: AsyncSession,
    seen: Visibility,
    f: EntryFilter,
    group_by: list[Dimension],
    selection: str,
    *,
    start_month: int,
) -> WrittenRows:
    """The report's rows as the database writes them for `timeReport`, and its totals of minutes, amount, entries."""
    groups = reporting.grouped(seen, f, group_by, start_month=start_month).rows()
    return await compiled_rows(selection).rows(
        session, groups.g, groups.order, visibility=seen, null_columns=groups.null_columns, also=groups.totals
    )


async def render(session: AsyncSession, report: Report, selection: Selection) -> list[dict[str, Any]]:
    """The report's rows as the API writes them, rendered in Python from the object rows and the codecs' Python
    twins."""
    named_rows = {
        name: {row.id: row for row in (await session.scalars(select(table))).all()}
        for name, (table, _) in NAMED_TABLES.items()
    }

    def attribute_value(named: Any, attribute: str) -> Any:
        if attribute == "__typename":
            return type(named).__name__
        declared = DECLARATIONS[type(named).__name__].fields[attribute]
        assert isinstance(declared, Column)
        value = getattr(named, declared.name)
        return None if value is None else declared.codec.python(value)

    def value(row: reporting.ReportRow, name: str, members: tuple[tuple[str, str], ...]) -> Any:
        if name == "__typename":
            return "ReportRow"
        if name in NAMED_TABLES:
            db_id = getattr(row, NAMED_TABLES[name][1])
            if db_id is None:
                return None
            named = named_rows[name][db_id]
            return {key: attribute_value(named, attribute) for key, attribute in members}
        return MEASURES[name](row)

    return [{key: value(row, name, members) for key, name, members in selection} for row in report.rows]


async def write_entries(session: AsyncSession, world: World, drawn: list[tuple[Any, ...]]) -> None:
    for employee, target, activity, offset, minutes, status, mode, *tags in drawn:
        debtor_id, case_id = world.targets[target]
        day = FIRST_DAY + timedelta(days=offset)
        if case_id == world.case_ids[2]:  # keep time on the case with a period inside that period
            day = PERIOD_FROM + timedelta(days=offset % ((PERIOD_UNTIL - PERIOD_FROM).days + 1))
        await time_entries.create(
            session,
            world.admin,
            {
                "employee_id": world.employee_ids[employee],
                "debtor_id": debtor_id,
                "case_id": case_id,
                "activity_id": world.activity_ids[activity],
                "work_date": day,
                "minutes": minutes,
                "status": status,
                "tags": tags[0] if tags else None,
            },
            mode=mode,
        )


async def bill(session: AsyncSession, world: World, debtor: int, up_to: int, void: bool, release: bool) -> None:
    """Turn some time F (and maybe back to J), and maybe release the L time, through the billing services."""
    try:
        async with session.begin_nested():
            invoice = await invoicing.create(
                session, world.admin.viewer, debtor_id=world.debtor_ids[debtor], up_to=FIRST_DAY + timedelta(days=up_to)
            )
            if void:
                await invoicing.void(session, world.admin.viewer, invoice.id)
    except DomainError as error:
        if error.code is not ErrorCode.NOTHING_TO_INVOICE:
            raise
    parked = list(await session.scalars(select(TimeEntry.id).where(TimeEntry.status == TimeStatus.OVER_LIMIT)))
    if release and parked:
        await invoicing.release_over_limit(session, world.admin.viewer, parked[:1], TimeStatus.NON_BILLABLE)


class TestTimeReport:
    # no shrinking: replaying the writes would take minutes, and the falsifying example is printed anyway
    @settings(
        max_examples=30,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
        database=None,
        phases=[Phase.explicit, Phase.generate],
    )
    @given(
        drawn=entry_lists(),
        start_month=st.sampled_from([1, 4, 10]),
        billing=st.tuples(st.integers(0, 1), st.integers(0, DAYS - 1), st.booleans(), st.booleans()),
        block_last_case=st.booleans(),
        restricted=st.booleans(),
        group_by=group_bys(),
        drawn_filter=FILTER,
        selection=selections(),
    )
    async def test_report_equals_a_recomputation_from_the_entries(
        self,
        session: AsyncSession,
        world: World,
        drawn: list[tuple[Any, ...]],
        start_month: int,
        billing: tuple[int, int, bool, bool],
        block_last_case: bool,
        restricted: bool,
        group_by: list[Dimension],
        drawn_filter: dict[str, Any],
        selection: Selection,
    ) -> None:
        savepoint = await session.begin_nested()
        try:
            # given
            await company.update(session, {"book_year_start_month": start_month})
            await write_entries(session, world, drawn)
            await bill(session, world, *billing)
            if block_last_case:
                await cases.update(session, world.case_ids[3], {"blocked": True})
            d = drawn_filter
            start = None if d["start"] is None else FIRST_DAY + timedelta(days=d["start"])
            end = None if d["span"] is None else (start or FIRST_DAY) + timedelta(days=d["span"])
            if end is None and d["end"] is not None:
                end = FIRST_DAY + timedelta(days=d["end"])
            f = EntryFilter(
                start=start,
                end=end,
                employee_ids=None if d["employees"] is None else [world.employee_ids[i] for i in d["employees"]],
                debtor_ids=None if d["debtors"] is None else [world.debtor_ids[i] for i in d["debtors"]],
                case_ids=None if d["cases"] is None else [world.case_ids[i] for i in d["cases"]],
                activity_ids=None if d["activities"] is None else [world.activity_ids[i] for i in d["activities"]],
                statuses=d["statuses"],
                active_cases_only=bool(d["active_cases_only"]),
                tags=d["tags"],
            )
            seen = world.restricted if restricted else EVERYONE
            # when
            report = await reporting.time_report(session, seen, f, group_by, start_month=start_month)
            written = await written_report(
                session, seen, f, group_by, selection_text(selection), start_month=start_month
            )
            # then
            expected = await model_report(session, seen, f, group_by, start_month)
            assert report_rows(report) == expected
            # the database writes the same rows, in the same order, as JSON
            assert orjson.loads(orjson.dumps(written.rows)) == await render(session, report, selection)
            assert written.also == (report.total_minutes, report.total_amount, sum(r.entry_count for r in report.rows))
            assert report.total_minutes == sum(r.minutes for r in report.rows) == sum(v[0] for v in expected.values())
            assert report.total_amount == sum((r.amount for r in report.rows), Decimal(0))
            assert report.total_amount == sum((v[1] for v in expected.values()), Decimal(0))
            if restricted and f.employee_ids is None:
                admin_view = await reporting.time_report(session, EVERYONE, f, group_by, start_month=start_month)
                assert (report.total_minutes, report.total_amount) == (
                    admin_view.total_minutes,
                    admin_view.total_amount,
                )
        finally:
            await savepoint.rollback()

    async def test_a_row_of_many_members_is_written_whole(self, session: AsyncSession, world: World) -> None:
        # given: more members than a PostgreSQL function takes arguments, and more links than it nests in one run
        await write_entries(session, world, [(0, 0, 0, 10, 25, TimeStatus.BILLABLE, EntryMode.PER_DEBTOR)])
        selection = " ".join(f"m{i}: minutes" for i in range(2500))
        selection += " case { " + " ".join(f"c{i}: code" for i in range(120)) + " }"
        # when
        written = await written_report(session, EVERYONE, EntryFilter(), [Dimension.CASE], selection, start_month=1)
        # then
        code = (await session.get_one(Case, world.case_ids[0])).code
        assert orjson.loads(orjson.dumps(written.rows)) == [
            {**{f"m{i}": 25 for i in range(2500)}, "case": dict.fromkeys((f"c{i}" for i in range(120)), code)}
        ]

    async def test_written_with_empty_lists_of_ids(self, session: AsyncSession, world: World) -> None:
        # given: a viewer who sees nobody, and a filter of no employees, both written out as SQL literals
        await write_entries(session, world, [(0, 0, 0, 10, 25, TimeStatus.BILLABLE, EntryMode.PER_DEBTOR)])
        selection = "hidden: employeeHidden minutes employee { name supervisor { name } }"
        group_by = [Dimension.EMPLOYEE]
        # when
        nobody = await written_report(session, visibility.NOBODY, EntryFilter(), group_by, selection, start_month=1)
        no_employees = await written_report(
            session, EVERYONE, EntryFilter(employee_ids=[]), group_by, selection, start_month=1
        )
        # then
        assert orjson.loads(orjson.dumps(nobody.rows)) == [{"hidden": True, "minutes": 25, "employee": None}]
        assert orjson.loads(orjson.dumps(no_employees.rows)) == []
        assert no_employees.also == (0, 0, 0)

    async def test_hidden_employees_fold_into_one_row_per_group(self, session: AsyncSession, world: World) -> None:
        # given
        drawn = [
            (employee, target, 0, offset, 30 + employee, TimeStatus.BILLABLE, EntryMode.PER_DEBTOR)
            for employee in range(4)
            for target in (0, 4)
            for offset in (0, 40)
        ]
        await write_entries(session, world, drawn)
        f = EntryFilter(debtor_ids=world.debtor_ids)
        group_by = [Dimension.EMPLOYEE, Dimension.CASE]
        # when
        report = await reporting.time_report(session, world.restricted, f, group_by, start_month=1)
        admin_view = await reporting.time_report(session, EVERYONE, f, group_by, start_month=1)
        # then
        hidden_rows = [r for r in report.rows if r.employee_hidden]
        assert sorted((r.case_id or 0, r.employee_id, r.minutes, r.entry_count) for r in hidden_rows) == [
            (0, None, 2 * 32 + 2 * 33, 4),  # the two hidden employees' time without a case, in one row
            (world.case_ids[0], None, 2 * 32 + 2 * 33, 4),
        ]
        assert {r.employee_id for r in report.rows if not r.employee_hidden} == set(world.employee_ids[:2])
        assert (report.total_minutes, report.total_amount) == (admin_view.total_minutes, admin_view.total_amount)
        assert len(admin_view.rows) == len(report.rows) + 2  # two hidden employees in two groups, folded

    @pytest.mark.parametrize(
        ("dimension", "labels"),
        [
            (Dimension.DAY, ["2025-12-29", "2026-03-31", "2026-04-01", "2026-11-23", "2027-01-01"]),
            (Dimension.WEEK, ["2026-W01", "2026-W14", "2026-W48", "2026-W53"]),
            (Dimension.MONTH, ["2025-12", "2026-03", "2026-04", "2026-11", "2027-01"]),
            (Dimension.BOOK_YEAR, ["2025-04-01", "2026-04-01"]),
        ],
    )
    async def test_period_labels(
        self, session: AsyncSession, world: World, dimension: Dimension, labels: list[str]
    ) -> None:
        # given
        await company.update(session, {"book_year_start_month": 4})
        days = [date(2025, 12, 29), date(2026, 3, 31), date(2026, 4, 1), date(2026, 11, 23), date(2027, 1, 1)]
        drawn = [(0, 0, 0, (day - FIRST_DAY).days, 10, TimeStatus.BILLABLE, EntryMode.PER_DEBTOR) for day in days]
        await write_entries(session, world, drawn)
        # when
        report = await reporting.time_report(
            session, EVERYONE, EntryFilter(debtor_ids=world.debtor_ids), [dimension], start_month=4
        )
        # then
        assert [r.period for r in report.rows] == labels

    async def test_more_than_one_period_is_refused(self, session: AsyncSession, world: World) -> None:
        # given
        group_by = [Dimension.DEBTOR, Dimension.MONTH, Dimension.WEEK]
        # when
        with pytest.raises(DomainError) as caught:
            await reporting.time_report(session, EVERYONE, EntryFilter(), group_by, start_month=1)
        # then
        assert caught.value.code is ErrorCode.VALIDATION

    @pytest.mark.parametrize(
        ("start", "end"),
        [
            (date(2026, 2, 1), date(2026, 3, 31)),  # whole months only
            (date(2026, 2, 2), date(2026, 3, 31)),  # days before whole months
            (date(2026, 2, 1), date(2026, 3, 30)),  # days after
            (date(2026, 1, 31), date(2026, 4, 1)),  # days on both sides
            (date(2026, 2, 15), date(2026, 2, 15)),  # one day
            (date(2026, 2, 2), date(2026, 2, 27)),  # inside one month
            (date(2026, 2, 1), date(2026, 2, 28)),  # one whole month
            (date(2026, 3, 1), date(2026, 2, 28)),  # empty
            (None, date(2026, 2, 28)),
            (None, date(2026, 2, 27)),
            (date(2026, 3, 1), None),
            (date(2026, 3, 2), None),
            (None, None),
            # bounds beyond the last day an entry can have, up to the calendar's last
            (date(2026, 2, 2), date(9999, 12, 31)),
            (None, date(9999, 12, 30)),
            (date(9999, 12, 2), None),
            (date(9999, 12, 2), date(9999, 12, 31)),
        ],
    )
    async def test_whole_months_and_edge_days_add_up(
        self, session: AsyncSession, world: World, start: date | None, end: date | None
    ) -> None:
        # given: time on the days where months turn over, by employees the restricted viewer sees and does not see
        days = [date(2026, 1, 31), date(2026, 2, 1), date(2026, 2, 15), date(2026, 2, 28), date(2026, 3, 1)]
        days += [date(2026, 3, 30), date(2026, 3, 31), date(2026, 4, 1)]
        drawn = [
            (employee, target, employee % 2, (day - FIRST_DAY).days, 10 + i, status, EntryMode.PER_DEBTOR)
            for i, day in enumerate(days)
            for employee in (0, 2)
            for target, status in ((0, TimeStatus.BILLABLE), (4, TimeStatus.NON_BILLABLE))
        ]
        await write_entries(session, world, drawn)
        await company.update(session, {"book_year_start_month": 3})
        f = EntryFilter(start=start, end=end)
        for group_by in (
            [Dimension.DEBTOR, Dimension.MONTH],
            [Dimension.EMPLOYEE, Dimension.CASE],
            [Dimension.BOOK_YEAR, Dimension.STATUS, Dimension.ACTIVITY],
            [Dimension.DAY],
            [Dimension.WEEK, Dimension.EMPLOYEE],
            [],
        ):
            for seen in (EVERYONE, world.restricted):
                # when
                report = await reporting.time_report(session, seen, f, group_by, start_month=3)
                # then
                assert report_rows(report) == await model_report(session, seen, f, group_by, 3), (group_by, seen)

    async def test_a_tags_filter_reads_the_entries_and_their_l_lines(self, session: AsyncSession, world: World) -> None:
        # given: tagged time over whole months and edge days, and an L line carrying its entry's tags
        days = [date(2026, 1, 31), date(2026, 2, 1), date(2026, 2, 15), date(2026, 3, 1), date(2026, 4, 1)]
        drawn = [
            (employee, 0, 0, (day - FIRST_DAY).days, 10 + i, TimeStatus.BILLABLE, EntryMode.PER_DEBTOR, tags)
            for i, day in enumerate(days)
            for employee, tags in ((0, ["Urgent"]), (2, ["review", "URGENT"]), (1, []))
        ]
        drawn.append((0, 1, 0, (days[2] - FIRST_DAY).days, 120, TimeStatus.BILLABLE, EntryMode.PER_DATE, ["Cap"]))
        await write_entries(session, world, drawn)
        for tags, minutes in ((["urgent"], 2 * sum(10 + i for i in range(5))), ([" CAP "], 120), (["none"], 0)):
            f = EntryFilter(start=date(2026, 1, 15), end=date(2026, 4, 30), tags=tags)
            for group_by in ([Dimension.MONTH, Dimension.EMPLOYEE], [Dimension.STATUS, Dimension.CASE], []):
                for seen in (EVERYONE, world.restricted):
                    # when
                    report = await reporting.time_report(session, seen, f, group_by, start_month=1)
                    # then
                    assert report_rows(report) == await model_report(session, seen, f, group_by, 1), (tags, group_by)
                    assert report.total_minutes == minutes
        # the capped case's 90 minutes and its L line of 30, both tagged
        f = EntryFilter(tags=["cap"])
        statuses = await reporting.time_report(session, EVERYONE, f, [Dimension.STATUS], start_month=1)
        assert {(r.status, r.minutes) for r in statuses.rows} == {
            (TimeStatus.BILLABLE, 90),
            (TimeStatus.OVER_LIMIT, 30),
        }
