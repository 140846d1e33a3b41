"""The HTTP edge refuses what no frontend sends (SPEC 12): oversized headers, repeated JSON keys, bodies that are
not JSON (what another site's form could post), each before anything runs."""

from __future__ import annotations

import httpx
import orjson
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from edge.http import MAX_HEADERS
from models import Debtor
from tests.factories import Factory

CREATE_DEBTOR = 'mutation { createDebtor(input: {code: "CSRF", name: "Forged"}) { debtor { id } userErrors { code } } }'


async def _debtors(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(Debtor)) or 0


class TestHeaders:
    async def test_headers_over_16_kb_in_all_get_431(self, client: httpx.AsyncClient) -> None:
        # given: many headers each small, over the limit only together
        headers = {f"x-filler-{i}": "x" * 1000 for i in range(17)}
        # when
        response = await client.post("/graphql", json={"query": "{ __typename }"}, headers=headers)
        # then
        assert response.status_code == 431
        assert response.json()["errors"][0]["extensions"]["code"] == "HEADERS_TOO_LARGE"

    async def test_thousands_of_tiny_headers_count_as_sent(self, client: httpx.AsyncClient) -> None:
        # given: 2,000 headers of a few bytes each, ~21 KB on the wire
        headers = [(f"x-{i}", "1") for i in range(2000)]
        # when
        response = await client.post("/graphql", json={"query": "{ __typename }"}, headers=headers)
        # then
        assert response.status_code == 431

    async def test_headers_just_under_the_limit_are_served(self, client: httpx.AsyncClient) -> None:
        headers = {"x-filler": "x" * (MAX_HEADERS - 1000)}
        response = await client.post("/graphql", json={"query": "{ __typename }"}, headers=headers)
        assert response.status_code == 200
        assert response.json() == {"data": {"__typename": "Query"}}


class TestBody:
    async def test_a_repeated_json_key_is_bad_request_and_runs_nothing(
        self, client: httpx.AsyncClient, session: AsyncSession, factory: Factory
    ) -> None:
        # given: two readers of this body could disagree on which query it carries
        _, token = await factory.admin()
        before = await _debtors(session)
        body = '{"query": "{ __typename }", "query": ' + orjson.dumps(CREATE_DEBTOR).decode() + "}"
        # when
        response = await client.post(
            "/graphql",
            content=body.encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        # then
        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
        assert await _debtors(session) == before

    async def test_a_repeated_key_in_variables_is_refused_too(self, client: httpx.AsyncClient) -> None:
        body = b'{"query": "query($a: Int) { __typename }", "variables": {"a": 1, "a": 2}}'
        response = await client.post("/graphql", content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 400

    @pytest.mark.parametrize(("opening", "closing"), [('{"a":', "}"), ("[", "]")])
    async def test_a_body_nested_too_deeply_to_check_is_bad_request(
        self, client: httpx.AsyncClient, opening: str, closing: str
    ) -> None:
        # given: nesting orjson reads (up to 1,024 levels) but too deep to look through for repeated keys
        depth = 1000
        body = '{"query": "{ __typename }", "variables": {"x": ' + opening * depth + "1" + closing * depth + "}}"
        # when
        response = await client.post("/graphql", content=body.encode(), headers={"Content-Type": "application/json"})
        # then
        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"

    async def test_the_same_key_in_two_objects_is_fine(self, client: httpx.AsyncClient) -> None:
        query = "query($a: Boolean!) { __typename @include(if: $a) }"
        body = orjson.dumps({"query": query, "variables": {"a": True}, "extensions": {"a": 2}})
        response = await client.post("/graphql", content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 200
        assert response.json() == {"data": {"__typename": "Query"}}

    @pytest.mark.parametrize(
        ("content_type", "content"),
        [
            ("text/plain", orjson.dumps({"query": CREATE_DEBTOR}).decode()),
            ("application/x-www-form-urlencoded", f"query={CREATE_DEBTOR}"),
            (
                "multipart/form-data; boundary=x",
                f'--x\r\nContent-Disposition: form-data; name="query"\r\n\r\n{CREATE_DEBTOR}\r\n--x--\r\n',
            ),
            (None, '{"query": "{ __typename }"}'),
        ],
    )
    async def test_posts_that_are_not_json_run_nothing(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        factory: Factory,
        content_type: str | None,
        content: str,
    ) -> None:
        # given: what a page on another site can post without a preflight, with the victim's credentials
        _, token = await factory.admin()
        before = await _debtors(session)
        headers = {"Authorization": f"Bearer {token}"}
        if content_type:
            headers["Content-Type"] = content_type
        # when
        response = await client.post("/graphql", content=content.encode(), headers=headers)
        # then
        assert response.status_code == 415
        assert response.json()["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
        assert await _debtors(session) == before

    @pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/graphql-response+json"])
    async def test_json_media_types_are_served(self, client: httpx.AsyncClient, content_type: str) -> None:
        response = await client.post(
            "/graphql", content=b'{"query": "{ __typename }"}', headers={"Content-Type": content_type}
        )
        assert response.status_code == 200
        assert response.json() == {"data": {"__typename": "Query"}}
