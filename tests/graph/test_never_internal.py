"""Never INTERNAL for what a client sent (SPEC 12), over generated input.

An ID whose number no key column can hold (or no number at all) is not found: null from `node`, NOT_FOUND in a
payload's `userErrors`, ignored in a filter. A cursor that does not decode into the list's keys is a top-level
VALIDATION error; one that does pages as any cursor would. Neither is ever INTERNAL nor HTTP 500 (`gql` asserts 200).
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph import ids
from tests.factories import Factory, error_codes, gql

# Timer last: no mutation takes one
NODE_TYPES = (
    "Employee",
    "Role",
    "Activity",
    "Debtor",
    "Case",
    "TimeEntry",
    "Invoice",
    "Webhook",
    "WebhookDelivery",
    "Timer",
)
EXAMPLES = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

BOUNDS = [0, 1, 2**15, 2**31 - 1, 2**31, 2**32, 2**53 + 1, 2**63 - 1, 2**63, 2**64, -1, -(2**31), -(2**63)]
numbers = st.one_of(st.integers(-(2**70), 2**70), st.sampled_from(BOUNDS))
tails = st.one_of(
    numbers.map(str),
    numbers.map(lambda n: f"{n}x"),
    st.sampled_from(["", "+1", " 1", "1 ", "1_000", "0x10", "1e3", "\u0661\u0662", "0" * 30 + "1", "1:2"]),
    st.text(max_size=24),
)


def _global_id(type_name: str, tail: str, padded: bool) -> str:
    text = base64.urlsafe_b64encode(f"{type_name}:{tail}".encode()).decode()
    return text if padded else text.rstrip("=")


@dataclass
class World:
    token: str
    real: dict[str, str]  # a real record's ID of each type an argument takes


@pytest.fixture
async def world(client: httpx.AsyncClient, factory: Factory) -> World:
    _, token = await factory.admin()
    case = await factory.case()
    activity = await factory.activity(default_rate=Decimal("60.00"))
    real: dict[str, str] = {
        "Employee": ids.encode("Employee", (await factory.employee()).id),
        "Role": ids.encode("Role", (await factory.role()).id),
        "Activity": ids.encode("Activity", activity.id),
        "Debtor": ids.encode("Debtor", case.debtor_id),
        "Case": ids.encode("Case", case.id),
    }
    entry = {"caseId": real["Case"], "activityId": real["Activity"], "workDate": "2026-11-02", "minutes": 30}
    written = await gql(client, CREATE_ENTRY, {"input": entry}, token=token)
    real["TimeEntry"] = written["data"]["createTimeEntry"]["timeEntry"]["id"]
    entry["workDate"] = "2026-11-03"
    await gql(client, CREATE_ENTRY, {"input": entry}, token=token)  # one to invoice, one to stay J
    invoiced = await gql(client, CREATE_INVOICE, {"debtorId": real["Debtor"], "upTo": "2026-11-02"}, token=token)
    real["Invoice"] = invoiced["data"]["createInvoice"]["invoice"]["id"]
    webhook = await factory.webhook()
    real["Webhook"] = ids.encode("Webhook", webhook.id)
    real["WebhookDelivery"] = ids.encode("WebhookDelivery", (await factory.delivery(webhook)).id)
    return World(token, real)


CREATE_ENTRY = """mutation($input: TimeEntryInput!) {
  createTimeEntry(input: $input, mode: PER_DEBTOR) { timeEntry { id } userErrors { code } } }"""
CREATE_INVOICE = """mutation($debtorId: ID!, $upTo: Date) {
  createInvoice(input: {debtorId: $debtorId, upTo: $upTo}) { invoice { id } userErrors { code } } }"""

# every ID argument of the queries, each given an ID of the type it takes (the number is what is generated)
QUERY_FIELDS = """
  cases(debtorId: {Debtor}) { totalCount }
  caseOptions(debtorId: {Debtor}) { id }
  timeEntries(filter: {employeeIds: [{Employee}], debtorIds: [{Debtor}], caseIds: [{Case}], activityIds: [{Activity}]})
    { totalCount edges { node { id } } }
  timeReport(filter: {employeeIds: [{Employee}], debtorIds: [{Debtor}], caseIds: [{Case}], activityIds: [{Activity}]},
    groupBy: [DEBTOR, EMPLOYEE]) { totalMinutes }
  invoices(debtorId: {Debtor}) { totalCount }
