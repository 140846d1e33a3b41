"""Per-request DataLoaders named `<thing>_by_<key>`; their batch functions live in services."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextlib import suppress
from functools import cached_property
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from db.driver import Reader
from db.session import RequestDb
from models import Activity, CompanySettings, InvoiceLine, Role
from services import activities, cases, company, debtors, employees, invoicing, roles, time_queries
from services.paging import AnyRow

K = TypeVar("K")
V = TypeVar("V")


class Loaders:
    def __init__(self, db: RequestDb) -> None:
        self._db = db
        self._settings: CompanySettings | None = None
        self._settings_row: AnyRow | None = None  # a row holding `company.PREFIXED`, built into settings on demand

    async def company_settings(self) -> CompanySettings:
        """The settings row, read at most once per request."""
        if self._settings is None and self._settings_row is not None:
            self._settings = company.from_prefixed(self._settings_row._mapping)
            self._settings_row = None
        if self._settings is None:
            async with self._db.read() as session:
                self._settings = await company.read(session)
        return self._settings

    async def case_with_settings(self, db_id: int) -> AnyRow | None:
        """A case by id (as `case_by_id` loads it) with the settings row read in the same statement, while the
        request has not read them yet: the case's time list needs both."""
        if self._settings is not None or self._settings_row is not None:
            return await self.case_by_id.load(db_id)
        async with self._db.reader() as reader:
            row = await cases.row_with_settings(reader, db_id)
        if row is not None:
            self._settings_row = row
            self.case_by_id.prime(db_id, row)
        return row

    def _loader(self, batch: Callable[[AsyncSession, Sequence[K]], Awaitable[list[V]]]) -> DataLoader[K, V]:
        async def load(keys: list[K]) -> list[V]:
            async with self._db.read() as session:
                return await batch(session, keys)

        return DataLoader(load_fn=load)

    def _prebuilt_loader(self, batch: Callable[[Reader, Sequence[K]], Awaitable[list[V]]]) -> DataLoader[K, V]:
        """A loader whose batch is one prebuilt statement: it needs no session."""

        async def load(keys: list[K]) -> list[V]:
            async with self._db.reader() as reader:
                return await batch(reader, keys)

        return DataLoader(load_fn=load)

    @cached_property
    def role_by_id(self) -> DataLoader[int, Role | None]:
        return self._loader(roles.by_ids)

    @cached_property
    def visible_role_ids_by_role_id(self) -> DataLoader[int, list[int]]:
        return self._loader(roles.visible_role_ids_by_role_ids)

    @cached_property
    def employee_by_id(self) -> DataLoader[int, AnyRow | None]:
        return self._prebuilt_loader(employees.rows_by_ids)

    @cached_property
    def rates_by_employee_id(self) -> DataLoader[int, list[AnyRow]]:
        return self._loader(employees.rates_by_employee_ids)

    @cached_property
    def activity_by_id(self) -> DataLoader[int, Activity | None]:
        return self._loader(activities.by_ids)

    @cached_property
    def debtor_by_id(self) -> DataLoader[int, AnyRow | None]:
        return self._prebuilt_loader(debtors.rows_by_ids)

    @cached_property
    def case_by_id(self) -> DataLoader[int, AnyRow | None]:
        return self._prebuilt_loader(cases.rows_by_ids)

    @cached_property
    def time_entry_by_id(self) -> DataLoader[int, AnyRow | None]:
        return self._prebuilt_loader(time_queries.rows_by_ids)

    @cached_property
    def invoice_by_id(self) -> DataLoader[int, AnyRow | None]:
        return self._prebuilt_loader(invoicing.rows_by_ids)

    @cached_property
    def lines_by_invoice_id(self) -> DataLoader[int, list[InvoiceLine]]:
        return self._loader(invoicing.lines_by_invoice_ids)


def forget(loader: DataLoader[K, V], keys: Iterable[K]) -> None:
    """Drop keys a write just changed; keys never loaded are fine (strawberry's `clear` raises on them)."""
    for key in keys:
        with suppress(KeyError):
            loader.clear(key)
