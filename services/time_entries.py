"""Writing time (SPEC 3, 4, 6): create, edit, delete and copy entries, with the cap check in PER_DATE mode."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from itertools import takewhile
from typing import Any, Generic, NoReturn, Protocol, TypedDict, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.driver import DriverRow
from models import (
    CapBasis,
    CapKind,
    Case,
    CaseYearTotals,
    CompanySettings,
    EntryMode,
    EntrySource,
    TimeEntry,
    TimeStatus,
)
from services import company, events, idempotency, policy, rates, rollup, totals, validation, writing
from services.auth import Viewer
from services.book_year import book_year_of
from services.cap import CapSettings, counts_towards, describe, split_amount, split_minutes
from services.errors import DomainError, DomainErrors, ErrorCode, invalid, not_found
from services.visibility import Visibility

MAX_MINUTES = 1440


class EntryData(TypedDict, total=False):
    employee_id: int | None
    debtor_id: int | None
    case_id: int | None
    activity_id: int | None
    work_date: date | None
    minutes: int | None
    status: TimeStatus | None
    billable: bool | None
    description: str | None
    tags: list[str] | None


class WarningCode(StrEnum):
    CAP_EXCEEDED = "CAP_EXCEEDED"
    TIMER_TRUNCATED = "TIMER_TRUNCATED"


@dataclass(frozen=True, slots=True)
class Warning:
    code: WarningCode
    message: str


@dataclass(frozen=True, slots=True)
class Written:
    """A new entry as its write returned it."""

    id: int
    employee_id: int
    debtor_id: int
    case_id: int | None
    activity_id: int
    work_date: date
    minutes: int
    status: TimeStatus
    rate: Decimal
    amount: Decimal
    description: str | None
    tags: list[str]
    source: EntrySource
    invoice_id: int | None
    over_limit_of_id: int | None
    created_by_id: int
    updated_by_id: int
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> Written:
        return cls(**{name: row[name] for name in _WRITTEN_FIELDS})


_WRITTEN_FIELDS = tuple(Written.__dataclass_fields__)


class CaseOfEntry(CapSettings, policy.CaseRules, Protocol):
    """What a write checks and decides with of an entry's case, as a model or `CaseTerms` carries it."""

    @property
    def id(self) -> int: ...
    @property
    def debtor_id(self) -> int: ...
    @property
    def invoicing(self) -> TimeStatus: ...
    @property
    def adjusted_rate(self) -> Decimal | None: ...


@dataclass(frozen=True, slots=True)
class CaseTerms:
    """What a write checks and decides with of its case: its period, debtor, invoicing, rate and maximum."""

    id: int
    debtor_id: int
    invoicing: TimeStatus
    blocked: bool
    active_from: date | None
    active_until: date | None
    adjusted_rate: Decimal | None
    max_per_book_year: CapKind
    max_based_on: CapBasis
    max_minutes: int | None
    max_amount: Decimal | None

    @classmethod
    def of(cls, facts: Mapping[str, Any]) -> CaseTerms:
        """From a row holding the case's columns as `c_<name>` (services/writing.py's FACTS)."""
        return cls(**{name: facts[f"c_{name}"] for name in _CASE_TERMS})


_CASE_TERMS = tuple(CaseTerms.__dataclass_fields__)


E = TypeVar("E", bound=TimeEntry | Written)


@dataclass
class WriteResult(Generic[E]):
    """What a write wrote: a new entry as its write returned it (`Written`), an edited one as loaded (`TimeEntry`).
    `shown`, when the write has them, are its rows with everything a listed entry shows (`time_queries.ENTRY_COLUMNS`),
    so its payload needs no read back."""

    entry: E
    over_limit_entry: E | None = None
    warnings: list[Warning] = field(default_factory=list)
    shown: list[DriverRow] | None = None


@dataclass(frozen=True, slots=True)
class Writer:
    """Who writes, and whose names they see: decides for whom they may write (SPEC 5a)."""

    viewer: Viewer
    visibility: Visibility

    def may_write_for(self, employee_id: int) -> bool:
        writes = policy.writes_for(self.viewer)
        return policy.may_write_for(self.viewer.employee_id, writes, employee_id, self.visibility.can_see(employee_id))

    def may_edit(self, status: TimeStatus, employee_id: int) -> bool:
        """`TimeEntry.editable` of an entry of `employee_id` in `status` (SPEC 6)."""
        return policy.entry_editable(
            status,
            employee_id,
            writer_id=self.viewer.employee_id,
            writes=policy.writes_for(self.viewer),
            employee_visible=self.visibility.can_see(employee_id),
        )


