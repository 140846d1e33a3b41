"""The administrators' audit log (SPEC 13): every recorded change of every record, newest first, filtered."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from api.history.types import HistoryAction, HistoryEntry, field_changes
from graph import ids
from graph.context import Info
from graph.errors import ApiError, TopCode
from graph.pagination import After, First, PageInfo, decode_cursor, encode_cursor, page_info, page_size
from graph.permissions import ADMIN
from services import history


@strawberry.type(description="One recorded change of any record, as the audit log lists it.")
class AuditRecord(HistoryEntry):
    record_type: str = strawberry.field(description="The kind of record: TimeEntry, Invoice or Role.")
    record_id: strawberry.ID = strawberry.field(
        description="The record's global ID; it still names a deleted entry, whose history stays readable here."
    )


@strawberry.type(description="An audit record and the cursor to go on from it.")
class AuditEdge:
    cursor: str = strawberry.field(description="Opaque; pass it as `after` for the records after this one.")
    node: AuditRecord = strawberry.field(description="The record.")


@strawberry.type(description="A page of the audit log, newest first.")
class AuditConnection:
    page_info: PageInfo = strawberry.field(description="Where this page lies, and the cursors to go on from.")
    edges: list[AuditEdge] = strawberry.field(description="The records of this page, newest first.")
    total_count: int = strawberry.field(description="How many records the whole filtered log holds.")


@strawberry.input(description="Which recorded changes the audit log lists; a condition left out lists all.")
class AuditFilter:
    record_types: list[str] | None = strawberry.field(
        default=None, description="Only changes of these kinds of record (TimeEntry, Invoice, Role)."
    )
    by_employee_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Only changes made by these employees."
    )
    from_: datetime | None = strawberry.field(default=None, name="from", description="Only changes made at or after.")
    to: datetime | None = strawberry.field(default=None, description="Only changes made before.")

    def to_filter(self) -> history.AuditFilter:
        unknown = sorted(set(self.record_types or ()) - set(history.RECORD_TYPES))
        if unknown:
            known = ", ".join(history.RECORD_TYPES)
            raise ApiError(TopCode.VALIDATION, f"recordTypes must be among {known}, got {unknown[0][:40]!r}")
        return history.AuditFilter(
            record_types=self.record_types,
            by_ids=ids.decode_all(self.by_employee_ids, "Employee"),
            since=self.from_,
            until=self.to,
        )


async def audit_log(
    info: Info,
    first: First = 50,
    after: After = None,
    filter: Annotated[AuditFilter | None, strawberry.argument(description="Which changes to list.")] = None,
) -> AuditConnection:
    size = page_size(first)
    cursor = decode_cursor(after, history.AUDIT_KEYSET)
    where = filter.to_filter() if filter is not None else history.AuditFilter()
    async with info.context.read_db.read() as session:
        page = await history.audit_page(session, where, first=size, after=cursor[0] if cursor else None)
        total = await history.audit_total(session, where)
    visibility = info.context.visibility  # an administrator's: every name
    edges = [
        AuditEdge(
            cursor=encode_cursor([recorded.id]),
            node=AuditRecord(
                record_type=recorded.record_type,
                record_id=strawberry.ID(ids.encode(recorded.record_type, recorded.record_id)),
                at=recorded.at,
                action=HistoryAction(recorded.action),
                changes=field_changes(recorded.record_type, recorded, visibility),
                by_id=recorded.by_id,
            ),
        )
        for recorded in page.rows
    ]
    return AuditConnection(page_info=page_info(page, [edge.cursor for edge in edges]), edges=edges, total_count=total)


@strawberry.type
class HistoryQueries:
    audit_log: AuditConnection = strawberry.field(
        resolver=audit_log,
        permission_classes=ADMIN,
        description="Every recorded change of time entries, invoices and roles, newest first; a deleted entry's "
        "changes stay here. Administrators only.",
    )
