"""graph.execution answers exactly as graphql-core does, and leaves every failure to graphql-core."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from graph import execution, ids
from tests.factories import Factory, gql

QUERIES = [
    "query { employees(first: 3) { totalCount pageInfo { hasNextPage endCursor }"
    " edges { cursor node { __typename id name email active defaultRate role { id name employeeVisibility } } } } }",
    "query { cases(first: 5) { totalCount edges { node { id code description debtor { code name }"
    " maxPerBookYear maxMinutes maxAmount activeFrom invoicing } } } }",
    # aliases, merged fields, named and inline fragments, variables
    """query Named($first: Int) { a: cases(first: $first) { ...page } b: cases(first: 1) { edges { node { code } } } }
    fragment page on CaseConnection { edges { node { code ... on Case { id code debtor { ...debtor } } } } }
    fragment debtor on Debtor { name code cases(first: 2) { edges { node { code } } } }""",
    "query { viewer { __typename name supervisor { name } activityRates { rate activity { code } } } }",
    "query { roles { name visibleRoles { name } } activities { code name defaultStatus defaultRate } }",
]


async def _answers(client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, query: str, **kw: Any) -> list[Any]:
    lean = await gql(client, query, **kw)
    with monkeypatch.context() as patch:

        async def never(self: execution.Plan, executor: Any) -> None:
            return None

        patch.setattr(execution.Plan, "execute", never)
        core = await gql(client, query, **kw)
    return [lean, core]


@pytest.mark.parametrize("query", QUERIES)
async def test_same_answer_as_graphql_core(
    client: httpx.AsyncClient, factory: Factory, monkeypatch: pytest.MonkeyPatch, query: str
) -> None:
    _, token = await factory.admin()
    for n in range(3):
        await factory.case(code=f"K{n}", max_per_book_year="TIME", max_minutes=600)
    lean, core = await _answers(client, monkeypatch, query, variables={"first": 2}, token=token)
    assert "errors" not in lean
    assert lean == core


async def test_the_page_runs_without_graphql_core(
    client: httpx.AsyncClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, token = await factory.admin()
    case = await factory.case()
    answered: list[bool] = []
    run = execution.Plan.execute

    async def counted(self: execution.Plan, executor: Any) -> Any:
        result = await run(self, executor)
        answered.append(result is not None)
        return result

    monkeypatch.setattr(execution.Plan, "execute", counted)
    body = await gql(
        client,
        "query($id: ID!) { node(id: $id) { ... on Case { code timeList(first: 50) { mode totalCount edges { cursor"
        " node { id workDate minutes amount employee { name } activity { name } } } } } } }",
        {"id": ids.encode("Case", case.id)},
        token=token,
    )
    assert body["data"]["node"]["timeList"]["mode"] == "EDITABLE"
    assert answered == [True]


@pytest.mark.parametrize(
    ("query", "variables", "authenticated"),
    [
        ("query { employees(first: 2) { edges { node { name } } } }", {}, False),  # permission refused
        ("query { employees(first: 500) { edges { node { name } } } }", {}, True),  # argument refused
        ("query($n: Int) { cases(first: $n) { totalCount } }", {"n": "x"}, True),  # variable refused
        ('query { cases(first: 1, after: "bad") { totalCount } }', {}, True),  # cursor refused
        (  # an error under a field: partial data
            "query($id: ID!) { viewer { name } node(id: $id) { ... on Employee { name } } roles { name } }",
            {"id": 12},
            True,
        ),
        ("query($id: ID!) { node(id: $id) { ... on Case { timeList(first: 500) { totalCount } } } }", {}, True),
        ("query { __schema { queryType { name } } }", {}, True),  # introspection
        ("query($s: Boolean!) { viewer { name @include(if: $s) email } }", {"s": False}, True),  # directives
    ],
)
async def test_failures_answer_as_graphql_core(
    client: httpx.AsyncClient,
    factory: Factory,
    monkeypatch: pytest.MonkeyPatch,
    query: str,
    variables: dict[str, Any],
    authenticated: bool,
) -> None:
    role = await factory.role(name="Plain")
    employee = await factory.employee(role=role)
    token = await factory.token(employee) if authenticated else None
    lean, core = await _answers(client, monkeypatch, query, variables=variables, token=token)
    assert lean == core
