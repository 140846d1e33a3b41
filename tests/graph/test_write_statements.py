"""How many SQL statements each write path sends, over HTTP: a later change cannot quietly add a round trip.

A path's count is every statement its request sends after authentication, the test harness's savepoint lines
(SAVEPOINT, RELEASE SAVEPOINT, ROLLBACK TO SAVEPOINT) left out; the authentication lookup every request with a
token sends is counted on its own ("authentication" below). The payloads select what each test checks, so the counts
include the reads that answer them. Each test checks the write succeeded, so a refusal cannot meet a count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from graph import ids
from models import Activity, CapKind, Case, Debtor
from tests.conftest import StatementCounter
from tests.factories import Factory, gql

# Today's counts. A change that lowers one must lower it here too (a later issue will cut them); a change that
# raises one fails here. An int is the exact count; (a, b) is a + b·n for n entries or changes. An executemany
# (one statement, many parameter sets) counts once, as SQLAlchemy sends it once.
EXPECTED: dict[str, int | tuple[int, int]] = {
    "authentication": 1,  # the bearer token's session and employee, once per request
    # a create reads and locks what it needs in one statement and writes everything in another (L line included)
    "createTimeEntry capped, fits": 2,
    "createTimeEntry capped, splits onto an L line": 2,
    "createTimeEntry without a cap": 2,
    # the first write in a case's book year also makes the year's totals row, then reads and locks again
    "createTimeEntry, the first in its case's book year": 4,
    "createTimeEntry PER_DEBTOR": 2,
    "createTimeEntry idempotencyKey, first": 5,  # expire old keys, claim the key, the create, record it
    "createTimeEntry idempotencyKey, replay": 5,
    # the settings, the entry locked, its facts (employee, case, debtor, activity, rate: one read), its L line, the
    # totals rows made and locked, the flush (totals, entry), both rollups, the payload read back
    "updateTimeEntry into another book year": 11,
    # the sources in one read, the copies written at once (create_many's two statements), the payload read back
    "copyTimeEntries": (4, 0),
    "startTimer": 9,
    "stopTimer": 7,  # the timer, the settings (its time zone dates the entry), a create the book year's first
    # n new entries written at once, the book year's first among them: the settings and the case (STATIC_LIST), the
    # facts, the book year's totals row made, the facts again, the write, the payload read back
    "saveCaseTimeList": (7, 0),
    # n entries: the same statements however many (one SELECT … FOR UPDATE of them, one INSERT … SELECT unnest of
    # their links, one UPDATE … WHERE id = ANY); was 15, the settings read twice
    "createInvoice": (14, 0),
    # and one naming who voids or releases, which the changed rows cannot tell their events (services/events.py)
    "voidInvoice": 11,
    "releaseOverLimit": 10,
}

ENTRY = "id workDate minutes status amount source"
CREATE = f"""mutation($input: TimeEntryInput!, $mode: EntryMode, $key: String) {{
  createTimeEntry(input: $input, mode: $mode, idempotencyKey: $key) {{
    timeEntry {{ {ENTRY} }} overLimitEntry {{ {ENTRY} }} userErrors {{ code field }}
  }}
}}"""
UPDATE = f"""mutation($id: ID!, $input: TimeEntryInput!) {{
  updateTimeEntry(id: $id, input: $input) {{
    timeEntry {{ {ENTRY} }} overLimitEntry {{ {ENTRY} }} userErrors {{ code field }}
  }}
}}"""
COPY = f"""mutation($ids: [ID!]!, $toDate: Date!) {{
  copyTimeEntries(ids: $ids, toDate: $toDate) {{ timeEntries {{ {ENTRY} }} userErrors {{ code field }} }}
}}"""
SAVE_LIST = f"""mutation($caseId: ID!, $changes: [TimeListChange!]!) {{
  saveCaseTimeList(caseId: $caseId, changes: $changes) {{ timeEntries {{ {ENTRY} }} userErrors {{ code field }} }}
}}"""
START_TIMER = """mutation($input: StartTimerInput!) {
  startTimer(input: $input) { timer { id } userErrors { code field } }
}"""
STOP_TIMER = f"""mutation {{
  stopTimer {{ timeEntry {{ {ENTRY} }} overLimitEntry {{ id }} userErrors {{ code field }} }}
}}"""
CREATE_INVOICE = """mutation($input: InvoiceInput!) {
  createInvoice(input: $input) { invoice { id number total voided lines { minutes amount } } userErrors { code field } }
}"""
VOID_INVOICE = """mutation($id: ID!) {
  voidInvoice(id: $id) { invoice { id number voided } userErrors { code field } }
}"""
RELEASE = """mutation($ids: [ID!]!, $status: TimeStatus!) {
  releaseOverLimit(ids: $ids, status: $status) { timeEntries { id status minutes } userErrors { code field } }
}"""
SETTINGS = """mutation($month: Int!) {
  updateSettings(input: {bookYearStartMonth: $month}) { settings { bookYearStartMonth } userErrors { code } }
}"""


def expected(path: str, n: int | None = None) -> int:
    count = EXPECTED[path]
    if isinstance(count, tuple):
        assert n is not None, path
        a, b = count
        return a + b * n
    assert n is None, path
    return count


def gid(type_name: str, db_id: int) -> str:
    return ids.encode(type_name, db_id)


@dataclass
class World:
    """An administrator (who may also invoice), an activity at 60.00, a debtor and its cases with and without a cap."""

    token: str
    authentication: list[str]
    activity: Activity
    debtor: Debtor
    capped: Case  # TIME, 600 minutes a book year
    small: Case  # TIME, 60 minutes a book year
    uncapped: Case
    counter: StatementCounter

    def entry(self, case: Case, **fields: Any) -> dict[str, Any]:
        return {
            "caseId": gid("Case", case.id),
            "activityId": gid("Activity", self.activity.id),
            "workDate": "2026-11-02",
            "minutes": 90,
            **fields,
        }

    async def send(
        self, client: httpx.AsyncClient, document: str, variables: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], list[str]]:
        """The body and the statements the request sent after authentication, the harness's savepoints left out."""
        before = self.counter.count
        body = await gql(client, document, variables, token=self.token)
        sent = [s for s in self.counter.statements[before:] if "SAVEPOINT" not in s]
        assert sent[: len(self.authentication)] == self.authentication, "every request authenticates first"
        return body, sent[len(self.authentication) :]

    async def write(
        self, client: httpx.AsyncClient, document: str, field: str, variables: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], list[str]]:
        """A mutation that must succeed: its payload and its statements."""
        body, sent = await self.send(client, document, variables)
        assert "errors" not in body, body
        payload: dict[str, Any] = body["data"][field]
        assert payload["userErrors"] == [], payload
        return payload, sent

    async def create(self, client: httpx.AsyncClient, entry: dict[str, Any], **variables: Any) -> dict[str, Any]:
        payload, _ = await self.write(client, CREATE, "createTimeEntry", {"input": entry, **variables})
        return payload

    async def open_book_year(self, client: httpx.AsyncClient, case: Case) -> None:
        """One minute on `case` in the book year of `entry`'s date, so that its totals row exists."""
        await self.create(client, self.entry(case, minutes=1))