def chosen_status(status: TimeStatus | None, billable: bool | None) -> TimeStatus | None:
    """The writer's J/N or Billable checkbox, which must agree; None when they chose neither (SPEC 3, 5b)."""
    if status is not None:
        validation.writable_status(status, "status")
    from_checkbox = None if billable is None else (TimeStatus.BILLABLE if billable else TimeStatus.NON_BILLABLE)
    if status is not None and from_checkbox is not None and status != from_checkbox:
        raise invalid("billable must agree with status", "billable")
    return status or from_checkbox


def default_status(
    *, status: TimeStatus | None, billable: bool | None, case: CaseOfEntry | None, activity_default: TimeStatus
) -> TimeStatus:
    """The writer's J/N (or Billable checkbox), else the case's invoicing, else the activity's default (SPEC 3)."""
    chosen = chosen_status(status, billable)
    if chosen is not None:
        return chosen
    return case.invoicing if case is not None else activity_default


def check_input(data: EntryData, problems: validation.Problems, *, creating: bool) -> None:
    """The rules of an entry's input that need no database (SPEC 5b), each broken one noted in `problems`. A patch
    is checked in the fields it gives, and may not clear a required one."""
    if creating or "minutes" in data:
        problems.check(_minutes, data.get("minutes"))
    if creating or "work_date" in data:
        problems.check(_work_date, data.get("work_date"))
    for key in ("activity_id",) if creating else ("employee_id", "activity_id"):
        if creating or key in data:
            problems.check(validation.required, data.get(key), validation.camel(key))
    if "status" in data or "billable" in data:
        problems.check(chosen_status, data.get("status"), data.get("billable"))
    if "description" in data:
        problems.check(validation.description, data.get("description"))
    if "tags" in data:
        problems.check(validation.tags, data.get("tags"))


def _checked(data: EntryData, *, creating: bool) -> None:
    problems = validation.Problems()
    check_input(data, problems, creating=creating)
    problems.raise_if_any()


async def _settings(session: AsyncSession) -> CompanySettings:
    settings = await company.get(session)
    if not settings.time_tracking_enabled:
        raise DomainError(ErrorCode.FEATURE_DISABLED, "Time tracking is not enabled")
    return settings


def _minutes(value: int | None) -> int:
    return validation.between(validation.required(value, "minutes"), 1, MAX_MINUTES, "minutes")


def _work_date(value: date | None, field: str = "workDate") -> date:
    checked = validation.day(validation.required(value, field), field)
    assert checked is not None
    return checked


def check_case(case: CaseOfEntry, *, debtor_id: int | None, on: date) -> None:
    """A case one may write on at `on` for `debtor_id` (SPEC 2, 6)."""
    if debtor_id is not None and case.debtor_id != debtor_id:
        raise DomainError(ErrorCode.CASE_DEBTOR_MISMATCH, "The case belongs to another debtor", ("caseId",))
    refusal = policy.time_refusal(case, on)
    if refusal is not None:
        raise refusal


@dataclass(frozen=True, slots=True)
class _Target:
    """What an entry points at, read in its facts (services/writing.py) and checked against the rules of SPEC 6."""

    employee_id: int
    debtor_id: int
    case: CaseTerms | None
    activity_id: int
    facts: DriverRow

    def rate(self) -> Decimal:
        """The first rate that exists (SPEC 4), or NO_RATE."""
        return rates.first_rate(
            case_rate=self.case.adjusted_rate if self.case else None,
            debtor_rate=self.facts["debtor_adjusted_rate"],
            employee_activity_rate=self.facts["employee_activity_rate"],
            employee_rate=self.facts["emp_default_rate"],
            activity_rate=self.facts["act_default_rate"],
        ).rate

    def status(self, status: TimeStatus | None, billable: bool | None) -> TimeStatus:
        return default_status(
            status=status, billable=billable, case=self.case, activity_default=self.facts["act_default_status"]
        )


