"""Webhook delivery (SPEC 13) on committed writes, to a real HTTP receiver on loopback: each event of a chosen type is
POSTed once, signed; failures are retried with backoff and then FAILED; a replay sends again; two loops never send one
event to one endpoint twice; a rolled-back write sends nothing; a receiver that hangs never slows a write."""

from __future__ import annotations

import asyncio
import dataclasses
import statistics
import time
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_engine
from edge.app import create_app
from graph import ids
from models import DeliveryStatus
from services import events, roles, time_entries, webhook_delivery, webhook_sending, webhooks
from services.webhooks import WebhookData
from tests.concurrency.conftest import World
from tests.concurrency.support import Maker
from tests.concurrency.webhook_support import Receiver, loop_on, receiving, running, until
from tests.conftest import TEST_CONFIG
from tests.factories import gql

SECRET = "shared-secret-of-the-receiver"


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with receiving() as receiver:
        yield receiver


async def _webhook(world: World, url: str, *types: str, active: bool = True) -> int:
    data: WebhookData = {"url": url, "event_types": list(types), "secret": SECRET, "active": active}
    async with world.maker() as session, session.begin():
        return (await webhooks.create(session, data, by=world.writer.viewer.employee_id)).id


async def _entry(world: World, minutes: int = 30) -> int:
    case = await world.case()
    data: time_entries.EntryData = {
        "case_id": case.id,
        "activity_id": world.activity_id,
        "work_date": date(2026, 11, 2),
        "minutes": minutes,
    }
    async with world.maker() as session, session.begin():
        return (await time_entries.create(session, world.writer, data)).entry.id


async def _deliveries(maker: Maker) -> list[dict[str, Any]]:
    async with maker() as session:
        rows = await session.execute(text("SELECT * FROM webhook_deliveries ORDER BY id"))
        return [dict(row._mapping) for row in rows]


async def _settled(maker: Maker, count: int) -> bool:
    """Whether `count` deliveries exist and none is PENDING."""
    found = await _deliveries(maker)
    return len(found) == count and all(d["status"] != DeliveryStatus.PENDING for d in found)


async def test_an_event_arrives_once_signed_with_the_api_s_encoding(
    world: World, committed: Maker, engine: AsyncEngine, receiver: Receiver
) -> None:
    # given: a webhook for new entries
    await _webhook(world, receiver.url, "timeEntry.created")
    # when: an entry is written while the loop runs
    async with running(loop_on(engine)):
        entry = await _entry(world)
        await until(lambda: _settled(committed, 1))
    # then: one POST, signed with the secret, the event as the API writes it
    (got,) = receiver.received
    assert got.signed_by(SECRET)
    assert not got.signed_by(SECRET + "x")
    assert got.headers["content-type"] == "application/json"
    body = got.json
    assert set(body) == {"id", "type", "createdAt", "data"}
    assert body["type"] == "timeEntry.created"
    assert body["createdAt"].endswith("+00:00")
    data = body["data"]
    admin = ids.encode("Employee", world.writer.viewer.employee_id)
    assert (data["record"], data["action"], data["by"], data["employee"]) == (
        ids.encode("TimeEntry", entry),
        "CREATED",
        admin,
        admin,
    )
    changes = {c["field"]: (c["before"], c["after"]) for c in data["changes"]}
    assert changes["minutes"] == (None, "30")
    assert changes["rate"] == (None, "90.00")
    assert changes["amount"] == (None, "45.00")
    assert changes["caseId"] == (None, data["case"])
    (delivery,) = await _deliveries(committed)
    assert (delivery["status"], delivery["attempts"], delivery["last_error"]) == ("DELIVERED", 1, None)
    assert str(delivery["event_id"]) == body["id"]


