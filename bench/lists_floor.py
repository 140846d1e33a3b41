"""The floor of every list page: bare Starlette + asyncpg answering `bench.lists_bench`'s eight documents.

`uvicorn bench.lists_floor:app` with DATABASE_URL set. Like the app it reads the JSON body and looks the bearer token
up; then it runs ONE statement for the list the body's `operationName` names (the page's joins, the app's keyset
order, `LIMIT 51`, the total as an uncorrelated subquery on every row) and writes the app's JSON with orjson, IDs and
cursors encoded as graph/ids.py and graph/pagination.py do. The query text is not parsed; `variables.id` is the
global ID of the parent (Case, Debtor or Invoice) of the nested lists.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from bench.floor import PoolFloor, cursor, global_id, json_response, unauthenticated

PAGE = 50
LIMIT = PAGE + 1  # one more than the page tells hasNextPage

STATUS = {"J": "BILLABLE", "F": "INVOICED", "N": "NON_BILLABLE", "L": "OVER_LIMIT"}

_ENTRY_COLUMNS = """
t.id, t.work_date, t.minutes, t.amount, t.status, t.description,
e.name AS employee_name, a.name AS activity_name, c.code AS case_code
"""
_ENTRY_JOINS = """
JOIN employees AS e ON e.id = t.employee_id
JOIN activities AS a ON a.id = t.activity_id
LEFT JOIN cases AS c ON c.id = t.case_id
"""
_CASE_SELECT = """
SELECT c.id, c.code, c.description, c.blocked, c.max_per_book_year, d.code AS debtor_code, d.name AS debtor_name,
       (SELECT count(*) FROM cases AS k WHERE NOT k.blocked{count_where}) AS total
FROM cases AS c JOIN debtors AS d ON d.id = c.debtor_id
WHERE NOT c.blocked{where}
ORDER BY c.code, c.id LIMIT {limit}
"""


def _money(value: Any) -> str | None:
    return None if value is None else f"{value:.2f}"


def entry_node(r: Any) -> dict[str, Any]:
    """A time entry of `timeEntries` and `Invoice.timeEntries`."""
    return {
        "id": global_id("TimeEntry", r["id"]),
        "workDate": r["work_date"].isoformat(),
        "minutes": r["minutes"],
        "amount": _money(r["amount"]),
        "status": STATUS[r["status"]],
        "employee": {"name": r["employee_name"]},
        "activity": {"name": r["activity_name"]},
        "case": None if r["case_code"] is None else {"code": r["case_code"]},
    }


def case_entry_node(r: Any) -> dict[str, Any]:
    """A time entry of `Case.timeList`: its description in place of the case the list belongs to."""
    node = entry_node(r)
    del node["case"]
    node["description"] = r["description"]
    return node


def case_node(r: Any) -> dict[str, Any]:
    return {
        "id": global_id("Case", r["id"]),
        "code": r["code"],
        "description": r["description"],
        "blocked": r["blocked"],
        "maxPerBookYear": r["max_per_book_year"],
        "debtor": {"code": r["debtor_code"], "name": r["debtor_name"]},
    }


def employee_node(r: Any) -> dict[str, Any]:
    return {
        "id": global_id("Employee", r["id"]),
        "name": r["name"],
        "email": r["email"],
        "active": r["active"],
        "defaultRate": _money(r["default_rate"]),
        "role": {"name": r["role_name"]},
    }


def debtor_node(r: Any) -> dict[str, Any]:
    return {
        "id": global_id("Debtor", r["id"]),
        "code": r["code"],
        "name": r["name"],
        "adjustedRate": _money(r["adjusted_rate"]),
    }


def invoice_node(r: Any) -> dict[str, Any]:
    return {
        "id": global_id("Invoice", r["id"]),
        "number": r["number"],
        "invoiceDate": r["invoice_date"].isoformat(),
        "total": _money(r["total"]),
        "voided": r["voided"],
        "debtor": {"code": r["debtor_code"], "name": r["debtor_name"]},
    }


@dataclass(frozen=True)
class ListPage:
    """One list: its statement, where its connection sits in the answer, and how a row becomes a node and a key."""

    path: tuple[str, ...]  # from `data` down to the connection
    sql: str
    node: Callable[[Any], dict[str, Any]]
    key: Callable[[Any], tuple[Any, ...]]
    parent: str | None = None  # the type of `variables.id`, passed to the statement as $1
    total: str | None = "total"  # the column holding totalCount; None when the document does not ask for it

    def answer(self, rows: list[Any]) -> dict[str, Any]:
        edges = [{"cursor": cursor(*self.key(r)), "node": self.node(r)} for r in rows[:PAGE]]
        connection: dict[str, Any] = {}
        if self.total is not None:
            connection["totalCount"] = rows[0][self.total] if rows else 0
        connection["pageInfo"] = {"hasNextPage": len(rows) > PAGE, "endCursor": edges[-1]["cursor"] if edges else None}
        connection["edges"] = edges
        for name in reversed(self.path):
            connection = {name: connection}
        return {"data": connection}


def _by_date(r: Any) -> tuple[Any, ...]:
    return (r["work_date"], r["id"])


def _by_code(r: Any) -> tuple[Any, ...]:
    return (r["code"], r["id"])


def _by_id(r: Any) -> tuple[Any, ...]:
    return (r["id"],)


# keyed by the operation name of bench.lists_bench's documents
LISTS: dict[str, ListPage] = {
    "CaseTimeList": ListPage(
        path=("node", "timeList"),
        parent="Case",
        sql=f"""
