"""The node count of SPEC 12, as GitHub's GraphQL API counts it: each connection multiplies the nodes below it by its
`first`/`last` (50 when left out), summed over every field, alias and fragment; over 10,000 nothing runs.

A page size given as a variable counts with the request's value. A plain list (no `first`) counts none of its own
items but multiplies the connections below it by a default page (50).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from graphql import OperationDefinitionNode, parse

from edge.limits import MAX_NODES, NodeCost
from edge.schema import schema
from graph import ids
from tests.conftest import StatementCounter
from tests.factories import Factory, gql
from tests.graph.test_limits import refused_at_once


def _entries(first: str, inner: str = "id") -> str:
    return f"timeEntries(first: {first}) {{ edges {{ node {{ {inner} }} }} }}"


def _through_invoices(*sizes: str) -> str:
    """Time entries, each entry's invoice's time entries, and so on: one connection per size, nested."""
    inner = "id"
    for size in reversed(sizes[1:]):
        inner = f"invoice {{ {_entries(size, inner)} }}"
    return _entries(sizes[0], inner)


ATTACK = "query { " + _through_invoices("100", "100", "100") + " }"
ATTACK_30_ALIASES = "query { " + " ".join(f"a{n}: {_through_invoices('100', '100', '100')}" for n in range(30)) + " }"
AT_LIMIT = "query { " + _through_invoices("100", "99") + " }"  # 100 + 100 * 99 = 10,000
OVER_LIMIT = "query { " + _through_invoices("100", "100") + " }"  # 100 + 100 * 100 = 10,100
BY_VARIABLE = "query($n: Int) { " + _through_invoices("$n", "$n") + " }"  # n + n²
BY_VARIABLE_WITH_DEFAULT = "query($n: Int = 100) { " + _through_invoices("$n", "$n") + " }"
LEFT_OUT = (
    "query { timeEntries { edges { node { invoice { timeEntries { edges { node { id } } } } } } } }"  # 50 + 2,500
)
THROUGH_A_FRAGMENT = """query { a: timeEntries(first: 100) { edges { node { ...Billed } } }
  b: timeEntries(first: 100) { edges { node { ...Billed } } } }
