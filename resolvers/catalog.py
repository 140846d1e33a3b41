"""Debtors and activities: the master data time is written against."""

from __future__ import annotations

from typing import Annotated

import strawberry

from graph import ids
from graph.compiler import Source
from graph.context import Info
from graph.pagination import After, Connection, First, connection, decode_cursor, page_size
from graph.types.activity import Activity, ActivityInput, ActivityPayload
from graph.types.case import Debtor, DebtorInput, DebtorPayload
from resolvers.write import Refused, write
from services import activities, debtors
from services.paging import Window


async def activities_list(info: Info) -> list[Activity]:
    async with info.context.db.read() as session:
        return [Activity.from_model(a) for a in await activities.list_all(session)]


async def debtors_page(
    info: Info,
    first: First = 50,
    after: After = None,
    search: Annotated[
        str | None, strawberry.argument(description="Only debtors whose code or name holds this text, ignoring case.")
    ] = None,
) -> Connection[Debtor]:
    size = page_size(first)
    cursor = decode_cursor(after, debtors.KEYSET)
    ctx = info.context
    db = ctx.db

    async def count_total() -> int:
        async with db.read() as session:
            return await debtors.total(session, search=search)

    compiled = ctx.compiled_edges(info)
    if compiled is not None:
        source, values = Source.matching(debtors.filters(search))
        return await compiled.connection(
            db,
            source,
            debtors.KEYSET,
            Window(size, cursor),
            viewer=ctx.viewer,
            visibility=ctx.visibility,
            params=values,
        )
    async with db.reader() as reader:
        page = await debtors.page(reader, first=size, after=cursor, search=search)
    return connection(page, debtors.KEYSET, Debtor.from_row, count_total)


async def create_debtor(
    info: Info, input: Annotated[DebtorInput, strawberry.argument(description="The debtor to create.")]
) -> DebtorPayload:
    outcome = await write(info, lambda session: debtors.create(session, input.to_data()))
    if isinstance(outcome, Refused):
        return DebtorPayload(user_errors=outcome.errors)
    return DebtorPayload(debtor=Debtor.from_row(outcome))


async def update_debtor(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="The debtor to change.")],
    input: Annotated[DebtorInput, strawberry.argument(description="The fields to change; those left out stay.")],
) -> DebtorPayload:
    outcome = await write(
        info, lambda session: debtors.update(session, ids.require(id, "Debtor", "id"), input.to_data())
    )
    if isinstance(outcome, Refused):
        return DebtorPayload(user_errors=outcome.errors)
    return DebtorPayload(debtor=Debtor.from_row(outcome))


async def create_activity(
    info: Info, input: Annotated[ActivityInput, strawberry.argument(description="The activity to create.")]
) -> ActivityPayload:
    outcome = await write(info, lambda session: activities.create(session, input.to_data()))
    if isinstance(outcome, Refused):
        return ActivityPayload(user_errors=outcome.errors)
    return ActivityPayload(activity=Activity.from_model(outcome))


async def update_activity(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="The activity to change.")],
    input: Annotated[ActivityInput, strawberry.argument(description="The fields to change; those left out stay.")],
) -> ActivityPayload:
    outcome = await write(
        info, lambda session: activities.update(session, ids.require(id, "Activity", "id"), input.to_data())
    )
    if isinstance(outcome, Refused):
        return ActivityPayload(user_errors=outcome.errors)
    return ActivityPayload(activity=Activity.from_model(outcome))
