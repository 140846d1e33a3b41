"""The running timer (SPEC 6): one per employee, stopped into a PER_DATE entry dated the day it started."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import TypedDict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Activity, Case, Debtor, EntryMode, EntrySource, Timer
from services import company, validation
from services.errors import DomainError, ErrorCode, not_found
from services.integrity import flush
from services.time_entries import MAX_MINUTES, Warning, WarningCode, Writer, WriteResult, Written, check_case, create

_RULES = {"uq_timers_employee_id": DomainError(ErrorCode.TIMER_RUNNING, "A timer is already running")}


class TimerData(TypedDict, total=False):
    debtor_id: int
    case_id: int | None
    activity_id: int
    description: str | None


async def running(session: AsyncSession, *, employee_id: int) -> Timer | None:
    return await session.scalar(select(Timer).where(Timer.employee_id == employee_id))


async def start(session: AsyncSession, writer: Writer, data: TimerData) -> Timer:
    """Start the viewer's timer; one is already running gives TIMER_RUNNING."""
    description = validation.description(data.get("description"))  # the one rule that needs no database: first
    settings = await company.get(session)
    if not settings.time_tracking_enabled:
        raise DomainError(ErrorCode.FEATURE_DISABLED, "Time tracking is not enabled")
    employee_id = writer.viewer.employee_id
    if await running(session, employee_id=employee_id) is not None:
        raise DomainError(ErrorCode.TIMER_RUNNING, "A timer is already running")
    if await session.get(Debtor, data["debtor_id"]) is None:
        raise not_found("Debtor", "debtorId")
    if await session.get(Activity, data["activity_id"]) is None:
        raise not_found("Activity", "activityId")
    case_id = data.get("case_id")
    if case_id is not None:
        if not settings.use_case_column:
            raise DomainError(ErrorCode.CASES_DISABLED, "Cases are not used for time writing", ("caseId",))
        case = await session.get(Case, case_id)
        if case is None:
            raise not_found("Case", "caseId")
        check_case(case, debtor_id=data["debtor_id"], on=company.today(settings))
    elif settings.require_case:
        raise DomainError(ErrorCode.CASE_REQUIRED, "Every entry needs a case", ("caseId",))
    timer = Timer(
        employee_id=employee_id,
        started_at=datetime.now(UTC),
        debtor_id=data["debtor_id"],
        case_id=case_id,
        activity_id=data["activity_id"],
        description=description,
    )
    session.add(timer)
    await flush(session, _RULES)
    return timer


def elapsed_minutes(started_at: datetime, stopped_at: datetime) -> int:
    """Whole minutes, rounded up, at least one."""
    seconds = max((stopped_at - started_at).total_seconds(), 0)
    return max(1, math.ceil(seconds / 60))


async def _locked(session: AsyncSession, writer: Writer) -> Timer:
    """The viewer's running timer, locked so that a stop and a discard from two devices cannot both take it."""
    timer = await session.scalar(select(Timer).where(Timer.employee_id == writer.viewer.employee_id).with_for_update())
    if timer is None:
        raise DomainError(ErrorCode.NO_TIMER, "No timer is running")
    return timer


async def discard(session: AsyncSession, writer: Writer) -> Timer:
    """Drop the viewer's running timer without writing time (SPEC 12); none running gives NO_TIMER.

    Writes no entry, so it works while time tracking is switched off too. Returns the timer as it was."""
    timer = await _locked(session, writer)
    await session.delete(timer)
    await session.flush()
    return timer


async def stop(session: AsyncSession, writer: Writer, *, now: datetime | None = None) -> WriteResult[Written]:
    """Write the timer's time through the PER_DATE cap check; past 1440 minutes write 1440 and warn."""
    timer = await _locked(session, writer)
    settings = await company.get(session)
    minutes = elapsed_minutes(timer.started_at, now or datetime.now(UTC))
    work_date = timer.started_at.astimezone(company.zone(settings.time_zone)).date()
    result = await create(
        session,
        writer,
        {
            "debtor_id": timer.debtor_id,
            "case_id": timer.case_id,
            "activity_id": timer.activity_id,
            "work_date": work_date,
            "minutes": min(minutes, MAX_MINUTES),
            "description": timer.description,
        },
        mode=EntryMode.PER_DATE,
        source=EntrySource.TIMER,
    )
    if minutes > MAX_MINUTES:
        result.warnings.append(
            Warning(WarningCode.TIMER_TRUNCATED, f"The timer ran {minutes} minutes; {MAX_MINUTES} were written")
        )
    await session.delete(timer)
    await session.flush()
    return result
