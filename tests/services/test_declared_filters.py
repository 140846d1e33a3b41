"""Each list's filters, declared once in its service (services.filters): on random data, every combination of them
gives the rows, in order, and the count of a reference query written here on its own, through the page a service
reads (the objects' path), its count and the compiled list's source. A combination is declared once: a request gets
the source and statements its combination made, the combinations are bounded by the declared filters, and a request
walks no SQL expression."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import TextClause, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import BindParameter, ClauseElement

from graph.compiler import EVERY_ROW, Source
from models import Case, Debtor, Employee, EntrySource, Invoice, TimeEntry, TimeStatus
from services import cases, debtors, employees, invoicing, time_queries
from services.filters import Filters, Matching
from services.paging import Page
from services.time_queries import EntryFilter
from services.visibility import EVERYONE, Visibility
from tests.factories import Factory

ALPHABET = "aAbB%_\\ "  # LIKE's wildcards and its escape, both cases, a space to trim
DAYS = [date(2026, 11, day) for day in range(1, 8)]
TAGS = ["urgent", "Urgent", "review", " REVIEW ", "x"]
_numbers = itertools.count(1)
T = TypeVar("T")
PG = postgresql.dialect()  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class CaseSpec:
    debtor: int
    code: str
    description: str | None
    blocked: bool
    active_from: date | None
    active_until: date | None


@dataclass(frozen=True)
class EntrySpec:
    employee: int
    debtor: int
    case: int | None  # the entry's debtor is then the case's
    activity: int
    day: date
    status: TimeStatus
    tags: tuple[str, ...]


@dataclass(frozen=True)
class World:
    debtors: tuple[tuple[str, str], ...]  # code, name
    employees: tuple[tuple[str, str], ...]  # name, the email's local part
    cases: tuple[CaseSpec, ...]
    entries: tuple[EntrySpec, ...]
    invoices: tuple[int, ...]  # their debtors


@dataclass
class Made:
    debtors: list[int]
    employees: list[int]
    cases: list[int]
    activities: list[int]


texts = st.text(ALPHABET, max_size=4)
searches = st.none() | texts


def searches_in(values: Sequence[str | None]) -> st.SearchStrategy[str | None]:
    """A search: any text, or a part of one of `values` in either case, padded or not."""
    parts = sorted({v[i:j] for v in values if v for i in range(len(v)) for j in range(i + 1, len(v) + 1)})
    if not parts:
        return searches
    part = st.builds(
        lambda found, upper, pad: f"{pad}{found.upper() if upper else found}{pad}",
        st.sampled_from(parts),
        st.booleans(),
        st.sampled_from(["", " "]),
    )
    return searches | part


@st.composite
def worlds(draw: st.DrawFn) -> World:
    debtor_count = draw(st.integers(1, 3))
    debtor = st.integers(0, debtor_count - 1)
    employee_count = draw(st.integers(1, 3))
    period = st.none() | st.sampled_from(DAYS)
    case_specs = []
    for _ in range(draw(st.integers(0, 4))):
        start, end = draw(period), draw(period)
        if start is not None and end is not None and end < start:
            start, end = end, start
        case_specs.append(CaseSpec(draw(debtor), draw(texts), draw(st.none() | texts), draw(st.booleans()), start, end))
    case = st.none() | st.integers(0, len(case_specs) - 1) if case_specs else st.none()
    entries = tuple(
        EntrySpec(
            employee=draw(st.integers(0, employee_count - 1)),
            debtor=draw(debtor),
            case=draw(case),
            activity=draw(st.integers(0, 1)),
            day=draw(st.sampled_from(DAYS)),
            status=draw(st.sampled_from(TimeStatus)),
            tags=tuple(draw(st.lists(st.sampled_from(["Urgent", "review", "x", "y"]), max_size=2, unique=True))),
        )
        for _ in range(draw(st.integers(2, 8)))
    )
    return World(
        debtors=tuple((draw(texts), draw(texts)) for _ in range(debtor_count)),
        employees=tuple((draw(texts), draw(st.text("aAbB%_\\", max_size=3))) for _ in range(employee_count)),
        cases=tuple(case_specs),
        entries=entries,
        invoices=tuple(draw(st.lists(debtor, max_size=3))),
    )


async def build(session: AsyncSession, factory: Factory, world: World) -> Made:
    """The world's rows; a `#` and a number keep codes apart, and the services trim names as they store them."""
    role = await factory.role()
    made = Made([], [], [], [])
    for code, name in world.debtors:
        n = next(_numbers)
        made.debtors.append((await factory.debtor(code=f"{code}#{n}", name=f"{name}#{n}")).id)
    for name, local in world.employees:
        n = next(_numbers)
        employee = await factory.employee(role=role, name=f"{name}#{n}", email=f"{local}{n}@example.test")
        made.employees.append(employee.id)
    made.activities = [(await factory.activity()).id for _ in range(2)]
    for spec in world.cases:
        case = await factory.case(
            debtor=await session.get(Debtor, made.debtors[spec.debtor]),
            code=f"{spec.code}#{next(_numbers)}",
            description=spec.description,
            blocked=spec.blocked,
            active_from=spec.active_from,
            active_until=spec.active_until,
        )
        made.cases.append(case.id)
    writer = made.employees[0]
    for entry in world.entries:
        debtor = made.debtors[entry.debtor if entry.case is None else world.cases[entry.case].debtor]
        session.add(
            TimeEntry(
                employee_id=made.employees[entry.employee],
                debtor_id=debtor,
                case_id=None if entry.case is None else made.cases[entry.case],
                activity_id=made.activities[entry.activity],
                work_date=entry.day,
                minutes=10,
                status=entry.status,
                rate=Decimal(0),
                amount=Decimal(0),
                tags=list(entry.tags),
                source=EntrySource.PER_DATE,
                created_by_id=writer,
                updated_by_id=writer,
            )
        )
    for owner in world.invoices:
        number = f"TEST-{next(_numbers)}"
        session.add(
            Invoice(
                number=number,
                debtor_id=made.debtors[owner],
                invoice_date=DAYS[0],
                total=Decimal(0),
                created_by_id=writer,
            )
        )
    await session.flush()
    return made