def _target(
    writer: Writer, settings: CompanySettings, want: writing.Wanted, facts: DriverRow, *, check_case_rules: bool
) -> _Target:
    """The employee, case, debtor and activity `want` names, each checked (SPEC 5a, 6); a case's rules (blocked,
    active on the date) only when `check_case_rules`, its debtor always."""
    _check_writer(writer, want.employee_id)
    if facts["emp_id"] is None:
        raise not_found("Employee", "employeeId")
    if not facts["emp_active"]:
        raise invalid("employeeId may not be an inactive employee", "employeeId")
    case: CaseTerms | None = None
    if want.case_id is not None:
        if not settings.use_case_column:
            raise DomainError(ErrorCode.CASES_DISABLED, "Cases are not used for time writing", ("caseId",))
        if facts["c_id"] is None:
            raise not_found("Case", "caseId")
        case = CaseTerms.of(facts)
        if check_case_rules:
            check_case(case, debtor_id=want.debtor_id, on=want.work_date)
        elif want.debtor_id is not None and case.debtor_id != want.debtor_id:
            raise DomainError(ErrorCode.CASE_DEBTOR_MISMATCH, "The case belongs to another debtor", ("caseId",))
    elif settings.require_case:
        raise DomainError(ErrorCode.CASE_REQUIRED, "Every entry needs a case", ("caseId",))
    elif want.debtor_id is None:
        raise invalid("debtorId may not be empty", "debtorId")
    if facts["found_debtor_id"] is None:
        raise not_found("Debtor", "debtorId")
    if facts["act_id"] is None:
        raise not_found("Activity", "activityId")
    return _Target(want.employee_id, facts["found_debtor_id"], case, want.activity_id, facts)


def _cap_warning(case: CaseOfEntry, used_minutes: int, used_amount: Decimal, excess: int) -> Warning:
    limit, used = describe(case, used_minutes, used_amount)
    return Warning(
        WarningCode.CAP_EXCEEDED,
        f"The case's maximum per book year is {limit}; {used} were already used; "
        f"{excess} minutes were written as over-limit time (L)",
    )


@dataclass(frozen=True, slots=True)
class New:
    """One entry of `create_many`: its input, and the status it takes whatever the input says (a copy's), if any."""

    data: EntryData
    status: TimeStatus | None = None


class RowRefused(Exception):
    """The `index`-th entry of a `create_many` was refused; nothing of the call was written."""

    def __init__(self, index: int, refusal: DomainError | DomainErrors) -> None:
        super().__init__(index, refusal)
        self.index, self.refusal = index, refusal


async def create(
    session: AsyncSession,
    writer: Writer,
    data: EntryData,
    *,
    mode: EntryMode = EntryMode.PER_DATE,
    source: EntrySource | None = None,
    status: TimeStatus | None = None,
) -> WriteResult[Written]:
    """Write a new entry; in PER_DATE mode its case's book-year maximum is never overshot (SPEC 6)."""
    try:
        (result,) = await create_many(session, writer, [New(data, status)], mode=mode, source=source)
    except RowRefused as refused:
        raise refused.refusal from None
    return result


async def create_many(
    session: AsyncSession,
    writer: Writer,
    new: Sequence[New],
    *,
    mode: EntryMode = EntryMode.PER_DATE,
    source: EntrySource | None = None,
) -> list[WriteResult[Written]]:
    """Write new entries as if one by one, in order: in PER_DATE mode each is held to its case's book-year maximum
    as left by those before it (SPEC 6). Any refusal refuses them all, as `RowRefused` of the first refused.

    Two statements however many (services/writing.py), three or four when a book year gets its first entry: one reads
    what the rules need and locks the cases' book-year totals, one writes the entries, their L lines, the totals, the
    cases' entry counts and both rollups."""
    if not new:
        return []
    wanted = []
    for index, item in enumerate(new):
        try:
            wanted.append(_wanted(writer, item.data))
        except (DomainError, DomainErrors) as refusal:
            raise RowRefused(index, refusal) from None
    facts = await writing.facts(session, wanted)
    if not facts:  # the settings row was deleted by hand: `company.get` makes it again
        await company.get(session)
        facts = await writing.facts(session, wanted)
    settings = company.from_prefixed(facts[0])
    assert settings is not None
    start_month = settings.book_year_start_month
    running: dict[tuple[int, date], DriverRow] = {}  # each totals row as the entries before have left it
    decided: list[tuple[writing.NewEntry, list[Warning]]] = []
    for index, (item, want, found) in enumerate(zip(new, wanted, facts, strict=True)):
        try:
            decided.append(_decide(writer, settings, item, want, found, running, mode, source))
        except (DomainError, DomainErrors) as refusal:
            raise RowRefused(index, refusal) from None
    written = await writing.write(
        session, [entry for entry, _ in decided], writer_id=writer.viewer.employee_id, start_month=start_month
    )
    results = []
    for (_, warnings), found, (entry, line) in zip(decided, facts, written, strict=True):
        line_id = line["id"] if line else None
        shown = [writing.shown(found, row, line_id=line_id) for row in (entry, line) if row is not None]
        results.append(WriteResult(Written.of(entry), Written.of(line) if line else None, warnings, shown=shown))
    return results


