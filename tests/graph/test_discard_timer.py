"""`discardTimer` (SPEC 12, Timers): the viewer's running timer is dropped and no time is written."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from graph import ids
from models import TimeEntry, Timer
from tests.factories import Factory, error_codes, gql

START_TIMER = """mutation Start($input: StartTimerInput!) {
  startTimer(input: $input) { timer { id } userErrors { code } } }"""
DISCARD_TIMER = """mutation Discard {
  discardTimer { timer { id description debtor { code } activity { code } } userErrors { code field message } } }"""
RUNNING_TIMER = "query { runningTimer { id } }"


async def _count(session: AsyncSession, model: type[Timer] | type[TimeEntry]) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _timer_input(factory: Factory) -> dict[str, Any]:
    debtor = await factory.debtor(code="ACME")
    activity = await factory.activity(code="SUPPORT")
    return {
        "debtorId": ids.encode("Debtor", debtor.id),
        "activityId": ids.encode("Activity", activity.id),
        "description": "Started by mistake",
    }


async def test_drops_the_running_timer_without_writing_time(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession
) -> None:
    # given
    token = await factory.token(await factory.employee())
    started = await gql(client, START_TIMER, {"input": await _timer_input(factory)}, token=token)
    # when
    body = await gql(client, DISCARD_TIMER, token=token)
    running = await gql(client, RUNNING_TIMER, token=token)
    # then
    assert body["data"]["discardTimer"] == {
        "timer": {
            "id": started["data"]["startTimer"]["timer"]["id"],
            "description": "Started by mistake",
            "debtor": {"code": "ACME"},
            "activity": {"code": "SUPPORT"},
        },
        "userErrors": [],
    }
    assert running["data"]["runningTimer"] is None
    assert (await _count(session, Timer), await _count(session, TimeEntry)) == (0, 0)


async def test_without_a_running_timer_is_no_timer(client: httpx.AsyncClient, factory: Factory) -> None:
    # given
    token = await factory.token(await factory.employee())
    # when
    body = await gql(client, DISCARD_TIMER, token=token)
    # then
    assert "errors" not in body
    payload = body["data"]["discardTimer"]
    assert payload["timer"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("NO_TIMER", None)]


async def test_leaves_another_employees_timer_alone(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession
) -> None:
    # given: a colleague's timer runs, the viewer has none
    colleague = await factory.token(await factory.employee())
    viewer = await factory.token(await factory.employee())
    await gql(client, START_TIMER, {"input": await _timer_input(factory)}, token=colleague)
    # when
    body = await gql(client, DISCARD_TIMER, token=viewer)
    # then
    assert [e["code"] for e in body["data"]["discardTimer"]["userErrors"]] == ["NO_TIMER"]
    assert (await gql(client, RUNNING_TIMER, token=colleague))["data"]["runningTimer"] is not None
    assert await _count(session, Timer) == 1


async def test_without_a_token_says_how_to_authenticate(client: httpx.AsyncClient) -> None:
    # when
    body = await gql(client, DISCARD_TIMER)
    # then
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert "Authorization: Bearer" in body["errors"][0]["message"]
    assert body["data"] is None