def needle(search: str | None) -> str | None:
    """The text a search looks for: trimmed; none when blank."""
    return search.strip() if search and search.strip() else None


def holds(*columns: str) -> str:
    """SQL: one of `columns` holds `:needle`, ignoring case, with no LIKE pattern."""
    found = " OR ".join(f"strpos(lower(coalesce({c}, '')), lower(CAST(:needle AS text))) > 0" for c in columns)
    return f"(CAST(:needle AS text) IS NULL OR {found})"


CASES = text(
    "SELECT id FROM cases"
    " WHERE (CAST(:debtor_id AS integer) IS NULL OR debtor_id = CAST(:debtor_id AS integer))"
    f" AND {holds('code', 'description')} AND (CAST(:include_blocked AS boolean) OR NOT blocked)"
    " ORDER BY code, id"
)
DEBTORS = text(f"SELECT id FROM debtors WHERE {holds('code', 'name')} ORDER BY code, id")
EMPLOYEES = text(
    "SELECT id FROM employees"
    " WHERE (CAST(:visible AS integer[]) IS NULL OR id = ANY(CAST(:visible AS integer[])))"
    f" AND {holds('name', 'email')} ORDER BY name, id"
)
INVOICES = text(
    "SELECT id FROM invoices WHERE (CAST(:debtor_id AS integer) IS NULL OR debtor_id = CAST(:debtor_id AS integer))"
    " ORDER BY id DESC"
)
ENTRIES = text(
    """
    SELECT e.id FROM time_entries e
    WHERE (CAST(:since AS date) IS NULL OR e.work_date >= CAST(:since AS date))
      AND (CAST(:until AS date) IS NULL OR e.work_date <= CAST(:until AS date))
      AND (CAST(:employees AS integer[]) IS NULL OR (e.employee_id = ANY(CAST(:employees AS integer[]))
           AND (CAST(:visible AS integer[]) IS NULL OR e.employee_id = ANY(CAST(:visible AS integer[])))))
      AND (CAST(:debtors AS integer[]) IS NULL OR e.debtor_id = ANY(CAST(:debtors AS integer[])))
      AND (CAST(:cases AS integer[]) IS NULL OR e.case_id = ANY(CAST(:cases AS integer[])))
      AND (CAST(:activities AS integer[]) IS NULL OR e.activity_id = ANY(CAST(:activities AS integer[])))
      AND (CAST(:statuses AS text[]) IS NULL OR e.status::text = ANY(CAST(:statuses AS text[])))
      AND (NOT CAST(:active AS boolean) OR EXISTS (
           SELECT 1 FROM cases c WHERE c.id = e.case_id AND NOT c.blocked
             AND (CAST(:until AS date) IS NULL OR c.active_from IS NULL OR c.active_from <= CAST(:until AS date))
             AND (CAST(:since AS date) IS NULL OR c.active_until IS NULL OR c.active_until >= CAST(:since AS date))))
      AND (CAST(:tags AS text[]) IS NULL OR EXISTS (
           SELECT 1 FROM unnest(e.tags) AS t(tag) JOIN unnest(CAST(:tags AS text[])) AS w(tag)
             ON lower(t.tag) = lower(w.tag)))
    ORDER BY e.work_date DESC, e.id DESC
    """
)


