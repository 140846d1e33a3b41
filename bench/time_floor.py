"""The floor of the case time page: bare Starlette + asyncpg answering `bench.time_bench`'s query.

`uvicorn bench.time_floor:app` with DATABASE_URL set. Like the app it reads the JSON body, looks the
bearer token up, then runs one SQL joining entry, employee and activity (the case's keyset order,
`LIMIT 51`) and writes the app's JSON with orjson: the cost of HTTP + the SQL, without GraphQL,
SQLAlchemy or the object mapping. The variables `id` (a Case global ID) and `after` (a cursor over
[work_date, id], as graph/pagination.py encodes it) pick the page; the query text is not parsed.
"""

from __future__ import annotations

import base64
import datetime
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from bench.floor import PoolFloor, cursor, global_id, json_response, unauthenticated

PAGE = 50

_SELECT = """
SELECT t.id, t.work_date, t.minutes, t.amount, e.name AS employee_name, a.name AS activity_name
FROM time_entries AS t
JOIN employees AS e ON e.id = t.employee_id
JOIN activities AS a ON a.id = t.activity_id
WHERE t.case_id = $1{after}
ORDER BY t.work_date DESC, t.id DESC LIMIT {limit}
"""
FIRST_PAGE_SQL = _SELECT.format(after="", limit=PAGE + 1)
AFTER_SQL = _SELECT.format(after=" AND (t.work_date, t.id) < ($2, $3)", limit=PAGE + 1)


def _case_id(global_id: object) -> int | None:
    if not isinstance(global_id, str):
        return None
    raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
    type_name, _, number = raw.partition(":")
    return int(number) if type_name == "Case" and number.isdigit() else None


def _after(value: object) -> tuple[datetime.date, int] | None:
    if not isinstance(value, str):
        return None
    day, entry_id = orjson.loads(base64.urlsafe_b64decode(value.encode()))
    return datetime.date.fromisoformat(day["d"]), int(entry_id)


def page_json(rows: list[Any]) -> dict[str, Any]:
    edges = [
        {
            "cursor": cursor(r["work_date"], r["id"]),
            "node": {
                "id": global_id("TimeEntry", r["id"]),
                "workDate": r["work_date"].isoformat(),
                "minutes": r["minutes"],
                "amount": f"{r['amount']:.2f}",
                "employee": {"name": r["employee_name"]},
                "activity": {"name": r["activity_name"]},
            },
        }
        for r in rows[:PAGE]
    ]
    return {"data": {"node": {"timeList": {"edges": edges}}}}


class TimeFloor(PoolFloor):
    async def graphql(self, request: Request) -> Response:
        payload = orjson.loads(await request.body())
        variables = (payload.get("variables") or {}) if isinstance(payload, dict) else {}
        case_id = _case_id(variables.get("id"))
        if case_id is None:
            return json_response({"errors": [{"message": "The floor answers only the case time page"}]}, 400)
        after = _after(variables.get("after"))
        async with self.authenticated(request) as connection:
            if connection is None:
                return unauthenticated()
            if after is None:
                rows = await connection.fetch(FIRST_PAGE_SQL, case_id)
            else:
                rows = await connection.fetch(AFTER_SQL, case_id, *after)
        return json_response(page_json(rows))


app = TimeFloor().app()