def _wanted(writer: Writer, data: EntryData) -> writing.Wanted:
    """What an entry's facts are read for, its input checked first."""
    _checked(data, creating=True)
    return writing.Wanted(
        employee_id=data.get("employee_id") or writer.viewer.employee_id,
        case_id=data.get("case_id"),
        debtor_id=data.get("debtor_id"),
        activity_id=validation.required(data.get("activity_id"), "activityId"),
        work_date=_work_date(data.get("work_date")),
    )


def _decide(
    writer: Writer,
    settings: CompanySettings,
    item: New,
    want: writing.Wanted,
    facts: DriverRow,
    running: dict[tuple[int, date], DriverRow],
    mode: EntryMode,
    source: EntrySource | None,
) -> tuple[writing.NewEntry, list[Warning]]:
    """The rules of SPEC 6 for one new entry, against its `facts` and the totals rows `running`: what to write."""
    data = item.data
    if not settings.time_tracking_enabled:
        raise DomainError(ErrorCode.FEATURE_DISABLED, "Time tracking is not enabled")
    target = _target(writer, settings, want, facts, check_case_rules=True)
    case = target.case
    status = item.status or target.status(data.get("status"), data.get("billable"))
    rate = target.rate()
    minutes, line_minutes = _minutes(data.get("minutes")), 0
    warnings: list[Warning] = []
    row: DriverRow | None = None
    if case is not None:
        key = (case.id, book_year_of(want.work_date, settings.book_year_start_month).start)
        row = running.get(key)
        if row is None:
            row = running[key] = DriverRow((name, facts[name]) for name in totals.COUNT_COLUMNS)
        status, minutes, line_minutes = _cap_split(case, row, mode, status, minutes, rate, warnings)
    entry = writing.NewEntry(
        employee_id=want.employee_id,
        debtor_id=target.debtor_id,
        case_id=want.case_id,
        activity_id=want.activity_id,
        work_date=want.work_date,
        minutes=minutes,
        status=status,
        rate=rate,
        description=validation.description(data.get("description")),
        tags=validation.tags(data.get("tags")),
        source=source or EntrySource(mode.value),
        line_minutes=line_minutes,
    )
    if row is not None:  # the next entry on this case and book year is held to what this one leaves
        for name, value in totals.added(entry.rows()).items():
            row[name] += value
    return entry, warnings


def _check_writer(writer: Writer, employee_id: int) -> None:
    """May `writer` write for `employee_id` at all: answered before anything is read (SPEC 5a)."""
    if employee_id != writer.viewer.employee_id and not writer.visibility.can_see(employee_id):
        raise not_found("Employee", "employeeId")  # as if that employee did not exist (SPEC 5a)
    if not writer.may_write_for(employee_id):
        raise DomainError(ErrorCode.FORBIDDEN, "You may not write time for another employee", ("employeeId",))