async def reference(session: AsyncSession, query: TextClause, values: dict[str, Any]) -> list[int]:
    return list((await session.scalars(query, values)).all())


async def through_source(session: AsyncSession, matching: Matching, model: Any, order: Sequence[Any]) -> list[int]:
    """The rows the compiled list's source holds, in the list's order."""
    source, values = Source.matching(matching)
    stmt = select(model.id).where(source.where).order_by(*order)
    return list((await session.scalars(stmt, values)).all())


def ids_of(page: Page[Any]) -> list[int]:
    assert not page.has_next
    return [row.id for row in page.rows]


def visibility_of(made: Made, chosen: frozenset[int] | None) -> Visibility:
    if chosen is None:
        return EVERYONE
    return Visibility(frozenset(made.employees[i] for i in chosen if i < len(made.employees)))


def one_of(made: list[int], index: int | None) -> int | None:
    """The id at `index`, counted round the ids and one more, which stands for an id no row has."""
    if index is None:
        return None
    index %= len(made) + 1
    return made[index] if index < len(made) else 2_000_000_000


def picked(made: list[int], chosen: Sequence[int] | None) -> list[int] | None:
    return None if chosen is None else [one_of(made, i) or 0 for i in chosen]


ALL = 1000  # one page holds every row of a world


def and_asked(asked: Callable[[World], st.SearchStrategy[T]]) -> st.SearchStrategy[tuple[World, T]]:
    """A world, and what is asked of it."""
    return worlds().flatmap(lambda world: st.tuples(st.just(world), asked(world)))


ONCE = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
indices = st.lists(st.integers(0, 3), min_size=1, max_size=3)