SELECT {_ENTRY_COLUMNS}, (SELECT time_entry_count FROM cases WHERE id = $1) AS total
FROM time_entries AS t {_ENTRY_JOINS}
WHERE t.case_id = $1
ORDER BY t.work_date DESC, t.id DESC LIMIT {LIMIT}
""",
        node=case_entry_node,
        key=_by_date,
    ),
    "TimeEntries": ListPage(
        path=("timeEntries",),
        total=None,
        sql=f"""
SELECT {_ENTRY_COLUMNS}
FROM time_entries AS t {_ENTRY_JOINS}
ORDER BY t.work_date DESC, t.id DESC LIMIT {LIMIT}
""",
        node=entry_node,
        key=_by_date,
    ),
    "Cases": ListPage(
        path=("cases",),
        sql=_CASE_SELECT.format(count_where="", where="", limit=LIMIT),
        node=case_node,
        key=_by_code,
    ),
    "DebtorCases": ListPage(
        path=("node", "cases"),
        parent="Debtor",
        sql=_CASE_SELECT.format(count_where=" AND k.debtor_id = $1", where=" AND c.debtor_id = $1", limit=LIMIT),
        node=case_node,
        key=_by_code,
    ),
    "Employees": ListPage(
        path=("employees",),
        sql=f"""
SELECT e.id, e.name, e.email, e.active, e.default_rate, r.name AS role_name,
       (SELECT count(*) FROM employees) AS total
FROM employees AS e JOIN roles AS r ON r.id = e.role_id
ORDER BY e.name, e.id LIMIT {LIMIT}
""",
        node=employee_node,
        key=lambda r: (r["name"], r["id"]),
    ),
    "Debtors": ListPage(
        path=("debtors",),
        sql=f"""
SELECT d.id, d.code, d.name, d.adjusted_rate, (SELECT count(*) FROM debtors) AS total
FROM debtors AS d
ORDER BY d.code, d.id LIMIT {LIMIT}
""",
        node=debtor_node,
        key=_by_code,
    ),
    "Invoices": ListPage(
        path=("invoices",),
        sql=f"""
SELECT i.id, i.number, i.invoice_date, i.total, i.voided, d.code AS debtor_code, d.name AS debtor_name,
       (SELECT count(*) FROM invoices) AS total_count
FROM invoices AS i JOIN debtors AS d ON d.id = i.debtor_id
ORDER BY i.id DESC LIMIT {LIMIT}
""",
        node=invoice_node,
        key=_by_id,
        total="total_count",  # `total` is the invoice's amount
    ),
    "InvoiceTimeEntries": ListPage(
        path=("node", "timeEntries"),
        parent="Invoice",
        sql=f"""
SELECT {_ENTRY_COLUMNS}, (SELECT count(*) FROM invoice_entries WHERE invoice_id = $1) AS total
FROM invoice_entries AS i JOIN time_entries AS t ON t.id = i.time_entry_id {_ENTRY_JOINS}
WHERE i.invoice_id = $1
ORDER BY t.id LIMIT {LIMIT}
""",
        node=entry_node,
        key=_by_id,
    ),
}


def parent_id(value: object, type_name: str) -> int | None:
    """The row id a global ID of `type_name` names, or None."""
    if not isinstance(value, str):
        return None
    raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    found, _, number = raw.partition(":")
    return int(number) if found == type_name and number.isdigit() else None


class ListsFloor(PoolFloor):
    async def graphql(self, request: Request) -> Response:
        payload = orjson.loads(await request.body())
        if not isinstance(payload, dict) or payload.get("operationName") not in LISTS:
            return json_response({"errors": [{"message": "The floor answers only the lists bench's documents"}]}, 400)
        page = LISTS[payload["operationName"]]
        args: list[Any] = []
        if page.parent is not None:
            db_id = parent_id((payload.get("variables") or {}).get("id"), page.parent)
            if db_id is None:
                return json_response({"errors": [{"message": f"variables.id must be a {page.parent} ID"}]}, 400)
            args.append(db_id)
        async with self.authenticated(request) as connection:
            if connection is None:
                return unauthenticated()
            rows = await connection.fetch(page.sql, *args)
        return json_response(page.answer(rows))


app = ListsFloor().app()