@pytest.fixture
async def world(factory: Factory, client: httpx.AsyncClient, sql_statements: StatementCounter) -> World:
    admin = await factory.employee(role=await factory.role(admin=True, can_invoice=True))
    token = await factory.token(admin)
    debtor = await factory.debtor()
    activity = await factory.activity(default_rate=Decimal("60.00"))
    capped = await factory.case(debtor=debtor, max_per_book_year=CapKind.TIME, max_minutes=600)
    small = await factory.case(debtor=debtor, max_per_book_year=CapKind.TIME, max_minutes=60)
    uncapped = await factory.case(debtor=debtor)
    before = sql_statements.count
    assert (await gql(client, "{ __typename }", token=token))["data"] == {"__typename": "Query"}
    authentication = [s for s in sql_statements.statements[before:] if "SAVEPOINT" not in s]
    return World(token, authentication, activity, debtor, capped, small, uncapped, sql_statements)


async def test_authentication(world: World) -> None:
    assert len(world.authentication) == expected("authentication"), world.authentication


# --- createTimeEntry ---------------------------------------------------------------------------------------------


async def test_create_on_a_capped_case_that_fits(client: httpx.AsyncClient, world: World) -> None:
    # given
    await world.open_book_year(client, world.capped)
    # when
    payload, sent = await world.write(client, CREATE, "createTimeEntry", {"input": world.entry(world.capped)})
    # then
    entry = payload["timeEntry"]
    assert (entry["minutes"], entry["status"], entry["amount"], entry["source"]) == (
        90,
        "BILLABLE",
        "90.00",
        "PER_DATE",
    )
    assert payload["overLimitEntry"] is None
    assert len(sent) == expected("createTimeEntry capped, fits"), sent


