"""The operation limits of SPEC 5b: over a limit nothing runs, not even the token lookup.

Depth at most 12 (introspection not counted), at most 30 aliases, at most 5,000 tokens, no batches; a body
over 1 MB is HTTP 413, malformed JSON HTTP 400; pages of at most 100. A bulk mutation takes at most 500 items
(SPEC 12): more is a VALIDATION userError on the list's field, and nothing is written. The node count has its own
module, test_node_cost.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from graphql import Source, TokenKind
from graphql.language import Lexer
from sqlalchemy.ext.asyncio import AsyncSession

from graph import ids
from services.validation import MAX_BULK
from tests.conftest import StatementCounter
from tests.factories import Factory, error_codes, gql
from tests.graph.tables import count_of, rows_of


def _supervisors(levels: int, leaf: str = "id") -> str:
    """`employees` nested `levels` supervisors deep: depth 4 + levels with a plain leaf."""
    inner = leaf
    for _ in range(levels):
        inner = f"supervisor {{ {inner} }}"
    return f"query {{ employees {{ edges {{ node {{ {inner} }} }} }} }}"


def _visible_roles(levels: int) -> str:
    """`roles` nested `levels` visibleRoles deep: depth 2 + levels."""
    inner = "id"
    for _ in range(levels):
        inner = f"visibleRoles {{ {inner} }}"
    return f"query {{ roles {{ {inner} }} }}"


def _aliased_viewers(count: int) -> str:
    return "query { " + " ".join(f"v{n}: viewer {{ id }}" for n in range(count)) + " }"


def _employee_ids_list(tokens: int) -> str:
    """A valid query of exactly `tokens` lexical tokens, padded with a list of (unknown) IDs."""
    head, tail = "query { timeEntries(filter: {employeeIds: [", "]}) { totalCount } }"
    padding = tokens - _tokens(head + tail)
    return head + " ".join(['"x"'] * padding) + tail


def _tokens(document: str) -> int:
    lexer = Lexer(Source(document))
    count = 0
    while lexer.advance().kind is not TokenKind.EOF:
        count += 1
    return count


DEPTH_12 = _supervisors(8)
DEPTH_13 = _supervisors(9)
ROLES_DEPTH_12 = _visible_roles(10)
ROLES_DEPTH_13 = _visible_roles(11)
# the innermost supervisor sits at depth 12; its __typename would be level 13 but is not counted
DEPTH_12_WITH_TYPENAME_BELOW = _supervisors(9, leaf="__typename")
DEEP_INTROSPECTION = (
    'query { __type(name: "Employee") { fields { type { ofType { ofType { ofType { ofType { ofType { ofType {'
    " ofType { ofType { ofType { ofType { name } } } } } } } } } } } } } }"
)
ALIASES_30 = _aliased_viewers(30)
ALIASES_31 = _aliased_viewers(31)
FRAGMENT_ALIASES = "fragment Ids on Employee { " + " ".join(f"i{n}: id" for n in range(16)) + " }"
# 16 aliases in the fragment, run twice: 32 aliases although the document spells only 16
ALIASES_THROUGH_A_FRAGMENT_TWICE = "query { viewer { ...Ids supervisor { ...Ids } } } " + FRAGMENT_ALIASES
TOKENS_5000 = _employee_ids_list(5000)
TOKENS_5001 = _employee_ids_list(5001)
TOKENS_IN_COMMENTS = "query { viewer { id } }\n" + "# a comment is not a token\n" * 200
CYCLIC_FRAGMENTS = """query { roles { ...A } }
fragment A on Role { visibleRoles { ...B } }
fragment B on Role { visibleRoles { ...A } }"""
# each fragment spreads the next one twice: 2**40 paths if fragments were expanded naively
FRAGMENT_BOMB = "query { roles { ...F0 } } " + " ".join(
    [f"fragment F{n} on Role {{ ...F{n + 1} ...F{n + 1} }}" for n in range(40)] + ["fragment F40 on Role { id }"]
)
REPEATED_SUBSELECTIONS = "query { viewer { " + "role { id } " * 600 + "} }"
VIEWER = "query { viewer { id } }"
CREATE_DEBTOR = """mutation($code: String!) {
  createDebtor(input: {code: $code, name: "Acme"}) { debtor { id } userErrors { code } } }"""
EMPLOYEES_PAGE = "query($first: Int) { employees(first: $first) { edges { node { id } } } }"
DEBTORS_PAGE = "query($first: Int) { debtors(first: $first) { totalCount edges { node { code } } } }"
TIME_LIST_LAST = """query($id: ID!, $last: Int) {
  node(id: $id) { ... on Case { timeList(last: $last) { totalCount } } } }"""
BULK_PAYLOAD = "{ timeEntries { id } userErrors { field code message } }"
COPY = 'mutation($ids: [ID!]!) { copyTimeEntries(ids: $ids, toDate: "2026-11-23") ' + BULK_PAYLOAD + " }"
RELEASE = "mutation($ids: [ID!]!) { releaseOverLimit(ids: $ids, status: BILLABLE) " + BULK_PAYLOAD + " }"
SAVE_LIST = (
    "mutation($caseId: ID!, $changes: [TimeListChange!]!) { saveCaseTimeList(caseId: $caseId, changes: $changes) "
    + BULK_PAYLOAD
    + " }"
)
IMPORT_CASES = """mutation($debtorIds: [ID!]!) { importCases(input: {debtorIds: $debtorIds, case: {code: "BULK"}}) {
  cases { id } userErrors { field code message } } }"""


def _refused_without_sql(body: dict[str, Any], sql: StatementCounter, code: str = "LIMIT_EXCEEDED") -> None:
    assert error_codes(body) == [code], body
    assert body.get("data") is None
    assert sql.count == 0, sql.statements


async def refused_at_once(
    client: httpx.AsyncClient,
    document: str,
    sql: StatementCounter,
    *,
    token: str | None = None,
    variables: dict[str, Any] | None = None,
    code: str = "LIMIT_EXCEEDED",
    within: float = 2,
) -> dict[str, Any]:
    """Send `document`: it must be refused with `code` within `within` seconds, with no data and no SQL at all."""
    sql.statements.clear()
    started = time.perf_counter()
    body = await gql(client, document, variables, token=token)
    assert time.perf_counter() - started < within
    _refused_without_sql(body, sql, code)
    return body


class TestDepth:
    async def test_depth_12_passes(self, client: httpx.AsyncClient, factory: Factory) -> None:
        # given
        _, token = await factory.admin()
        # when
        body = await gql(client, DEPTH_12, token=token)
        # then
        assert "errors" not in body, body
        assert body["data"]["employees"]["edges"]

    async def test_depth_13_is_refused_and_runs_no_sql(
        self, client: httpx.AsyncClient, factory: Factory, sql_statements: StatementCounter
    ) -> None:
        # given
        _, token = await factory.admin()
        sql_statements.statements.clear()
        # when
        body = await gql(client, DEPTH_13, token=token)
        # then
        _refused_without_sql(body, sql_statements)

    async def test_nested_visible_roles_pass_at_12_and_are_refused_at_13(
        self, client: httpx.AsyncClient, factory: Factory, sql_statements: StatementCounter
    ) -> None:
        # given
        _, token = await factory.admin()
        # when
        at_limit = await gql(client, ROLES_DEPTH_12, token=token)
        statements_of_a_run = sql_statements.count
        sql_statements.statements.clear()
        over = await gql(client, ROLES_DEPTH_13, token=token)
        # then
        assert "errors" not in at_limit, at_limit
        assert statements_of_a_run > 0  # the counter does see the app's statements
        _refused_without_sql(over, sql_statements)

    async def test_introspection_fields_are_not_counted(self, client: httpx.AsyncClient, factory: Factory) -> None:
        # given
        _, token = await factory.admin()
        # when
        typename_below = await gql(client, DEPTH_12_WITH_TYPENAME_BELOW, token=token)
        introspection = await gql(client, DEEP_INTROSPECTION)
        # then
        assert "errors" not in typename_below, typename_below
        assert "errors" not in introspection, introspection
        assert introspection["data"]["__type"]["fields"]


class TestAliases:
    async def test_30_aliases_pass(self, client: httpx.AsyncClient, factory: Factory) -> None:
        # given
        _, token = await factory.admin()
        # when
        body = await gql(client, ALIASES_30, token=token)
        # then
        assert "errors" not in body, body
        assert len(body["data"]) == 30

    async def test_31_aliases_are_refused_and_run_no_sql(
        self, client: httpx.AsyncClient, factory: Factory, sql_statements: StatementCounter
    ) -> None:
        # given
        _, token = await factory.admin()
        sql_statements.statements.clear()
        # when
        body = await gql(client, ALIASES_31, token=token)
        # then
        _refused_without_sql(body, sql_statements)

    async def test_aliases_of_a_fragment_count_each_time_it_runs(
        self, client: httpx.AsyncClient, factory: Factory, sql_statements: StatementCounter
    ) -> None:
        # given
        _, token = await factory.admin()
        sql_statements.statements.clear()
        # when
        body = await gql(client, ALIASES_THROUGH_A_FRAGMENT_TWICE, token=token)
        # then
        _refused_without_sql(body, sql_statements)


class TestTokens:
    def test_the_documents_are_exactly_at_and_over_the_limit(self) -> None:
        # then
        assert _tokens(TOKENS_5000) == 5000
        assert _tokens(TOKENS_5001) == 5001

    async def test_5000_tokens_pass(self, client: httpx.AsyncClient, factory: Factory) -> None:
        # given
        _, token = await factory.admin()
        # when
        body = await gql(client, TOKENS_5000, token=token)
        # then
        assert "errors" not in body, body
        assert body["data"]["timeEntries"]["totalCount"] == 0

    async def test_5001_tokens_are_refused_and_run_no_sql(
        self, client: httpx.AsyncClient, factory: Factory, sql_statements: StatementCounter
    ) -> None:
        # given
        _, token = await factory.admin()
        sql_statements.statements.clear()
        # when
        body = await gql(client, TOKENS_5001, token=token)
        # then
        _refused_without_sql(body, sql_statements)
        assert '"x"' not in body["errors"][0]["message"]  # no echo of the document

    async def test_comments_are_not_tokens(self, client: httpx.AsyncClient, factory: Factory) -> None:
        # given
        _, token = await factory.admin()
        # when
        body = await gql(client, TOKENS_IN_COMMENTS, token=token)
        # then
        assert "errors" not in body, body


class TestFragments:
    async def test_a_fragment_cycle_is_a_coded_error(
        self, client: httpx.AsyncClient, factory: Factory, sql_statements: StatementCounter
    ) -> None:
        # given
        _, token = await factory.admin()
        sql_statements.statements.clear()
        # when
        body = await gql(client, CYCLIC_FRAGMENTS, token=token)
        # then
        assert set(error_codes(body)) == {"VALIDATION"}, body
        assert any("within itself" in e["message"] for e in body["errors"])
        assert body.get("data") is None
        assert sql_statements.count == 0

    async def test_a_fragment_bomb_is_measured_without_expanding_it(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        # given
        _, token = await factory.admin()
        started = time.perf_counter()
        # when
        body = await gql(client, FRAGMENT_BOMB, token=token)
        # then
        assert time.perf_counter() - started < 5
        assert "errors" not in body, body
        assert isinstance(body["data"]["roles"], list)

    async def test_a_costly_merge_of_repeated_fields_is_refused_and_runs_no_sql(
        self, client: httpx.AsyncClient, factory: Factory, sql_statements: StatementCounter
    ) -> None:
        # given
        _, token = await factory.admin()
        # when / then
        await refused_at_once(client, REPEATED_SUBSELECTIONS, sql_statements, token=token)


class TestRequests:
    async def test_a_batch_is_refused_and_nothing_runs(
        self, client: httpx.AsyncClient, factory: Factory, session: AsyncSession, sql_statements: StatementCounter
    ) -> None:
        # given
        _, token = await factory.admin()
        debtors_before = await count_of(session, "debtors")
        operation = {"query": CREATE_DEBTOR, "variables": {"code": "BATCH"}}
        sql_statements.statements.clear()
        # when
        response = await client.post(
            "/graphql", json=[operation, operation], headers={"Authorization": f"Bearer {token}"}
        )
        statements = sql_statements.count
        # then
        assert response.status_code == 200
        assert error_codes(response.json()) == ["LIMIT_EXCEEDED"]
        assert statements == 0
        assert await count_of(session, "debtors") == debtors_before

    async def test_a_body_over_1_mb_is_413(self, client: httpx.AsyncClient, sql_statements: StatementCounter) -> None:
        # given
        body = b'{"query": "query { viewer { id } }", "padding": "' + b"x" * (1024 * 1024) + b'"}'
        # when
        response = await client.post("/graphql", content=body, headers={"Content-Type": "application/json"})
        # then
        assert response.status_code == 413
        assert response.json()["errors"][0]["extensions"] == {"code": "PAYLOAD_TOO_LARGE"}
        assert sql_statements.count == 0

    async def test_a_body_of_exactly_1_mb_is_read(self, client: httpx.AsyncClient) -> None:
        # given
        head, tail = b'{"query": "query { viewer { id } }", "padding": "', b'"}'
        body = head + b"x" * (1024 * 1024 - len(head) - len(tail)) + tail
        # when
        response = await client.post("/graphql", content=body, headers={"Content-Type": "application/json"})
        # then
        assert response.status_code == 200
        assert error_codes(response.json()) == ["UNAUTHENTICATED"]

    async def test_malformed_json_is_400(self, client: httpx.AsyncClient) -> None:
        # when
        response = await client.post(
            "/graphql", content=b'{"query": "query { viewer { id } }"', headers={"Content-Type": "application/json"}
        )
        # then
        assert response.status_code == 400
        assert error_codes(response.json()) == ["BAD_REQUEST"]

    async def test_a_mutation_sent_by_get_is_refused_and_writes_nothing(
        self, client: httpx.AsyncClient, factory: Factory, session: AsyncSession, sql_statements: StatementCounter
    ) -> None:
        # given
        _, token = await factory.admin()
        debtors_before = await count_of(session, "debtors")
        sql_statements.statements.clear()
        # when
        response = await client.get(
            "/graphql",
            params={"query": CREATE_DEBTOR, "variables": '{"code": "BY-GET"}'},
            headers={"Authorization": f"Bearer {token}"},
        )
        statements = sql_statements.count
        # then
        assert response.status_code == 405
        assert error_codes(response.json()) == ["METHOD_NOT_ALLOWED"]
        assert statements == 0
        assert await count_of(session, "debtors") == debtors_before

    async def test_a_query_sent_by_get_runs(self, client: httpx.AsyncClient, factory: Factory) -> None:
        # given
        employee, token = await factory.admin()
        # when
        response = await client.get("/graphql", params={"query": VIEWER}, headers={"Authorization": f"Bearer {token}"})
        # then
        assert response.status_code == 200
        assert response.json()["data"]["viewer"]["id"] == ids.encode("Employee", employee.id)


class TestPageSize:
    async def test_first_over_100_is_validation_without_data(self, client: httpx.AsyncClient, factory: Factory) -> None:
        # given
        _, token = await factory.admin()
        # when
        body = await gql(client, EMPLOYEES_PAGE, {"first": 101}, token=token)
        # then
        assert error_codes(body) == ["VALIDATION"]
        assert body["errors"][0]["path"] == ["employees"]
        assert body["data"] is None

    async def test_negative_first_is_validation_without_data(self, client: httpx.AsyncClient, factory: Factory) -> None:
        # given
        _, token = await factory.admin()
        # when
        body = await gql(client, DEBTORS_PAGE, {"first": -1}, token=token)
        # then
        assert error_codes(body) == ["VALIDATION"]
        assert body["data"] is None

    async def test_last_over_100_or_negative_is_validation_without_data(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        # given
        _, token = await factory.admin()
        case_id = ids.encode("Case", (await factory.case()).id)
        # when
        over = await gql(client, TIME_LIST_LAST, {"id": case_id, "last": 101}, token=token)
        negative = await gql(client, TIME_LIST_LAST, {"id": case_id, "last": -1}, token=token)
        # then
        for body in (over, negative):
            assert error_codes(body) == ["VALIDATION"]
            assert body["data"]["node"] is None

    async def test_a_page_of_exactly_100_passes(self, client: httpx.AsyncClient, factory: Factory) -> None:
        # given
        _, token = await factory.admin()
        for _ in range(101):
            await factory.debtor()
        # when
        body = await gql(client, DEBTORS_PAGE, {"first": 100}, token=token)
        # then
        assert "errors" not in body, body
        assert len(body["data"]["debtors"]["edges"]) == 100
        assert body["data"]["debtors"]["totalCount"] >= 101


def _entry_ids(count: int) -> list[str]:
    return [ids.encode("TimeEntry", n) for n in range(1, count + 1)]


class TestBulkMutations:
    @pytest.mark.parametrize(
        ("document", "field", "table"),
        [(COPY, "copyTimeEntries", "time_entries"), (RELEASE, "releaseOverLimit", "time_entries")],
    )
    async def test_501_entries_are_a_validation_error_and_nothing_is_written(
        self, client: httpx.AsyncClient, factory: Factory, session: AsyncSession, document: str, field: str, table: str
    ) -> None:
        # given
        _, token = await factory.admin()
        before = await rows_of(session, table)
        # when
        body = await gql(client, document, {"ids": _entry_ids(MAX_BULK + 1)}, token=token)
        # then
        assert "errors" not in body, body
        [error] = body["data"][field]["userErrors"]
        assert (error["code"], error["field"]) == ("VALIDATION", ["ids"])
        assert await rows_of(session, table) == before

    async def test_501_list_changes_are_a_validation_error_and_nothing_is_written(
        self, client: httpx.AsyncClient, factory: Factory, session: AsyncSession
    ) -> None:
        # given
        _, token = await factory.admin()
        case_id = ids.encode("Case", (await factory.case()).id)
        changes = [{"entry": {"minutes": 5}}] * (MAX_BULK + 1)
        before = await rows_of(session, "time_entries")
        # when
        body = await gql(client, SAVE_LIST, {"caseId": case_id, "changes": changes}, token=token)
        # then
        assert "errors" not in body, body
        [error] = body["data"]["saveCaseTimeList"]["userErrors"]
        assert (error["code"], error["field"]) == ("VALIDATION", ["changes"])
        assert await rows_of(session, "time_entries") == before

    async def test_a_case_for_501_debtors_is_a_validation_error_and_nothing_is_written(
        self, client: httpx.AsyncClient, factory: Factory, session: AsyncSession
    ) -> None:
        # given
        _, token = await factory.admin()
        debtor_ids = [ids.encode("Debtor", (await factory.debtor()).id)] * (MAX_BULK + 1)
        before = await rows_of(session, "cases")
        # when
        body = await gql(client, IMPORT_CASES, {"debtorIds": debtor_ids}, token=token)
        # then
        assert "errors" not in body, body
        [error] = body["data"]["importCases"]["userErrors"]
        assert (error["code"], error["field"]) == ("VALIDATION", ["debtorIds"])
        assert await rows_of(session, "cases") == before

    async def test_500_entries_pass_the_cap(self, client: httpx.AsyncClient, factory: Factory) -> None:
        # given
        _, token = await factory.admin()
        # when: none of them exists, so the copy stops at the first, past the cap
        body = await gql(client, COPY, {"ids": _entry_ids(MAX_BULK)}, token=token)
        # then
        [error] = body["data"]["copyTimeEntries"]["userErrors"]
        assert (error["code"], error["field"]) == ("NOT_FOUND", ["ids", "0"])