async def test_a_receiver_failing_twice_gets_the_event_on_the_third_try(
    world: World, committed: Maker, engine: AsyncEngine, receiver: Receiver
) -> None:
    # given: a receiver that answers 500 twice; a retry base of 50 ms
    receiver.statuses.extend([500, 500])
    await _webhook(world, receiver.url, "timeEntry.created")
    # when
    async with running(loop_on(engine, retry_base_ms=50)):
        await _entry(world)
        await until(lambda: _settled(committed, 1))
    # then: three attempts, 50 ms and then 100 ms apart at least; delivered, the last error kept
    at = [r.at for r in receiver.received]
    assert len(at) == 3
    assert len({r.body for r in receiver.received}) == 1
    assert at[1] - at[0] >= 0.05
    assert at[2] - at[1] >= 0.1
    (delivery,) = await _deliveries(committed)
    assert (delivery["status"], delivery["attempts"], delivery["last_error"]) == ("DELIVERED", 3, "HTTP 500")
    assert delivery["delivered_at"] is not None
    assert delivery["leased_until"] is None


async def test_an_attempt_unanswered_within_the_timeout_fails_and_is_retried(
    world: World, committed: Maker, engine: AsyncEngine, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a receiver that answers nothing yet, and attempts given 0.3 s (SPEC 13: 10 s)
    monkeypatch.setattr(webhook_sending, "TIMEOUT_SECONDS", 0.3)
    receiver.hold.clear()
    await _webhook(world, receiver.url, "timeEntry.created")

    async def failed_once() -> bool:
        return any(d["last_error"] for d in await _deliveries(committed))

    # when: the first attempt goes unanswered, and the receiver answers from then on
    async with running(loop_on(engine, retry_base_ms=50)):
        await _entry(world)
        await until(failed_once)
        receiver.hold.set()
        await until(lambda: _settled(committed, 1))
    # then: that attempt counted as failed, with why, and a later one delivered the event
    (delivery,) = await _deliveries(committed)
    assert (delivery["status"], delivery["last_error"]) == ("DELIVERED", "no answer within 0.3 s")
    assert delivery["attempts"] >= 2


async def test_eight_failures_make_it_failed(
    world: World, committed: Maker, engine: AsyncEngine, receiver: Receiver
) -> None:
    # given: a receiver that always answers 503
    receiver.statuses.extend([503] * 20)
    await _webhook(world, receiver.url, "timeEntry.created")
    # when
    async with running(loop_on(engine)):
        await _entry(world)
        await until(lambda: _settled(committed, 1))
    # then: eight attempts in all, then no more
    (delivery,) = await _deliveries(committed)
    assert (delivery["status"], delivery["attempts"], delivery["last_error"]) == ("FAILED", 8, "HTTP 503")
    assert len(receiver.received) == 8


async def test_a_replay_sends_it_again(world: World, committed: Maker, engine: AsyncEngine, receiver: Receiver) -> None:
    # given: a delivered event
    await _webhook(world, receiver.url, "timeEntry.created")
    async with running(loop_on(engine)):
        await _entry(world)
        await until(lambda: _settled(committed, 1))
        (delivery,) = await _deliveries(committed)
        # when
        async with committed() as session, session.begin():
            await webhooks.replay(session, delivery["id"])
        await until(lambda: _settled(committed, 1))
    # then: the same body twice, two attempts
    assert len(receiver.received) == 2
    assert receiver.received[0].body == receiver.received[1].body
    (again,) = await _deliveries(committed)
    assert (again["status"], again["attempts"]) == ("DELIVERED", 2)


async def test_a_rolled_back_write_sends_nothing(
    world: World, committed: Maker, engine: AsyncEngine, receiver: Receiver
) -> None:
    # given
    await _webhook(world, receiver.url, "timeEntry.created")
    case = await world.case()
    data: time_entries.EntryData = {
        "case_id": case.id,
        "activity_id": world.activity_id,
        "work_date": date(2026, 11, 2),
        "minutes": 15,
    }
    async with running(loop_on(engine)):
        # when: one write rolled back, then one committed
        async with committed() as session:
            await time_entries.create(session, world.writer, data)
            await session.rollback()
        kept = await _entry(world)
        await until(lambda: _settled(committed, 1))
    # then: only the committed one's event was sent
    assert [r.json["data"]["record"] for r in receiver.received] == [ids.encode("TimeEntry", kept)]


async def test_only_chosen_types_reach_a_webhook_and_nothing_one_that_is_off(
    world: World, committed: Maker, engine: AsyncEngine, receiver: Receiver
) -> None:
    # given: one webhook for role changes, one for everything but switched off
    await _webhook(world, receiver.url, "role.changed")
    await _webhook(world, receiver.url, *events.TYPES, active=False)
    async with committed() as session, session.begin():
        role = await roles.create(session, {"name": "Webhook watchers"})
    # when: an entry is written and the role changed
    async with running(loop_on(engine)):
        await _entry(world)
        async with committed() as session, session.begin():
            await roles.update(session, role.id, {"can_invoice": True}, by=world.writer.viewer.employee_id)
        await until(lambda: _settled(committed, 1))
        await asyncio.sleep(0.2)  # a few more rounds: nothing else may come
    # then
    assert [r.json["type"] for r in receiver.received] == ["role.changed"]
    assert receiver.received[0].json["data"]["changes"] == [{"field": "canInvoice", "before": "false", "after": "true"}]
    assert len(await _deliveries(committed)) == 1


async def _timer_events(maker: Maker, count: int) -> None:
    """`count` events, committed, as the triggers append them."""
    async with maker() as session, session.begin():
        await session.execute(
            text(
                "INSERT INTO events (type, record_type, record_id, employee_id, data) SELECT 'timer.changed', 'Timer',"
                " n, 1, '{\"running\": true}' FROM generate_series(1, :count) n"
            ),
            {"count": count},
        )


async def _all_arrived(receiver: Receiver, count: int) -> bool:
    return len(receiver.ids()) == count


async def _any_twice(receiver: Receiver) -> bool:
    return any(times > 1 for times in receiver.ids().values())


async def _two_loops_send(
    world: World, committed: Maker, database_url: str, receiver: Receiver, *, settle: bool = True
) -> int:
    """Two loops, each on an engine of its own, deliver many events; how many were sent more than once. `settle`:
    wait for every event to arrive and its delivery to be recorded; else until one arrived twice."""
    await _webhook(world, receiver.url, "timer.changed")
    receiver.delay = 0.02  # attempts in flight while the other loop claims
    count = 300
    engines = [create_engine(database_url, pool_size=2) for _ in range(2)]
    try:
        async with running(*(loop_on(e) for e in engines)):
            for _ in range(3):
                await _timer_events(committed, count // 3)
            if settle:
                await until(lambda: _all_arrived(receiver, count), seconds=20)
                await until(lambda: _settled(committed, count))
            else:  # the control: sent twice soon, while the rest may wait behind what is sent again and again
                await until(lambda: _any_twice(receiver))
    finally:
        for engine in engines:
            await engine.dispose()
    return sum(times > 1 for times in receiver.ids().values())


async def test_two_loops_never_send_one_event_twice(
    world: World, committed: Maker, database_url: str, receiver: Receiver
) -> None:
    assert await _two_loops_send(world, committed, database_url, receiver) == 0


async def test_negative_control_without_the_lease_events_are_sent_twice(
    world: World, committed: Maker, database_url: str, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert webhook_delivery._LEASED in str(webhook_delivery._CLAIM)
    monkeypatch.setattr(
        webhook_delivery, "_CLAIM", text(str(webhook_delivery._CLAIM).replace(webhook_delivery._LEASED, ""))
    )
    assert await _two_loops_send(world, committed, database_url, receiver, settle=False) > 0


async def _write_seconds(world: World, count: int) -> list[float]:
    took = []
    for _ in range(count):
        started = time.perf_counter()
        await _entry(world)
        took.append(time.perf_counter() - started)
    return took


async def _holding(receiver: Receiver) -> bool:
    return receiver.waiting > 0


async def test_a_receiver_that_hangs_never_slows_a_write(
    world: World, committed: Maker, engine: AsyncEngine, receiver: Receiver
) -> None:
    # given: writes timed without any webhook; then a webhook whose receiver answers nothing
    quiet = await _write_seconds(world, 15)
    await _webhook(world, receiver.url, "timeEntry.created", "cap.threshold")
    receiver.hold.clear()
    async with running(loop_on(engine)):
        await _entry(world)
        await until(lambda: _holding(receiver))
        # when: the same writes while deliveries hang on it
        busy = await _write_seconds(world, 15)
        hanging = receiver.waiting
        receiver.hold.set()
    # then: every write done while the receiver still held its requests, and as quick as without (a write that
    # waited for a delivery would wait for the receiver, 10 s at least)
    assert hanging > 0
    assert max(busy) < 2.0, busy
    assert statistics.median(busy) < 3 * statistics.median(quiet) + 0.05, (quiet, busy)


async def test_in_production_each_attempt_checks_the_address_again(
    world: World, committed: Maker, engine: AsyncEngine, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a name that was public when the webhook was saved and now points at loopback (DNS rebinding)
    port = httpx.URL(receiver.url).port
    assert port is not None

    async def rebound(host: str, port: int) -> list[Any]:
        from ipaddress import ip_address

        return [ip_address("127.0.0.1")] if host == "hooks.example" else []

    monkeypatch.setattr(webhook_sending, "resolve", rebound)
    await _webhook(world, f"http://hooks.example:{port}/hooks", "timeEntry.created")
    # when
    async with running(loop_on(engine, private_allowed=False)):
        await _entry(world)
        await until(lambda: _failed_once(committed))
    # then: refused before connecting; nothing reached the receiver
    (delivery,) = await _deliveries(committed)
    assert delivery["last_error"] == "hooks.example resolves to 127.0.0.1, not a public address"
    assert receiver.received == []


async def _failed_once(maker: Maker) -> bool:
    return any(d["last_error"] for d in await _deliveries(maker))


async def test_in_production_the_connection_goes_to_the_checked_address(
    world: World, committed: Maker, engine: AsyncEngine, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a name resolving to the receiver's address, taken as public for this test
    port = httpx.URL(receiver.url).port

    async def resolved(host: str, port: int) -> list[Any]:
        from ipaddress import ip_address

        return [ip_address("127.0.0.1")]

    monkeypatch.setattr(webhook_sending, "resolve", resolved)
    monkeypatch.setattr(webhook_sending, "public", lambda address: True)
    await _webhook(world, f"http://hooks.example:{port}/hooks", "timeEntry.created")
    # when
    async with running(loop_on(engine, private_allowed=False)):
        await _entry(world)
        await until(lambda: _settled(committed, 1))
    # then: it arrived at that address, naming its host, signed
    (got,) = receiver.received
    assert got.headers["host"] == f"hooks.example:{port}"
    assert got.signed_by(SECRET)


async def test_each_workers_lifespan_runs_the_loop(world: World, committed: Maker, wide_engine: AsyncEngine) -> None:
    # given: the app as a worker serves it, with the loop on
    config = dataclasses.replace(TEST_CONFIG, webhook_retry_base_ms=10)
    app = create_app(config, engine=wide_engine)
    transport = httpx.ASGITransport(app=app)
    create = (
        """mutation($input: WebhookInput!) { createWebhook(input: $input) { webhook { id } userErrors { code } } }"""
    )
    async with (
        receiving() as receiver,
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://casetime.test") as client,
    ):
        # when: a webhook is registered and an entry written, both through the API
        webhook = {"url": receiver.url, "eventTypes": ["timeEntry.created"], "secret": SECRET}
        made = await gql(client, create, {"input": webhook}, token=world.token)
        await _entry(world)
        await until(lambda: _settled(committed, 1))
    # then
    assert made["data"]["createWebhook"]["userErrors"] == []
    assert [r.json["type"] for r in receiver.received] == ["timeEntry.created"]


async def test_an_instance_with_delivery_off_sends_nothing(
    world: World, committed: Maker, wide_engine: AsyncEngine, receiver: Receiver
) -> None:
    # given: a webhook, and a worker whose WEBHOOK_DELIVERY is off
    await _webhook(world, receiver.url, "timeEntry.created")
    app = create_app(dataclasses.replace(TEST_CONFIG, webhook_delivery=False), engine=wide_engine)
    # when: an entry is written while it serves, for longer than two polls of a loop
    async with app.router.lifespan_context(app):
        await _entry(world)
        await asyncio.sleep(2.5 * webhook_delivery.POLL_SECONDS)
    # then
    assert receiver.received == []
    assert await _deliveries(committed) == []
