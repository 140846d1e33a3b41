"""A compiled connection that selects `totalCount` counts its list in its page's statement: one statement for the
page and its total, on every list, filtered or not, for a viewer who sees every name or only some; a page that
reads no row past a cursor falls back to a count of its own. Over the data of `test_compiled_lists`."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from tests.conftest import StatementCounter
from tests.factories import gql
from tests.graph import test_compiled_lists as lists
from tests.graph.test_compiled_lists import World, is_json_statement

world = lists.world  # Ada administers; Olga sees only her own name; two debtors, two cases, four entries, an invoice

CASE = "edges { cursor node { code debtor { code } } }"
EMPLOYEE = "edges { cursor node { name role { name } } }"
DEBTOR = "edges { cursor node { code name } }"
INVOICE = "edges { cursor node { number debtor { code } } }"
ENTRY = "edges { cursor node { id status employee { name } } }"


def _is_count(statement: str) -> bool:
    return statement.lstrip().startswith("SELECT count(*)")


def _list_statements(sql: StatementCounter, since: int) -> list[str]:
    """The statements of a list sent since `since`: its page's (the JSON of its edges) and any count of its own."""
    return [s for s in sql.statements[since:] if is_json_statement(s) or _is_count(s)]


def _connection(data: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    for name in path:
        data = data[name]
    return data


# (the list, its query declaring `$first` and `$after`, the token's name, its other variables by the world's names
# of their IDs (a list of names: a list of IDs), where the connection is in `data`, the true count)
Listed = tuple[str, str, str, dict[str, Any], tuple[str, ...], int]


def _root(field: str, arguments: str, selection: str) -> str:
    listed = f"{field}(first: $first, after: $after{arguments})"
    return f"query($first: Int, $after: String) {{ {listed} {{ {selection} }} }}"


def _nested(type_name: str, field: str, arguments: str, selection: str) -> str:
    return (
        f"query($id: ID!, $first: Int, $after: String) {{ node(id: $id) {{ ... on {type_name} {{ "
        f"{field}(first: $first, after: $after{arguments}) {{ {selection} }} }} }} }}"
    )


COUNTED: list[Listed] = [
    ("cases", _root("cases", "", "totalCount " + CASE), "olga", {}, ("cases",), 1),  # C2 is blocked
    ("cases blocked", _root("cases", ", includeBlocked: true", "totalCount " + CASE), "olga", {}, ("cases",), 2),
    (
        "cases of a debtor",
        "query($d: ID, $first: Int, $after: String) { cases(first: $first, after: $after, debtorId: $d, "
        "includeBlocked: true) { totalCount " + CASE + " } }",
        "olga",
        {"d": "d1"},
        ("cases",),
        2,
    ),
    (
        "cases searched",
        _root("cases", ', search: "c2", includeBlocked: true', "totalCount " + CASE),
        "olga",
        {},
        ("cases",),
        1,
    ),
    ("cases none", _root("cases", ', search: "nothing"', "totalCount " + CASE), "olga", {}, ("cases",), 0),
    ("Debtor.cases", _nested("Debtor", "cases", "", "totalCount " + CASE), "olga", {"id": "d1"}, ("node", "cases"), 1),
    (
        "Debtor.cases blocked",
        _nested("Debtor", "cases", ", includeBlocked: true", "totalCount " + CASE),
        "olga",
        {"id": "d1"},
        ("node", "cases"),
        2,
    ),
    ("employees", _root("employees", "", "totalCount " + EMPLOYEE), "admin", {}, ("employees",), 3),
    # Olga sees her own name only: the hidden employees are neither listed nor counted
    ("employees hidden", _root("employees", "", "totalCount " + EMPLOYEE), "olga", {}, ("employees",), 1),
    (
        "employees searched",
        _root("employees", ', search: "HUGO"', "totalCount " + EMPLOYEE),
        "admin",
        {},
        ("employees",),
        1,
    ),
    (
        "employees searched hidden",
        _root("employees", ', search: "hugo"', "totalCount " + EMPLOYEE),
        "olga",
        {},
        ("employees",),
        0,
    ),
    ("debtors", _root("debtors", "", "totalCount " + DEBTOR), "olga", {}, ("debtors",), 2),
    ("debtors searched", _root("debtors", ', search: "two"', "totalCount " + DEBTOR), "olga", {}, ("debtors",), 1),
    ("invoices", _root("invoices", "", "totalCount " + INVOICE), "admin", {}, ("invoices",), 1),
    (
        "invoices of a debtor",
        "query($d: ID, $first: Int, $after: String) { invoices(first: $first, after: $after, debtorId: $d) { "
        "totalCount " + INVOICE + " } }",
        "admin",
        {"d": "d1"},
        ("invoices",),
        1,
    ),
    (
        "Invoice.timeEntries",
        _nested("Invoice", "timeEntries", "", "totalCount " + ENTRY),
        "admin",
        {"id": "invoice"},
        ("node", "timeEntries"),
        1,
    ),
    # Olga sees every entry, Hugo's with his name hidden
    ("timeEntries", _root("timeEntries", "", "totalCount " + ENTRY), "olga", {}, ("timeEntries",), 4),
    (
        "timeEntries of a debtor",
        "query($d: [ID!], $first: Int, $after: String) { timeEntries(first: $first, after: $after, "
        "filter: {debtorIds: $d}) { totalCount " + ENTRY + " } }",
        "olga",
        {"d": ["d1"]},
        ("timeEntries",),
        4,
    ),
    (
        "timeEntries of an employee",
        "query($e: [ID!], $first: Int, $after: String) { timeEntries(first: $first, after: $after, "
        "filter: {employeeIds: $e}) { totalCount " + ENTRY + " } }",
        "admin",
        {"e": ["hugo"]},
        ("timeEntries",),
        3,
    ),
    (  # an employee whose name the viewer may not see matches nothing
        "timeEntries of a hidden employee",
        "query($e: [ID!], $first: Int, $after: String) { timeEntries(first: $first, after: $after, "
        "filter: {employeeIds: $e}) { totalCount " + ENTRY + " } }",
        "olga",
        {"e": ["hugo"]},
        ("timeEntries",),
        0,
    ),
    (  # an IN list the driver cannot prebuild: through SQLAlchemy's Core, counted alike
        "timeEntries of statuses",
        _root("timeEntries", ", filter: {statuses: [BILLABLE, OVER_LIMIT]}", "totalCount " + ENTRY),
        "olga",
        {},
        ("timeEntries",),
        2,
    ),
]


def _variables(world: World, case: Listed, **more: Any) -> dict[str, Any]:
    def global_ids(names: Any) -> Any:
        return [world.ids[name] for name in names] if isinstance(names, list) else world.ids[names]

    return {**{name: global_ids(names) for name, names in case[3].items()}, **more}


async def _run(
    client: httpx.AsyncClient, world: World, sql: StatementCounter, case: Listed, **variables: Any
) -> tuple[dict[str, Any], list[str]]:
    """The connection a case's query answers, and the list's statements it sent."""
    _, query, token, _, path, _ = case
    before = sql.count
    body = await gql(client, query, _variables(world, case, **variables), token=getattr(world, token))
    assert "errors" not in body, body
    return _connection(body["data"], path), _list_statements(sql, before)


@pytest.mark.parametrize("case", COUNTED, ids=[case[0] for case in COUNTED])
async def test_a_page_and_its_total_are_one_statement(
    client: httpx.AsyncClient, world: World, sql_statements: StatementCounter, case: Listed
) -> None:
    # when: the first page, which holds the whole list
    connection, sent = await _run(client, world, sql_statements, case)
    # then: the page's statement counted the list, and no count of its own was sent
    total = case[5]
    assert (connection["totalCount"], len(connection["edges"])) == (total, total)
    assert len(sent) == 1, sent
    assert is_json_statement(sent[0])
    assert "count(*)" in sent[0]


@pytest.mark.parametrize("case", [c for c in COUNTED if c[5] > 0], ids=[c[0] for c in COUNTED if c[5] > 0])
async def test_every_page_counts_the_whole_list_and_past_its_end_too(
    client: httpx.AsyncClient, world: World, sql_statements: StatementCounter, case: Listed
) -> None:
    total = case[5]
    # when: the list a row at a time
    after = None
    for _ in range(total):
        connection, sent = await _run(client, world, sql_statements, case, first=1, after=after)
        # then: each page one statement, with the whole list's total
        assert len(connection["edges"]) == 1
        assert connection["totalCount"] == total
        assert len(sent) == 1, sent
        after = connection["edges"][0]["cursor"]
    # when: after the last row, an empty page
    connection, sent = await _run(client, world, sql_statements, case, first=1, after=after)
    assert connection["edges"] == []
    assert connection["totalCount"] == total
    if case[4][0] == "node":
        # then: a connection of an object is written into the object's JSON, its count beside its page, always
        assert len(sent) == 1, sent
        assert is_json_statement(sent[0])
    else:
        # then: the page read no row to count from, so the list was counted by a statement of its own
        assert [is_json_statement(s) for s in sent] == [True, False]
        assert _is_count(sent[1])


@pytest.mark.parametrize("case", COUNTED, ids=[case[0] for case in COUNTED])
async def test_a_page_of_no_rows_counts_from_the_row_past_it(
    client: httpx.AsyncClient, world: World, sql_statements: StatementCounter, case: Listed
) -> None:
    # when: `first: 0`, whose statement reads one row to tell whether the list goes on
    connection, sent = await _run(client, world, sql_statements, case, first=0)
    # then
    assert connection["edges"] == []
    assert connection["totalCount"] == case[5]
    assert len(sent) == 1, sent


async def test_a_list_without_its_total_sends_its_page_as_before(
    client: httpx.AsyncClient, world: World, sql_statements: StatementCounter
) -> None:
    # given: the same list, with and without totalCount
    without = _root("cases", ", includeBlocked: true", CASE)
    with_total = _root("cases", ", includeBlocked: true", "totalCount " + CASE)
    # when
    before = sql_statements.count
    plain = await gql(client, without, token=world.olga)
    plain_sent = _list_statements(sql_statements, before)
    before = sql_statements.count
    counted = await gql(client, with_total, token=world.olga)
    counted_sent = _list_statements(sql_statements, before)
    # then: no count in the page's statement unless asked for, which is the counted one less its count
    assert len(plain["data"]["cases"]["edges"]) == len(counted["data"]["cases"]["edges"]) == 2
    assert len(plain_sent) == len(counted_sent) == 1
    assert "count(" not in plain_sent[0]
    assert re.sub(r", \(SELECT count\(\*\) .*?\) AS total", "", counted_sent[0], count=1, flags=re.S) == plain_sent[0]


async def test_a_case_time_list_takes_its_total_from_the_case_row(
    client: httpx.AsyncClient, world: World, sql_statements: StatementCounter
) -> None:
    # given: CaseTimeList's totalCount is the case's kept entry count, not a count of the list
    query = "query($id: ID!) { node(id: $id) { ... on Case { timeList { totalCount " + ENTRY + " } } } }"
    # when
    before = sql_statements.count
    body = await gql(client, query, {"id": world.ids["c1"]}, token=world.olga)
    sent = _list_statements(sql_statements, before)
    # then: its page counts nothing
    assert body["data"]["node"]["timeList"]["totalCount"] == 3
    assert len(sent) == 1
    assert "count(" not in sent[0]


class _Sent:
    """The statements sent, with their parameters."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, tuple[Any, ...]]] = []

    def __call__(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        self.sent.append((statement, tuple(parameters or ())))


async def test_the_count_is_planned_once_for_the_statement(
    client: httpx.AsyncClient, world: World, engine: AsyncEngine, session: AsyncSession
) -> None:
    # given: a filtered list, its filter's parameters in both the page and its count
    query = 'query($d: ID) { cases(debtorId: $d, search: "c", includeBlocked: true) { totalCount ' + CASE + " } }"
    recorder = _Sent()
    event.listen(engine.sync_engine, "before_cursor_execute", recorder)
    try:
        body = await gql(client, query, {"d": world.ids["d1"]}, token=world.olga)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", recorder)
    assert body["data"]["cases"]["totalCount"] == 2
    [(statement, parameters)] = [(s, p) for s, p in recorder.sent if is_json_statement(s)]
    # when
    connection = await session.connection()
    plan = "\n".join(row[0] for row in await connection.exec_driver_sql("EXPLAIN " + statement, parameters))
    # then: an InitPlan, run once, not a SubPlan run for each row
    assert "InitPlan" in plan, plan
    assert "SubPlan" not in plan, plan


def test_the_counted_statement_is_kept_beside_the_uncounted_one() -> None:
    from graph.compiler import CompiledEdges, Source
    from graph.declarations import Viewing
    from models import Case as CaseModel
    from services import cases
    from services.visibility import EVERYONE

    # given
    edges = CompiledEdges(CaseModel, (), counted=True)
    source, _ = Source.matching(cases.filters(debtor_id=1, search="north", include_blocked=False))
    viewing = Viewing.of(EVERYONE)
    # when
    counted = edges.statement(source, cases.KEYSET, viewing, counted=True)
    plain = edges.statement(source, cases.KEYSET, viewing)
    # then: each built once and kept; the count is the last column, outside the keyset's order
    assert edges.statement(source, cases.KEYSET, viewing, counted=True) is counted
    assert edges.statement(source, cases.KEYSET, viewing) is plain
    assert [c.key for c in counted.stmt.selected_columns][-1] == "total"
    assert "total" not in [c.key for c in plain.stmt.selected_columns]
    variant = counted.variant(after=True, before=False, backwards=False)
    assert variant.prebuilt is not None
    assert [c.key for c in variant.ordered.selected_columns][-1] == "total"
    assert "total" not in str(variant.ordered._order_by_clause)
