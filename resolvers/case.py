from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from graph import ids
from graph.context import Info
from graph.errors import UserError
from graph.loaders import forget
from graph.pagination import After, Connection, First
from graph.types.case import (
    Case,
    CaseInput,
    CasePayload,
    ImportCasesInput,
    ImportCasesPayload,
    IncludeBlocked,
    case_connection,
)
from models import Case as CaseModel
from resolvers.write import Refused, read_back, write
from services import cases, company
from services.paging import AnyRow


async def cases_page(
    info: Info,
    first: First = 50,
    after: After = None,
    debtor_id: Annotated[
        strawberry.ID | None, strawberry.argument(description="Only this debtor's cases; every debtor's when left out.")
    ] = None,
    search: Annotated[
        str | None,
        strawberry.argument(description="Only cases whose code or description holds this text, ignoring case."),
    ] = None,
    include_blocked: IncludeBlocked = False,
) -> Connection[Case]:
    debtor = ids.decode(debtor_id, "Debtor") if debtor_id is not None else None
    if debtor_id is not None and debtor is None:
        debtor = 0  # a malformed or foreign ID matches no debtor (SPEC 5b)
    return await case_connection(
        info, first=first, after=after, debtor_id=debtor, search=search, include_blocked=bool(include_blocked)
    )


async def case_options(
    info: Info,
    debtor_id: Annotated[strawberry.ID, strawberry.argument(description="The debtor chosen.")],
    date: Annotated[
        date | None,
        strawberry.argument(description="The work date; today in the company's time zone when left out."),
    ] = None,
) -> list[Case]:
    """The debtor's cases one can write on at `date` (today in the company's zone), defaults first."""
    debtor = ids.decode(debtor_id, "Debtor")
    if debtor is None:
        return []
    async with info.context.db.read() as session:
        on = date or company.today(await company.get(session))
        return [Case.from_row(r) for r in await cases.options(session, debtor_id=debtor, on=on)]


async def _row(session: AsyncSession, written: CaseModel) -> AnyRow | None:
    return (await cases.rows_by_ids(session, [written.id]))[0]


def _payload(info: Info, outcome: tuple[CaseModel, AnyRow | None]) -> CasePayload:
    written, row = outcome
    forget(info.context.loaders.case_by_id, [written.id])
    return CasePayload(case=Case.from_row(row) if row else None)


async def create_case(
    info: Info, input: Annotated[CaseInput, strawberry.argument(description="The case to create.")]
) -> CasePayload:
    outcome = await write(info, read_back(lambda session: cases.create(session, input.to_data()), _row))
    if isinstance(outcome, Refused):
        return CasePayload(user_errors=outcome.errors)
    return _payload(info, outcome)


async def update_case(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="The case to change.")],
    input: Annotated[CaseInput, strawberry.argument(description="The fields to change; those left out stay.")],
) -> CasePayload:
    outcome = await write(
        info, read_back(lambda session: cases.update(session, ids.require(id, "Case", "id"), input.to_data()), _row)
    )
    if isinstance(outcome, Refused):
        return CasePayload(user_errors=outcome.errors)
    return _payload(info, outcome)


async def import_cases(
    info: Info, input: Annotated[ImportCasesInput, strawberry.argument(description="The debtors and the case.")]
) -> ImportCasesPayload:
    """Create one case for each debtor (SPEC 10): all or nothing unless `bestEffort`."""
    debtor_ids = [ids.decode(i, "Debtor") for i in input.debtor_ids]
    outcome = await write(
        info,
        lambda session: cases.import_for_debtors(
            session, debtor_ids=debtor_ids, data=input.case.to_data(), best_effort=bool(input.best_effort)
        ),
    )
    if isinstance(outcome, Refused):
        return ImportCasesPayload(user_errors=outcome.errors)
    created, errors = outcome
    rows = await info.context.loaders.case_by_id.load_many([c.id for c in created])
    return ImportCasesPayload(
        cases=[Case.from_row(r) for r in rows if r is not None], user_errors=[UserError.of(e) for e in errors]
    )
