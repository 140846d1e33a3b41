"""The floor: a bare Starlette + asyncpg route answering the bench queries with the app's exact JSON.

`uvicorn bench.floor:app` with DATABASE_URL set. Like the app it reads the JSON body, looks the bearer
token up (the app authenticates every request), reads the page and its total on one connection and
answers with orjson; it knows nothing else of GraphQL: the query text only picks which page to read.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

PAGE = 50

TOKEN_SQL = """
SELECT e.id, e.role_id, r.is_administrator, r.employee_visibility
FROM auth_tokens AS t JOIN employees AS e ON e.id = t.employee_id JOIN roles AS r ON r.id = e.role_id
WHERE t.token_hash = $1 AND t.expires_at > now() AND e.active
"""
EMPLOYEES_SQL = f"""
SELECT e.id, e.name, e.email, r.name AS role_name
FROM employees AS e JOIN roles AS r ON r.id = e.role_id
ORDER BY e.name, e.id LIMIT {PAGE + 1}
"""
EMPLOYEES_COUNT_SQL = "SELECT count(*) FROM employees AS e JOIN roles AS r ON r.id = e.role_id"
CASES_SQL = f"""
SELECT c.id, c.code, c.description, c.max_per_book_year, d.code AS debtor_code, d.name AS debtor_name
FROM cases AS c JOIN debtors AS d ON d.id = c.debtor_id
WHERE NOT c.blocked
ORDER BY c.code, c.id LIMIT {PAGE + 1}
"""
CASES_COUNT_SQL = "SELECT count(*) FROM cases AS c JOIN debtors AS d ON d.id = c.debtor_id WHERE NOT c.blocked"


def global_id(type_name: str, db_id: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{db_id}".encode()).decode().rstrip("=")


def _tag_date(value: object) -> Any:
    if isinstance(value, datetime.date):
        return {"d": value.isoformat()}
    raise TypeError


def cursor(*key: Any) -> str:
    """graph/pagination.py's cursor of a keyset key: dates tagged as {"d": iso}, padding kept."""
    encoded = orjson.dumps(list(key), default=_tag_date, option=orjson.OPT_PASSTHROUGH_DATETIME)
    return base64.urlsafe_b64encode(encoded).decode()


def _employees(rows: list[Any], total: int) -> dict[str, Any]:
    edges = [
        {
            "cursor": cursor(r["name"], r["id"]),
            "node": {
                "id": global_id("Employee", r["id"]),
                "name": r["name"],
                "email": r["email"],
                "role": {"name": r["role_name"]},
            },
        }
        for r in rows[:PAGE]
    ]
    return {"data": {"employees": {"totalCount": total, "edges": edges}}}


def _cases(rows: list[Any], total: int) -> dict[str, Any]:
    edges = [
        {
            "node": {
                "id": global_id("Case", r["id"]),
                "code": r["code"],
                "description": r["description"],
                "debtor": {"code": r["debtor_code"], "name": r["debtor_name"]},
                "maxPerBookYear": r["max_per_book_year"],
            }
        }
        for r in rows[:PAGE]
    ]
    return {"data": {"cases": {"totalCount": total, "edges": edges}}}


def json_response(body: dict[str, Any], status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def unauthenticated() -> Response:
    return json_response({"errors": [{"message": "Not authenticated", "extensions": {"code": "UNAUTHENTICATED"}}]})


def bearer_digest(request: Request) -> bytes | None:
    """The stored form of the request's bearer token (what the app looks up), or None without one."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return hashlib.sha256(token.strip().encode()).digest()


class PoolFloor:
    """A Starlette app over an asyncpg pool; subclasses answer `/graphql`."""

    def __init__(self) -> None:
        self.pool: Any = None

    async def graphql(self, request: Request) -> Response:
        raise NotImplementedError

    @asynccontextmanager
    async def authenticated(self, request: Request) -> AsyncIterator[Any]:
        """A pooled connection on which the request's bearer token was found, as the app looks it up; None when the
        request has no token or an unknown one."""
        digest = bearer_digest(request)
        if digest is None:
            yield None
            return
        async with self.pool.acquire() as connection:
            yield None if await connection.fetchrow(TOKEN_SQL, digest) is None else connection

    async def healthz(self, _: Request) -> Response:
        return json_response({"status": "ok"})

    @asynccontextmanager
    async def lifespan(self, _: Starlette) -> AsyncIterator[None]:
        self.pool = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=2, max_size=10)
        try:
            yield
        finally:
            await self.pool.close()

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/graphql", self.graphql, methods=["POST"]),
                Route("/healthz", self.healthz, methods=["GET"]),
            ],
            lifespan=self.lifespan,
        )


class Floor(PoolFloor):
    async def graphql(self, request: Request) -> Response:
        payload = orjson.loads(await request.body())
        query = payload.get("query") if isinstance(payload, dict) else None
        if not isinstance(query, str):
            return json_response({"errors": [{"message": "No query given"}]}, 400)
        async with self.authenticated(request) as connection:
            if connection is None:
                return unauthenticated()
            if "employees" in query:
                rows = await connection.fetch(EMPLOYEES_SQL)
                total = await connection.fetchval(EMPLOYEES_COUNT_SQL)
                return json_response(_employees(rows, total))
            if "cases" in query:
                rows = await connection.fetch(CASES_SQL)
                total = await connection.fetchval(CASES_COUNT_SQL)
                return json_response(_cases(rows, total))
        return json_response({"errors": [{"message": "The floor answers only the bench queries"}]}, 400)


app = Floor().app()