def _cap_split(
    case: CaseOfEntry,
    row: CaseYearTotals | DriverRow,
    mode: EntryMode,
    status: TimeStatus,
    minutes: int,
    rate: Decimal,
    warnings: list[Warning],
) -> tuple[TimeStatus, int, int]:
    """The cap check (SPEC 6 steps 2-3) of an entry against its case's locked totals `row`, which must not hold the
    entry's own share: (the entry's status, its minutes, the minutes an L line must take). The entry is cut to the
    space left; when no whole minute fits, the entry itself becomes L and no line is needed."""
    if mode is not EntryMode.PER_DATE or not counts_towards(case, status):
        return status, minutes, 0
    used_minutes, used_amount = totals.counted(row, case.max_based_on)
    if case.max_per_book_year is CapKind.TIME:
        assert case.max_minutes is not None
        fits, excess = split_minutes(limit=case.max_minutes, used=used_minutes, requested=minutes)
    else:
        assert case.max_amount is not None
        fits, excess = split_amount(limit=case.max_amount, used=used_amount, requested=minutes, rate=rate)
    if not excess:
        return status, minutes, 0
    warnings.append(_cap_warning(case, used_minutes, used_amount, excess))
    if fits == 0:  # no whole minute fits: the entry itself is parked
        return TimeStatus.OVER_LIMIT, excess, 0
    return status, fits, excess


def _hold_to_cap(
    entry: TimeEntry, case: CaseOfEntry, row: CaseYearTotals | DriverRow, mode: EntryMode, warnings: list[Warning]
) -> int:
    """`_cap_split` of an entry being edited: it is cut in place. Returns the minutes an L line must take."""
    status, minutes, excess = _cap_split(case, row, mode, entry.status, entry.minutes, entry.rate, warnings)
    if (status, minutes) != (entry.status, entry.minutes):
        entry.status, entry.minutes = status, minutes
        entry.amount = rates.amount(minutes, entry.rate)
    return excess


def _count(row: CaseYearTotals, written: TimeEntry, start_month: int) -> None:
    """Add a written entry of the row's case and book year to the row (SPEC 6 step 2: kept by every write)."""
    share = totals.share_of(written, start_month)
    assert share is not None
    totals.add(row, share)


def _over_limit_line(entry: TimeEntry, minutes: int) -> TimeEntry:
    return TimeEntry(
        employee_id=entry.employee_id,
        debtor_id=entry.debtor_id,
        case_id=entry.case_id,
        activity_id=entry.activity_id,
        work_date=entry.work_date,
        minutes=minutes,
        status=TimeStatus.OVER_LIMIT,
        rate=entry.rate,
        amount=rates.amount(minutes, entry.rate),
        description=entry.description,
        tags=list(entry.tags),
        source=entry.source,
        created_by_id=entry.created_by_id,
        updated_by_id=entry.updated_by_id,
        created_at=entry.created_at,
        updated_at=entry.updated_at,
    )


async def _locked_entry(
    session: AsyncSession, writer: Writer, entry_id: int, expected_version: int | None
) -> TimeEntry:
    entry = await session.get(TimeEntry, entry_id, with_for_update=True, populate_existing=True)
    if entry is None:
        raise not_found("Time entry", "id")
    if not writer.may_write_for(entry.employee_id):
        raise DomainError(ErrorCode.FORBIDDEN, "You may not change time of another employee", ("id",))
    if not policy.status_editable(entry.status):
        raise DomainError(ErrorCode.INVOICED_LOCKED, "Invoiced time cannot be changed", ("id",))
    if expected_version is not None and expected_version != entry.version:
        raise DomainError(
            ErrorCode.VERSION_CONFLICT,
            f"The entry changed meanwhile (version {entry.version}, you saw {expected_version})",
            ("expectedVersion",),
        )
    return entry


