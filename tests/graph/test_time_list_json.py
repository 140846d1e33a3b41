"""Case.timeList pages written as JSON by PostgreSQL (graph.compiler over graph.declarations) answer exactly what the
page built as objects answers; graphql-core builds the objects when a directive keeps the planned executor away."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from graph import ids
from models import CapKind, EmployeeVisibility
from tests.conftest import StatementCounter
from tests.factories import Factory, gql

CREATE = """mutation Create($input: TimeEntryInput!) {
  createTimeEntry(input: $input) { timeEntry { id } overLimitEntry { id } userErrors { code } }
}"""
UPDATE_SETTINGS = """mutation Settings($input: SettingsInput!) {
  updateSettings(input: $input) { userErrors { code } }
}"""
HIDDEN_NAME = "Xanthippe Quillfeather"
# text a JSON writer must escape: quotes, backslash, a newline, a control character, non-ASCII
DESCRIPTIONS = ['Said "no" \\ twice', "line one\nline two\ttab\x01", "Zürich — naïve ☕", None, ""]
TAGS = [['Said "no"', "back\\slash"], [], ["tab\there\x01", "Zürich ☕"], ["one"]]
ORDERS = ["WORK_DATE_DESC", "WORK_DATE_ASC", "MINUTES_DESC", "MINUTES_ASC"]
NODE_FIELDS = [
    "id",
    "workDate",
    "minutes",
    "status",
    "billable",
    "rate",
    "amount",
    "description",
    "tags",
    "source",
    "version",
    "employeeHidden",
    "editable",
    "createdAt",
    "updatedAt",
    "__typename",
]
EMPLOYEE_FIELDS = [
    "id",
    "name",
    "email",
    "active",
    "defaultRate",
    "__typename",
    "role { id name canInvoice employeeVisibility }",
    "supervisor { name }",
]
RELATED = {
    "employee": EMPLOYEE_FIELDS,
    "createdBy": EMPLOYEE_FIELDS,
    "activity": ["id", "code", "name", "defaultStatus", "defaultRate", "__typename"],
    "debtor": ["id", "code", "name", "adjustedRate"],
    "case": ["id", "code", "maxPerBookYear", "maxMinutes", "activeFrom", "timeEntryCount", "debtor { code }"],
    "overLimitOf": ["id", "minutes", "status"],
    "invoice": ["id", "number", "total", "voided", "debtor { code }"],
}


@dataclass
class World:
    case_id: str
    tokens: dict[str, str]  # viewer -> token
    admin_token: str


def is_json_statement(statement: str) -> bool:
    return " AS edge" in statement


async def write_entry(
    client: httpx.AsyncClient, token: str, case_id: str, activity_id: str, employee_id: str, day: str, minutes: int
) -> list[int]:
    entry = {
        "caseId": case_id,
        "activityId": activity_id,
        "employeeId": employee_id,
        "workDate": day,
        "minutes": minutes,
    }
    body = await gql(client, CREATE, {"input": entry}, token=token)
    payload = body["data"]["createTimeEntry"]
    assert payload["userErrors"] == [], body
    written = [payload["timeEntry"]["id"]] + ([payload["overLimitEntry"]["id"]] if payload["overLimitEntry"] else [])
    return [ids.decode(i, "TimeEntry") or 0 for i in written]


@pytest.fixture
async def world(client: httpx.AsyncClient, factory: Factory, session: AsyncSession) -> World:
    """One capped case holding entries of four employees in every status and source, with ties on both keys; a
    viewer who sees only their own names, a lead who sees and writes for a team, and an administrator."""
    admin, admin_token = await factory.admin()
    team = await factory.role(name="Team")
    own = await factory.employee(role=await factory.role(visibility=EmployeeVisibility.OWN), name='Olga "O"')
    lead_role = await factory.role(
        visibility=EmployeeVisibility.SELECTED_ROLES, visible_role_ids=[team.id], can_enter_time_for_others=True
    )
    lead = await factory.employee(role=lead_role, name="Lead")
    member = await factory.employee(role=team, name="Team Member", default_rate=Decimal("87.50"))
    hidden = await factory.employee(name=HIDDEN_NAME)
    activity = await factory.activity(default_rate=Decimal("60.00"))
    case = await factory.case(max_per_book_year=CapKind.TIME, max_minutes=400)
    case_id, activity_id = ids.encode("Case", case.id), ids.encode("Activity", activity.id)
    written: list[int] = []
    people = [own, lead, member, hidden, admin]
    for n in range(11):
        employee = people[n % len(people)]
        day = f"2026-11-{1 + n % 4:02d}"
        written += await write_entry(
            client, admin_token, case_id, activity_id, ids.encode("Employee", employee.id), day, 30 + 15 * (n % 3)
        )
    # the cap of 400 minutes cut the last entries: an L line (OVER_LIMIT) holds the excess
    statuses = await session.execute(
        text("SELECT count(*) FROM time_entries WHERE case_id = :c AND status = 'L'"), {"c": case.id}
    )
    assert statuses.scalar_one() >= 1
    for n, entry_id in enumerate(written[:6]):
        await session.execute(
            text("UPDATE time_entries SET description = :d, tags = :t, status = :s, source = :src WHERE id = :id"),
            {
                "d": DESCRIPTIONS[n % len(DESCRIPTIONS)],
                "t": TAGS[n % len(TAGS)],
                "s": ["N", "F", "J"][n % 3],
                "src": ["PER_DEBTOR", "COPY", "TIMER", "IMPORT", "PER_DATE"][n % 5],
                "id": entry_id,
            },
        )
    tokens = {"admin": admin_token, "own": await factory.token(own), "lead": await factory.token(lead)}
    return World(case_id, tokens, admin_token)


def time_list_query(arguments: str, edges: str, page_info: str = "") -> str:
    return (
        "query($id: ID!"
        + "".join(f", ${name}: String" for name in ("after", "before") if f"${name}" in arguments)
        + ") { node(id: $id) { ... on Case { timeList("
        + arguments
        + ") { mode totalCount "
        + page_info
        + " edges { "
        + edges
        + " } } } } }"
    )


def by_objects(query: str) -> str:
    return query.replace(" edges { ", " edges @include(if: true) { ", 1)


def aliased(fields: list[str], aliases: list[bool]) -> str:
    return " ".join(f"a{n}: {f}" if alias else f for n, (f, alias) in enumerate(zip(fields, aliases, strict=True)))


@st.composite
def edge_selections(draw: st.DrawFn) -> str:
    node = draw(st.lists(st.sampled_from(NODE_FIELDS), min_size=1, max_size=8, unique=True))
    node_text = aliased(node, draw(st.lists(st.booleans(), min_size=len(node), max_size=len(node))))
    for name, members in RELATED.items():
        if draw(st.integers(0, 2)) == 0:
            chosen = draw(st.lists(st.sampled_from(members), min_size=1, max_size=4, unique=True))
            node_text += f" {name} {{ {' '.join(chosen)} }}"
    edge = [f"node {{ {node_text} }}"]
    if draw(st.booleans()):
        edge.insert(draw(st.integers(0, 1)), "cursor")
    if draw(st.booleans()):
        edge.append("__typename")
    return " ".join(edge)


class TestPagesWrittenByTheDatabase:
    @settings(
        max_examples=30,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
        database=None,
        phases=[Phase.explicit, Phase.generate],
    )
    @given(
        threshold=st.sampled_from([3, 100]),
        order=st.sampled_from(ORDERS),
        edges=edge_selections(),
        size=st.integers(0, 12),
        backwards=st.booleans(),
        bound=st.one_of(st.none(), st.integers(0, 12)),
    )
    async def test_they_equal_the_pages_built_as_objects(
        self,
        client: httpx.AsyncClient,
        world: World,
        sql_statements: StatementCounter,
        threshold: int,
        order: str,
        edges: str,
        size: int,
        backwards: bool,
        bound: int | None,
    ) -> None:
        # given: the list EDITABLE (threshold 100) or STATIC (3), and a cursor of its full listing to page from
        settings = {"input": {"staticListThreshold": threshold}}
        assert (await gql(client, UPDATE_SETTINGS, settings, token=world.admin_token)) == {
            "data": {"updateSettings": {"userErrors": []}}
        }
        listing = time_list_query(f"first: 100, orderBy: {order}", "cursor")
        full = await gql(client, listing, {"id": world.case_id}, token=world.admin_token)
        cursors = [edge["cursor"] for edge in full["data"]["node"]["timeList"]["edges"]]
        variables: dict[str, Any] = {"id": world.case_id}
        arguments = f"{'last' if backwards else 'first'}: {size}, orderBy: {order}"
        if bound is not None and bound < len(cursors):
            arguments += ", before: $before" if backwards else ", after: $after"
            variables["before" if backwards else "after"] = cursors[bound]
        page_info = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"
        query = time_list_query(arguments, edges, page_info)
        for token in world.tokens.values():  # whose names show and what one may edit differ by viewer
            # when
            before = sql_statements.count
            written = await gql(client, query, variables, token=token)
            written_statements = sql_statements.statements[before:]
            before = sql_statements.count
            built = await gql(client, by_objects(query), variables, token=token)
            built_statements = sql_statements.statements[before:]
            # then
            assert "errors" not in written, written
            assert written == built
            assert [is_json_statement(s) for s in written_statements].count(True) == 1
            assert not any(is_json_statement(s) for s in built_statements)

    async def test_a_hidden_name_is_not_written(
        self, client: httpx.AsyncClient, world: World, sql_statements: StatementCounter
    ) -> None:
        # given
        query = time_list_query("first: 50", "node { minutes employeeHidden employee { name } }")
        # when
        before = sql_statements.count
        response = await client.post(
            "/graphql",
            json={"query": query, "variables": {"id": world.case_id}},
            headers={"Authorization": f"Bearer {world.tokens['own']}"},
        )
        # then: every entry is listed with its minutes, the hidden employee's name nowhere in the raw body
        assert any(is_json_statement(s) for s in sql_statements.statements[before:])
        time_list = orjson.loads(response.content)["data"]["node"]["timeList"]
        nodes = [edge["node"] for edge in time_list["edges"]]
        assert len(nodes) == time_list["totalCount"] > 11  # with the L lines
        assert "Xanthippe" not in response.text
        assert {n["employeeHidden"] for n in nodes} == {True, False}
        assert all((n["employee"] is None) == n["employeeHidden"] for n in nodes)

    @pytest.mark.parametrize(
        "edges",
        [
            "node { id overLimitEntry { id } }",  # a field declared Python: a loader of its own
            "node { id case { capUsage { kind } } }",  # a field with an argument, below a relation
            "node { id employee { activityRates { rate } } }",  # rules of its own
        ],
    )
    async def test_other_selections_are_built_as_objects(
        self, client: httpx.AsyncClient, world: World, sql_statements: StatementCounter, edges: str
    ) -> None:
        # given
        query = time_list_query("first: 50", edges)
        # when
        before = sql_statements.count
        body = await gql(client, query, {"id": world.case_id}, token=world.admin_token)
        statements = sql_statements.statements[before:]
        # then
        assert "errors" not in body, body
        assert body == await gql(client, by_objects(query), {"id": world.case_id}, token=world.admin_token)
        assert len(body["data"]["node"]["timeList"]["edges"]) >= 11
        assert not any(is_json_statement(s) for s in statements)

    @pytest.mark.parametrize(
        "edges",
        [
            "node { ... on TimeEntry { id } ...Minutes }",  # fragments
            "node { id case { code debtor { name } } }",  # a relation below a relation
            "node { id employee { role { name } supervisor { name } } }",  # hidden names at two depths
            "node { id overLimitOf { id overLimitOf { id } } }",  # the entry's own type again
            "node { id status invoice { number total } }",  # only billing staff see invoices
        ],
    )
    async def test_fragments_and_relations_at_any_depth_are_written(
        self, client: httpx.AsyncClient, world: World, sql_statements: StatementCounter, edges: str
    ) -> None:
        # given
        query = time_list_query("first: 50", edges)
        if "...Minutes" in edges:
            query += " fragment Minutes on TimeEntry { minutes }"
        for token in world.tokens.values():
            # when
            before = sql_statements.count
            body = await gql(client, query, {"id": world.case_id}, token=token)
            statements = sql_statements.statements[before:]
            # then
            assert "errors" not in body, body
            assert body == await gql(client, by_objects(query), {"id": world.case_id}, token=token)
            assert len(body["data"]["node"]["timeList"]["edges"]) >= 11
            assert [is_json_statement(s) for s in statements].count(True) == 1
            assert "Xanthippe" not in orjson.dumps(body).decode() or token == world.admin_token

    async def test_edges_selected_twice_are_built_as_objects(
        self, client: httpx.AsyncClient, world: World, sql_statements: StatementCounter
    ) -> None:
        # given: one list answers both, so neither may be written for the other's selection
        query = (
            "query($id: ID!) { node(id: $id) { ... on Case { timeList(first: 3) {"
            " edges { cursor } more: edges { node { id minutes } } } } } }"
        )
        # when
        before = sql_statements.count
        body = await gql(client, query, {"id": world.case_id}, token=world.admin_token)
        # then
        time_list = body["data"]["node"]["timeList"]
        assert [set(e) for e in time_list["edges"]] == [{"cursor"}] * 3
        assert [set(e["node"]) for e in time_list["more"]] == [{"id", "minutes"}] * 3
        assert not any(is_json_statement(s) for s in sql_statements.statements[before:])

    async def test_an_error_elsewhere_builds_them_as_objects(
        self, client: httpx.AsyncClient, world: World, sql_statements: StatementCounter
    ) -> None:
        # given: a refused page size beside a written page fails the planned run; graphql-core answers it again
        query = (
            "query($id: ID!) { node(id: $id) { ... on Case { timeList(first: 2) { edges { cursor node { id } } } } }"
            " bad: node(id: $id) { ... on Case { timeList(first: -1) { totalCount } } } }"
        )
        # when
        before = sql_statements.count
        body = await gql(client, query, {"id": world.case_id}, token=world.admin_token)
        statements = sql_statements.statements[before:]
        # then: the written page was answered again as objects, never handed to graphql-core as JSON text
        assert [e["extensions"]["code"] for e in body["errors"]] == ["VALIDATION"]
        assert len(body["data"]["node"]["timeList"]["edges"]) == 2
        assert [is_json_statement(s) for s in statements].count(True) == 1
