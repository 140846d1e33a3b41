"""What a webhook is POSTed for an event (SPEC 13): `{"id", "type", "createdAt", "data"}`, each value written as the
API writes it: IDs as global IDs, times as `DateTime`, changed fields as `history` writes them.

`data` by event type (`by`: who did it, null when unknown; `changes`: each changed field as `FieldChange` shows it,
`{"field", "before", "after"}` with values as text):

| type | data |
|---|---|
| timeEntry.created, .updated, .deleted | record (TimeEntry ID), action, by, employee, case, changes |
| invoice.created, .voided; role.changed | record (Invoice or Role ID), action, by, changes |
| timer.changed | record (Timer ID), by, employee, case, running |
| cap.threshold | record and case (the Case ID), by, percent, bookYearStart |

Webhooks are administrators' (SPEC 13), so no name is hidden from them.
"""

from __future__ import annotations

from typing import Any

import orjson

from api.history.types import FIELDS, field_changes
from graph import codecs, ids
from services.event_feed import FedEvent
from services.history import Recorded
from services.visibility import EVERYONE

_WITH_EMPLOYEE = frozenset({"TimeEntry", "Timer"})
_WITH_CASE = frozenset({"TimeEntry", "Timer", "Case"})
_DATA_NAMES = {"yearStart": "bookYearStart"}  # the API's name of what the event's data calls otherwise


def body(event: FedEvent) -> bytes:
    """The JSON text POSTed for `event`; the same bytes for every attempt."""
    return orjson.dumps(
        {
            "id": codecs.NUMBER_TEXT.python(event.id),
            "type": event.type,
            "createdAt": codecs.DATETIME.python(event.at),
            "data": data(event),
        }
    )


def _employee(employee_id: int | None) -> str | None:
    return None if employee_id is None else ids.encode("Employee", employee_id)


def data(event: FedEvent) -> dict[str, Any]:
    written: dict[str, Any] = {"record": ids.encode(event.record_type, event.record_id)}
    if event.action is not None:
        written["action"] = event.action
    written["by"] = _employee(event.by_id)
    if event.record_type in _WITH_EMPLOYEE:
        written["employee"] = _employee(event.employee_id)
    if event.record_type in _WITH_CASE:
        written["case"] = None if event.case_id is None else ids.encode("Case", event.case_id)
    if event.record_type in FIELDS and event.action is not None:
        recorded = Recorded(
            event.id, event.record_type, event.record_id, event.at, event.by_id, event.action, event.changes
        )
        written["changes"] = [
            {"field": change.field, "before": change.before, "after": change.after}
            for change in field_changes(event.record_type, recorded, EVERYONE)
        ]
    written.update((_DATA_NAMES.get(key, key), value) for key, value in event.data.items())
    return written
