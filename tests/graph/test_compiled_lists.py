"""Every list the compiler answers (graph.compiler) against the answer written out by hand for fixed data: a hidden
employee, an over-limit (L) line, an invoiced (F) and a non-billable (N) entry, a blocked case; each page is one
statement that writes its JSON."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest

from models import CapKind, EmployeeVisibility
from tests.conftest import StatementCounter
from tests.factories import Factory, gql

CREATE = """mutation($input: TimeEntryInput!) {
  createTimeEntry(input: $input) { timeEntry { id } overLimitEntry { id } userErrors { code } }
}"""
INVOICE = """mutation($input: InvoiceInput!) { createInvoice(input: $input) { invoice { id } userErrors { code } } }"""


@dataclass
class World:
    admin: str  # tokens
    olga: str
    ids: dict[str, str]  # name -> global ID


def is_json_statement(statement: str) -> bool:
    return " AS edge" in statement


async def _write(client: httpx.AsyncClient, token: str, **entry: Any) -> dict[str, Any]:
    body = await gql(client, CREATE, {"input": entry}, token=token)
    payload: dict[str, Any] = body["data"]["createTimeEntry"]
    assert payload["userErrors"] == [], body
    return payload


@pytest.fixture
async def world(client: httpx.AsyncClient, factory: Factory) -> World:
    """Ada administers; Olga sees only her own name; Hugo's name is hidden from her. Case C1 holds at most 60
    minutes a book year, C2 is blocked, and all time is at the debtor's adjusted rate of 100.00."""
    ada = await factory.employee(role=await factory.role(name="Administrators", admin=True), name="Ada Admin")
    olga = await factory.employee(role=await factory.role(name="Own", visibility=EmployeeVisibility.OWN), name="Olga")
    hugo = await factory.employee(role=await factory.role(name="Staff"), name="Hugo Hidden")
    debtor = await factory.debtor(code="D1", name="Debtor One", adjusted_rate=Decimal("100.00"))
    await factory.debtor(code="D2", name="Debtor Two")
    activity = await factory.activity(code="ADV", name="Advice", default_rate=Decimal("60.00"))
    c1 = await factory.case(debtor=debtor, code="C1", max_per_book_year=CapKind.TIME, max_minutes=60)
    c2 = await factory.case(debtor=debtor, code="C2", blocked=True)
    admin = await factory.token(ada)
    g = {
        "ada": _id("Employee", ada.id),
        "olga": _id("Employee", olga.id),
        "hugo": _id("Employee", hugo.id),
        "d1": _id("Debtor", debtor.id),
        "c1": _id("Case", c1.id),
        "c2": _id("Case", c2.id),
        "adv": _id("Activity", activity.id),
    }
    common = {"activityId": g["adv"]}
    e1 = await _write(client, admin, **common, caseId=g["c1"], employeeId=g["olga"], workDate="2026-11-02", minutes=45)
    e2 = await _write(client, admin, **common, caseId=g["c1"], employeeId=g["hugo"], workDate="2026-11-03", minutes=30)
    e3 = await _write(
        client,
        admin,
        **common,
        debtorId=g["d1"],
        employeeId=g["hugo"],
        workDate="2026-11-04",
        minutes=20,
        status="NON_BILLABLE",
    )
    g |= {"e1": e1["timeEntry"]["id"], "e2": e2["timeEntry"]["id"], "e2L": e2["overLimitEntry"]["id"]}
    g["e3"] = e3["timeEntry"]["id"]
    invoiced = await gql(client, INVOICE, {"input": {"debtorId": g["d1"], "upTo": "2026-11-02"}}, token=admin)
    assert invoiced["data"]["createInvoice"]["userErrors"] == [], invoiced
    g["invoice"] = invoiced["data"]["createInvoice"]["invoice"]["id"]
    return World(admin=admin, olga=await factory.token(olga), ids=g)


def _id(type_name: str, db_id: int) -> str:
    from graph import ids

    return ids.encode(type_name, db_id)


ENTRY = "id workDate minutes status billable amount employeeHidden editable employee { name } overLimitOf { id }"


def entry(
    world: World,
    name: str,
    *,
    day: str,
    minutes: int,
    status: str,
    amount: str,
    employee: str | None,
    editable: bool,
    of: str | None = None,
) -> dict[str, Any]:
    return {
        "id": world.ids[name],
        "workDate": day,
        "minutes": minutes,
        "status": status,
        "billable": status in ("BILLABLE", "INVOICED"),
        "amount": amount,
        "employeeHidden": employee is None,
        "editable": editable,
        "employee": None if employee is None else {"name": employee},
        "overLimitOf": None if of is None else {"id": world.ids[of]},
    }