async def test_create_on_a_capped_case_that_splits(client: httpx.AsyncClient, world: World) -> None:
    # given: 1 of a 60-minute maximum used
    await world.open_book_year(client, world.small)
    # when: 90 minutes more
    payload, sent = await world.write(client, CREATE, "createTimeEntry", {"input": world.entry(world.small)})
    # then
    assert (payload["timeEntry"]["minutes"], payload["timeEntry"]["status"]) == (59, "BILLABLE")
    assert (payload["overLimitEntry"]["minutes"], payload["overLimitEntry"]["status"]) == (31, "OVER_LIMIT")
    assert len(sent) == expected("createTimeEntry capped, splits onto an L line"), sent


async def test_create_on_a_case_without_a_cap(client: httpx.AsyncClient, world: World) -> None:
    # given
    await world.open_book_year(client, world.uncapped)
    # when
    payload, sent = await world.write(client, CREATE, "createTimeEntry", {"input": world.entry(world.uncapped)})
    # then
    assert (payload["timeEntry"]["minutes"], payload["timeEntry"]["status"]) == (90, "BILLABLE")
    assert payload["overLimitEntry"] is None
    assert len(sent) == expected("createTimeEntry without a cap"), sent


async def test_create_first_in_its_case_book_year(client: httpx.AsyncClient, world: World) -> None:
    # when
    payload, sent = await world.write(client, CREATE, "createTimeEntry", {"input": world.entry(world.capped)})
    # then
    assert (payload["timeEntry"]["minutes"], payload["timeEntry"]["status"]) == (90, "BILLABLE")
    assert len(sent) == expected("createTimeEntry, the first in its case's book year"), sent


async def test_create_per_debtor(client: httpx.AsyncClient, world: World) -> None:
    # given: no case, only the debtor
    entry = world.entry(world.uncapped, caseId=None, debtorId=gid("Debtor", world.debtor.id))
    # when
    payload, sent = await world.write(client, CREATE, "createTimeEntry", {"input": entry, "mode": "PER_DEBTOR"})
    # then
    assert (payload["timeEntry"]["minutes"], payload["timeEntry"]["source"]) == (90, "PER_DEBTOR")
    assert len(sent) == expected("createTimeEntry PER_DEBTOR"), sent


async def test_create_with_an_idempotency_key_and_its_replay(client: httpx.AsyncClient, world: World) -> None:
    await world.open_book_year(client, world.capped)
    variables = {"input": world.entry(world.capped), "key": "retry-1"}
    # when
    first, sent_first = await world.write(client, CREATE, "createTimeEntry", variables)
    replay, sent_replay = await world.write(client, CREATE, "createTimeEntry", variables)
    # then: the replay answers the first entry
    assert first["timeEntry"]["minutes"] == 90
    assert replay["timeEntry"] == first["timeEntry"]
    assert len(sent_first) == expected("createTimeEntry idempotencyKey, first"), sent_first
    assert len(sent_replay) == expected("createTimeEntry idempotencyKey, replay"), sent_replay


# --- updateTimeEntry ---------------------------------------------------------------------------------------------


async def test_update_into_another_book_year(client: httpx.AsyncClient, world: World, session: AsyncSession) -> None:
    # given: book years start in April; an entry on the last day of the 2025 book year
    settings, _ = await world.write(client, SETTINGS, "updateSettings", {"month": 4})
    assert settings["settings"] == {"bookYearStartMonth": 4}
    created = (await world.create(client, world.entry(world.capped, workDate="2026-03-31")))["timeEntry"]
    # when: moved to the first day of the 2026 book year
    payload, sent = await world.write(
        client, UPDATE, "updateTimeEntry", {"id": created["id"], "input": {"workDate": "2026-04-01"}}
    )
    # then
    entry = payload["timeEntry"]
    assert (entry["id"], entry["workDate"], entry["minutes"], entry["status"]) == (
        created["id"],
        "2026-04-01",
        90,
        "BILLABLE",
    )
    totals = await session.execute(
        text("SELECT year_start, j_minutes FROM case_year_totals WHERE case_id = :id ORDER BY year_start"),
        {"id": world.capped.id},
    )
    assert [tuple(row) for row in totals] == [(date(2025, 4, 1), 0), (date(2026, 4, 1), 90)]
    assert len(sent) == expected("updateTimeEntry into another book year"), sent