async def update(
    session: AsyncSession,
    writer: Writer,
    entry_id: int,
    data: EntryData,
    *,
    expected_version: int | None = None,
    mode: EntryMode = EntryMode.PER_DATE,
) -> WriteResult[TimeEntry]:
    """Patch an entry; in PER_DATE mode it is re-checked against the cap leaving its own share out (SPEC 6.4)."""
    _checked(data, creating=False)
    settings = await _settings(session)
    entry = await _locked_entry(session, writer, entry_id, expected_version)
    start_month = settings.book_year_start_month
    old_share = totals.share_of(entry, start_month)
    old_case_id = entry.case_id
    before = [rollup.of(entry)]
    case_id = data.get("case_id", entry.case_id)
    if "debtor_id" in data and data["debtor_id"] is None and case_id is None:
        # an entry always has a debtor; with a case, the case's debtor is taken (SPEC 5b: a cleared required field)
        raise invalid("debtorId may not be empty", "debtorId")
    if data.get("debtor_id") is not None:
        debtor_id: int | None = data["debtor_id"]
    else:
        debtor_id = None if "case_id" in data and case_id is not None else entry.debtor_id
    rule_fields = ("case_id", "debtor_id", "work_date", "minutes")
    want = writing.Wanted(
        employee_id=data.get("employee_id") or entry.employee_id,
        case_id=case_id,
        debtor_id=debtor_id,
        activity_id=data.get("activity_id") or entry.activity_id,
        work_date=_work_date(data.get("work_date") or entry.work_date),
    )
    # read, not locked: the totals rows are locked below, all at once in key order
    (facts,) = await writing.facts(session, [want], lock=False)
    target = _target(writer, settings, want, facts, check_case_rules=any(key in data for key in rule_fields))
    minutes = _minutes(data.get("minutes", entry.minutes))
    new_case_id = target.case.id if target.case else None
    rate_changed = (target.employee_id, target.activity_id, new_case_id, target.debtor_id) != (
        entry.employee_id,
        entry.activity_id,
        entry.case_id,
        entry.debtor_id,
    )
    if rate_changed:
        entry.rate = target.rate()
    if "status" in data or "billable" in data:
        entry.status = target.status(data.get("status"), data.get("billable"))
        if entry.status is not TimeStatus.OVER_LIMIT:
            entry.over_limit_of_id = None  # a parked line made J or N is ordinary time now, as after a release
    entry.employee_id, entry.debtor_id, entry.case_id = target.employee_id, target.debtor_id, new_case_id
    entry.activity_id, entry.work_date, entry.minutes = target.activity_id, want.work_date, minutes
    entry.amount = rates.amount(entry.minutes, entry.rate)
    if "description" in data:
        entry.description = validation.description(data["description"])  # checked already: trimmed here
    if "tags" in data:
        entry.tags = validation.tags(data["tags"])

    over_limit = await session.scalar(select(TimeEntry).where(TimeEntry.over_limit_of_id == entry.id).with_for_update())
    if over_limit is not None:
        before.append(rollup.of(over_limit))
    new_key = totals.key_of(entry, start_month)
    line_share = totals.share_of(over_limit, start_month) if over_limit else None
    keys = [share.key for share in (old_share, line_share) if share]
    rows = await totals.lock(session, keys + ([new_key] if new_key else []))
    if old_share is not None:
        totals.add(rows[old_share.key], old_share, -1)

    result: WriteResult[TimeEntry] = WriteResult(entry)
    parked: TimeEntry | None = None
    case = target.case
    if case is not None and new_key is not None:
        row = rows[new_key]
        excess = _hold_to_cap(entry, case, row, mode, result.warnings)
        if excess:
            parked = await _park_excess(session, entry, over_limit, excess, writer)
            if line_share is not None:
                totals.add(rows[line_share.key], line_share, -1)
            _count(row, parked, start_month)  # the line follows its entry's case and date: the same row
            result.over_limit_entry = parked
        _count(row, entry, start_month)
    if "tags" in data and over_limit is not None and over_limit.tags != entry.tags:
        # the line holds part of the same work: it is tagged as its entry is, and changed once by this edit
        over_limit.tags = list(entry.tags)
        if over_limit is not parked:
            _stamp(over_limit, writer)
    if old_case_id != new_case_id:
        if old_case_id is not None:
            await totals.count_entries(session, old_case_id, -1)
        if new_case_id is not None:
            await totals.count_entries(session, new_case_id, 1)
    _stamp(entry, writer)
    await session.flush()
    lines = [line for line in (over_limit, parked) if line is not None]
    after = [rollup.of(entry)] + [rollup.of(line) for line in dict.fromkeys(lines)]
    await rollup.apply(session, removed=before, added=after)
    return result


