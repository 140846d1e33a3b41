"""A mutation's input is decoded before its transaction opens: a malformed global ID is refused without a statement
reaching the database, where an ID that decodes but names nothing is looked up inside the transaction."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from graph import ids
from tests.conftest import StatementCounter
from tests.factories import Factory, gql

MALFORMED = "not-an-id"
UNKNOWN = {  # decodes, names nothing
    "TimeEntry": ids.encode("TimeEntry", 987_654_321),
    "Case": ids.encode("Case", 987_654_321),
    "Debtor": ids.encode("Debtor", 987_654_321),
    "Invoice": ids.encode("Invoice", 987_654_321),
    "Activity": ids.encode("Activity", 987_654_321),
    "Role": ids.encode("Role", 987_654_321),
    "Employee": ids.encode("Employee", 987_654_321),
}

# (document, the type its ID names, the payload's field); `$id` is the ID under test
MUTATIONS = [
    (
        "mutation($id: ID!) { updateTimeEntry(id: $id, input: {minutes: 5}) { userErrors { code } } }",
        "TimeEntry",
        "updateTimeEntry",
    ),
    ("mutation($id: ID!) { deleteTimeEntry(id: $id) { userErrors { code } } }", "TimeEntry", "deleteTimeEntry"),
    (
        'mutation($id: ID!) { copyTimeEntries(ids: [$id], toDate: "2026-11-23") { userErrors { code } } }',
        "TimeEntry",
        "copyTimeEntries",
    ),
    (
        "mutation($id: ID!) { saveCaseTimeList(caseId: $id, changes: []) { userErrors { code } } }",
        "Case",
        "saveCaseTimeList",
    ),
    ("mutation($id: ID!) { voidInvoice(id: $id) { userErrors { code } } }", "Invoice", "voidInvoice"),
    ("mutation($id: ID!) { createInvoice(input: {debtorId: $id}) { userErrors { code } } }", "Debtor", "createInvoice"),
    (
        'mutation($id: ID!) { updateCase(id: $id, input: {description: "x"}) { userErrors { code } } }',
        "Case",
        "updateCase",
    ),
    (
        'mutation($id: ID!) { updateDebtor(id: $id, input: {name: "x"}) { userErrors { code } } }',
        "Debtor",
        "updateDebtor",
    ),
    (
        'mutation($id: ID!) { updateActivity(id: $id, input: {name: "x"}) { userErrors { code } } }',
        "Activity",
        "updateActivity",
    ),
    ('mutation($id: ID!) { updateRole(id: $id, input: {name: "x"}) { userErrors { code } } }', "Role", "updateRole"),
    (
        'mutation($id: ID!) { updateEmployee(id: $id, input: {name: "x"}) { userErrors { code } } }',
        "Employee",
        "updateEmployee",
    ),
]


async def _statements(
    client: httpx.AsyncClient, counter: StatementCounter, document: str, token: str, id_: str
) -> tuple[dict[str, Any], list[str]]:
    before = counter.count
    body = await gql(client, document, {"id": id_}, token=token)
    return body, counter.statements[before:]


def _transactions(statements: list[str]) -> list[str]:
    return [s for s in statements if s.startswith("SAVEPOINT")]


def _work(statements: list[str]) -> list[str]:
    return [s for s in statements if "SAVEPOINT" not in s]


@pytest.mark.parametrize(("document", "type_name", "field"), MUTATIONS, ids=[m[2] for m in MUTATIONS])
async def test_a_malformed_id_is_refused_before_the_transaction(
    client: httpx.AsyncClient,
    factory: Factory,
    sql_statements: StatementCounter,
    document: str,
    type_name: str,
    field: str,
) -> None:
    # given: an administrator (every mutation is open to them)
    _, token = await factory.admin()
    before = sql_statements.count
    assert (await gql(client, "{ __typename }", token=token))["data"]
    authentication = sql_statements.statements[before:]  # what every request with a token sends
    # when: the ID does not decode, and (the control) when it decodes but names nothing
    malformed, sent_malformed = await _statements(client, sql_statements, document, token, MALFORMED)
    unknown, sent_unknown = await _statements(client, sql_statements, document, token, UNKNOWN[type_name])
    # then: both are refused as not found, but only the decodable one reached the database
    assert [e["code"] for e in malformed["data"][field]["userErrors"]] == ["NOT_FOUND"], malformed
    assert [e["code"] for e in unknown["data"][field]["userErrors"]] == ["NOT_FOUND"], unknown
    assert len(_work(sent_unknown)) > len(authentication), "the control: an ID that decodes is looked up"
    assert _work(sent_malformed) == authentication
    # a transaction is a savepoint of the test's connection: authentication reads before any (in autocommit, as a
    # query's does), so the malformed ID opened none, and the unknown one's was rolled back
    assert _transactions(sent_malformed) == []
    assert len(_transactions(sent_unknown)) == 1
    assert sent_unknown[-1].startswith("ROLLBACK TO SAVEPOINT")