async def _one_statement(
    client: httpx.AsyncClient, sql: StatementCounter, query: str, token: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    before = sql.count
    body = await gql(client, query, variables, token=token)
    assert "errors" not in body, body
    assert [is_json_statement(s) for s in sql.statements[before:]].count(True) == 1
    data: dict[str, Any] = body["data"]
    return data


def _nodes(connection: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in connection["edges"]]


class TestTimeEntries:
    async def test_case_time_list_as_the_administrator(
        self, client: httpx.AsyncClient, world: World, sql_statements: StatementCounter
    ) -> None:
        query = "query($id: ID!) { node(id: $id) { ... on Case { timeList { edges { node { " + ENTRY + " } } } } } }"
        data = await _one_statement(client, sql_statements, query, world.admin, {"id": world.ids["c1"]})
        assert _nodes(data["node"]["timeList"]) == [
            entry(world, "e2L", day="2026-11-03", minutes=15, status="OVER_LIMIT", amount="25.00",
                  employee="Hugo Hidden", editable=True, of="e2"),
            entry(world, "e2", day="2026-11-03", minutes=15, status="BILLABLE", amount="25.00",
                  employee="Hugo Hidden", editable=True),
            entry(world, "e1", day="2026-11-02", minutes=45, status="INVOICED", amount="75.00",
                  employee="Olga", editable=False),
        ]  # fmt: skip

    async def test_filtered_entries_as_a_viewer_who_sees_only_her_name(
        self, client: httpx.AsyncClient, world: World, sql_statements: StatementCounter
    ) -> None:
        query = "query($d: [ID!]) { timeEntries(filter: {debtorIds: $d}) { edges { node { " + ENTRY + " } } } }"
        data = await _one_statement(client, sql_statements, query, world.olga, {"d": [world.ids["d1"]]})
        assert _nodes(data["timeEntries"]) == [
            entry(world, "e3", day="2026-11-04", minutes=20, status="NON_BILLABLE", amount="33.33",
                  employee=None, editable=False),
            entry(world, "e2L", day="2026-11-03", minutes=15, status="OVER_LIMIT", amount="25.00",
                  employee=None, editable=False, of="e2"),
            entry(world, "e2", day="2026-11-03", minutes=15, status="BILLABLE", amount="25.00",
                  employee=None, editable=False),
            entry(world, "e1", day="2026-11-02", minutes=45, status="INVOICED", amount="75.00",
                  employee="Olga", editable=False),
        ]  # fmt: skip

    async def test_a_status_filter_and_its_total_are_answered_without_the_object_path(
        self, client: httpx.AsyncClient, world: World, sql_statements: StatementCounter
    ) -> None:
        # given: a filter whose statuses are an IN list, which the driver cannot prebuild
        query = (
            "{ timeEntries(filter: {statuses: [BILLABLE, OVER_LIMIT]}) { totalCount edges { node { id status } } } }"
        )
        # when
        before = sql_statements.count
        data = await _one_statement(client, sql_statements, query, world.olga)
        # then: the page and its count were answered as compiled, never again as objects by graphql-core
        assert _nodes(data["timeEntries"]) == [
            {"id": world.ids["e2L"], "status": "OVER_LIMIT"},
            {"id": world.ids["e2"], "status": "BILLABLE"},
        ]
        assert data["timeEntries"]["totalCount"] == 2
        assert not any("over_limit_entry_id" in s for s in sql_statements.statements[before:])

    async def test_the_entries_an_invoice_billed(
        self, client: httpx.AsyncClient, world: World, sql_statements: StatementCounter
    ) -> None:
        query = (
            "query($id: ID!) { node(id: $id) { ... on Invoice { timeEntries { edges { cursor node { id status "
            "case { code debtor { code } } } } } } } }"
        )
        data = await _one_statement(client, sql_statements, query, world.admin, {"id": world.ids["invoice"]})
        edges = data["node"]["timeEntries"]["edges"]
        assert [edge["node"] for edge in edges] == [
            {"id": world.ids["e1"], "status": "INVOICED", "case": {"code": "C1", "debtor": {"code": "D1"}}}
        ]
        assert isinstance(edges[0]["cursor"], str)

    @pytest.mark.parametrize("viewer", ["admin", "olga"])
    async def test_an_entrys_invoice_shows_to_billing_staff_only(
        self, client: httpx.AsyncClient, world: World, sql_statements: StatementCounter, viewer: str
    ) -> None:
        edges = "edges { node { id invoice { number } } }"
        query = "query($id: ID!) { node(id: $id) { ... on Case { timeList { " + edges + " } } } }"
        token = world.admin if viewer == "admin" else world.olga
        data = await _one_statement(client, sql_statements, query, token, {"id": world.ids["c1"]})
        invoice = {"number": "INV-000001"} if viewer == "admin" else None
        assert _nodes(data["node"]["timeList"]) == [
            {"id": world.ids["e2L"], "invoice": None},
            {"id": world.ids["e2"], "invoice": None},
            {"id": world.ids["e1"], "invoice": invoice},
        ]


class TestInvoices:
    async def test_invoices_newest_first(
        self, client: httpx.AsyncClient, world: World, sql_statements: StatementCounter
    ) -> None:
        query = "{ invoices { edges { node { id number invoiceDate total voided debtor { code } } } } }"
        data = await _one_statement(client, sql_statements, query, world.admin)
        [invoice] = _nodes(data["invoices"])
        assert invoice == {
            "id": world.ids["invoice"],
            "number": "INV-000001",
            "invoiceDate": invoice["invoiceDate"],  # today in the company's time zone
            "total": "75.00",
            "voided": False,
            "debtor": {"code": "D1"},
        }
        assert len(invoice["invoiceDate"]) == 10


class TestMasterData:
    async def test_employees_by_name_for_each_viewer(
        self, client: httpx.AsyncClient, world: World, sql_statements: StatementCounter
    ) -> None:
        node = "id name active role { name isAdministrator } supervisor { id }"
        query = "{ employees { totalCount edges { node { " + node + " } } } }"
        every = await _one_statement(client, sql_statements, query, world.admin)
        own = await _one_statement(client, sql_statements, query, world.olga)
        row = {
            "ada": ("Ada Admin", "Administrators", True),
            "hugo": ("Hugo Hidden", "Staff", False),
            "olga": ("Olga", "Own", False),
        }

        def employee(key: str) -> dict[str, Any]:
            name, role, admin = row[key]
            return {
                "id": world.ids[key],
                "name": name,
                "active": True,
                "role": {"name": role, "isAdministrator": admin},
                "supervisor": None,
            }

        assert _nodes(every["employees"]) == [employee("ada"), employee("hugo"), employee("olga")]
        assert _nodes(own["employees"]) == [employee("olga")]
        assert (every["employees"]["totalCount"], own["employees"]["totalCount"]) == (3, 1)

    async def test_debtors_by_code(
        self, client: httpx.AsyncClient, world: World, sql_statements: StatementCounter
    ) -> None:
        data = await _one_statement(
            client, sql_statements, "{ debtors { edges { node { code name adjustedRate } } } }", world.olga
        )
        assert _nodes(data["debtors"]) == [
            {"code": "D1", "name": "Debtor One", "adjustedRate": "100.00"},
            {"code": "D2", "name": "Debtor Two", "adjustedRate": None},
        ]

    @pytest.mark.parametrize(("blocked", "codes"), [(False, ["C1"]), (True, ["C1", "C2"])])
    async def test_cases_and_a_debtors_cases(
        self,
        client: httpx.AsyncClient,
        world: World,
        sql_statements: StatementCounter,
        blocked: bool,
        codes: list[str],
    ) -> None:
        fields = "totalCount edges { node { code blocked maxPerBookYear maxMinutes timeEntryCount debtor { code } } }"
        listing = f"cases(includeBlocked: {str(blocked).lower()}) {{ {fields} }}"
        every = await _one_statement(client, sql_statements, f"{{ {listing} }}", world.olga)
        query = f"query($id: ID!) {{ node(id: $id) {{ ... on Debtor {{ {listing} }} }} }}"
        of_debtor = await _one_statement(client, sql_statements, query, world.olga, {"id": world.ids["d1"]})
        cases = {
            "C1": {"code": "C1", "blocked": False, "maxPerBookYear": "TIME", "maxMinutes": 60, "timeEntryCount": 3},
            "C2": {"code": "C2", "blocked": True, "maxPerBookYear": "NONE", "maxMinutes": None, "timeEntryCount": 0},
        }
        expected = [{**cases[code], "debtor": {"code": "D1"}} for code in codes]
        assert _nodes(every["cases"]) == expected
        assert _nodes(of_debtor["node"]["cases"]) == expected
        assert every["cases"]["totalCount"] == of_debtor["node"]["cases"]["totalCount"] == len(codes)


class TestFilterShapes:
    def test_filters_of_one_combination_share_one_source_and_bind_their_values(self) -> None:
        from graph.compiler import EVERY_ROW, Source
        from services import cases, debtors

        # when
        first, first_values = Source.matching(cases.filters(debtor_id=7, search="north", include_blocked=False))
        second, second_values = Source.matching(cases.filters(debtor_id=8, search="south", include_blocked=False))
        other, _ = Source.matching(cases.filters(debtor_id=8, search=None, include_blocked=False))
        # then: one kept source (its statements built once), the values bound apart
        assert first is second
        assert first.kept
        assert other is not first
        assert first_values == {"debtor_id": 7, "search": "%north%"}  # one pattern for code and description
        assert second_values == {"debtor_id": 8, "search": "%south%"}
        assert Source.matching(debtors.filters(None)) == (EVERY_ROW, {})