fragment Billed on TimeEntry { invoice { timeEntries(first: 50) { edges { node { id } } } } }"""  # 2 * (100 + 5,000)
UNDER_A_PLAIN_LIST = """query($debtorId: ID!) { caseOptions(debtorId: $debtorId) {
  timeList(first: 100) { edges { node { invoice { timeEntries(first: 3) { edges { node { id } } } } } } } } }"""
CASE_PAGE = """query($id: ID!, $after: String) { node(id: $id) { ... on Case { timeList(first: 50, after: $after) {
  edges { cursor node { id workDate minutes amount employee { name } activity { name } } } } } } }"""
LAST_OF_A_TIME_LIST = """query($id: ID!, $last: Int) { node(id: $id) { ... on Case {
  timeList(last: $last) { edges { node { invoice { timeEntries(first: 100) { totalCount } } } } } } } }"""
PLAIN_LISTS_ONLY = "query { roles { visibleRoles { visibleRoles { visibleRoles { id } } } } activities { id } }"
INTROSPECTION = "query { __schema { types { fields { type { name } } } } }"


def _count(document: str, variables: dict[str, Any] | None = None) -> int:
    parsed = parse(document)
    operation = next(d for d in parsed.definitions if isinstance(d, OperationDefinitionNode))
    return NodeCost(schema._schema, parsed, operation).nodes(variables)


class TestCounting:
    @pytest.mark.parametrize(
        ("document", "variables", "nodes"),
        [
            (ATTACK, None, 100 + 100**2 + 100**3),
            (ATTACK_30_ALIASES, None, 30 * (100 + 100**2 + 100**3)),
            (AT_LIMIT, None, 10_000),
            (OVER_LIMIT, None, 10_100),
            (LEFT_OUT, None, 50 + 50 * 50),
            (THROUGH_A_FRAGMENT, None, 2 * (100 + 100 * 50)),
            (UNDER_A_PLAIN_LIST, None, 50 * (100 + 100 * 3)),
            (CASE_PAGE, None, 50),
            (PLAIN_LISTS_ONLY, None, 0),
            (INTROSPECTION, None, 0),
        ],
    )
    def test_a_document_counts_as_github_counts_it(
        self, document: str, variables: dict[str, Any] | None, nodes: int
    ) -> None:
        # when / then
        assert _count(document, variables) == nodes

    @pytest.mark.parametrize(
        ("document", "variables", "nodes"),
        [
            (BY_VARIABLE, {"n": 3}, 3 + 9),
            (BY_VARIABLE, {"n": 100}, 100 + 100**2),
            (BY_VARIABLE, {"n": 100.0}, 100 + 100**2),  # graphql-core takes a whole float as an Int
            (BY_VARIABLE, {}, 50 + 50**2),  # left out: the argument's default
            (BY_VARIABLE, {"n": None}, 50 + 50**2),
            (BY_VARIABLE, {"n": "many"}, 50 + 50**2),  # refused by coercion later; counted as the default
            (BY_VARIABLE, {"n": -5}, 0),
            (BY_VARIABLE_WITH_DEFAULT, {}, 100 + 100**2),
            (BY_VARIABLE_WITH_DEFAULT, {"n": 2}, 2 + 4),
            (LAST_OF_A_TIME_LIST, {"last": 100}, 100 + 100 * 100),
            (LAST_OF_A_TIME_LIST, {"last": None}, 50 + 50 * 100),
        ],
    )
    def test_a_page_size_given_as_a_variable_counts_with_its_value(
        self, document: str, variables: dict[str, Any], nodes: int
    ) -> None:
        # when / then
        assert _count(document, variables) == nodes

    def test_the_same_document_counts_anew_with_each_requests_variables(self) -> None:
        # given: one parsed document, as the prepared-document cache hands it out
        parsed = parse(BY_VARIABLE)
        operation = parsed.definitions[0]
        assert isinstance(operation, OperationDefinitionNode)
        # when
        cost = NodeCost(schema._schema, parsed, operation)
        counts = [cost.nodes({"n": n}) for n in (1, 100, 2)]
        # then
        assert counts == [2, 10_100, 6]


class TestRefused:
    @pytest.mark.parametrize("document", [ATTACK, ATTACK_30_ALIASES, OVER_LIMIT])
    async def test_over_10000_nodes_is_refused_at_once_and_runs_no_sql(
        self, client: httpx.AsyncClient, factory: Factory, sql_statements: StatementCounter, document: str
    ) -> None:
        # given
        _, token = await factory.admin()
        # when / then
        body = await refused_at_once(client, document, sql_statements, token=token, within=0.5)
        assert str(MAX_NODES) in body["errors"][0]["message"]

    async def test_10000_nodes_run(self, client: httpx.AsyncClient, factory: Factory) -> None:
        # given
        _, token = await factory.admin()
        # when
        body = await gql(client, AT_LIMIT, token=token)
        # then
        assert "errors" not in body, body
        assert body["data"]["timeEntries"]["edges"] == []

    async def test_a_variable_page_size_is_counted_with_the_requests_value(
        self, client: httpx.AsyncClient, factory: Factory, sql_statements: StatementCounter
    ) -> None:
        # given
        _, token = await factory.admin()
        # when
        under = await gql(client, BY_VARIABLE, {"n": 99}, token=token)
        left_out = await gql(client, BY_VARIABLE, {}, token=token)
        # then
        assert "errors" not in under, under
        assert "errors" not in left_out, left_out
        await refused_at_once(client, BY_VARIABLE, sql_statements, token=token, variables={"n": 100})

    async def test_connections_below_a_plain_list_count_as_a_default_page_each(
        self, client: httpx.AsyncClient, factory: Factory, sql_statements: StatementCounter
    ) -> None:
        # given
        _, token = await factory.admin()
        debtor_id = ids.encode("Debtor", (await factory.debtor()).id)
        # when / then
        await refused_at_once(
            client, UNDER_A_PLAIN_LIST, sql_statements, token=token, variables={"debtorId": debtor_id}
        )

    async def test_the_case_page_runs(self, client: httpx.AsyncClient, factory: Factory) -> None:
        # given
        _, token = await factory.admin()
        case_id = ids.encode("Case", (await factory.case()).id)
        # when
        body = await gql(client, CASE_PAGE, {"id": case_id}, token=token)
        # then
        assert "errors" not in body, body
        assert body["data"]["node"]["timeList"]["edges"] == []