# --- copyTimeEntries ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 5])
async def test_copy(client: httpx.AsyncClient, world: World, n: int) -> None:
    # given
    sources = [
        (await world.create(client, world.entry(world.capped, minutes=10 + i)))["timeEntry"]["id"] for i in range(n)
    ]
    # when
    payload, sent = await world.write(client, COPY, "copyTimeEntries", {"ids": sources, "toDate": "2026-11-20"})
    # then
    copies = payload["timeEntries"]
    assert [c["minutes"] for c in copies] == [10 + i for i in range(n)]
    assert {(c["workDate"], c["source"], c["status"]) for c in copies} == {("2026-11-20", "COPY", "BILLABLE")}
    assert {c["id"] for c in copies}.isdisjoint(sources)
    assert len(sent) == expected("copyTimeEntries", n), sent


# --- timers ------------------------------------------------------------------------------------------------------


async def test_start_and_stop_timer(client: httpx.AsyncClient, world: World) -> None:
    # given
    timer_input = {
        "debtorId": gid("Debtor", world.debtor.id),
        "caseId": gid("Case", world.capped.id),
        "activityId": gid("Activity", world.activity.id),
    }
    # when
    started, sent_start = await world.write(client, START_TIMER, "startTimer", {"input": timer_input})
    stopped, sent_stop = await world.write(client, STOP_TIMER, "stopTimer")
    # then: under a minute rounds up to one
    assert started["timer"]["id"]
    entry = stopped["timeEntry"]
    assert (entry["minutes"], entry["source"], entry["status"]) == (1, "TIMER", "BILLABLE")
    assert stopped["overLimitEntry"] is None
    assert len(sent_start) == expected("startTimer"), sent_start
    assert len(sent_stop) == expected("stopTimer"), sent_stop


# --- saveCaseTimeList --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 10])
async def test_save_case_time_list(client: httpx.AsyncClient, world: World, n: int) -> None:
    # given: n new entries
    changes = [
        {"entry": {"activityId": gid("Activity", world.activity.id), "workDate": "2026-11-05", "minutes": 10 + i}}
        for i in range(n)
    ]
    # when
    payload, sent = await world.write(
        client, SAVE_LIST, "saveCaseTimeList", {"caseId": gid("Case", world.capped.id), "changes": changes}
    )
    # then
    written = payload["timeEntries"]
    assert [e["minutes"] for e in written] == [10 + i for i in range(n)]
    assert {(e["workDate"], e["status"], e["source"]) for e in written} == {("2026-11-05", "BILLABLE", "PER_DATE")}
    assert len(sent) == expected("saveCaseTimeList", n), sent


# --- billing -----------------------------------------------------------------------------------------------------


async def _invoice(client: httpx.AsyncClient, world: World, n: int) -> tuple[dict[str, Any], list[str]]:
    for i in range(n):
        await world.create(client, world.entry(world.uncapped, minutes=60, workDate=f"2026-11-{1 + i % 28:02d}"))
    payload, sent = await world.write(
        client, CREATE_INVOICE, "createInvoice", {"input": {"debtorId": gid("Debtor", world.debtor.id)}}
    )
    invoice = payload["invoice"]
    assert (invoice["total"], invoice["voided"]) == (f"{60 * n}.00", False)
    assert invoice["lines"] == [{"minutes": 60 * n, "amount": f"{60 * n}.00"}]
    return invoice, sent


@pytest.mark.parametrize("n", [3, 30])
async def test_create_invoice(client: httpx.AsyncClient, world: World, n: int) -> None:
    _, sent = await _invoice(client, world, n)
    assert len(sent) == expected("createInvoice", n), sent


async def test_void_invoice(client: httpx.AsyncClient, world: World) -> None:
    # given
    invoice, _ = await _invoice(client, world, 3)
    # when
    payload, sent = await world.write(client, VOID_INVOICE, "voidInvoice", {"id": invoice["id"]})
    # then
    assert payload["invoice"] == {"id": invoice["id"], "number": invoice["number"], "voided": True}
    assert len(sent) == expected("voidInvoice"), sent


async def test_release_over_limit(client: httpx.AsyncClient, world: World) -> None:
    # given: 30 minutes parked as L
    line = (await world.create(client, world.entry(world.small)))["overLimitEntry"]
    # when
    payload, sent = await world.write(client, RELEASE, "releaseOverLimit", {"ids": [line["id"]], "status": "BILLABLE"})
    # then
    assert payload["timeEntries"] == [{"id": line["id"], "status": "BILLABLE", "minutes": 30}]
    assert len(sent) == expected("releaseOverLimit"), sent
