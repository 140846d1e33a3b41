"""Live subscriptions (SPEC 13) over a real websocket to uvicorn serving the app, with writes committed over HTTP:
what each subscription sends, whose names it hides, what ends it, and every refusal of the protocol."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import websockets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from websockets.typing import Subprotocol

from edge import live as live_edge
from edge import observability
from edge.app import create_app
from graph import ids, metrics
from models import CapKind, EmployeeVisibility
from services import auth, live
from services.event_feed import FedEvent, Position
from services.live import BACKLOG, Hub, TooSlow, Topic
from tests.concurrency.conftest import World
from tests.concurrency.support import Maker
from tests.concurrency.test_delta_sync import CREATE, DELETE, UPDATE
from tests.conftest import TEST_CONFIG
from tests.factories import Factory, gql
from tests.live_support import PROTOCOL, Live, connected, serving, ws_url

CASE_TIME = """subscription($caseId: ID!) { caseTimeChanged(caseId: $caseId) {
  kind timeEntryId at timeEntry { id minutes employeeHidden employee { id name } case { id } } } }"""
TIMER = "subscription { timerChanged { at timer { id description case { id } } } }"
CAP = """subscription($caseId: ID!) { capThresholdReached(caseId: $caseId) {
  percent at case { id } usage { usedMinutes limitMinutes } } }"""
START_TIMER = "mutation($input: StartTimerInput!) { startTimer(input: $input) { timer { id } userErrors { code } } }"
STOP_TIMER = "mutation { stopTimer { timeEntry { id } userErrors { code } } }"


@dataclass
class Desk:
    """The served app, its HTTP client, and who writes and reads: an administrator, a plain employee whose role
    sees only themselves, and X, whom that role does not see."""

    url: str
    http: httpx.AsyncClient
    world: World
    plain_token: str
    x_id: str
    x_token: str
    case: str
    other_case: str
    two_tokens: tuple[str, str]  # one employee's, as on two devices

    async def write(self, minutes: int, *, case: str | None = None, token: str | None = None, **more: Any) -> str:
        given = {"caseId": case or self.case, "activityId": ids.encode("Activity", self.world.activity_id)}
        entry = {**given, "workDate": "2026-11-02", "minutes": minutes, **more}
        body = await gql(self.http, CREATE, {"input": entry}, token=token or self.world.token)
        assert body["data"]["createTimeEntry"]["userErrors"] == [], body
        entry_id: str = body["data"]["createTimeEntry"]["timeEntry"]["id"]
        return entry_id

    def socket(self) -> str:
        return ws_url(self.url)


@pytest.fixture
async def desk(world: World, wide_engine: AsyncEngine) -> AsyncIterator[Desk]:
    async with world.maker() as session, session.begin():
        factory = Factory(session, world.passwords)
        plain = await factory.employee(role=await factory.role(visibility=EmployeeVisibility.OWN))
        x = await factory.employee(name="Xenia Hidden")
        plain_token, x_token = await factory.token(plain), await factory.token(x)
        me = await factory.employee()
        two_tokens = (await factory.token(me), await factory.token(me))
    case, other_case = (await world.case()).id, (await world.case()).id
    app = create_app(TEST_CONFIG, engine=wide_engine)
    async with serving(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
        yield Desk(
            url,
            http,
            world,
            plain_token,
            ids.encode("Employee", x.id),
            x_token,
            ids.encode("Case", case),
            ids.encode("Case", other_case),
            two_tokens,
        )


def _change(message: dict[str, Any]) -> dict[str, Any]:
    assert message["type"] == "next", message
    assert "errors" not in message["payload"], message
    change: dict[str, Any] = message["payload"]["data"]["caseTimeChanged"]
    return change


async def test_each_entry_written_changed_and_deleted_on_the_case_is_sent(desk: Desk) -> None:
    async with connected(desk.socket(), desk.world.token) as live_socket:
        # given a subscription to the case
        await live_socket.subscribe("case", CASE_TIME, {"caseId": desk.case})
        # when an entry is written on another case, then one on it, changed and deleted
        await desk.write(5, case=desk.other_case)
        entry = await desk.write(30)
        await gql(desk.http, UPDATE, {"id": entry, "input": {"minutes": 45}}, token=desk.world.token)
        await gql(desk.http, DELETE, {"id": entry}, token=desk.world.token)
        # then exactly those three on the case come, in order, each with the entry as it is when sent
        created, updated, deleted = [_change(await live_socket.next_of("case")) for _ in range(3)]
    assert (created["kind"], created["timeEntryId"]) == ("CREATED", entry)
    assert updated["kind"] == "UPDATED"
    assert (deleted["kind"], deleted["timeEntryId"], deleted["timeEntry"]) == ("DELETED", entry, None)
    assert datetime.fromisoformat(created["at"]) <= datetime.fromisoformat(deleted["at"]) <= datetime.now(UTC)
    assert live_socket.kept() == []


async def test_an_entry_moved_to_another_case_is_sent_to_both(desk: Desk) -> None:
    async with connected(desk.socket(), desk.world.token) as live_socket:
        entry = await desk.write(30)
        await live_socket.subscribe("from", CASE_TIME, {"caseId": desk.case})
        await live_socket.subscribe("to", CASE_TIME, {"caseId": desk.other_case})
        await gql(desk.http, UPDATE, {"id": entry, "input": {"caseId": desk.other_case}}, token=desk.world.token)
        left, arrived = _change(await live_socket.next_of("from")), _change(await live_socket.next_of("to"))
    # the case it left learns it is now on the other one
    assert left["kind"] == arrived["kind"] == "UPDATED"
    assert left["timeEntry"]["case"]["id"] == arrived["timeEntry"]["case"]["id"] == desk.other_case


async def test_a_name_the_subscriber_may_not_see_is_never_sent(desk: Desk) -> None:
    async with (
        connected(desk.socket(), desk.plain_token) as plain,
        connected(desk.socket(), desk.world.token) as admin,
    ):
        await plain.subscribe("case", CASE_TIME, {"caseId": desk.case})
        await admin.subscribe("case", CASE_TIME, {"caseId": desk.case})
        # when X writes on the case
        await desk.write(30, token=desk.x_token)
        raw = str(await plain.socket.recv())
        seen_by_admin = _change(await admin.next_of("case"))
    # then the plain employee's role, which sees only them, gets the entry and its minutes but not X
    assert "Xenia" not in raw
    assert desk.x_id not in raw
    hidden = _change(json.loads(raw))["timeEntry"]
    assert (hidden["minutes"], hidden["employeeHidden"], hidden["employee"]) == (30, True, None)
    # and an administrator, the control, does see X
    assert seen_by_admin["timeEntry"]["employee"] == {"id": desk.x_id, "name": "Xenia Hidden"}


async def test_the_viewers_timer_reaches_each_of_their_devices_and_no_one_elses(desk: Desk) -> None:
    web_token, mobile_token = desk.two_tokens
    start = {"debtorId": ids.encode("Debtor", desk.world.debtor_id), "caseId": desk.case}
    start["activityId"] = ids.encode("Activity", desk.world.activity_id)
    async with (
        connected(desk.socket(), web_token) as web,
        connected(desk.socket(), mobile_token) as mobile,
        connected(desk.socket(), desk.plain_token) as someone_else,
    ):
        for device in (web, mobile, someone_else):
            await device.subscribe("timer", TIMER)
        # when the timer starts on the web and the plain employee starts theirs
        started = await gql(desk.http, START_TIMER, {"input": start}, token=web_token)
        await gql(desk.http, START_TIMER, {"input": start}, token=desk.plain_token)
        timer_id = started["data"]["startTimer"]["timer"]["id"]
        # then both devices of the viewer see it run, then stop
        for device in (web, mobile):
            running = (await device.next_of("timer"))["payload"]["data"]["timerChanged"]
            assert (running["timer"]["id"], running["timer"]["case"]["id"]) == (timer_id, desk.case)
        stopped = await gql(desk.http, STOP_TIMER, token=mobile_token)
        assert stopped["data"]["stopTimer"]["userErrors"] == []
        for device in (web, mobile):
            assert (await device.next_of("timer"))["payload"]["data"]["timerChanged"]["timer"] is None
        # and the other employee hears only of their own
        assert (await someone_else.next_of("timer"))["payload"]["data"]["timerChanged"]["timer"] is not None
        with pytest.raises(TimeoutError):
            await someone_else.next_of("timer", within=0.5)


async def test_each_cap_threshold_crossed_is_sent_once_with_the_usage(desk: Desk) -> None:
    case = ids.encode("Case", (await desk.world.case(max_per_book_year=CapKind.TIME, max_minutes=100)).id)
    async with connected(desk.socket(), desk.world.token) as live_socket:
        await live_socket.subscribe("cap", CAP, {"caseId": case})
        for minutes in (30, 25, 20, 40):  # 30%, 55%, 75%, then past 100% (the excess split onto L)
            await desk.write(minutes, case=case)
        crossed = [(await live_socket.next_of("cap"))["payload"]["data"]["capThresholdReached"] for _ in range(3)]
        with pytest.raises(TimeoutError):
            await live_socket.next_of("cap", within=0.5)
    # 55% crossed 50; 75% crossed nothing; the last crossed 80 and 100 at once
    assert [c["percent"] for c in crossed] == [50, 80, 100]
    assert all(c["case"]["id"] == case and c["usage"]["limitMinutes"] == 100 for c in crossed)
    assert crossed[-1]["usage"]["usedMinutes"] == 100


async def test_a_logout_ends_the_connection_and_what_it_follows(desk: Desk) -> None:
    async with connected(desk.socket(), desk.plain_token) as live_socket:
        await live_socket.subscribe("case", CASE_TIME, {"caseId": desk.case})
        # when the employee logs out elsewhere with the same token
        assert (await gql(desk.http, "mutation { logout }", token=desk.plain_token))["data"] == {"logout": True}
        # then within the sweep the subscription is told why, and the connection closes with 4403
        assert await live_socket.close_code(within=live.SWEEP_SECONDS + 3) == 4403
    ended = live_socket.kept()
    assert [(m["type"], m["id"], m["payload"][0]["extensions"]["code"]) for m in ended] == [
        ("error", "case", "UNAUTHENTICATED")
    ]


async def test_an_employee_made_inactive_is_disconnected(desk: Desk) -> None:
    deactivate = """mutation($id: ID!) { updateEmployee(id: $id, input: {active: false}) { userErrors { code } } }"""
    async with connected(desk.socket(), desk.x_token) as live_socket:
        await live_socket.subscribe("timer", TIMER)
        body = await gql(desk.http, deactivate, {"id": desk.x_id}, token=desk.world.token)
        assert body["data"]["updateEmployee"]["userErrors"] == []
        assert await live_socket.close_code(within=live.SWEEP_SECONDS + 3) == 4403


async def test_a_token_revoked_between_events_is_refused_the_next_one(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    # without the sweep (it would close first), the event itself finds the token gone
    monkeypatch.setattr(live, "SWEEP_SECONDS", 3600)
    async with connected(desk.socket(), desk.plain_token) as live_socket:
        await live_socket.subscribe("case", CASE_TIME, {"caseId": desk.case})
        await gql(desk.http, "mutation { logout }", token=desk.plain_token)
        await desk.write(10)
        assert await live_socket.close_code() == 4403
    assert [m["type"] for m in live_socket.kept()] == ["error"]  # nothing of the entry was sent


def _codes(message: dict[str, Any]) -> list[str]:
    assert message["type"] == "error", message
    return [error["extensions"]["code"] for error in message["payload"]]


async def test_operations_refused_over_the_websocket_are_coded_and_the_connection_stays(desk: Desk) -> None:
    refused = {
        "query": ("{ viewer { id } }", None, "BAD_REQUEST"),
        "unknown case": (CASE_TIME, {"caseId": ids.encode("Case", 10**9)}, "NOT_FOUND"),
        "another type's ID": (CASE_TIME, {"caseId": desk.x_id}, "NOT_FOUND"),
        "invalid": ("subscription { caseTimeChanged { kind } }", None, "VALIDATION"),
        "bad variables": (CASE_TIME, {"caseId": ["x"]}, "VALIDATION"),
        "syntax": ("subscription {", None, "VALIDATION"),
    }
    async with connected(desk.socket(), desk.world.token) as live_socket:
        for name, (query, variables, _) in refused.items():
            await live_socket.subscribe(name, query, variables)
        answers = {name: _codes(await live_socket.next_of(name)) for name in refused}
        # the connection still serves a good one
        await live_socket.subscribe("good", CASE_TIME, {"caseId": desk.case})
        await desk.write(5)
        assert _change(await live_socket.next_of("good"))["kind"] == "CREATED"
    assert answers == {name: [code] for name, (_, _, code) in refused.items()}


async def test_a_subscription_over_http_is_refused(desk: Desk) -> None:
    response = await desk.http.post("/graphql", json={"query": TIMER}, headers={"Authorization": "Bearer x"})
    assert response.status_code == 400
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["BAD_REQUEST"]


async def test_complete_stops_a_subscription_and_its_id_may_be_used_again(desk: Desk) -> None:
    async with connected(desk.socket(), desk.world.token) as live_socket:
        await live_socket.subscribe("case", CASE_TIME, {"caseId": desk.case})
        await live_socket.send({"type": "complete", "id": "case"})
        # at once again under that id (the server must not take it for a second subscriber)
        await live_socket.subscribe("case", CASE_TIME, {"caseId": desk.case})
        await desk.write(6)
        assert _change(await live_socket.next_of("case"))["kind"] == "CREATED"
        await live_socket.send({"type": "complete", "id": "case"})
        await desk.write(5)
        with pytest.raises(TimeoutError):
            await live_socket.next_of("case", within=0.7)


async def test_a_connection_holds_a_bounded_number_of_subscriptions(desk: Desk) -> None:
    async with connected(desk.socket(), desk.world.token) as live_socket:
        for n in range(live_edge.MAX_SUBSCRIPTIONS):
            await live_socket.subscribe(str(n), TIMER)
        assert live_socket.kept() == []
        await live_socket.subscribe("one too many", TIMER)
        assert _codes(await live_socket.next_of("one too many")) == ["LIMIT_EXCEEDED"]


async def _closed_with(url: str, *messages: dict[str, Any], subprotocol: str = PROTOCOL) -> int | None:
    async with websockets.connect(url, subprotocols=[Subprotocol(subprotocol)]) as socket:
        live_socket = Live(socket)
        for message in messages:
            try:
                await live_socket.send(message)
            except websockets.ConnectionClosed:  # closed before all was sent
                break
        return await live_socket.close_code()


async def test_each_breach_of_the_protocol_closes_with_its_code(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {desk.world.token}"}}
    subscribe = {"type": "subscribe", "id": "1", "payload": {"query": TIMER}}
    url = desk.socket()
    assert await _closed_with(url, subscribe) == 4401  # before connection_init
    assert await _closed_with(url, {"type": "connection_init", "payload": {"Authorization": "Bearer nope"}}) == 4403
    assert await _closed_with(url, {"type": "connection_init"}) == 4403  # no token
    assert await _closed_with(url, init, init) == 4429
    assert await _closed_with(url, init, subscribe, subscribe) == 4409
    assert await _closed_with(url, init, {"type": "what"}) == 4400
    assert await _closed_with(url, init, {"id": "1"}) == 4400
    assert await _closed_with(url, init, {"type": "subscribe", "id": "1"}) == 4400
    assert await _closed_with(url, {"type": "connection_init"}, subprotocol="graphql-ws") == 4406
    async with websockets.connect(url, subprotocols=[Subprotocol(PROTOCOL)]) as socket:
        await socket.send("not json")
        assert await Live(socket).close_code() == 4400
    monkeypatch.setattr(live_edge, "INIT_TIMEOUT_S", 0.2)
    assert await _closed_with(url) == 4408


# every alias of the description: each event this sends is some 120 kB
BULKY = (
    "subscription($caseId: ID!) { caseTimeChanged(caseId: $caseId) { timeEntry { "
    + " ".join(f"d{n}: description" for n in range(29))
    + " } } }"
)


def _small_socket(url: str) -> socket.socket:
    """A socket to the server that holds little unread: the client's receive buffer fixed at 8 kB."""
    host, port = url.removeprefix("ws://").split("/")[0].split(":")
    connection = socket.socket()
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
    connection.connect((host, int(port)))
    return connection


