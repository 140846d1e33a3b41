"""Webhooks through the API (SPEC 13): registering and changing them, with every broken rule a coded userError at
once; production's public-address rule; the secret never readable; a webhook's deliveries paged newest first, alike
whether the plan compiled them or objects answer; replaying a delivery. Gates: test_gates.py, the matrix."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from edge.app import create_app
from graph import ids
from models import DeliveryStatus, Webhook
from services import webhook_sending
from tests.conftest import TEST_CONFIG
from tests.factories import Factory, gql

SECRET = "a-secret-of-24-characters"
FIELDS = "id url eventTypes active"
CREATE = f"""mutation($input: WebhookInput!) {{ createWebhook(input: $input) {{
  webhook {{ {FIELDS} }} userErrors {{ field code message }} }} }}"""
UPDATE = f"""mutation($id: ID!, $input: WebhookInput!) {{ updateWebhook(id: $id, input: $input) {{
  webhook {{ {FIELDS} }} userErrors {{ field code message }} }} }}"""
REPLAY = """mutation($id: ID!) { replayWebhookDelivery(id: $id) {
  delivery { id eventId status attempts lastError } userErrors { field code } } }"""
LIST = f"{{ webhooks {{ {FIELDS} }} }}"
PAGE = """edges { cursor node { id eventId eventType status attempts lastError createdAt deliveredAt } }
  pageInfo { hasNextPage hasPreviousPage startCursor endCursor } totalCount"""
LISTED_PAGE = f"query($after: String) {{ webhooks {{ deliveries(first: 2, after: $after) {{ {PAGE} }} }} }}"
NODE_PAGE = f"""query($id: ID!, $after: String) {{ node(id: $id) {{ ... on Webhook {{
  deliveries(first: 2, after: $after) {{ {PAGE} }} }} }} }}"""
GOOD = {"url": "http://127.0.0.1:9/hooks", "eventTypes": ["timeEntry.created"], "secret": SECRET}


def _errors(body: dict[str, Any], field: str) -> list[tuple[tuple[str, ...], str]]:
    return sorted((tuple(e["field"] or ()), e["code"]) for e in body["data"][field]["userErrors"])


async def _create(client: httpx.AsyncClient, token: str, **given: Any) -> dict[str, Any]:
    body = await gql(client, CREATE, {"input": {**GOOD, **given}}, token=token)
    assert body["data"]["createWebhook"]["userErrors"] == [], body
    return dict(body["data"]["createWebhook"]["webhook"])


async def test_a_webhook_is_registered_and_listed_without_its_secret(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    # given
    _, token = await factory.admin()
    # when: event types out of order and repeated, active left out
    created = await _create(client, token, eventTypes=["role.changed", "timeEntry.created", "role.changed"])
    listed = await gql(client, LIST, token=token)
    raw = await client.post("/graphql", json={"query": LIST}, headers={"Authorization": f"Bearer {token}"})
    # then: kept in SPEC 13's order, once each, on; the secret is nowhere, and no field reads it
    assert created == {
        "id": created["id"],
        "url": GOOD["url"],
        "eventTypes": ["timeEntry.created", "role.changed"],
        "active": True,
    }
    assert listed["data"]["webhooks"] == [created]
    assert SECRET not in raw.text
    refused = await gql(client, "{ webhooks { secret } }", token=token)
    assert refused["errors"][0]["extensions"]["code"] == "VALIDATION"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param({"url": "ftp://example.com/x"}, [(("url",), "VALIDATION")], id="not-http"),
        pytest.param({"url": "no url at all"}, [(("url",), "VALIDATION")], id="no-url"),
        pytest.param({"url": "http://user:pw@example.com/"}, [(("url",), "VALIDATION")], id="credentials"),
        pytest.param({"url": "http://example.com:99999/"}, [(("url",), "VALIDATION")], id="port"),
        pytest.param({"url": "https://example.com/" + "a" * 2000}, [(("url",), "VALIDATION")], id="too-long"),
        pytest.param({"secret": "fifteen-chars.."}, [(("secret",), "VALIDATION")], id="short-secret"),
        pytest.param({"eventTypes": ["timeEntry.created", "time.entry"]}, [(("eventTypes",), "VALIDATION")], id="type"),
        pytest.param({"eventTypes": []}, [(("eventTypes",), "VALIDATION")], id="no-types"),
        pytest.param(
            {"url": "gopher://x", "secret": "short", "eventTypes": ["nope"]},
            [(("eventTypes",), "VALIDATION"), (("secret",), "VALIDATION"), (("url",), "VALIDATION")],
            id="all-at-once",
        ),
    ],
)
async def test_a_broken_rule_is_a_coded_user_error_and_nothing_is_written(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession, given: dict[str, Any], expected: list[Any]
) -> None:
    # given
    _, token = await factory.admin()
    # when
    body = await gql(client, CREATE, {"input": {**GOOD, **given}}, token=token)
    # then
    assert _errors(body, "createWebhook") == expected
    assert body["data"]["createWebhook"]["webhook"] is None
    assert await session.scalar(text("SELECT count(*) FROM webhooks")) == 0


async def test_a_message_never_quotes_the_secret(client: httpx.AsyncClient, factory: Factory) -> None:
    # given
    _, token = await factory.admin()
    # when
    body = await gql(client, CREATE, {"input": {**GOOD, "secret": "tiny-secret"}}, token=token)
    # then
    (error,) = body["data"]["createWebhook"]["userErrors"]
    assert "tiny-secret" not in error["message"]


async def test_a_patch_changes_only_what_it_gives_and_may_not_clear(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    # given
    _, token = await factory.admin()
    created = await _create(client, token)
    # when
    off = await gql(client, UPDATE, {"id": created["id"], "input": {"active": False}}, token=token)
    cleared = await gql(client, UPDATE, {"id": created["id"], "input": {"url": None, "active": None}}, token=token)
    unknown = await gql(client, UPDATE, {"id": ids.encode("Webhook", 2_000_000), "input": {}}, token=token)
    # then
    assert off["data"]["updateWebhook"] == {"webhook": {**created, "active": False}, "userErrors": []}
    assert _errors(cleared, "updateWebhook") == [(("active",), "VALIDATION"), (("url",), "VALIDATION")]
    assert _errors(unknown, "updateWebhook") == [(("id",), "NOT_FOUND")]


@pytest.fixture
async def production(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[httpx.AsyncClient]:
    config = dataclasses.replace(TEST_CONFIG, environment="production", database_url="postgresql://unused/x")
    transport = httpx.ASGITransport(app=create_app(config, sessionmaker=sessionmaker))
    async with httpx.AsyncClient(transport=transport, base_url="http://casetime.test") as client:
        yield client


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hooks",
        "http://localhost/hooks",
        "https://10.1.2.3/hooks",
        "http://[::1]/hooks",
        "http://[::ffff:192.168.0.1]/hooks",
        "http://169.254.169.254/latest/meta-data",
        "http://name-that-does-not-resolve.invalid/hooks",
    ],
)
async def test_in_production_only_public_addresses_may_be_reached(
    production: httpx.AsyncClient, factory: Factory, url: str
) -> None:
    # given
    _, token = await factory.admin()
    # when
    body = await gql(production, CREATE, {"input": {**GOOD, "url": url}}, token=token)
    # then
    assert _errors(body, "createWebhook") == [(("url",), "VALIDATION")]


async def test_in_production_a_public_address_is_taken_and_checked_again_on_a_new_url(
    production: httpx.AsyncClient, factory: Factory
) -> None:
    # given: an address on the internet (the rule reads addresses, it sends nothing)
    _, token = await factory.admin()
    public = "http://93.184.215.14/hooks"
    # when
    created = await gql(production, CREATE, {"input": {**GOOD, "url": public}}, token=token)
    webhook = created["data"]["createWebhook"]["webhook"]
    moved = await gql(production, UPDATE, {"id": webhook["id"], "input": {"url": GOOD["url"]}}, token=token)
    # then
    assert webhook["url"] == public
    assert _errors(moved, "updateWebhook") == [(("url",), "VALIDATION")]


async def test_outside_production_or_when_allowed_a_private_address_is_taken(
    client: httpx.AsyncClient, factory: Factory, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    # given
    _, token = await factory.admin()
    allowed = dataclasses.replace(
        TEST_CONFIG, environment="production", database_url="postgresql://unused/x", webhook_allow_private=True
    )
    transport = httpx.ASGITransport(app=create_app(allowed, sessionmaker=sessionmaker))
    # when
    async with httpx.AsyncClient(transport=transport, base_url="http://casetime.test") as allowing:
        in_production = await gql(allowing, CREATE, {"input": GOOD}, token=token)
    in_development = await gql(client, CREATE, {"input": {**GOOD, "url": "http://localhost:1/"}}, token=token)
    # then
    assert in_production["data"]["createWebhook"]["userErrors"] == []
    assert in_development["data"]["createWebhook"]["userErrors"] == []


def test_the_public_rule_reads_mapped_and_special_addresses() -> None:
    from ipaddress import ip_address

    assert [webhook_sending.public(ip_address(a)) for a in ("93.184.215.14", "2606:4700::1111")] == [True, True]
    assert not any(
        webhook_sending.public(ip_address(a))
        for a in ("127.0.0.1", "10.0.0.1", "100.64.0.1", "169.254.1.1", "::1", "fe80::1", "::ffff:10.0.0.1", "0.0.0.0")
    )


async def _deliveries(factory: Factory, webhook_id: str, count: int, **columns: Any) -> list[str]:
    """`count` deliveries to the webhook, oldest first; their global IDs."""
    webhook = await factory.session.get(Webhook, ids.decode(webhook_id, "Webhook"))
    assert webhook is not None
    return [ids.encode("WebhookDelivery", (await factory.delivery(webhook, **columns)).id) for _ in range(count)]


async def _pages(client: httpx.AsyncClient, token: str, query: str, variables: dict[str, Any]) -> list[Any]:
    pages, after = [], None
    while True:
        body = await gql(client, query, {**variables, "after": after}, token=token)
        assert "errors" not in body, body
        data = body["data"]["node"] if "node" in body["data"] else body["data"]["webhooks"][0]
        page = data["deliveries"]
        pages.append(page)
        if not page["pageInfo"]["hasNextPage"]:
            return pages
        after = page["pageInfo"]["endCursor"]


async def test_deliveries_page_newest_first_alike_compiled_or_not(client: httpx.AsyncClient, factory: Factory) -> None:
    # given: five deliveries of one webhook
    _, token = await factory.admin()
    webhook = await _create(client, token)
    made = await _deliveries(factory, webhook["id"], 5, status=DeliveryStatus.FAILED, attempts=8, last_error="HTTP 500")
    # when: page by page from the list (objects) and from node(id:) (one compiled statement)
    listed = await _pages(client, token, LISTED_PAGE, {})
    compiled = await _pages(client, token, NODE_PAGE, {"id": webhook["id"]})
    # then
    assert listed == compiled
    assert [len(p["edges"]) for p in listed] == [2, 2, 1]
    assert [e["node"]["id"] for p in listed for e in p["edges"]] == made[::-1]
    assert {p["totalCount"] for p in listed} == {5}
    first = listed[0]["edges"][0]["node"]
    assert (first["eventType"], first["status"], first["attempts"], first["lastError"]) == (
        "timer.changed",
        "FAILED",
        8,
        "HTTP 500",
    )
    assert first["eventId"].isdigit()
    assert first["deliveredAt"] is None


async def test_a_replay_queues_the_delivery_now_with_a_new_series(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession
) -> None:
    # given: a delivery that failed all its attempts, and one of a webhook that is off
    _, token = await factory.admin()
    webhook = await _create(client, token)
    (failed,) = await _deliveries(
        factory, webhook["id"], 1, status=DeliveryStatus.FAILED, attempts=8, last_error="HTTP 503"
    )
    off = await _create(client, token)
    await gql(client, UPDATE, {"id": off["id"], "input": {"active": False}}, token=token)
    (waiting,) = await _deliveries(factory, off["id"], 1)
    # when
    replayed = await gql(client, REPLAY, {"id": failed}, token=token)
    refused = await gql(client, REPLAY, {"id": waiting}, token=token)
    unknown = await gql(client, REPLAY, {"id": webhook["id"]}, token=token)
    # then: PENDING, due now, eight more attempts; its count and last error stay
    delivery = replayed["data"]["replayWebhookDelivery"]["delivery"]
    assert (delivery["status"], delivery["attempts"], delivery["lastError"]) == ("PENDING", 8, "HTTP 503")
    due = await session.execute(
        text("SELECT attempt_limit, next_attempt_at <= now() AS due FROM webhook_deliveries WHERE id = :id"),
        {"id": ids.decode(failed, "WebhookDelivery")},
    )
    assert tuple(due.one()) == (16, True)
    assert _errors(refused, "replayWebhookDelivery") == [(("id",), "VALIDATION")]
    assert _errors(unknown, "replayWebhookDelivery") == [(("id",), "NOT_FOUND")]