async def _park_excess(
    session: AsyncSession, entry: TimeEntry, line: TimeEntry | None, excess: int, writer: Writer
) -> TimeEntry:
    """Add an edit's excess to the entry's L line, creating it if there is none (an entry has at most one)."""
    if line is None:
        line = _over_limit_line(entry, excess)
        line.over_limit_of_id = entry.id
        line.created_by_id = line.updated_by_id = writer.viewer.employee_id
        line.created_at = line.updated_at = datetime.now(UTC)  # the line is new now, not as old as its entry
        session.add(line)
        assert entry.case_id is not None
        await totals.count_entries(session, entry.case_id, 1)
    else:
        total = line.minutes + excess
        if total > MAX_MINUTES:
            raise invalid(f"minutes may not take the entry's over-limit line beyond {MAX_MINUTES} minutes", "minutes")
        old_case_id = line.case_id
        line.minutes, line.rate = total, entry.rate
        line.employee_id, line.debtor_id, line.case_id = entry.employee_id, entry.debtor_id, entry.case_id
        line.activity_id, line.work_date = entry.activity_id, entry.work_date
        if old_case_id != line.case_id:
            if old_case_id is not None:
                await totals.count_entries(session, old_case_id, -1)
            assert line.case_id is not None
            await totals.count_entries(session, line.case_id, 1)
        _stamp(line, writer)
    line.amount = rates.amount(line.minutes, line.rate)
    return line


def _stamp(entry: TimeEntry, writer: Writer) -> None:
    entry.version += 1
    entry.updated_at = datetime.now(UTC)
    entry.updated_by_id = writer.viewer.employee_id


async def delete(session: AsyncSession, writer: Writer, entry_id: int, *, expected_version: int | None = None) -> int:
    """Delete an entry (not when invoiced); its totals and its case's entry count follow (SPEC 6)."""
    settings = await _settings(session)
    entry = await _locked_entry(session, writer, entry_id, expected_version)
    await events.act_as(session, writer.viewer.employee_id)  # the deleted row cannot say who deleted it
    # the delete unlinks the entry's L line (ON DELETE SET NULL): lock it before the totals, as `update` does,
    # or this waits for the line's own delete while that one waits for our totals lock
    await session.execute(select(TimeEntry.id).where(TimeEntry.over_limit_of_id == entry.id).with_for_update())
    share = totals.share_of(entry, settings.book_year_start_month)
    if share is not None:
        rows = await totals.lock(session, [share.key])
        totals.add(rows[share.key], share, -1)
        await totals.count_entries(session, share.key[0], -1)
    await rollup.apply(session, removed=[rollup.of(entry)])
    await session.delete(entry)
    await session.flush()
    return entry_id


async def copy(
    session: AsyncSession, writer: Writer, entry_ids: Sequence[int], to_date: date
) -> list[WriteResult[Written]]:
    """Copy entries to another date: fresh rates, no cap check; J/F copy as J, N as N, L as a new entry would.

    At most `validation.MAX_BULK` entries per call (SPEC 12)."""
    problems = validation.Problems()
    problems.check(validation.bulk, entry_ids, "ids")
    problems.check(_work_date, to_date, "toDate")
    problems.raise_if_any()
    found = await session.scalars(select(TimeEntry).where(TimeEntry.id.in_(entry_ids)))
    sources = {source.id: source for source in found}
    copies = []
    for index, entry_id in enumerate(entry_ids):
        source = sources.get(entry_id)
        if source is None:
            raise not_found("Time entry", "ids", str(index))
        status = {
            TimeStatus.BILLABLE: TimeStatus.BILLABLE,
            TimeStatus.INVOICED: TimeStatus.BILLABLE,
            TimeStatus.NON_BILLABLE: TimeStatus.NON_BILLABLE,
        }.get(source.status)
        data: EntryData = {
            "employee_id": source.employee_id,
            "debtor_id": source.debtor_id,
            "case_id": source.case_id,
            "activity_id": source.activity_id,
            "work_date": to_date,
            "minutes": source.minutes,
            "description": source.description,
            "tags": list(source.tags),
        }
        copies.append(New(data, status))
    try:
        return await create_many(session, writer, copies, mode=EntryMode.PER_DEBTOR, source=EntrySource.COPY)
    except RowRefused as refused:
        raise refused.refusal from None


@dataclass(frozen=True, slots=True)
class ListChange:
    """One row of the case time list's Save: edit, delete (with `delete`) or, without an id, create."""

    entry_id: int | None
    expected_version: int | None
    delete: bool
    data: EntryData