async def test_a_subscriber_that_stops_reading_never_slows_writes_or_other_subscribers(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "BACKLOG", 10)
    writes = 80  # past what the sockets' buffers hold for the stalled one (~3.4 MB), and then its backlog
    ended = metrics.LIVE_ENDED.labels("too_slow")._value.get()
    async with (
        # this one reads nothing: its library stops reading the socket, the socket's buffers fill, and the server's
        # sends to it wait (uncompressed, or the repeated text would hardly fill them)
        connected(
            desk.socket(),
            desk.world.token,
            max_queue=1,
            max_size=None,
            compression=None,
            sock=_small_socket(desk.socket()),
        ) as stalled,
        connected(desk.socket(), desk.world.token) as reading,
    ):
        await stalled.subscribe("case", BULKY, {"caseId": desk.case})
        await reading.subscribe("case", CASE_TIME, {"caseId": desk.case})
        # when many entries are written
        began = time.perf_counter()
        written = [await desk.write(1, description=f"{n:04} " + "x" * 3990) for n in range(writes)]
        took = time.perf_counter() - began
        # then the reading subscriber gets every one, in order
        got = [_change(await reading.next_of("case"))["timeEntryId"] for _ in range(writes)]
        messages = [await stalled.next_of("case", within=10)]
        while messages[-1]["type"] == "next":
            messages.append(await stalled.next_of("case", within=10))
        last = messages[-1]
    assert got == written
    assert took / writes < 0.5  # a write never waits for a subscriber (a generous bound on a shared machine)
    assert _codes(last) == ["LIMIT_EXCEEDED"]
    assert metrics.LIVE_ENDED.labels("too_slow")._value.get() == ended + 1


