"""What a webhook is POSTed for each type of event (api/webhook/payload.py), from the events real writes leave: IDs
as global IDs, changed fields named and written as `history` writes them, money exact."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from api.webhook import payload
from graph import ids
from models import CapKind
from services import auth, invoicing, time_entries, timers
from services.event_feed import FedEvent
from services.time_entries import Writer
from services.visibility import EVERYONE
from services.webhook_delivery import EVENT_COLUMNS, fed_event
from tests.factories import Factory


async def _events(session: AsyncSession) -> list[FedEvent]:
    """Every event of this transaction, in order, as the delivery loop reads them."""
    rows = await session.execute(text(f"SELECT {EVENT_COLUMNS} FROM events e ORDER BY e.id"))
    return [fed_event(row) for row in rows]


async def test_each_event_type_is_written_as_the_api_writes_its_values(factory: Factory) -> None:
    # given: an entry crossing half of its case's 60-minute maximum, a timer started, the time invoiced and voided
    admin, token = await factory.admin()
    viewer = await auth.authenticate(factory.session, token=token)
    assert viewer is not None
    writer = Writer(viewer, EVERYONE)
    case = await factory.case(max_per_book_year=CapKind.TIME, max_minutes=60)
    activity = await factory.activity(default_rate=Decimal("90.00"))
    data: time_entries.EntryData = {
        "case_id": case.id,
        "activity_id": activity.id,
        "work_date": date(2026, 11, 2),
        "minutes": 40,
    }
    entry = (await time_entries.create(factory.session, writer, data)).entry
    timer = await timers.start(factory.session, writer, {"debtor_id": case.debtor_id, "activity_id": activity.id})
    invoice = await invoicing.create(factory.session, viewer, debtor_id=case.debtor_id)
    await invoicing.void(factory.session, viewer, invoice.id)
    # when
    bodies = [orjson.loads(payload.body(event)) for event in await _events(factory.session)]
    # then: one body per event, each `data` as the API writes it
    me, case_id = ids.encode("Employee", admin.id), ids.encode("Case", case.id)
    found: dict[str, Any] = {body["type"]: body["data"] for body in bodies}
    assert [body["type"] for body in bodies] == [
        "timeEntry.created",
        "cap.threshold",
        "timer.changed",
        "invoice.created",
        "timeEntry.updated",
        "timeEntry.updated",
        "invoice.voided",
    ]
    assert found["cap.threshold"] == {
        "record": case_id,
        "by": None,
        "case": case_id,
        "percent": 50,
        "bookYearStart": "2026-01-01",
    }
    assert found["timer.changed"] == {
        "record": ids.encode("Timer", timer.id),
        "by": me,
        "employee": me,
        "case": None,
        "running": True,
    }
    number = invoice.number
    assert found["invoice.created"] == {
        "record": ids.encode("Invoice", invoice.id),
        "action": "CREATED",
        "by": me,
        "changes": [
            {"field": "number", "before": None, "after": number},
            {"field": "total", "before": None, "after": "60.00"},
            {"field": "invoiceDate", "before": None, "after": invoice.invoice_date.isoformat()},
        ],
    }
    assert found["invoice.voided"]["changes"] == [{"field": "voided", "before": "false", "after": "true"}]
    voided_entry = found["timeEntry.updated"]  # the later of the two: invoiced, then voided
    assert (voided_entry["record"], voided_entry["action"], voided_entry["case"]) == (
        ids.encode("TimeEntry", entry.id),
        "VOIDED",
        case_id,
    )
    assert {c["field"]: c["after"] for c in voided_entry["changes"]} == {"status": "BILLABLE", "invoiceId": None}
    assert {body["id"] for body in bodies} == {str(event.id) for event in await _events(factory.session)}


async def test_money_in_a_change_is_exact(factory: Factory) -> None:
    # given: an invoice total past what a float holds to the cent
    await factory.session.execute(
        text(
            "INSERT INTO events (type, record_type, record_id, action, changes) VALUES ('invoice.created', 'Invoice',"
            " 1, 'CREATED', '{\"total\": [null, 99999999999999.99]}')"
        )
    )
    # when
    (event,) = await _events(factory.session)
    written = orjson.loads(payload.body(event))
    # then
    assert written["data"]["changes"] == [{"field": "total", "before": None, "after": "99999999999999.99"}]
