from __future__ import annotations

from decimal import Decimal

import httpx

from graph import ids
from models import CapKind
from tests.factories import Factory, gql

CREATE = """mutation($input: TimeEntryInput!) {
  createTimeEntry(input: $input) { timeEntry { id } overLimitEntry { id } userErrors { code } }
}"""
INVOICE = """mutation($debtor: ID!) {
  createInvoice(input: {debtorId: $debtor, invoiceDate: "2026-11-30"}) {
    invoice { id number total voided lines { minutes rate amount activity { code } case { code } }
              timeEntries { totalCount edges { node { status invoice { number } } } } }
    userErrors { code }
  }
}"""
VOID = "mutation($id: ID!) { voidInvoice(id: $id) { invoice { voided number } userErrors { code } } }"
RELEASE = """mutation($ids: [ID!]!) { releaseOverLimit(ids: $ids, status: BILLABLE) {
  timeEntries { status version } userErrors { code } } }"""
REPORT = """query($case: ID!) {
  timeReport(filter: {caseIds: [$case]}, groupBy: [STATUS, MONTH]) {
    rows { status period minutes amount billableMinutes entryCount } totalMinutes totalAmount
  }
  node(id: $case) { ... on Case { capUsage(date: "2026-11-02") { kind limitMinutes usedMinutes availableMinutes
    bookYearStart bookYearEnd } } }
}"""


async def test_invoice_void_release_report(client: httpx.AsyncClient, factory: Factory) -> None:
    # given
    _, token = await factory.admin()
    activity = await factory.activity(default_rate=Decimal("60.00"))
    case = await factory.case(max_per_book_year=CapKind.TIME, max_minutes=100)
    case_id = ids.encode("Case", case.id)
    entry = {
        "caseId": case_id,
        "activityId": ids.encode("Activity", activity.id),
        "workDate": "2026-11-02",
        "minutes": 80,
    }
    await gql(client, CREATE, {"input": entry}, token=token)
    split = await gql(client, CREATE, {"input": entry}, token=token)
    line_id = split["data"]["createTimeEntry"]["overLimitEntry"]["id"]
    debtor_id = ids.encode("Debtor", case.debtor_id)
    # when
    invoiced = await gql(client, INVOICE, {"debtor": debtor_id}, token=token)
    report = await gql(client, REPORT, {"case": case_id}, token=token)
    voided = await gql(client, VOID, {"id": invoiced["data"]["createInvoice"]["invoice"]["id"]}, token=token)
    again = await gql(client, INVOICE, {"debtor": debtor_id}, token=token)
    released = await gql(client, RELEASE, {"ids": [line_id]}, token=token)
    # then
    invoice = invoiced["data"]["createInvoice"]["invoice"]
    assert invoice["total"] == "100.00"
    assert invoice["lines"] == [
        {
            "minutes": 100,
            "rate": "60.00",
            "amount": "100.00",
            "activity": {"code": activity.code},
            "case": {"code": case.code},
        }
    ]
    assert invoice["timeEntries"]["totalCount"] == 2
    assert {e["node"]["status"] for e in invoice["timeEntries"]["edges"]} == {"INVOICED"}
    rows = report["data"]["timeReport"]["rows"]
    assert {(r["status"], r["minutes"]) for r in rows} == {("INVOICED", 100), ("OVER_LIMIT", 60)}
    assert report["data"]["timeReport"]["totalMinutes"] == 160
    usage = report["data"]["node"]["capUsage"]
    assert usage == {
        "kind": "TIME",
        "limitMinutes": 100,
        "usedMinutes": 100,
        "availableMinutes": 0,
        "bookYearStart": "2026-01-01",
        "bookYearEnd": "2026-12-31",
    }
    assert voided["data"]["voidInvoice"]["invoice"]["voided"] is True
    second = again["data"]["createInvoice"]["invoice"]["number"]
    assert int(second[-6:]) == int(invoice["number"][-6:]) + 1
    assert released["data"]["releaseOverLimit"]["timeEntries"][0]["status"] == "BILLABLE"