def _event(n: int) -> FedEvent:
    return FedEvent(
        Position(1, n), n, datetime.now(UTC), "timeEntry.created", "TimeEntry", n, "CREATED", 1, 1, None, 7, {}, {}
    )


async def test_a_follower_too_far_behind_is_ended_not_buffered(committed: Maker) -> None:
    hub = Hub(committed)
    try:
        follower = await hub.follow(Topic(live.CASE_TIME, 7))
        for n in range(BACKLOG + 50):
            follower.offer(_event(n))
        # the first BACKLOG wait to be sent, then it ends; nothing more is kept
        assert [(await anext(follower)).id for _ in range(BACKLOG)] == list(range(BACKLOG))
        with pytest.raises(TooSlow):
            await anext(follower)
    finally:
        follower.close()
        await hub.close()
    assert hub.followers == 0


def test_an_event_goes_to_the_topics_it_tells_of() -> None:
    moved = FedEvent(
        Position(1, 1), 1, datetime.now(UTC), "timeEntry.updated", "TimeEntry", 9, "UPDATED", 1, 2, None, 8,
        {"case_id": [7, 8]}, {},
    )  # fmt: skip
    assert live.topics_of(moved) == [Topic(live.CASE_TIME, 8), Topic(live.CASE_TIME, 7)]
    timer = FedEvent(Position(1, 2), 2, datetime.now(UTC), "timer.changed", "Timer", 3, None, 2, 2, None, 8, {}, {})
    assert live.topics_of(timer) == [Topic(live.TIMER, 2)]
    cap = FedEvent(Position(1, 3), 3, datetime.now(UTC), "cap.threshold", "Case", 8, None, 2, None, None, 8, {}, {})
    assert live.topics_of(cap) == [Topic(live.CAP, 8)]
    role = FedEvent(Position(1, 4), 4, datetime.now(UTC), "role.changed", "Role", 1, "UPDATED", 2, None, None, None,
                    {}, {})  # fmt: skip
    assert live.topics_of(role) == []


