from __future__ import annotations

from graph.context import Info
from graph.errors import ApiError, TopCode
from graph.types.report import TimeReport, report_rows
from graph.types.time_entry import TimeEntryFilter
from services import reporting
from services.errors import DomainError
from services.reporting import Dimension


async def time_report(info: Info, filter: TimeEntryFilter, group_by: list[Dimension]) -> TimeReport:
    """Time and money grouped by any dimensions, from the rollup (SPEC 9)."""
    ctx = info.context
    report_filter = filter.to_filter()
    settings = await ctx.loaders.company_settings()
    try:
        async with ctx.read_db.read() as session:
            report = await reporting.time_report(
                session, ctx.visibility, report_filter, group_by, start_month=settings.book_year_start_month
            )
    except DomainError as error:
        raise ApiError(TopCode.VALIDATION, error.message) from error
    return TimeReport(
        rows=await report_rows(info, report.rows),
        total_minutes=report.total_minutes,
        total_amount=report.total_amount,
    )