async def save_case_list(
    session: AsyncSession, writer: Writer, case_id: int, changes: Sequence[ListChange]
) -> list[WriteResult[Any]]:
    """Apply a case time list's changes in order, in one transaction, each as its PER_DATE twin (SPEC 7); at most
    `validation.MAX_BULK` changes (SPEC 12)."""
    validation.bulk(changes, "changes")  # beyond it the list is refused whole, its items unread
    problems = validation.Problems()
    for index, change in enumerate(changes):
        _check_change(change, problems.within("changes", str(index)))
    problems.raise_if_any()
    settings = await _settings(session)
    case = await session.get(Case, case_id, populate_existing=True)  # its entry count, as new entries keep it
    if case is None:
        raise not_found("Case", "caseId")
    if case.time_entry_count > settings.static_list_threshold:
        raise DomainError(ErrorCode.STATIC_LIST, "This case's time list is static; edit entries one by one")
    results: list[WriteResult[Any]] = []
    index = 0
    while index < len(changes):
        # a run of new rows is written at once, as if one by one
        run = list(takewhile(lambda change: change.entry_id is None, changes[index:]))
        try:
            if run:
                new = [New({**change.data, "case_id": case.id}) for change in run]
                results.extend(await create_many(session, writer, new))
            else:
                results.extend(await _apply_change(session, writer, case, changes[index]))
        except RowRefused as refused:
            _refuse_change(index + refused.index, refused.refusal)
        except (DomainError, DomainErrors) as refusal:
            _refuse_change(index, refusal)
        index += len(run) or 1
    return results


def _refuse_change(index: int, refusal: DomainError | DomainErrors) -> NoReturn:
    failed = validation.Problems("changes", str(index))
    failed.add(refusal)
    failed.raise_if_any()
    raise AssertionError("unreachable: a refusal was added")


def _check_change(change: ListChange, problems: validation.Problems) -> None:
    """One change's rules that need no database: a delete needs a row, an edit or a new row a valid input."""
    if change.delete:
        if change.entry_id is None:
            problems.add(invalid("delete may only be true for a row with an id", "delete"))
        return
    check_input(change.data, problems, creating=change.entry_id is None)


async def _apply_change(
    session: AsyncSession, writer: Writer, case: Case, change: ListChange
) -> list[WriteResult[Any]]:
    """An edit or a delete of a row of the list."""
    assert change.entry_id is not None  # new rows are written in runs
    entry = await session.get(TimeEntry, change.entry_id)
    if entry is None or entry.case_id != case.id:
        raise not_found("Time entry", "id")
    if change.delete:
        await delete(session, writer, entry.id, expected_version=change.expected_version)
        return []
    return [await update(session, writer, entry.id, change.data, expected_version=change.expected_version)]


async def create_once(
    session: AsyncSession, writer: Writer, data: EntryData, *, mode: EntryMode, idempotency_key: str | None
) -> WriteResult[Any]:
    """`create`, made safe to retry: a repeat with the same key and input returns the first result (SPEC 6)."""
    _checked(data, creating=True)  # before the key is claimed: a refused input leaves no trace to look up
    if idempotency_key is None:
        return await create(session, writer, data, mode=mode)
    writer_id = writer.viewer.employee_id
    payload = {"data": dict(data), "mode": mode.value}
    stored = await idempotency.claim(session, writer_id=writer_id, key=idempotency_key, payload=payload)
    if stored is not None:
        entry = await session.get(TimeEntry, stored.time_entry_id) if stored.time_entry_id else None
        if entry is None:
            raise not_found("Time entry of this idempotency key", "idempotencyKey")
        line = await session.get(TimeEntry, stored.over_limit_entry_id) if stored.over_limit_entry_id else None
        warnings = [Warning(WarningCode(w["code"]), w["message"]) for w in stored.warnings]
        return WriteResult(entry, line, warnings)
    result = await create(session, writer, data, mode=mode)
    await idempotency.record(
        session,
        writer_id=writer_id,
        key=idempotency_key,
        time_entry_id=result.entry.id,
        over_limit_entry_id=result.over_limit_entry.id if result.over_limit_entry else None,
        warnings=[{"code": w.code.value, "message": w.message} for w in result.warnings],
    )
    return result
