"""Browsers on another origin (SPEC 12): the exact origins of CORS_ORIGINS may call the API, with a preflight for
POST with Authorization and Content-Type; any other origin, and every origin when none is configured, gets no
CORS header at all, so its browser keeps the answer from the page."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from edge.app import create_app
from edge.browser import CORS_MAX_AGE_S
from settings import Config
from tests.conftest import TEST_CONFIG

ALLOWED = "https://app.example.com"
OTHER = "https://evil.example.net"
TYPENAME = {"query": "{ __typename }"}


def _preflight(origin: str, headers: str = "authorization, content-type") -> dict[str, str]:
    return {"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": headers}


def _listed(value: str | None) -> set[str]:
    return {item.strip().lower() for item in (value or "").split(",") if item.strip()}


def _cors_headers(response: httpx.Response) -> dict[str, str]:
    return {name: value for name, value in response.headers.items() if name.lower().startswith("access-control-")}


async def _client(sessionmaker: async_sessionmaker[AsyncSession], config: Config) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(config, sessionmaker=sessionmaker))
    async with httpx.AsyncClient(transport=transport, base_url="http://casetime.test") as client:
        yield client


@pytest.fixture
async def cors_client(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[httpx.AsyncClient]:
    config = dataclasses.replace(TEST_CONFIG, cors_origins=(ALLOWED, "http://localhost:5173"))
    async for client in _client(sessionmaker, config):
        yield client


@pytest.fixture
async def same_origin_client(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(sessionmaker, dataclasses.replace(TEST_CONFIG, cors_origins=())):
        yield client


class TestPreflight:
    async def test_an_allowed_origin_may_post_with_authorization_and_content_type(
        self, cors_client: httpx.AsyncClient
    ) -> None:
        # when
        response = await cors_client.options("/graphql", headers=_preflight(ALLOWED))
        # then
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == ALLOWED
        assert "post" in _listed(response.headers.get("access-control-allow-methods"))
        allowed_headers = _listed(response.headers.get("access-control-allow-headers"))
        assert {"authorization", "content-type", "x-request-id"} <= allowed_headers
        assert response.headers["access-control-max-age"] == str(CORS_MAX_AGE_S)
        assert "access-control-allow-credentials" not in response.headers

    async def test_a_refused_origin_gets_no_allow_origin(self, cors_client: httpx.AsyncClient) -> None:
        # when
        response = await cors_client.options("/graphql", headers=_preflight(OTHER))
        # then: nothing a browser would read as permission, never a wildcard
        assert response.status_code == 400
        assert "access-control-allow-origin" not in response.headers

    async def test_an_origin_differing_only_in_scheme_or_port_is_refused(self, cors_client: httpx.AsyncClient) -> None:
        for near_miss in ("http://app.example.com", "https://app.example.com:8443", "http://localhost:5174"):
            # when
            response = await cors_client.options("/graphql", headers=_preflight(near_miss))
            # then
            assert response.status_code == 400, near_miss
            assert "access-control-allow-origin" not in response.headers

    async def test_a_header_outside_the_list_is_refused(self, cors_client: httpx.AsyncClient) -> None:
        response = await cors_client.options("/graphql", headers=_preflight(ALLOWED, "authorization, x-debug"))
        assert response.status_code == 400


class TestActualRequest:
    async def test_an_allowed_origin_may_read_the_answer_and_its_request_id(
        self, cors_client: httpx.AsyncClient
    ) -> None:
        # when
        response = await cors_client.post("/graphql", json=TYPENAME, headers={"Origin": ALLOWED})
        # then
        assert response.json() == {"data": {"__typename": "Query"}}
        assert response.headers["access-control-allow-origin"] == ALLOWED
        assert "x-request-id" in _listed(response.headers.get("access-control-expose-headers"))
        assert "origin" in _listed(response.headers.get("vary"))
        assert "access-control-allow-credentials" not in response.headers

    async def test_another_origin_gets_no_allow_origin(self, cors_client: httpx.AsyncClient) -> None:
        # when
        response = await cors_client.post("/graphql", json=TYPENAME, headers={"Origin": OTHER})
        # then: answered (CORS is the browser's to enforce), but its browser keeps it from the page
        assert "access-control-allow-origin" not in response.headers
        assert "origin" in _listed(response.headers.get("vary"))

    async def test_a_refusal_below_cors_still_reaches_an_allowed_page(self, cors_client: httpx.AsyncClient) -> None:
        # when: refused by the body check, after CORS has seen the request
        response = await cors_client.post(
            "/graphql", content=b"query=x", headers={"Origin": ALLOWED, "Content-Type": "text/plain"}
        )
        # then: the page can read why
        assert response.status_code == 415
        assert response.headers["access-control-allow-origin"] == ALLOWED


class TestSameOriginOnly:
    async def test_no_origins_configured_means_no_cors_headers_on_a_preflight(
        self, same_origin_client: httpx.AsyncClient
    ) -> None:
        # when
        response = await same_origin_client.options("/graphql", headers=_preflight(ALLOWED))
        # then
        assert response.status_code >= 400
        assert _cors_headers(response) == {}

    async def test_no_origins_configured_means_no_cors_headers_on_a_post(
        self, same_origin_client: httpx.AsyncClient
    ) -> None:
        # when
        response = await same_origin_client.post("/graphql", json=TYPENAME, headers={"Origin": ALLOWED})
        # then
        assert response.json() == {"data": {"__typename": "Query"}}
        assert _cors_headers(response) == {}