async def test_a_cases_own_thresholds_decide_what_is_told(desk: Desk) -> None:
    case = ids.encode("Case", (await desk.world.case(max_per_book_year=CapKind.TIME, max_minutes=100)).id)
    update = """mutation($id: ID!, $input: CaseInput!) { updateCase(id: $id, input: $input) { userErrors { code } } }"""
    body = await gql(desk.http, update, {"id": case, "input": {"capThresholds": [25, 60]}}, token=desk.world.token)
    assert body["data"]["updateCase"]["userErrors"] == []
    async with connected(desk.socket(), desk.world.token) as live_socket:
        await live_socket.subscribe("cap", CAP, {"caseId": case})
        for minutes in (30, 25, 30):  # 30%, 55%, 85%: past 25, then past 60; 50 and 80 are no longer told
            await desk.write(minutes, case=case)
        crossed = [(await live_socket.next_of("cap"))["payload"]["data"]["capThresholdReached"] for _ in range(2)]
        with pytest.raises(TimeoutError):
            await live_socket.next_of("cap", within=0.5)
    assert [c["percent"] for c in crossed] == [25, 60]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
DOCUMENTS = [TIMER, CASE_TIME, CAP, "{ viewer { id } }"]
MESSAGES = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["subscribe", "complete", "ping", "pong", "connection_init", "next"]) | st.text(),
        "id": st.text(max_size=10) | JSON,
        "payload": st.fixed_dictionaries(
            {},
            optional={
                "query": st.sampled_from([TIMER, CASE_TIME, CAP, "{ viewer { id } }"]) | st.text(),
                "variables": JSON,
            },
        )
        | JSON,
    },
)
ANSWERS = {"next", "error", "complete", "pong"}
PROTOCOL_CLOSES = {4400, 4401, 4403, 4406, 4408, 4409, 4429}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(messages=st.lists(MESSAGES, min_size=1, max_size=4))
async def test_whatever_a_client_sends_gets_a_protocol_answer(desk: Desk, messages: list[dict[str, Any]]) -> None:
    # given an acknowledged connection, when it sends anything at all
    async with connected(desk.socket(), desk.world.token) as live_socket:
        for message in messages:
            try:
                await live_socket.send(message)
            except websockets.ConnectionClosed:
                break
        with contextlib.suppress(websockets.ConnectionClosed):
            await live_socket.send({"type": "ping"})
        code = await live_socket.close_code(within=0.3)
    # then it is answered within the protocol, or closed with one of its codes; never an internal error
    answers = live_socket.kept()
    assert {m["type"] for m in answers} <= ANSWERS, answers
    for answer in answers:
        if answer["type"] == "error":
            assert all(e["extensions"]["code"] != "INTERNAL" for e in answer["payload"]), answer
    assert code is None or code in PROTOCOL_CLOSES, code


