"""Root fields of debtors and their cases: the master data time is written against."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from api.case.types import (
    Case,
    CaseInput,
    CasePayload,
    Debtor,
    DebtorInput,
    DebtorPayload,
    ImportCasesInput,
    ImportCasesPayload,
    IncludeBlocked,
    case_connection,
)
from graph import ids
from graph.compiler import Source
from graph.context import Info
from graph.errors import UserError
from graph.loaders import forget
from graph.pagination import After, Connection, First, connection, decode_cursor, page_size
from graph.permissions import ADMIN, USER
from graph.write import Refused, read_back, write
from models import Case as CaseModel
from services import cases, company, debtors
from services.paging import AnyRow, Window


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
        return await ctx.connection(info, compiled, source, debtors.KEYSET, Window(size, cursor), params=values)
    async with db.reader() as reader:
        page = await debtors.page(reader, first=size, after=cursor, search=search)
    return connection(page, debtors.KEYSET, Debtor.from_row, count_total)


async def create_debtor(
    info: Info, input: Annotated[DebtorInput, strawberry.argument(description="The debtor to create.")]
) -> DebtorPayload:
    outcome = await write(info, input.to_data, debtors.create)
    if isinstance(outcome, Refused):
        return DebtorPayload(user_errors=outcome.errors)
    return DebtorPayload(debtor=Debtor.from_row(outcome))


async def update_debtor(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="The debtor to change.")],
    input: Annotated[DebtorInput, strawberry.argument(description="The fields to change; those left out stay.")],
) -> DebtorPayload:
    outcome = await write(
        info,
        lambda: (ids.require(id, "Debtor", "id"), input.to_data()),
        lambda session, given: debtors.update(session, *given),
    )
    if isinstance(outcome, Refused):
        return DebtorPayload(user_errors=outcome.errors)
    return DebtorPayload(debtor=Debtor.from_row(outcome))


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
    outcome = await write(info, input.to_data, read_back(cases.create, _row))
    if isinstance(outcome, Refused):
        return CasePayload(user_errors=outcome.errors)
    return _payload(info, outcome)


async def update_case(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="The case to change.")],
    input: Annotated[CaseInput, strawberry.argument(description="The fields to change; those left out stay.")],
) -> CasePayload:
    outcome = await write(
        info,
        lambda: (ids.require(id, "Case", "id"), input.to_data()),
        read_back(lambda session, given: cases.update(session, *given), _row),
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
        input.case.to_data,
        lambda session, data: cases.import_for_debtors(
            session, debtor_ids=debtor_ids, data=data, best_effort=bool(input.best_effort)
        ),
    )
    if isinstance(outcome, Refused):
        return ImportCasesPayload(user_errors=outcome.errors)
    created, errors = outcome
    rows = await info.context.loaders.case_by_id.load_many([c.id for c in created])
    return ImportCasesPayload(
        cases=[Case.from_row(r) for r in rows if r is not None], user_errors=[UserError.of(e) for e in errors]
    )


@strawberry.type
class CaseQueries:
    debtors: Connection[Debtor] = strawberry.field(
        resolver=debtors_page, permission_classes=USER, description="Debtors, by code."
    )
    cases: Connection[Case] = strawberry.field(
        resolver=cases_page, permission_classes=USER, description="Cases, by code; blocked ones only when asked."
    )
    case_options: list[Case] = strawberry.field(
        resolver=case_options,
        permission_classes=USER,
        description="The cases a debtor's time can be written on at a date: not blocked and active then, default "
        "cases first, then by code.",
    )


@strawberry.type
class CaseMutations:
    create_debtor: DebtorPayload = strawberry.mutation(
        resolver=create_debtor, permission_classes=ADMIN, description="Create a debtor. Administrators only."
    )
    update_debtor: DebtorPayload = strawberry.mutation(
        resolver=update_debtor, permission_classes=ADMIN, description="Change a debtor. Administrators only."
    )
    create_case: CasePayload = strawberry.mutation(
        resolver=create_case, permission_classes=ADMIN, description="Create a case. Administrators only."
    )
    update_case: CasePayload = strawberry.mutation(
        resolver=update_case, permission_classes=ADMIN, description="Change a case. Administrators only."
    )
    import_cases: ImportCasesPayload = strawberry.mutation(
        resolver=import_cases,
        permission_classes=ADMIN,
        description="Create the same case for each of a group of debtors, all or nothing unless `bestEffort`. "
        "Administrators only.",
    )