"""
# every ID argument of the mutations, top-level and inside inputs; one field per line
MUTATION_FIELDS = [
    'createRole(input: {name: "Generated", visibleRoleIds: [{Role}]}) { userErrors { code } }',
    "updateRole(id: {Role}, input: {visibleRoleIds: [{Role}]}) { userErrors { code } }",
    'createEmployee(input: {name: "Gen", email: "gen@example.test", password: "long-enough-password", roleId: {Role},'
    " supervisorId: {Employee}}) { userErrors { code } }",
    # no roleId here: a generated number may name the administrator, who would lose the role this test writes with
    "updateEmployee(id: {Employee}, input: {supervisorId: {Employee}}) { userErrors { code } }",
    'setEmployeeRate(input: {employeeId: {Employee}, activityId: {Activity}, rate: "1.00"}) { userErrors { code } }',
    'updateDebtor(id: {Debtor}, input: {name: "Renamed"}) { userErrors { code } }',
    'updateActivity(id: {Activity}, input: {name: "Renamed"}) { userErrors { code } }',
    'createCase(input: {debtorId: {Debtor}, code: "GEN"}) { userErrors { code } }',
    "updateCase(id: {Case}, input: {debtorId: {Debtor}}) { userErrors { code } }",
    'importCases(input: {debtorIds: [{Debtor}], case: {code: "IMP"}}) { userErrors { code } }',
    "createTimeEntry(input: {employeeId: {Employee}, debtorId: {Debtor}, caseId: {Case}, activityId: {Activity},"
    ' workDate: "2026-11-23", minutes: 5}) { userErrors { code } }',
    "updateTimeEntry(id: {TimeEntry}, input: {employeeId: {Employee}, debtorId: {Debtor}, caseId: {Case},"
    " activityId: {Activity}}) { userErrors { code } }",
    'copyTimeEntries(ids: [{TimeEntry}], toDate: "2026-11-24") { userErrors { code } }',
    "saveCaseTimeList(caseId: {Case}, changes: [{id: {TimeEntry}, entry: {employeeId: {Employee},"
    " activityId: {Activity}}}]) { userErrors { code } }",
    "startTimer(input: {debtorId: {Debtor}, activityId: {Activity}, caseId: {Case}}) { userErrors { code } }",
    "createInvoice(input: {debtorId: {Debtor}, caseIds: [{Case}]}) { userErrors { code } }",
    "releaseOverLimit(ids: [{TimeEntry}], status: BILLABLE) { userErrors { code } }",
    "voidInvoice(id: {Invoice}) { userErrors { code } }",
    "deleteTimeEntry(id: {TimeEntry}) { userErrors { code } }",
    "updateWebhook(id: {Webhook}, input: {active: true}) { userErrors { code } }",
    "replayWebhookDelivery(id: {WebhookDelivery}) { userErrors { code } }",
]
_PLACEHOLDER = re.compile(r"\{(" + "|".join(NODE_TYPES) + r")\}")


def _operation(kind: str, fields: str, random: set[str]) -> str:
    """`fields` with each `{Type}` a variable: `$r_Type` (generated) for the types in `random`, `$k_Type` (real)
    for the others."""
    body = _PLACEHOLDER.sub(lambda m: f"${'r' if m.group(1) in random else 'k'}_{m.group(1)}", fields)
    used = sorted(set(re.findall(r"\$([rk]_[A-Za-z]+)", body)))
    declared = ", ".join(f"${name}: ID!" for name in used)
    return f"{kind}({declared}) {{ {body} }}" if used else f"{kind} {{ {body} }}"


def _variables(document: str, generated: dict[str, str], real: dict[str, str]) -> dict[str, str]:
    names = set(re.findall(r"\$([rk]_[A-Za-z]+):", document))
    pools = {"r": generated, "k": real}
    return {name: pools[name[0]][name[2:]] for name in names}


NODES = " ".join(f"n{t}: node(id: $r_{t}) {{ id }}" for t in NODE_TYPES)


class TestIds:
    @EXAMPLES
    @given(tail=tails, padded=st.booleans())
    async def test_queries_find_nothing_and_never_fail(
        self, client: httpx.AsyncClient, world: World, tail: str, padded: bool
    ) -> None:
        # given
        generated = {t: _global_id(t, tail, padded) for t in NODE_TYPES}
        document = _operation("query", NODES + QUERY_FIELDS, set(NODE_TYPES))
        # when
        body = await gql(client, document, _variables(document, generated, world.real), token=world.token)
        # then
        assert "errors" not in body, body
        if tail.isascii() and tail.isdigit():
            beyond = [t for t in NODE_TYPES if int(tail) > ids.MAX_ID[t]]
            assert all(body["data"][f"n{t}"] is None for t in beyond), body

    @EXAMPLES
    @given(tail=tails, padded=st.booleans(), mixed_in=st.sampled_from(NODE_TYPES[:-1]))
    async def test_mutations_answer_not_found_and_never_fail(
        self, client: httpx.AsyncClient, world: World, tail: str, padded: bool, mixed_in: str
    ) -> None:
        # given: every ID generated; then only those of one type, among real records of the others
        generated = {t: _global_id(t, tail, padded) for t in NODE_TYPES}
        everywhere = _operation("mutation", "\n".join(MUTATION_FIELDS), set(NODE_TYPES))
        among_real = _operation(
            "mutation", "\n".join(f for f in MUTATION_FIELDS if "{" + mixed_in + "}" in f), {mixed_in}
        )
        for document in (everywhere, among_real):
            # when
            body = await gql(client, document, _variables(document, generated, world.real), token=world.token)
            # then
            assert "errors" not in body, body


# the key of each list, as a cursor must carry it: column kinds in order
TEXT_ID = ("text", "int32")
DATE_ID = ("date", "int64")
CONNECTIONS = {
    "employees": ("query($c: String) { employees(after: $c) { edges { cursor } } }", TEXT_ID),
    "debtors": ("query($c: String) { debtors(after: $c) { edges { cursor } } }", TEXT_ID),
    "cases": ("query($c: String) { cases(after: $c) { edges { cursor } } }", TEXT_ID),
    "Debtor.cases": (
        "query($c: String, $Debtor: ID!) { node(id: $Debtor) { ... on Debtor {"
        " cases(after: $c) { edges { cursor } } } } }",
        TEXT_ID,
    ),
    "timeEntries": ("query($c: String) { timeEntries(after: $c) { edges { cursor } } }", DATE_ID),
    "invoices": ("query($c: String) { invoices(after: $c) { edges { cursor } } }", ("int64",)),
    "Webhook.deliveries": (
        "query($c: String, $Webhook: ID!) { node(id: $Webhook) { ... on Webhook {"
        " deliveries(after: $c) { edges { cursor } } } } }",
        ("int64",),
    ),
    "Invoice.timeEntries": (
        "query($c: String, $Invoice: ID!) { node(id: $Invoice) { ... on Invoice {"
        " timeEntries(after: $c) { edges { cursor } } } } }",
        ("int64",),
    ),
    **{
        f"Case.timeList {order} {bound}": (
            "query($c: String, $Case: ID!) { node(id: $Case) { ... on Case {"
            f" timeList({'last: 10, before' if bound == 'before' else 'after'}: $c, orderBy: {order})"
            " { edges { cursor } } } } }",
            ("int32" if order.startswith("MINUTES") else "date", "int64"),
        )
        for order in ("WORK_DATE_DESC", "WORK_DATE_ASC", "MINUTES_DESC", "MINUTES_ASC")
        for bound in ("after", "before")
    },
}
_RANGES = {"int32": 2**31, "int64": 2**63}


def _holds(kind: str, value: Any) -> bool:
    """Whether a JSON value of a cursor is a value of a column of `kind` (the contract, spelled out independently)."""
    if kind in _RANGES:
        return type(value) is int and -_RANGES[kind] <= value < _RANGES[kind]
    if kind == "text":
        return isinstance(value, str) and "\x00" not in value and _utf8(value)
    if isinstance(value, dict) and list(value) == ["d"] and isinstance(value["d"], str):
        try:
            date.fromisoformat(value["d"])
        except ValueError:
            return False
        return True
    return False


def _utf8(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True


def _decodes(cursor: str, kinds: tuple[str, ...]) -> bool:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()).decode())
    except ValueError:
        return False
    return isinstance(values, list) and len(values) == len(kinds) and all(map(_holds, kinds, values))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode()


dates_iso = st.one_of(
    st.dates().map(date.isoformat),
    st.sampled_from(["2026-02-30", "2026-13-01", "0000-01-01", "20261123", "2026-W48-1", ""]),
    st.text(max_size=12),
)
integers = st.one_of(st.integers(-(2**70), 2**70), st.sampled_from(BOUNDS))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    integers,
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["a\x00b", "\x00"]),
    dates_iso.map(lambda d: {"d": d}),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=2),
    max_leaves=6,
)


def _key_of(kind: str) -> st.SearchStrategy[Any]:
    """Values mostly of the column's kind (near its range's ends), sometimes of another."""
    own: st.SearchStrategy[Any]
    if kind in _RANGES:
        edge = _RANGES[kind]
        own = st.one_of(st.integers(-edge - 2, edge + 2), st.sampled_from([edge - 1, edge, -edge, -edge - 1]))
    elif kind == "text":
        own = st.one_of(st.text(max_size=12), st.just("nul\x00"))
    else:
        own = dates_iso.map(lambda d: {"d": d})
    return st.one_of(own, own, scalars)


def cursors(kinds: tuple[str, ...]) -> st.SearchStrategy[str]:
    keys = st.tuples(*map(_key_of, kinds)).map(list)
    wrong_shapes = st.lists(json_values, max_size=4)
    encoded = st.one_of(keys, wrong_shapes, json_values).map(lambda v: _b64(json.dumps(v).encode()))
    return st.one_of(
        encoded,
        encoded,
        encoded.map(lambda c: c.rstrip("=")),
        st.binary(max_size=40).map(_b64),  # random bytes
        st.text(max_size=30),  # no base64 at all
    )


class TestCursors:
    @pytest.mark.parametrize("listing", list(CONNECTIONS))
    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(data=st.data())
    async def test_a_cursor_pages_or_is_validation_and_never_fails(
        self, client: httpx.AsyncClient, world: World, listing: str, data: st.DataObject
    ) -> None:
        # given
        document, kinds = CONNECTIONS[listing]
        cursor = data.draw(cursors(kinds), label="cursor")
        variables = {
            "c": cursor,
            **{t: world.real[t] for t in ("Debtor", "Invoice", "Case", "Webhook") if f"${t}:" in document},
        }
        # when
        body = await gql(client, document, variables, token=world.token)
        # then
        if _decodes(cursor, kinds):
            assert "errors" not in body, body
        else:
            assert error_codes(body) == ["VALIDATION"], body
