"""The company settings row (SPEC 2, Settings)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from functools import cache
from typing import Any, TypedDict, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import CompanySettings
from services import validation
from services.errors import DomainError, invalid
from services.integrity import touch


class SettingsData(TypedDict, total=False):
    time_tracking_enabled: bool
    use_case_column: bool
    require_case: bool
    book_year_start_month: int
    static_list_threshold: int
    time_zone: str


async def get(session: AsyncSession, *, for_update: bool = False) -> CompanySettings:
    stmt = select(CompanySettings).where(CompanySettings.id == 1)
    if for_update:
        stmt = stmt.with_for_update()
    settings = await session.scalar(stmt)
    if settings is None:  # the migration inserts it; recreate it if someone deleted it
        settings = CompanySettings(id=1)
        session.add(settings)
        await session.flush()
    return settings


# built once, read through Core on the request's connection: the ORM read of this one row cost ~0.4 ms of CPU
_ROW = select(*CompanySettings.__table__.columns).where(CompanySettings.__table__.c.id == 1)


# the settings row's columns as `settings_<name>`, for a statement that reads them alongside another row
SETTINGS = CompanySettings.__table__
PREFIXED = tuple(column.label(f"settings_{column.key}") for column in SETTINGS.columns)
JOIN_ON = SETTINGS.c.id == 1


_KEYS = tuple(column.key for column in SETTINGS.columns)
_PREFIXED_KEYS = tuple(f"settings_{key}" for key in _KEYS)
_last: tuple[tuple[Any, ...], CompanySettings] | None = None


def _detached(values: tuple[Any, ...]) -> CompanySettings:
    """Settings of these column values, outside any session, for reading. Building the mapped object costs more than
    the statement that read it, and the values change rarely: the object built for the same values is reused."""
    global _last
    if _last is not None and _last[0] == values:
        return _last[1]
    settings = CompanySettings(**dict(zip(_KEYS, values, strict=True)))
    _last = (values, settings)
    return settings


def from_prefixed(mapping: Mapping[Any, Any]) -> CompanySettings | None:
    """The settings from a row holding `PREFIXED` (outer-joined on `JOIN_ON`); None when the row was missing."""
    if mapping["settings_id"] is None:
        return None
    return _detached(tuple(mapping[key] for key in _PREFIXED_KEYS))


async def read(session: AsyncSession) -> CompanySettings:
    """The settings for reading, fresh from the database, as an object outside the session (changes go via `update`)."""
    connection = await session.connection()
    row = (await connection.execute(_ROW)).first()
    if row is None:  # deleted by hand: `get` recreates it
        return await get(session)
    return _detached(tuple(row))


# files a host keeps beside the zones (ZoneInfo loads them all the same): its own zone, a rules template, and
# tzdata's placeholder; the `posix/` and `right/` copies of every zone are variants, not names of zones
_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})


@cache
def _zone_names() -> frozenset[str]:
    names = available_timezones()  # a walk of the zone folders: once per process
    return frozenset(n for n in names if n not in _NOT_ZONES and not n.startswith(("posix/", "right/")))


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as error:  # OSError: a folder, or a name too long
        raise _unknown_zone(name) from error


def zone_name(name: str) -> str:
    """An IANA time zone name such as `UTC` or `Europe/Amsterdam`, exactly as the tz database spells it (SPEC 12)."""
    if name not in _zone_names():
        raise _unknown_zone(name)
    return zone(name).key


def _unknown_zone(name: str) -> DomainError:
    quoted = validation.clipped(name)
    return invalid(f"timeZone must be an IANA zone name, not {quoted!r}", "timeZone")


def today(settings: CompanySettings) -> date:
    """Today in the company's time zone (SPEC 2)."""
    return datetime.now(zone(settings.time_zone)).date()


_FIELDS = validation.Fields(
    {
        "book_year_start_month": lambda value, field: validation.between(value, 1, 12, field),
        "static_list_threshold": lambda value, field: validation.between(value, 1, 1_000_000_000, field),
        "time_zone": lambda value, field: zone_name(value.strip()),
    },
    defaulted=SettingsData.__optional_keys__,  # a setting may be left out, never cleared
)


def _checked(data: SettingsData) -> SettingsData:
    """The given settings, each checked (SPEC 5b, 12); every broken rule is refused at once."""
    return cast(SettingsData, _FIELDS.checked(data, creating=False))


async def update(session: AsyncSession, data: SettingsData) -> CompanySettings:
    """Patch the settings; a case requirement without the case column is refused (SPEC 2)."""
    checked = _checked(data)
    settings = await get(session, for_update=True)
    use_case_column = checked.get("use_case_column", settings.use_case_column)
    require_case = checked.get("require_case", settings.require_case)
    if require_case and not use_case_column:
        raise invalid("requireCase may only be on while useCaseColumn is on", "requireCase")
    for key, value in checked.items():
        setattr(settings, key, value)
    touch(settings)
    await session.flush()
    return settings