def seldom(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """None twice as often as a value: a time filter of many fields matches some rows."""
    return st.one_of(st.none(), st.none(), strategy)


# a description found by a search its code lacks, and a case only the unblocked filter leaves out
DESCRIBED = World(
    debtors=(("d", "D"),),
    employees=(("e", "e"),),
    cases=(CaseSpec(0, "a", "b%", False, None, None), CaseSpec(0, "ab", None, True, None, None)),
    entries=(),
    invoices=(),
)


class TestAgainstAReference:
    @example(drawn=(DESCRIBED, [(0, "B%", False), (None, " %", True)]))
    @ONCE
    @given(
        drawn=and_asked(
            lambda world: st.lists(
                st.tuples(
                    st.none() | st.integers(0, 3),
                    searches_in([text for c in world.cases for text in (c.code, c.description)]),
                    st.booleans(),
                ),
                max_size=4,
            )
        )
    )
    async def test_cases(
        self, session: AsyncSession, factory: Factory, drawn: tuple[World, list[tuple[int | None, str | None, bool]]]
    ) -> None:
        world, asked = drawn
        async with session.begin_nested() as savepoint:  # examples share the test's session
            made = await build(session, factory, world)
            for debtor, search, include_blocked in asked:
                debtor_id = one_of(made.debtors, debtor)
                values = {"debtor_id": debtor_id, "needle": needle(search), "include_blocked": include_blocked}
                expected = await reference(session, CASES, values)
                # when
                asking: dict[str, Any] = {"debtor_id": debtor_id, "search": search, "include_blocked": include_blocked}
                page = await cases.page(session, first=ALL, after=None, **asking)
                total = await cases.total(session, **asking)
                on_source = await through_source(session, cases.filters(**asking), Case, cases.KEYSET.columns)
                # then
                assert (ids_of(page), total, on_source) == (expected, len(expected), expected), asking
            await savepoint.rollback()

    @ONCE
    @given(drawn=and_asked(lambda world: st.lists(searches_in([t for d in world.debtors for t in d]), max_size=4)))
    async def test_debtors(
        self, session: AsyncSession, factory: Factory, drawn: tuple[World, list[str | None]]
    ) -> None:
        world, asked = drawn
        async with session.begin_nested() as savepoint:
            await build(session, factory, world)
            for search in asked:
                expected = await reference(session, DEBTORS, {"needle": needle(search)})
                # when
                page = await debtors.page(session, first=ALL, after=None, search=search)
                total = await debtors.total(session, search=search)
                on_source = await through_source(session, debtors.filters(search), Debtor, debtors.KEYSET.columns)
                # then
                assert (ids_of(page), total, on_source) == (expected, len(expected), expected), search
            await savepoint.rollback()

    @ONCE
    @given(
        drawn=and_asked(
            lambda world: st.lists(
                st.tuples(
                    st.none() | st.frozensets(st.integers(0, 3)),
                    searches_in([t for e in world.employees for t in e]),
                ),
                max_size=4,
            )
        )
    )
    async def test_employees(
        self,
        session: AsyncSession,
        factory: Factory,
        drawn: tuple[World, list[tuple[frozenset[int] | None, str | None]]],
    ) -> None:
        world, asked = drawn
        async with session.begin_nested() as savepoint:
            made = await build(session, factory, world)
            for chosen, search in asked:
                visibility = visibility_of(made, chosen)
                visible = None if visibility.visible_ids is None else sorted(visibility.visible_ids)
                expected = await reference(session, EMPLOYEES, {"visible": visible, "needle": needle(search)})
                # when
                page = await employees.page(session, visibility, first=ALL, after=None, search=search)
                total = await employees.total(session, visibility, search=search)
                matching = employees.filters(visibility, search)
                on_source = await through_source(session, matching, Employee, employees.KEYSET.columns)
                # then
                assert (ids_of(page), total, on_source) == (expected, len(expected), expected), (chosen, search)
            await savepoint.rollback()

    @ONCE
    @given(world=worlds(), asked=st.lists(st.none() | st.integers(0, 3), max_size=4))
    async def test_invoices(
        self, session: AsyncSession, factory: Factory, world: World, asked: list[int | None]
    ) -> None:
        async with session.begin_nested() as savepoint:
            made = await build(session, factory, world)
            for debtor in asked:
                debtor_id = one_of(made.debtors, debtor)
                expected = await reference(session, INVOICES, {"debtor_id": debtor_id})
                # when
                page = await invoicing.page(session, first=ALL, after=None, debtor_id=debtor_id)
                total = await invoicing.total(session, debtor_id=debtor_id)
                matching = invoicing.filters(debtor_id)
                on_source = await through_source(session, matching, Invoice, [Invoice.id.desc()])
                # then
                assert (ids_of(page), total, on_source) == (expected, len(expected), expected), debtor
            await savepoint.rollback()

    @ONCE
    @given(world=worlds(), data=st.data())
    async def test_time_entries(
        self, session: AsyncSession, factory: Factory, world: World, data: st.DataObject
    ) -> None:
        async with session.begin_nested() as savepoint:
            made = await build(session, factory, world)
            for _ in range(data.draw(st.integers(1, 4), "filters")):
                chosen = data.draw(st.none() | st.frozensets(st.integers(0, 3)), "visible")
                visibility = visibility_of(made, chosen)
                f = EntryFilter(
                    start=data.draw(seldom(st.sampled_from(DAYS)), "start"),
                    end=data.draw(seldom(st.sampled_from(DAYS)), "end"),
                    employee_ids=picked(made.employees, data.draw(seldom(indices), "employees")),
                    debtor_ids=picked(made.debtors, data.draw(seldom(indices), "debtors")),
                    case_ids=picked(made.cases, data.draw(seldom(indices), "cases")),
                    activity_ids=picked(made.activities, data.draw(seldom(indices), "activities")),
                    statuses=data.draw(seldom(st.lists(st.sampled_from(TimeStatus), max_size=2)), "statuses"),
                    active_cases_only=data.draw(st.sampled_from([False, False, True]), "active"),
                    tags=data.draw(seldom(st.lists(st.sampled_from(TAGS), max_size=2)), "tags"),
                )
                values = {
                    "since": f.start,
                    "until": f.end,
                    "employees": f.employee_ids,
                    "visible": None if visibility.visible_ids is None else sorted(visibility.visible_ids),
                    "debtors": f.debtor_ids,
                    "cases": f.case_ids,
                    "activities": f.activity_ids,
                    "statuses": None if f.statuses is None else [status.value for status in f.statuses],
                    "active": f.active_cases_only,
                    "tags": None if f.tags is None else [tag.strip() for tag in f.tags],
                }
                expected = await reference(session, ENTRIES, values)
                # when
                page = await time_queries.entries_page(session, visibility, f, first=ALL, after=None)
                total = await time_queries.entries_total(session, visibility, f)
                matching = time_queries.conditions(visibility, f)
                on_source = await through_source(
                    session, matching, TimeEntry, [TimeEntry.work_date.desc(), TimeEntry.id.desc()]
                )
                # then
                assert (ids_of(page), total, on_source) == (expected, len(expected), expected), f
            await savepoint.rollback()

    async def test_the_tags_filter_can_use_its_index(self, session: AsyncSession) -> None:
        # given
        source, values = Source.matching(time_queries.conditions(EVERYONE, EntryFilter(tags=["Urgent"])))
        stmt = select(TimeEntry.id).where(source.where).params(values)
        sql = str(stmt.compile(dialect=PG, compile_kwargs={"literal_binds": True}))
        # when
        await session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join((await session.scalars(text(f"EXPLAIN {sql}"))).all())
        # then
        assert "tag_keys(time_entries.tags) && tag_keys(" in sql
        assert "ix_time_entries_tag_keys" in plan


# one request's filter of each list, and one of the same combination with other values
SAME_COMBINATION: list[tuple[str, Callable[[], Matching], Callable[[], Matching]]] = [
    (
        "cases",
        lambda: cases.filters(debtor_id=1, search="a", include_blocked=False),
        lambda: cases.filters(debtor_id=2, search="b", include_blocked=False),
    ),
    ("debtors", lambda: debtors.filters("a"), lambda: debtors.filters(" b ")),
    (
        "employees",
        lambda: employees.filters(Visibility(frozenset({1})), None),
        lambda: employees.filters(Visibility(frozenset({2, 3})), " "),
    ),
    ("invoicing", lambda: invoicing.filters(1), lambda: invoicing.filters(2)),
    (
        "time_queries",
        lambda: time_queries.conditions(EVERYONE, EntryFilter(start=DAYS[0], tags=["a"], active_cases_only=True)),
        lambda: time_queries.conditions(EVERYONE, EntryFilter(start=DAYS[1], tags=[], active_cases_only=True)),
    ),
]
DECLARED: dict[str, Filters] = {
    "cases": cases.FILTERS,
    "debtors": debtors.FILTERS,
    "employees": employees.FILTERS,
    "invoicing": invoicing.FILTERS,
    "time_queries": time_queries.FILTERS,
}
MODULES = {"cases": cases, "debtors": debtors, "employees": employees, "invoicing": invoicing}


class TestDeclaredOnce:
    @pytest.mark.parametrize(("name", "one", "other"), SAME_COMBINATION, ids=[row[0] for row in SAME_COMBINATION])
    def test_a_combination_has_one_source_and_one_statement(
        self, name: str, one: Callable[[], Matching], other: Callable[[], Matching]
    ) -> None:
        # when
        first, second = one(), other()
        # then: the same source, page and count, the values apart
        assert Source.matching(first)[0] is Source.matching(second)[0] is Source.matching(one())[0]
        assert Source.matching(first)[0].kept
        assert first.values != second.values
        module: Any = MODULES.get(name, time_queries)
        assert module._PAGES.of(first) is module._PAGES.of(second)
        assert module._COUNTS.of(first) is module._COUNTS.of(second)

    def test_other_combinations_have_other_sources(self) -> None:
        # when
        found = [
            Source.matching(cases.filters(debtor_id=debtor, search=search, include_blocked=blocked))[0]
            for debtor in (None, 1)
            for search in (None, "a")
            for blocked in (True, False)
        ]
        # then: one source each, and none for no filter at all
        assert len({id(source) for source in found}) == 8
        assert found[0] is EVERY_ROW
        assert Source.matching(time_queries.conditions(EVERYONE, EntryFilter()))[0] is EVERY_ROW

    def test_the_combinations_are_bounded_by_the_declared_filters(self) -> None:
        # given: every combination of the cases' filters, twice, with other values
        for n, (debtor, search, blocked) in enumerate(itertools.product((None, 1), (None, "a"), (True, False))):
            for value in (n, n + 100):
                Source.matching(
                    cases.filters(debtor_id=debtor and value, search=search and f"{value}", include_blocked=blocked)
                )
        # then
        assert len(cases.FILTERS.combinations) == 2 ** len(cases.FILTERS.filters) == 8
        for declared in DECLARED.values():
            names = {declared_filter.name for declared_filter in declared.filters}
            assert len(declared.combinations) <= 2 ** len(names)
            assert all(key <= names for key in declared.combinations)

    def test_a_filter_is_declared_with_the_values_it_needs(self) -> None:
        # then: a filter that takes another's value applies only with it, and an unknown filter is refused
        with pytest.raises(ValueError, match="active_cases_from needs the filters"):
            time_queries.FILTERS.matching(active_cases_from=True)
        with pytest.raises(TypeError, match="'blocked' is not a declared filter"):
            cases.FILTERS.matching(blocked=True)

    @pytest.mark.parametrize(("name", "one", "other"), SAME_COMBINATION, ids=[row[0] for row in SAME_COMBINATION])
    def test_a_request_walks_no_expression(
        self, monkeypatch: pytest.MonkeyPatch, name: str, one: Callable[[], Matching], other: Callable[[], Matching]
    ) -> None:
        # given: the combination used once; then nothing may build, copy, walk, key or compile an expression
        Source.matching(one())
        probe = select(Case.id).where(Case.id == 1)

        def refused(*_: Any, **__: Any) -> Any:
            raise AssertionError("a request walked or built an SQL expression")

        for member in ("get_children", "_clone", "_generate_cache_key", "compile", "params"):
            monkeypatch.setattr(ClauseElement, member, refused)
        monkeypatch.setattr(BindParameter, "__init__", refused)
        with pytest.raises(AssertionError):  # the check sees a traversal, as `Source.matching` made one before
            probe._generate_cache_key()
        # when, then
        source, values = Source.matching(other())
        assert source is Source.matching(one())[0]
        assert values == other().values