async def test_each_connection_is_one_line_of_the_request_log(desk: Desk, capfd: pytest.CaptureFixture[str]) -> None:
    # given a connection that subscribes, and one refused at init
    async with connected(desk.socket(), desk.x_token) as live_socket:
        await live_socket.subscribe("timer", "subscription Watch { timerChanged { at } }")
    assert await _closed_with(desk.socket(), {"type": "connection_init"}) == 4403
    await asyncio.sleep(observability.FLUSH_S * 2)
    observability.JOURNAL.flush()
    # then each is one line once it closed: who, what it last subscribed, how it ended; never the token
    out = capfd.readouterr().out
    lines = [json.loads(line) for line in out.splitlines() if '"method":"WEBSOCKET"' in line]
    x = ids.decode(desk.x_id, "Employee")
    assert [(line["viewer"], line["operation"], line["type"], line["status"]) for line in lines] == [
        (x, "Watch", "subscription", 1000),
        (None, None, None, 4403),
    ]
    assert desk.x_token not in out


async def test_a_worker_holds_a_bounded_number_of_connections(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live_edge, "MAX_CONNECTIONS", 1)
    init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {desk.world.token}"}}
    async with connected(desk.socket(), desk.world.token):
        assert await _closed_with(desk.socket(), init) == 1013
    async with connected(desk.socket(), desk.world.token) as again:  # once it closed there is room again
        await again.subscribe("timer", TIMER)


async def test_a_database_away_at_init_asks_the_client_to_come_back(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def away(*_: object, **__: object) -> None:
        raise ConnectionRefusedError("the database is down")

    monkeypatch.setattr(auth, "authenticate", away)
    init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {desk.world.token}"}}
    assert await _closed_with(desk.socket(), init) == 1013  # try again later, not an internal error


async def test_a_token_that_expires_ends_the_connection(desk: Desk) -> None:
    async with connected(desk.socket(), desk.x_token) as live_socket:
        await live_socket.subscribe("timer", TIMER)
        # when the token's time runs out while the connection is open
        async with desk.world.maker() as session, session.begin():
            await session.execute(
                text("UPDATE auth_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = :digest"),
                {"digest": auth.token_digest(desk.x_token)},
            )
        # then the sweep closes it, as a logout does
        assert await live_socket.close_code(within=live.SWEEP_SECONDS + 3) == 4403
