"""Billing and reports through the API (SPEC 5, 5a, 8, 9): gates, payloads, paging and hidden names."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from unittest.mock import ANY

import httpx
import orjson
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from graph import ids
from models import Activity, CapBasis, CapKind, Case, Debtor, EmployeeVisibility, Invoice, TimeEntry
from services import company
from tests.conftest import StatementCounter
from tests.factories import Factory, error_codes, gql

CREATE_ENTRY = """mutation($input: TimeEntryInput!, $mode: EntryMode!) {
  createTimeEntry(input: $input, mode: $mode) { timeEntry { id } overLimitEntry { id } userErrors { code } }
}"""
CREATE_INVOICE = """mutation($input: InvoiceInput!) {
  createInvoice(input: $input) {
    invoice { id number total voided debtor { code } lines { minutes rate amount case { code } activity { code } }
              timeEntries { totalCount edges { node { id status invoice { number } } } } }
    userErrors { code field }
  }
}"""
VOID_INVOICE = """mutation($id: ID!) {
  voidInvoice(id: $id) { invoice { id number voided } userErrors { code field } }
}"""
RELEASE = """mutation($ids: [ID!]!, $status: TimeStatus!) {
  releaseOverLimit(ids: $ids, status: $status) {
    timeEntries { id status minutes version updatedBy { name } } userErrors { code field }
  }
}"""
INVOICES = """query($first: Int, $after: String, $debtorId: ID) {
  invoices(first: $first, after: $after, debtorId: $debtorId) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { number debtor { code } } }
  }
}"""
ENTRY = """query($id: ID!) { node(id: $id) { ... on TimeEntry { status version invoice { number } } } }"""
INVOICE_ENTRIES = """query($id: ID!) {
  node(id: $id) { ... on Invoice { voided timeEntries { totalCount edges { node { id status invoice { id } } } } } }
}"""
UPDATE_ENTRY = """mutation($id: ID!) {
  updateTimeEntry(id: $id, input: {minutes: 5}) { timeEntry { id } userErrors { code } }
}"""
DELETE_ENTRY = "mutation($id: ID!) { deleteTimeEntry(id: $id) { deletedId userErrors { code } } }"
REPORT = """query($filter: TimeEntryFilter!, $groupBy: [ReportDimension!]!) {
  timeReport(filter: $filter, groupBy: $groupBy) {
    rows { employee { id name } employeeHidden case { code } minutes amount billableMinutes entryCount }
    totalMinutes totalAmount
  }
}"""
CAP_USAGE = """query($id: ID!, $date: Date) {
  node(id: $id) { ... on Case { capUsage(date: $date) { kind basis bookYearStart bookYearEnd limitMinutes
    usedMinutes availableMinutes } } }
}"""
USAGE = """fragment Usage on CapUsage { kind basis bookYearStart bookYearEnd limitMinutes limitAmount usedMinutes
  usedAmount availableMinutes availableAmount }"""
# the same case's usage for a given day and for today, asked of one case alone and of each case of a page
CASE_USAGES = (
    """query($id: ID!, $date: Date) { node(id: $id) { ... on Case { id
  dated: capUsage(date: $date) { ...Usage } today: capUsage { ...Usage } } } }"""
    + USAGE
)
PAGE_USAGES = (
    """query($id: ID!, $date: Date) { node(id: $id) { ... on Debtor { cases(first: 50) { edges { node { id
  dated: capUsage(date: $date) { ...Usage } today: capUsage { ...Usage } } } } } } }"""
    + USAGE
)
SETTINGS = """mutation($month: Int!) {
  updateSettings(input: {bookYearStartMonth: $month}) { settings { bookYearStartMonth } userErrors { code } }
}"""


@dataclass
class Billing:
    admin: str
    biller: str
    biller_name: str
    clerk: str  # an employee without canInvoice
    debtor: Debtor
    case: Case
    activity: Activity


@pytest.fixture
async def billing(factory: Factory) -> Billing:
    _, admin = await factory.admin()
    biller = await factory.employee(role=await factory.role(can_invoice=True), name="Bea Biller")
    clerk = await factory.employee()
    debtor = await factory.debtor()
    return Billing(
        admin=admin,
        biller=await factory.token(biller),
        biller_name=biller.name,
        clerk=await factory.token(clerk),
        debtor=debtor,
        case=await factory.case(debtor=debtor),
        activity=await factory.activity(default_rate=Decimal("60.00")),
    )


async def write(
    client: httpx.AsyncClient,
    token: str,
    *,
    case: Case,
    activity: Activity,
    minutes: int = 60,
    day: str = "2026-11-02",
    mode: str = "PER_DEBTOR",
    **extra: Any,
) -> dict[str, Any]:
    entry = {
        "caseId": ids.encode("Case", case.id),
        "activityId": ids.encode("Activity", activity.id),
        "workDate": day,
        "minutes": minutes,
        **extra,
    }
    body = await gql(client, CREATE_ENTRY, {"input": entry, "mode": mode}, token=token)
    payload: dict[str, Any] = body["data"]["createTimeEntry"]
    assert payload["userErrors"] == []
    return payload


def invoice_input(debtor: Debtor, **fields: Any) -> dict[str, Any]:
    return {"input": {"debtorId": ids.encode("Debtor", debtor.id), **fields}}


async def statuses(session: AsyncSession) -> dict[int, tuple[str, int | None, int]]:
    rows = await session.execute(select(TimeEntry.id, TimeEntry.status, TimeEntry.invoice_id, TimeEntry.version))
    return {row.id: (row.status.value, row.invoice_id, row.version) for row in rows}


class TestCreateAndVoidInvoice:
    async def test_billing_staff_invoice_void_and_invoice_again(
        self, client: httpx.AsyncClient, factory: Factory, billing: Billing
    ) -> None:
        # given
        other_case = await factory.case(debtor=billing.debtor)
        first = await write(client, billing.admin, case=billing.case, activity=billing.activity, minutes=30)
        await write(client, billing.admin, case=billing.case, activity=billing.activity, minutes=45)
        await write(client, billing.admin, case=other_case, activity=billing.activity, minutes=61)
        entry_id = first["timeEntry"]["id"]
        # when
        created = await gql(
            client, CREATE_INVOICE, invoice_input(billing.debtor, invoiceDate="2026-11-30"), token=billing.biller
        )
        invoice = created["data"]["createInvoice"]["invoice"]
        invoiced_entry = await gql(client, ENTRY, {"id": entry_id}, token=billing.admin)
        voided = await gql(client, VOID_INVOICE, {"id": invoice["id"]}, token=billing.biller)
        returned_entry = await gql(client, ENTRY, {"id": entry_id}, token=billing.admin)
        still_listed = await gql(client, INVOICE_ENTRIES, {"id": invoice["id"]}, token=billing.biller)
        again = await gql(client, VOID_INVOICE, {"id": invoice["id"]}, token=billing.biller)
        next_invoice = await gql(client, CREATE_INVOICE, invoice_input(billing.debtor), token=billing.biller)
        # then
        assert created["data"]["createInvoice"]["userErrors"] == []
        assert invoice["total"] == "136.00"
        assert invoice["voided"] is False
        assert sorted(invoice["lines"], key=lambda line: line["minutes"]) == [
            {
                "minutes": 61,
                "rate": "60.00",
                "amount": "61.00",
                "case": {"code": other_case.code},
                "activity": {"code": billing.activity.code},
            },
            {
                "minutes": 75,
                "rate": "60.00",
                "amount": "75.00",
                "case": {"code": billing.case.code},
                "activity": {"code": billing.activity.code},
            },
        ]
        assert invoice["timeEntries"]["totalCount"] == 3
        assert {e["node"]["status"] for e in invoice["timeEntries"]["edges"]} == {"INVOICED"}
        assert invoiced_entry["data"]["node"] == {
            "status": "INVOICED",
            "version": 2,
            "invoice": {"number": invoice["number"]},
        }
        assert voided["data"]["voidInvoice"] == {
            "invoice": {"id": invoice["id"], "number": invoice["number"], "voided": True},
            "userErrors": [],
        }
        assert returned_entry["data"]["node"] == {"status": "BILLABLE", "version": 3, "invoice": None}
        listed = still_listed["data"]["node"]
        assert listed["voided"] is True
        assert listed["timeEntries"]["totalCount"] == 3
        assert {(e["node"]["status"], e["node"]["invoice"]) for e in listed["timeEntries"]["edges"]} == {
            ("BILLABLE", None)
        }
        assert again["data"]["voidInvoice"]["userErrors"] == [{"code": "VALIDATION", "field": ["id"]}]
        number = next_invoice["data"]["createInvoice"]["invoice"]["number"]
        assert int(number.removeprefix("INV-")) == int(invoice["number"].removeprefix("INV-")) + 1

    async def test_refusals_are_user_errors_and_write_nothing(
        self, client: httpx.AsyncClient, session: AsyncSession, factory: Factory, billing: Billing
    ) -> None:
        # given
        foreign = await factory.case()
        await write(client, billing.admin, case=billing.case, activity=billing.activity, day="2026-11-02")
        before = await statuses(session)
        foreign_input = invoice_input(billing.debtor, caseIds=[ids.encode("Case", foreign.id)])
        # when
        mismatch = await gql(client, CREATE_INVOICE, foreign_input, token=billing.biller)
        nothing = await gql(
            client, CREATE_INVOICE, invoice_input(billing.debtor, upTo="2026-11-01"), token=billing.biller
        )
        # then
        assert mismatch["data"]["createInvoice"] == {
            "invoice": None,
            "userErrors": [{"code": "CASE_DEBTOR_MISMATCH", "field": ["caseIds"]}],
        }
        assert [e["code"] for e in nothing["data"]["createInvoice"]["userErrors"]] == ["NOTHING_TO_INVOICE"]
        assert await session.scalar(select(func.count()).select_from(Invoice)) == 0
        assert await statuses(session) == before

    async def test_invoiced_time_cannot_be_edited_or_deleted(
        self, client: httpx.AsyncClient, session: AsyncSession, billing: Billing
    ) -> None:
        # given
        written = await write(client, billing.admin, case=billing.case, activity=billing.activity)
        await gql(client, CREATE_INVOICE, invoice_input(billing.debtor), token=billing.biller)
        before = await statuses(session)
        entry_id = written["timeEntry"]["id"]
        # when
        updated = await gql(client, UPDATE_ENTRY, {"id": entry_id}, token=billing.admin)
        deleted = await gql(client, DELETE_ENTRY, {"id": entry_id}, token=billing.admin)
        # then
        assert updated["data"]["updateTimeEntry"] == {"timeEntry": None, "userErrors": [{"code": "INVOICED_LOCKED"}]}
        assert deleted["data"]["deleteTimeEntry"] == {"deletedId": None, "userErrors": [{"code": "INVOICED_LOCKED"}]}
        assert await statuses(session) == before


class TestReleaseOverLimit:
    async def test_release_is_recorded_as_the_releasers_edit(
        self, client: httpx.AsyncClient, factory: Factory, billing: Billing
    ) -> None:
        # given
        capped = await factory.case(debtor=billing.debtor, max_per_book_year=CapKind.TIME, max_minutes=60)
        split = await write(client, billing.admin, case=capped, activity=billing.activity, minutes=100, mode="PER_DATE")
        line_id = split["overLimitEntry"]["id"]
        # when
        released = await gql(client, RELEASE, {"ids": [line_id], "status": "NON_BILLABLE"}, token=billing.biller)
        usage = await gql(
            client, CAP_USAGE, {"id": ids.encode("Case", capped.id), "date": "2026-11-02"}, token=billing.biller
        )
        # then
        assert released["data"]["releaseOverLimit"] == {
            "timeEntries": [
                {
                    "id": line_id,
                    "status": "NON_BILLABLE",
                    "minutes": 40,
                    "version": 2,
                    "updatedBy": {"name": billing.biller_name},
                }
            ],
            "userErrors": [],
        }
        assert usage["data"]["node"]["capUsage"]["usedMinutes"] == 60

    async def test_release_to_billable_may_exceed_the_maximum(
        self, client: httpx.AsyncClient, factory: Factory, billing: Billing
    ) -> None:
        # given
        capped = await factory.case(debtor=billing.debtor, max_per_book_year=CapKind.TIME, max_minutes=60)
        split = await write(client, billing.admin, case=capped, activity=billing.activity, minutes=100, mode="PER_DATE")
        # when
        released = await gql(
            client, RELEASE, {"ids": [split["overLimitEntry"]["id"]], "status": "BILLABLE"}, token=billing.biller
        )
        usage = await gql(
            client, CAP_USAGE, {"id": ids.encode("Case", capped.id), "date": "2026-11-02"}, token=billing.biller
        )
        # then
        assert [e["status"] for e in released["data"]["releaseOverLimit"]["timeEntries"]] == ["BILLABLE"]
        assert usage["data"]["node"]["capUsage"] == {
            "kind": "TIME",
            "basis": "BILLABLE",
            "bookYearStart": "2026-01-01",
            "bookYearEnd": "2026-12-31",
            "limitMinutes": 60,
            "usedMinutes": 100,
            "availableMinutes": 0,
        }

    @pytest.mark.parametrize(
        ("status", "code"), [("BILLABLE", "NOT_OVER_LIMIT"), ("INVOICED", "VALIDATION"), ("OVER_LIMIT", "VALIDATION")]
    )
    async def test_refusals_change_nothing(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        factory: Factory,
        billing: Billing,
        status: str,
        code: str,
    ) -> None:
        # given
        capped = await factory.case(debtor=billing.debtor, max_per_book_year=CapKind.TIME, max_minutes=60)
        split = await write(client, billing.admin, case=capped, activity=billing.activity, minutes=100, mode="PER_DATE")
        chosen = (
            [split["overLimitEntry"]["id"], split["timeEntry"]["id"]]
            if code == "NOT_OVER_LIMIT"
            else [split["overLimitEntry"]["id"]]
        )
        before = await statuses(session)
        # when
        released = await gql(client, RELEASE, {"ids": chosen, "status": status}, token=billing.biller)
        # then
        assert released["data"]["releaseOverLimit"]["timeEntries"] == []
        assert [e["code"] for e in released["data"]["releaseOverLimit"]["userErrors"]] == [code]
        assert await statuses(session) == before


GATED = {
    "createInvoice": CREATE_INVOICE,
    "voidInvoice": VOID_INVOICE,
    "releaseOverLimit": RELEASE,
    "invoices": INVOICES,
}


class TestGates:
    @pytest.mark.parametrize("field", list(GATED))
    @pytest.mark.parametrize(("who", "code"), [("clerk", "FORBIDDEN"), (None, "UNAUTHENTICATED")])
    async def test_only_billing_staff_may_bill(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        factory: Factory,
        billing: Billing,
        field: str,
        who: str | None,
        code: str,
    ) -> None:
        # given
        capped = await factory.case(debtor=billing.debtor, max_per_book_year=CapKind.TIME, max_minutes=60)
        split = await write(client, billing.admin, case=capped, activity=billing.activity, minutes=100, mode="PER_DATE")
        made = await gql(client, CREATE_INVOICE, invoice_input(billing.debtor), token=billing.biller)
        await write(client, billing.admin, case=billing.case, activity=billing.activity)
        variables = {
            "createInvoice": invoice_input(billing.debtor),
            "voidInvoice": {"id": made["data"]["createInvoice"]["invoice"]["id"]},
            "releaseOverLimit": {"ids": [split["overLimitEntry"]["id"]], "status": "BILLABLE"},
            "invoices": {},
        }[field]
        before = await statuses(session)
        invoices_before = (await session.execute(select(Invoice.id, Invoice.voided, Invoice.version))).all()
        # when
        body = await gql(client, GATED[field], variables, token=getattr(billing, who) if who else None)
        # then
        assert error_codes(body) == [code]
        assert body["data"] is None
        assert await statuses(session) == before
        assert (await session.execute(select(Invoice.id, Invoice.voided, Invoice.version))).all() == invoices_before

    async def test_node_gives_an_invoice_to_billing_staff_only(
        self, client: httpx.AsyncClient, billing: Billing
    ) -> None:
        # given
        await write(client, billing.admin, case=billing.case, activity=billing.activity)
        made = await gql(client, CREATE_INVOICE, invoice_input(billing.debtor), token=billing.biller)
        invoice_id = made["data"]["createInvoice"]["invoice"]["id"]
        # when
        for_clerk = await gql(client, INVOICE_ENTRIES, {"id": invoice_id}, token=billing.clerk)
        for_biller = await gql(client, INVOICE_ENTRIES, {"id": invoice_id}, token=billing.biller)
        # then
        assert for_clerk["data"]["node"] is None
        assert for_biller["data"]["node"]["timeEntries"]["totalCount"] == 1


class TestInvoices:
    async def test_pages_newest_first_and_filters_by_debtor(
        self, client: httpx.AsyncClient, factory: Factory, billing: Billing
    ) -> None:
        # given
        other_debtor = await factory.debtor()
        other_case = await factory.case(debtor=other_debtor)
        numbers = []
        for debtor, case in (
            (billing.debtor, billing.case),
            (other_debtor, other_case),
            (billing.debtor, billing.case),
        ):
            await write(client, billing.admin, case=case, activity=billing.activity)
            made = await gql(client, CREATE_INVOICE, invoice_input(debtor), token=billing.admin)
            numbers.append(made["data"]["createInvoice"]["invoice"]["number"])
        # when
        first_page = await gql(client, INVOICES, {"first": 2}, token=billing.biller)
        cursor = first_page["data"]["invoices"]["pageInfo"]["endCursor"]
        second_page = await gql(client, INVOICES, {"first": 2, "after": cursor}, token=billing.biller)
        of_debtor = await gql(
            client, INVOICES, {"debtorId": ids.encode("Debtor", billing.debtor.id)}, token=billing.biller
        )
        # then
        page_one, page_two = first_page["data"]["invoices"], second_page["data"]["invoices"]
        assert [e["node"]["number"] for e in page_one["edges"]] == [numbers[2], numbers[1]]
        assert (page_one["totalCount"], page_one["pageInfo"]["hasNextPage"]) == (3, True)
        assert [e["node"]["number"] for e in page_two["edges"]] == [numbers[0]]
        assert page_two["pageInfo"]["hasNextPage"] is False
        filtered = of_debtor["data"]["invoices"]
        assert [e["node"]["number"] for e in filtered["edges"]] == [numbers[2], numbers[0]]
        assert filtered["totalCount"] == 2
        assert {e["node"]["debtor"]["code"] for e in filtered["edges"]} == {billing.debtor.code}


class TestTimeReport:
    async def test_a_hidden_name_never_leaves_the_server(
        self, client: httpx.AsyncClient, factory: Factory, billing: Billing
    ) -> None:
        # given
        viewer = await factory.employee(role=await factory.role(visibility=EmployeeVisibility.OWN), name="Vera Viewer")
        hidden = [
            await factory.employee(name="Xanthippe Quillfeather"),
            await factory.employee(name="Ozymandias Peregrine"),
        ]
        for employee in [viewer, *hidden]:
            await write(
                client,
                billing.admin,
                case=billing.case,
                activity=billing.activity,
                minutes=30 + employee.id % 7,
                employeeId=ids.encode("Employee", employee.id),
            )
        variables = {
            "filter": {"debtorIds": [ids.encode("Debtor", billing.debtor.id)]},
            "groupBy": ["EMPLOYEE", "CASE"],
        }
        # when
        response = await client.post(
            "/graphql",
            json={"query": REPORT, "variables": variables},
            headers={"Authorization": f"Bearer {await factory.token(viewer)}"},
        )
        admin_view = await gql(client, REPORT, variables, token=billing.admin)
        # then
        for employee in hidden:
            assert employee.name not in response.text
            assert ids.encode("Employee", employee.id) not in response.text
        report = response.json()["data"]["timeReport"]
        assert {
            ((r["employee"] or {}).get("name"), r["employeeHidden"], r["minutes"], r["entryCount"])
            for r in report["rows"]
        } == {
            ("Vera Viewer", False, 30 + viewer.id % 7, 1),
            (None, True, sum(30 + e.id % 7 for e in hidden), 2),  # both hidden employees fold into one row
        }
        admin_report = admin_view["data"]["timeReport"]
        assert len(admin_report["rows"]) == 3
        assert (report["totalMinutes"], report["totalAmount"]) == (
            admin_report["totalMinutes"],
            admin_report["totalAmount"],
        )

    async def test_rows_name_what_they_group_by(
        self, client: httpx.AsyncClient, factory: Factory, billing: Billing
    ) -> None:
        # given
        employee = await factory.employee(name="Rhea Reporter")
        for day, minutes in (("2026-10-30", 15), ("2026-11-02", 30), ("2026-11-03", 45)):
            await write(
                client,
                billing.admin,
                case=billing.case,
                activity=billing.activity,
                minutes=minutes,
                day=day,
                employeeId=ids.encode("Employee", employee.id),
            )
        query = """query($groupBy: [ReportDimension!]!) {
          timeReport(filter: {from: "2026-10-01", to: "2026-11-30"}, groupBy: $groupBy) {
            rows { debtor { id code } case { id code debtor { code } } employee { id name role { name } }
                   activity { id code } status period minutes entryCount }
          }
        }"""
        everything = ["DEBTOR", "CASE", "EMPLOYEE", "ACTIVITY", "STATUS", "MONTH"]
        # when
        grouped = await gql(client, query, {"groupBy": everything}, token=billing.admin)
        plain = await gql(client, query, {"groupBy": ["MONTH"]}, token=billing.admin)
        # then
        named = {
            "debtor": {"id": ids.encode("Debtor", billing.debtor.id), "code": billing.debtor.code},
            "case": {
                "id": ids.encode("Case", billing.case.id),
                "code": billing.case.code,
                "debtor": {"code": billing.debtor.code},
            },
            "employee": {"id": ids.encode("Employee", employee.id), "name": "Rhea Reporter", "role": ANY},
            "activity": {"id": ids.encode("Activity", billing.activity.id), "code": billing.activity.code},
            "status": "BILLABLE",
        }
        assert grouped["data"]["timeReport"]["rows"] == [
            {**named, "period": "2026-10", "minutes": 15, "entryCount": 1},
            {**named, "period": "2026-11", "minutes": 75, "entryCount": 2},
        ]
        assert plain["data"]["timeReport"]["rows"] == [
            {"debtor": None, "case": None, "employee": None, "activity": None, "status": None, "period": p, **n}
            for p, n in (("2026-10", {"minutes": 15, "entryCount": 1}), ("2026-11", {"minutes": 75, "entryCount": 2}))
        ]

    async def test_more_than_one_period_is_refused(self, client: httpx.AsyncClient, billing: Billing) -> None:
        # when
        body = await gql(client, REPORT, {"filter": {}, "groupBy": ["DEBTOR", "DAY", "BOOK_YEAR"]}, token=billing.admin)
        # then
        assert error_codes(body) == ["VALIDATION"]
        assert body["data"] is None


WRITTEN_ROWS = """query($filter: TimeEntryFilter!, $groupBy: [ReportDimension!]!) {
  timeReport(filter: $filter, groupBy: $groupBy) {
    totalMinutes
    rows {
      __typename employee { id name __typename } employeeHidden case { id code description }
      debtor { name id code } activity { code name id } status period minutes amount billableMinutes
      nonBillableMinutes billableAmount entryCount
      sum: minutes
    }
    totalAmount
  }
}"""


def report_statements(counter: StatementCounter, since: int) -> list[str]:
    return [s for s in counter.statements[since:] if "time_rollup" in s]


class TestRowsWrittenByTheDatabase:
    """`timeReport` rows of declared fields are written as JSON by PostgreSQL (graph.compiler); they must answer
    exactly what the rows built as objects answer, which graphql-core builds when a directive keeps the plan away."""

    @pytest.mark.parametrize(
        "group_by",
        [["EMPLOYEE", "CASE"], ["DEBTOR", "MONTH"], ["ACTIVITY", "STATUS", "WEEK"], ["CASE", "EMPLOYEE", "DAY"], []],
    )
    async def test_they_equal_the_rows_built_as_objects(
        self,
        client: httpx.AsyncClient,
        factory: Factory,
        billing: Billing,
        sql_statements: StatementCounter,
        group_by: list[str],
    ) -> None:
        # given: time of a viewer who sees only their own, and of two employees hidden from them
        viewer = await factory.employee(role=await factory.role(visibility=EmployeeVisibility.OWN), name='Vera "V"')
        hidden = [await factory.employee(name="Xanthippe Quillfeather"), await factory.employee()]
        other_case = await factory.case(debtor=billing.debtor, description=None)
        for n, employee in enumerate([viewer, *hidden, viewer]):
            await write(
                client,
                billing.admin,
                case=other_case if n % 2 else billing.case,
                activity=billing.activity,
                minutes=17 + n,
                day=f"2026-11-{2 + n * 7:02d}",
                employeeId=ids.encode("Employee", employee.id),
            )
        variables = {"filter": {"from": "2026-11-01", "to": "2026-11-30"}, "groupBy": group_by}
        viewer_token = await factory.token(viewer)
        for token in (viewer_token, billing.admin):
            # when
            before = sql_statements.count
            written = await gql(client, WRITTEN_ROWS, variables, token=token)
            written_statements = report_statements(sql_statements, before)
            before = sql_statements.count
            built_by_graphql_core = WRITTEN_ROWS.replace("rows {", "rows @include(if: true) {")
            built = await gql(client, built_by_graphql_core, variables, token=token)
            built_statements = report_statements(sql_statements, before)
            # then
            assert "errors" not in written, written
            assert written == built
            assert written["data"]["timeReport"]["rows"]
            assert [("string_agg" in s) for s in written_statements] == [True]
            assert [("string_agg" in s) for s in built_statements] == [False]
        assert "Xanthippe" not in orjson.dumps(await gql(client, WRITTEN_ROWS, variables, token=viewer_token)).decode()

    async def test_a_small_report_answers_exactly(
        self, client: httpx.AsyncClient, factory: Factory, billing: Billing, sql_statements: StatementCounter
    ) -> None:
        # given: a viewer who sees only their own time, two employees hidden from them, book years from April
        viewer = await factory.employee(role=await factory.role(visibility=EmployeeVisibility.OWN), name="Vera")
        hugo = await factory.employee(name="Hugo", default_rate=Decimal("75.50"))
        hanna = await factory.employee(name="Hanna")
        other_case = await factory.case(debtor=billing.debtor, code="ZB")
        assert (await gql(client, SETTINGS, {"month": 4}, token=billing.admin))["data"]
        for employee, case, day, minutes, status in [
            (viewer, billing.case, "2026-03-31", 30, "BILLABLE"),
            (viewer, billing.case, "2026-04-01", 45, "NON_BILLABLE"),
            (hugo, billing.case, "2026-04-01", 20, "BILLABLE"),  # 20 min at 75.50: 25.17
            (hanna, other_case, "2026-11-23", 10, "BILLABLE"),
        ]:
            await write(
                client,
                billing.admin,
                case=case,
                activity=billing.activity,
                day=day,
                minutes=minutes,
                status=status,
                employeeId=ids.encode("Employee", employee.id),
            )
        query = """query($groupBy: [ReportDimension!]!) {
          timeReport(filter: {from: "2026-01-01", to: "2026-12-31"}, groupBy: $groupBy) {
            rows { employee { name } employeeHidden debtor { code } case { code } activity { code } status period
                   minutes amount billableMinutes nonBillableMinutes billableAmount entryCount }
            totalMinutes totalAmount
          }
        }"""
        debtor, case_a, activity = (
            {"code": billing.debtor.code},
            {"code": billing.case.code},
            {"code": billing.activity.code},
        )

        def row(
            minutes: int,
            amount: str,
            billable: int,
            non_billable: int,
            billable_amount: str,
            entries: int,
            **named: Any,
        ) -> dict[str, Any]:
            dimensions = {
                "employee": None,
                "employeeHidden": False,
                "debtor": None,
                "case": None,
                "activity": None,
                "status": None,
                "period": None,
            }
            sums = {
                "minutes": minutes,
                "amount": amount,
                "billableMinutes": billable,
                "nonBillableMinutes": non_billable,
                "billableAmount": billable_amount,
                "entryCount": entries,
            }
            return {**dimensions, **named, **sums}

        hidden = {"employee": None, "employeeHidden": True}
        on_case_a = {"debtor": debtor, "case": case_a, "activity": activity}
        viewer_token = await factory.token(viewer)
        expected = {
            ("EMPLOYEE",): [
                row(75, "75.00", 30, 45, "30.00", 2, employee={"name": "Vera"}),
                row(30, "35.17", 30, 0, "35.17", 2, **hidden),  # Hugo and Hanna, folded
            ],
            ("STATUS",): [
                row(60, "65.17", 60, 0, "65.17", 3, status="BILLABLE"),
                row(45, "45.00", 0, 45, "0.00", 1, status="NON_BILLABLE"),
            ],
            ("DAY",): [
                row(30, "30.00", 30, 0, "30.00", 1, period="2026-03-31"),
                row(65, "70.17", 20, 45, "25.17", 2, period="2026-04-01"),
                row(10, "10.00", 10, 0, "10.00", 1, period="2026-11-23"),
            ],
            ("WEEK",): [
                row(95, "100.17", 50, 45, "55.17", 3, period="2026-W14"),
                row(10, "10.00", 10, 0, "10.00", 1, period="2026-W48"),
            ],
            ("MONTH",): [
                row(30, "30.00", 30, 0, "30.00", 1, period="2026-03"),
                row(65, "70.17", 20, 45, "25.17", 2, period="2026-04"),
                row(10, "10.00", 10, 0, "10.00", 1, period="2026-11"),
            ],
            ("BOOK_YEAR",): [
                row(30, "30.00", 30, 0, "30.00", 1, period="2025-04-01"),
                row(75, "80.17", 30, 45, "35.17", 3, period="2026-04-01"),
            ],
            ("DEBTOR", "CASE", "ACTIVITY", "EMPLOYEE"): [
                row(75, "75.00", 30, 45, "30.00", 2, **on_case_a, employee={"name": "Vera"}),
                row(20, "25.17", 20, 0, "25.17", 1, **on_case_a, **hidden),
                row(10, "10.00", 10, 0, "10.00", 1, **on_case_a, **hidden) | {"case": {"code": "ZB"}},
            ],
        }
        for group_by, rows in expected.items():
            # when
            before = sql_statements.count
            body = await gql(client, query, {"groupBy": list(group_by)}, token=viewer_token)
            # then: one statement writes the rows and the totals
            assert body == {"data": {"timeReport": {"rows": rows, "totalMinutes": 105, "totalAmount": "110.17"}}}, (
                group_by
            )
            assert [list(r) for r in body["data"]["timeReport"]["rows"]] == [list(r) for r in rows]  # in order
            assert [("string_agg" in s) for s in report_statements(sql_statements, before)] == [True]
        # an administrator sees every name, each on a row of its own
        body = await gql(client, query, {"groupBy": ["EMPLOYEE"]}, token=billing.admin)
        assert body["data"]["timeReport"]["rows"] == [
            row(75, "75.00", 30, 45, "30.00", 2, employee={"name": "Vera"}),
            row(20, "25.17", 20, 0, "25.17", 1, employee={"name": "Hugo"}),
            row(10, "10.00", 10, 0, "10.00", 1, employee={"name": "Hanna"}),
        ]

    @pytest.mark.parametrize(
        "rows",
        [
            "rows { minutes case { code debtor { code name } } }",  # an object below what a row names
            "rows { minutes employee { name email role { name } supervisor { id } } }",  # any declared field
            "rows { minutes ... on ReportRow { amount employee { name } } }",  # a fragment
            "rows { entryCount }",  # a row of one member
        ],
    )
    async def test_any_declared_selection_is_written_by_the_database(
        self, client: httpx.AsyncClient, factory: Factory, billing: Billing, sql_statements: StatementCounter, rows: str
    ) -> None:
        # given: time of a viewer who sees only their own, and of an employee hidden from them, under a supervisor
        viewer = await factory.employee(role=await factory.role(visibility=EmployeeVisibility.OWN))
        hidden = await factory.employee(name="Xanthippe Quillfeather", supervisor=viewer)
        for n, employee in enumerate([viewer, hidden]):
            await write(
                client,
                billing.admin,
                case=billing.case,
                activity=billing.activity,
                minutes=42 + n,
                employeeId=ids.encode("Employee", employee.id),
            )
        query = "query($groupBy: [ReportDimension!]!) { timeReport(filter: {}, groupBy: $groupBy) { " + rows + " } }"
        variables = {"groupBy": ["EMPLOYEE", "CASE"]}
        for token in (await factory.token(viewer), billing.admin):
            # when
            before = sql_statements.count
            written = await gql(client, query, variables, token=token)
            written_statements = report_statements(sql_statements, before)
            before = sql_statements.count
            built = await gql(client, query.replace("rows {", "rows @include(if: true) {"), variables, token=token)
            built_statements = report_statements(sql_statements, before)
            # then
            assert "errors" not in written, written
            assert written == built
            assert len(written["data"]["timeReport"]["rows"]) == 2
            assert [("string_agg" in s) for s in written_statements] == [True]
            assert [("string_agg" in s) for s in built_statements] == [False]

    @pytest.mark.parametrize(
        "rows",
        [
            "rows { minutes case { code capUsage { kind } } }",  # a field only Python answers
            "rows { minutes employee { name activityRates { rate } } }",
            "rows { minutes debtor { cases(first: 1) { totalCount } } }",
            "rows { minutes } again: rows { amount }",  # the rows twice
        ],
    )
    async def test_other_selections_are_built_as_objects(
        self, client: httpx.AsyncClient, billing: Billing, sql_statements: StatementCounter, rows: str
    ) -> None:
        # given
        await write(client, billing.admin, case=billing.case, activity=billing.activity, minutes=42)
        query = "query($groupBy: [ReportDimension!]!) { timeReport(filter: {}, groupBy: $groupBy) { " + rows + " } }"
        # when
        before = sql_statements.count
        body = await gql(client, query, {"groupBy": ["EMPLOYEE", "CASE"]}, token=billing.admin)
        # then
        assert "errors" not in body, body
        assert body["data"]["timeReport"]["rows"][0]["minutes"] == 42
        assert [("string_agg" in s) for s in report_statements(sql_statements, before)] == [False]

    async def test_a_count_beyond_int_goes_the_object_way(
        self,
        client: httpx.AsyncClient,
        billing: Billing,
        sql_statements: StatementCounter,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        # given: Int's bound lowered below the report's total, so the written rows are set aside
        await write(client, billing.admin, case=billing.case, activity=billing.activity, minutes=42)
        monkeypatch.setattr("api.report.schema.GRAPHQL_MAX_INT", 41)
        query = "query { timeReport(filter: {}, groupBy: [CASE]) { rows { case { code } minutes } totalMinutes } }"
        # when
        before = sql_statements.count
        body = await gql(client, query, token=billing.admin)
        # then: the object way answered, after the written one
        assert body["data"]["timeReport"] == {
            "rows": [{"case": {"code": billing.case.code}, "minutes": 42}],
            "totalMinutes": 42,
        }
        assert [("string_agg" in s) for s in report_statements(sql_statements, before)] == [True, False]

    async def test_an_error_elsewhere_builds_them_as_objects(
        self, client: httpx.AsyncClient, billing: Billing, sql_statements: StatementCounter
    ) -> None:
        # given: a refused page size fails the planned run, and graphql-core answers the request again
        await write(client, billing.admin, case=billing.case, activity=billing.activity, minutes=42)
        query = """query($id: ID!) { timeReport(filter: {}, groupBy: [CASE]) { rows { case { code } minutes } }
                     node(id: $id) { ... on Case { timeList(first: -1) { totalCount } } } }"""
        # when
        before = sql_statements.count
        body = await gql(client, query, {"id": ids.encode("Case", billing.case.id)}, token=billing.clerk)
        # then
        assert error_codes(body) == ["VALIDATION"]
        assert body["data"]["node"] is None
        assert body["data"]["timeReport"]["rows"] == [{"case": {"code": billing.case.code}, "minutes": 42}]
        assert [("string_agg" in s) for s in report_statements(sql_statements, before)] == [True, False]


def totals_statements(counter: StatementCounter, since: int) -> list[str]:
    return [s for s in counter.statements[since:] if "case_year_totals" in s]


class TestCapUsage:
    async def test_null_without_a_cap(self, client: httpx.AsyncClient, billing: Billing) -> None:
        # when
        body = await gql(client, CAP_USAGE, {"id": ids.encode("Case", billing.case.id)}, token=billing.clerk)
        # then
        assert body["data"]["node"] == {"capUsage": None}

    async def test_book_year_follows_the_start_month(
        self, client: httpx.AsyncClient, factory: Factory, billing: Billing
    ) -> None:
        # given
        await gql(client, SETTINGS, {"month": 4}, token=billing.admin)
        capped = await factory.case(debtor=billing.debtor, max_per_book_year=CapKind.TIME, max_minutes=100)
        for day in ("2026-03-31", "2026-04-01", "2027-03-31"):
            await write(client, billing.admin, case=capped, activity=billing.activity, minutes=30, day=day)
        # when
        body = await gql(
            client, CAP_USAGE, {"id": ids.encode("Case", capped.id), "date": "2026-11-02"}, token=billing.clerk
        )
        # then
        assert body["data"]["node"]["capUsage"] == {
            "kind": "TIME",
            "basis": "BILLABLE",
            "bookYearStart": "2026-04-01",
            "bookYearEnd": "2027-03-31",
            "limitMinutes": 100,
            "usedMinutes": 60,
            "availableMinutes": 40,
        }

    async def test_a_page_of_cases_answers_as_each_case_alone(
        self, client: httpx.AsyncClient, factory: Factory, session: AsyncSession, billing: Billing
    ) -> None:
        # given: a debtor's cases with each kind of maximum and one without, with time in 2025 and today
        debtor = await factory.debtor()
        by_time = await factory.case(debtor=debtor, code="A-TIME", max_per_book_year=CapKind.TIME, max_minutes=100)
        by_amount = await factory.case(
            debtor=debtor, code="B-AMOUNT", max_per_book_year=CapKind.AMOUNT, max_amount=Decimal("80.00")
        )
        non_billable = await factory.case(
            debtor=debtor,
            code="C-N",
            max_per_book_year=CapKind.TIME,
            max_minutes=50,
            max_based_on=CapBasis.NON_BILLABLE,
        )
        uncapped = await factory.case(debtor=debtor, code="D-NONE")
        today = company.today(await company.get(session)).isoformat()
        for case, minutes, day, extra in (
            (by_time, 30, "2025-06-01", {}),
            (by_time, 20, today, {}),
            (by_amount, 45, "2025-06-01", {}),
            (non_billable, 15, "2025-06-01", {"status": "NON_BILLABLE"}),
            (non_billable, 10, "2025-06-01", {}),  # billable: not counted against an N maximum
            (uncapped, 60, "2025-06-01", {}),
        ):
            await write(client, billing.admin, case=case, activity=billing.activity, minutes=minutes, day=day, **extra)
        variables = {"id": ids.encode("Debtor", debtor.id), "date": "2025-06-01"}
        # when
        page = await gql(client, PAGE_USAGES, variables, token=billing.clerk)
        alone = [
            await gql(
                client, CASE_USAGES, {"id": ids.encode("Case", case.id), "date": "2025-06-01"}, token=billing.clerk
            )
            for case in (by_time, by_amount, non_billable, uncapped)
        ]
        # then: the same fields, case by case, for the day given and for today
        assert "errors" not in page, page
        nodes = [edge["node"] for edge in page["data"]["node"]["cases"]["edges"]]
        assert nodes == [body["data"]["node"] for body in alone]
        time_usage, amount_usage, n_usage, no_usage = nodes
        assert time_usage["dated"] == {
            "kind": "TIME",
            "basis": "BILLABLE",
            "bookYearStart": "2025-01-01",
            "bookYearEnd": "2025-12-31",
            "limitMinutes": 100,
            "limitAmount": None,
            "usedMinutes": 30,
            "usedAmount": "30.00",
            "availableMinutes": 70,
            "availableAmount": None,
        }
        assert (time_usage["today"]["usedMinutes"], time_usage["today"]["availableMinutes"]) == (20, 80)
        assert time_usage["today"]["bookYearStart"] <= today <= time_usage["today"]["bookYearEnd"]
        assert (amount_usage["dated"]["usedAmount"], amount_usage["dated"]["availableAmount"]) == ("45.00", "35.00")
        assert (amount_usage["dated"]["limitMinutes"], amount_usage["today"]["usedAmount"]) == (None, "0.00")
        assert (n_usage["dated"]["basis"], n_usage["dated"]["usedMinutes"]) == ("NON_BILLABLE", 15)
        assert no_usage == {"id": ids.encode("Case", uncapped.id), "dated": None, "today": None}

    async def test_a_page_reads_its_usage_in_the_same_statements_however_many_cases(
        self, client: httpx.AsyncClient, factory: Factory, billing: Billing, sql_statements: StatementCounter
    ) -> None:
        # given: a debtor of two capped cases and one of six, with time on each
        async def debtor_with(capped: int) -> str:
            debtor = await factory.debtor()
            for n in range(capped):
                case = await factory.case(debtor=debtor, max_per_book_year=CapKind.TIME, max_minutes=100 + n)
                await write(client, billing.admin, case=case, activity=billing.activity, minutes=10 + n)
            await factory.case(debtor=debtor)  # without a maximum
            return ids.encode("Debtor", debtor.id)

        few, many = await debtor_with(2), await debtor_with(6)
        counts, totals_reads = [], []
        # when
        for debtor_id in (few, many):
            before = sql_statements.count
            body = await gql(client, PAGE_USAGES, {"id": debtor_id, "date": "2026-11-02"}, token=billing.clerk)
            counts.append(sql_statements.count - before)
            totals_reads.append(len(totals_statements(sql_statements, before)))
            # then
            assert "errors" not in body, body
            used = [edge["node"]["dated"] for edge in body["data"]["node"]["cases"]["edges"]]
            assert sorted(u["usedMinutes"] for u in used if u) == list(range(10, 10 + len(used) - 1))
        # then: both the dated and today's usage of every case came from one read of the totals
        assert counts[0] == counts[1]
        assert totals_reads == [1, 1]

    async def test_each_mutation_of_a_request_reads_the_usage_its_write_left(
        self, client: httpx.AsyncClient, factory: Factory, billing: Billing
    ) -> None:
        # given: two writes on one capped case in one request, each asking the same usage after its write
        capped = await factory.case(debtor=billing.debtor, max_per_book_year=CapKind.TIME, max_minutes=100)
        entry = {
            "caseId": ids.encode("Case", capped.id),
            "activityId": ids.encode("Activity", billing.activity.id),
            "workDate": "2026-11-02",
        }
        usage = 'timeEntry { case { capUsage(date: "2026-11-02") { usedMinutes } } } userErrors { code }'
        mutation = (
            "mutation($a: TimeEntryInput!, $b: TimeEntryInput!) { a: createTimeEntry(input: $a) { "
            + usage
            + " } b: createTimeEntry(input: $b) { "
            + usage
            + " } }"
        )
        # when
        body = await gql(
            client, mutation, {"a": {**entry, "minutes": 30}, "b": {**entry, "minutes": 20}}, token=billing.admin
        )
        # then: the second payload sees both writes, not the usage read for the first
        assert "errors" not in body, body
        used = [body["data"][name]["timeEntry"]["case"]["capUsage"]["usedMinutes"] for name in ("a", "b")]
        assert used == [30, 50]


class TestInvoicesHiddenFromOtherRoles:
    """SPEC 5a: invoices are visible to canInvoice roles and administrators only, by every path."""

    async def test_time_entry_invoice_and_node_are_null_without_can_invoice(
        self, client: httpx.AsyncClient, factory: Factory, billing: Billing
    ) -> None:
        # given: the clerk's own entry, invoiced by billing
        clerk_entry = await write(client, billing.clerk, case=billing.case, activity=billing.activity)
        entry_id = clerk_entry["timeEntry"]["id"]
        created = await gql(client, CREATE_INVOICE, invoice_input(billing.debtor), token=billing.biller)
        invoice = created["data"]["createInvoice"]["invoice"]
        entries_of_invoice = """query($id: ID!) { node(id: $id) { ... on TimeEntry { status
          invoice { number total timeEntries { edges { node { id } } } } } } }"""
        listing = """{ timeEntries(first: 5) { edges { node { status invoice { number } } } } }"""
        # when
        as_clerk = await gql(client, entries_of_invoice, {"id": entry_id}, token=billing.clerk)
        listed_as_clerk = await gql(client, listing, token=billing.clerk)
        node_as_clerk = await gql(
            client, "query($id: ID!) { node(id: $id) { id } }", {"id": invoice["id"]}, token=billing.clerk
        )
        as_biller = await gql(client, entries_of_invoice, {"id": entry_id}, token=billing.biller)
        # then: the status still shows, the invoice does not
        assert as_clerk == {"data": {"node": {"status": "INVOICED", "invoice": None}}}
        assert listed_as_clerk["data"]["timeEntries"]["edges"] == [{"node": {"status": "INVOICED", "invoice": None}}]
        assert node_as_clerk == {"data": {"node": None}}
        assert as_biller["data"]["node"]["invoice"]["number"] == invoice["number"]
        assert as_biller["data"]["node"]["invoice"]["timeEntries"]["edges"] == [{"node": {"id": entry_id}}]
