"""Root fields of the time report."""

from __future__ import annotations

from typing import Annotated, cast

import strawberry
from graphql import GRAPHQL_MAX_INT

from api.report.types import ReportRow, TimeReport, report_rows
from api.time_entry.types import TimeEntryFilter
from graph.context import Info
from graph.errors import ApiError, TopCode
from graph.permissions import USER
from services import reporting
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
    compiled = ctx.compiled_rows(info)
    try:
        async with ctx.read_db.read() as session:
            if compiled is not None:
                groups = reporting.grouped(ctx.visibility, report_filter, group_by, start_month=start_month).rows()
                written = await compiled.rows(
                    session,
                    groups.g,
                    groups.order,
                    visibility=ctx.visibility,
                    null_columns=groups.null_columns,
                    also=groups.totals,
                )
                total_minutes, total_amount, total_entries = written.also
                # every count of a row is at most a total (none is negative); one beyond Int goes the object way,
                # which refuses it as it refuses any
                if max(total_minutes, total_entries) <= GRAPHQL_MAX_INT:
                    return TimeReport(
                        rows=cast(list[ReportRow], written.rows),
                        total_minutes=total_minutes,
                        total_amount=total_amount,
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


@strawberry.type
class ReportQueries:
    time_report: TimeReport = strawberry.field(
        resolver=time_report,
        permission_classes=USER,
        description="Minutes and money of the filtered entries, grouped; rows in the order of `groupBy`. Hidden "
        "employees fold into one row per group.",
    )
