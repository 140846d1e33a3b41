from __future__ import annotations

from typing import Annotated, cast

import strawberry
from graphql import GRAPHQL_MAX_INT
from orjson import Fragment

from graph.context import Info
from graph.errors import ApiError, TopCode
from graph.types.common import per_field
from graph.types.report import ReportRow, TimeReport, json_projection, report_rows
from graph.types.time_entry import TimeEntryFilter
from services import report_json, reporting
from services.errors import DomainError
from services.reporting import Dimension


async def time_report(
    info: Info,
    filter: Annotated[TimeEntryFilter, strawberry.argument(description="Which entries to count.")],
    group_by: Annotated[
        list[Dimension],
        strawberry.argument(
            description="The dimensions to group by, in order; at most one of DAY, WEEK, MONTH and BOOK_YEAR "
            "(more is a top-level VALIDATION error)."
        ),
    ],
) -> TimeReport:
    """Time and money grouped by any dimensions, from the rollup (SPEC 9)."""
    ctx = info.context
    report_filter = filter.to_filter()
    settings = await ctx.loaders.company_settings()
    start_month = settings.book_year_start_month
    projection = per_field(info, json_projection) if ctx.compiled is not None else None
    try:
        async with ctx.read_db.read() as session:
            if projection is not None:
                written = await report_json.time_report_json(
                    session, ctx.visibility, report_filter, group_by, projection, start_month=start_month
                )
                # every count of a row is at most a total (none is negative); one beyond Int goes the object way,
                # which refuses it as it refuses any
                if max(written.total_minutes, written.total_entries) <= GRAPHQL_MAX_INT:
                    return TimeReport(
                        rows=cast(list[ReportRow], Fragment(written.rows)),
                        total_minutes=written.total_minutes,
                        total_amount=written.total_amount,
                    )
            report = await reporting.time_report(
                session, ctx.visibility, report_filter, group_by, start_month=start_month
            )
    except DomainError as error:
        raise ApiError(TopCode.VALIDATION, error.message) from error
    return TimeReport(
        rows=await report_rows(info, report.rows),
        total_minutes=report.total_minutes,
        total_amount=report.total_amount,
    )
