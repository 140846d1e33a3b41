"""Connections of an object (`Case.timeList`, `Debtor.cases`, `Invoice.timeEntries`) are written into the object's
JSON by the statement that writes the object: `node(id:)` with its connections is one statement, and a list page
whose nodes have connections is one statement however many nodes it holds (no statement per parent). Each answer
equals the one built as objects (a directive keeps the planned executor, and so the compiler, away)."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from tests.conftest import StatementCounter
from tests.factories import Factory, gql
from tests.graph import test_compiled_lists as lists
from tests.graph.test_compiled_lists import World, is_json_statement

world = lists.world  # Ada administers; Olga sees only her own name; two debtors, two cases, four entries, an invoice

PAGE_INFO = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor __typename }"
ENTRY = "id minutes status editable employeeHidden employee { name } invoice { number }"
ANSWERS = {
    "node Case": (
        "query($id: ID!, $first: Int, $after: String) { node(id: $id) { __typename ... on Case { code"
        f" timeList(first: $first, after: $after) {{ mode totalCount {PAGE_INFO} edges {{ cursor node {{ {ENTRY} }} }}"
        " } } } }",
        "c1",
        ("node", "timeList"),
    ),
    "node Debtor": (
        "query($id: ID!, $first: Int, $after: String) { node(id: $id) { ... on Debtor { code"
        f" cases(first: $first, after: $after, includeBlocked: true) {{ totalCount {PAGE_INFO}"
        " edges { cursor node { code blocked debtor { code } } } } } } }",
        "d1",
        ("node", "cases"),
    ),
    "node Invoice": (
        "query($id: ID!, $first: Int, $after: String) { node(id: $id) { ... on Invoice { number"
        f" timeEntries(first: $first, after: $after) {{ totalCount {PAGE_INFO} edges {{ cursor node {{ {ENTRY} }} }}"
        " } } } }",
        "invoice",
        ("node", "timeEntries"),
    ),
}
LISTS = {
    "cases { timeList }": (
        "query { cases(first: 10, includeBlocked: true) { edges { node { code"
        f" timeList(first: 1) {{ mode totalCount {PAGE_INFO} edges {{ node {{ {ENTRY} }} }} }} }} }} }} }}"
    ),
    "debtors { cases }": (
        "query { debtors(first: 10) { totalCount edges { node { code"
        " cases(first: 1) { totalCount pageInfo { hasNextPage endCursor } edges { node { code } } } } } } }"
    ),
    "invoices { timeEntries }": (
        "query { invoices(first: 10) { edges { node { number"
        f" timeEntries(first: 1) {{ totalCount edges {{ cursor node {{ {ENTRY} }} }} }} }} }} }} }}"
    ),
}


def by_objects(query: str) -> str:
    """The same query, answered by graphql-core with objects: a directive keeps the planned executor away."""
    return query.replace("{ ", "{ __typename @include(if: true) ", 1)


def strip_typename(answer: dict[str, Any]) -> dict[str, Any]:
    data = dict(answer["data"])
    return {key: value for key, value in data.items() if key != "__typename"}


async def _answer(
    client: httpx.AsyncClient, sql: StatementCounter, query: str, variables: dict[str, Any], token: str
) -> tuple[dict[str, Any], list[str]]:
    before = sql.count
    body = await gql(client, query, variables, token=token)
    assert "errors" not in body, body
    return strip_typename(body), sql.statements[before:]


def _at(data: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        data = data[key]
    return data


@pytest.mark.parametrize("name", ANSWERS, ids=list(ANSWERS))
async def test_an_object_and_its_connection_are_one_statement_page_by_page(
    client: httpx.AsyncClient, world: World, sql_statements: StatementCounter, name: str
) -> None:
    query, target, path = ANSWERS[name]
    for token in (world.admin, world.olga):  # whose names show, what one may edit and see of invoices differ
        after: str | None = None
        pages = 0
        while True:
            variables = {"id": world.ids[target], "first": 1, "after": after}
            # when: a page of one row at a time, after the cursor of the one before
            written, sent = await _answer(client, sql_statements, query, variables, token)
            built, _ = await _answer(client, sql_statements, by_objects(query), variables, token)
            # then: one statement writes the object with its page, and the answer is the objects' answer
            assert written == built
            if written["node"] is None:  # an invoice, for a viewer who is not billing staff
                assert (name, token) == ("node Invoice", world.olga)
                break
            assert [is_json_statement(s) for s in sent].count(True) == 1, sent
            connection = _at(written, path)
            assert connection["pageInfo"]["hasPreviousPage"] is (after is not None)
            pages += 1
            if not connection["pageInfo"]["hasNextPage"]:
                assert pages == max(connection["totalCount"], 1)
                break
            after = connection["pageInfo"]["endCursor"]
            assert after == connection["edges"][0]["cursor"]


# a connection of a related object of each row: the page's own table again, below (a time list of each entry's case)
DEEPER = {
    "timeEntries { case { timeList } }": (
        "query { timeEntries(first: 10) { edges { node { id case { code"
        " timeList(first: 2) { mode totalCount edges { node { id minutes employee { name } } } } } } } } }"
    ),
}


@pytest.mark.parametrize("name", [*LISTS, *DEEPER], ids=[*LISTS, *DEEPER])
async def test_a_list_of_objects_with_connections_is_one_statement(
    client: httpx.AsyncClient, world: World, sql_statements: StatementCounter, name: str
) -> None:
    query = {**LISTS, **DEEPER}[name]
    # when
    written, sent = await _answer(client, sql_statements, query, {}, world.admin)
    built, built_sent = await _answer(client, sql_statements, by_objects(query), {}, world.admin)
    # then: the page and every node's connection in one statement, where objects take one or more per node
    assert written == built
    assert [is_json_statement(s) for s in sent].count(True) == 1, sent
    assert len(sent) < len(built_sent)


async def test_a_static_list_is_written_static_and_not_editable(
    client: httpx.AsyncClient, world: World, sql_statements: StatementCounter
) -> None:
    # given: a threshold below C1's entry count
    settings = "mutation { updateSettings(input: {staticListThreshold: 1}) { userErrors { code } } }"
    assert (await gql(client, settings, token=world.admin))["data"]["updateSettings"]["userErrors"] == []
    query, target, path = ANSWERS["node Case"]
    variables = {"id": world.ids[target], "first": 5}
    # when
    written, sent = await _answer(client, sql_statements, query, variables, world.admin)
    built, _ = await _answer(client, sql_statements, by_objects(query), variables, world.admin)
    # then
    assert written == built
    connection = _at(written, path)
    assert connection["mode"] == "STATIC"
    assert connection["edges"]
    assert not any(edge["node"]["editable"] for edge in connection["edges"])
    assert [is_json_statement(s) for s in sent].count(True) == 1


async def test_arguments_only_the_resolver_answers_are_left_to_it(
    client: httpx.AsyncClient, world: World, sql_statements: StatementCounter
) -> None:
    # given: an order other than the newest first, and Relay's backwards paging
    for arguments in ("first: 5, orderBy: MINUTES_ASC", "last: 2"):
        query = (
            "query($id: ID!) { node(id: $id) { ... on Case {"
            f" timeList({arguments}) {{ mode totalCount edges {{ cursor node {{ id minutes }} }} }} }} }} }}"
        )
        # when
        written, sent = await _answer(client, sql_statements, query, {"id": world.ids["c1"]}, world.admin)
        built, _ = await _answer(client, sql_statements, by_objects(query), {"id": world.ids["c1"]}, world.admin)
        # then: the case is read as an object and its list by the list's own statement, answering the same
        assert written == built
        assert [is_json_statement(s) for s in sent].count(True) == 1  # the list's page only
        assert any("FROM cases" in s and not is_json_statement(s) for s in sent)  # the case, read as an object


async def test_a_refused_argument_is_refused_as_before(
    client: httpx.AsyncClient, world: World, sql_statements: StatementCounter
) -> None:
    # given: a page size out of range and a malformed cursor
    query = (
        "query($id: ID!, $first: Int, $after: String) { node(id: $id) { ... on Case {"
        " timeList(first: $first, after: $after) { totalCount } } } }"
    )
    for variables in ({"first": 101}, {"first": 1, "after": "not a cursor"}):
        # when
        body = await gql(client, query, {"id": world.ids["c1"], **variables}, token=world.admin)
        # then
        assert [e["extensions"]["code"] for e in body["errors"]] == ["VALIDATION"], body


@pytest.fixture
async def more(client: httpx.AsyncClient, factory: Factory, world: World) -> World:
    """Beside the world's: a second debtor with a case of its own, time on it, and a second invoice, so that every
    connection has parents whose rows differ."""
    d3 = await factory.debtor(code="D3", name="Debtor Three")
    c3 = await factory.case(debtor=d3, code="C3")
    c3_id = lists._id("Case", c3.id)
    for day, minutes in (("2026-11-05", 15), ("2026-11-06", 25)):
        entry = {"caseId": c3_id, "activityId": world.ids["adv"], "employeeId": world.ids["ada"], "workDate": day}
        await lists._write(client, world.admin, **entry, minutes=minutes)
    invoiced = await gql(
        client,
        lists.INVOICE,
        {"input": {"debtorId": lists._id("Debtor", d3.id), "upTo": "2026-11-05"}},
        token=world.admin,
    )
    assert invoiced["data"]["createInvoice"]["userErrors"] == [], invoiced
    world.ids |= {
        "d3": lists._id("Debtor", d3.id),
        "c3": c3_id,
        "invoice3": invoiced["data"]["createInvoice"]["invoice"]["id"],
    }
    return world


@pytest.mark.parametrize("name", LISTS, ids=list(LISTS))
async def test_each_parent_lists_its_own_rows_only(
    client: httpx.AsyncClient, more: World, sql_statements: StatementCounter, name: str
) -> None:
    # when: several parents, each with rows of its own
    query = LISTS[name].replace("(first: 1)", "(first: 10)")
    written, sent = await _answer(client, sql_statements, query, {}, more.admin)
    built, _ = await _answer(client, sql_statements, by_objects(query), {}, more.admin)
    # then
    assert written == built
    assert [is_json_statement(s) for s in sent].count(True) == 1
    nodes = [edge["node"] for edge in next(iter(written.values()))["edges"]]
    children = [next(value for value in node.values() if isinstance(value, dict)) for node in nodes]
    listed = [orjson.dumps(edge["node"]) for child in children for edge in child["edges"]]
    assert len(listed) >= 2
    assert len(listed) == len(set(listed)), children  # no row under two parents


@pytest.mark.parametrize(
    ("target", "name"),
    [("invoice", "node Invoice"), ("invoice3", "node Invoice"), ("d3", "node Debtor"), ("c3", "node Case")],
)
async def test_an_object_lists_its_own_rows_only(
    client: httpx.AsyncClient, more: World, sql_statements: StatementCounter, target: str, name: str
) -> None:
    query, _, path = ANSWERS[name]
    variables = {"id": more.ids[target], "first": 50}
    # when
    written, _ = await _answer(client, sql_statements, query, variables, more.admin)
    built, _ = await _answer(client, sql_statements, by_objects(query), variables, more.admin)
    # then
    assert written == built
    assert _at(written, path)["totalCount"] == len(_at(written, path)["edges"])
