"""What the fields of `api/*/types.py` read, per request: DataLoaders named `<thing>_by_<key>`, whose batch functions
live in services, and methods that read one page of a list. Those fields never open the database themselves: they
read here or through what the plan compiled; only root fields (`api/*/schema.py`) open it (tests/graph/test_layers.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextlib import suppress
from datetime import date
from functools import cached_property
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from db.driver import Reader
from db.session import RequestDb
from models import Activity, CompanySettings, InvoiceLine, Role, Timer, Webhook
from services import (
    activities,
    cap_usage,
    cases,
    company,
    debtors,
    employees,
    history,
    invoicing,
    roles,
    time_queries,
    timers,
    webhooks,
)
from services.cap import CapSettings
from services.cap_usage import CapQuery, CapUsage
from services.paging import AnyRow, Keyset, Page, Window

K = TypeVar("K")
V = TypeVar("V")


class Loaders:
    def __init__(self, db: RequestDb, read_db: RequestDb | None = None) -> None:
        """`read_db`: the database reports and read-only lists read (`Context.read_db`), when not `db`."""
        self._db = db
        self._read_db = read_db
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

    @cached_property
    def replica(self) -> Loaders:
        """The loaders of `read_db`, with caches of their own; these very loaders when there is no other."""
        if self._read_db is None or self._read_db is self._db:
            return self
        return Loaders(self._read_db)

    def _loader(
        self, batch: Callable[[AsyncSession, Sequence[K]], Awaitable[list[V]]], *, cache: bool = True
    ) -> DataLoader[K, V]:
        async def load(keys: list[K]) -> list[V]:
            async with self._db.read() as session:
                return await batch(session, keys)

        return DataLoader(load_fn=load, cache=cache)

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

    @cached_property
    def history_by_entry_id(self) -> DataLoader[int, list[history.Recorded]]:
        return self._loader(lambda session, ids: history.of_records(session, "TimeEntry", ids))

    @cached_property
    def history_by_invoice_id(self) -> DataLoader[int, list[history.Recorded]]:
        return self._loader(lambda session, ids: history.of_records(session, "Invoice", ids))

    @cached_property
    def webhook_by_id(self) -> DataLoader[int, Webhook | None]:
        return self._loader(webhooks.by_ids)

    @cached_property
    def webhook_delivery_by_id(self) -> DataLoader[int, AnyRow | None]:
        return self._prebuilt_loader(webhooks.deliveries_by_ids)

    @cached_property
    def cap_usage_by_case(self) -> DataLoader[CapQuery, CapUsage]:
        # uncached: a mutation's later write changes the totals, and the usage is read again when asked again
        return self._loader(cap_usage.of_cases, cache=False)

    async def cap_usage_of(self, case_id: int, case: CapSettings, on: date | None) -> CapUsage | None:
        """The case's usage of its maximum in the book year holding `on` (today by default), batched with the other
        cases asking at the same time; None without a maximum. A DomainError for a day out of range."""
        asked = cap_usage.query(case_id, case, on)
        return None if asked is None else await self.cap_usage_by_case.load(asked)

    # a page of a list, read when asked: one statement per page, not batched across parents

    async def cases_page(
        self,
        *,
        first: int,
        after: Sequence[Any] | None,
        debtor_id: int | None,
        search: str | None,
        include_blocked: bool,
    ) -> Page[AnyRow]:
        async with self._db.reader() as reader:
            return await cases.page(
                reader, first=first, after=after, debtor_id=debtor_id, search=search, include_blocked=include_blocked
            )

    async def cases_total(self, *, debtor_id: int | None, search: str | None, include_blocked: bool) -> int:
        async with self._db.read() as session:
            return await cases.total(session, debtor_id=debtor_id, search=search, include_blocked=include_blocked)

    async def case_entries_page(self, case_id: int, keyset: Keyset, window: Window) -> Page[AnyRow]:
        async with self._db.read() as session:
            return await time_queries.case_page(session, case_id=case_id, keyset=keyset, window=window)

    async def invoice_entries_page(self, invoice_id: int, *, first: int, after: Sequence[Any] | None) -> Page[AnyRow]:
        async with self._db.read() as session:
            return await time_queries.invoice_page(session, invoice_id=invoice_id, first=first, after=after)

    async def running_timer(self, employee_id: int) -> Timer | None:
        async with self._db.read() as session:
            return await timers.running(session, employee_id=employee_id)

    async def invoice_entries_total(self, invoice_id: int) -> int:
        async with self._db.read() as session:
            return await time_queries.invoice_total(session, invoice_id=invoice_id)

    async def webhook_deliveries_page(self, webhook_id: int, window: Window) -> Page[AnyRow]:
        async with self._db.reader() as reader:
            return await webhooks.deliveries_page(reader, webhook_id, window)

    async def webhook_deliveries_total(self, webhook_id: int) -> int:
        async with self._db.reader() as reader:
            return await webhooks.deliveries_total(reader, webhook_id)


def forget(loader: DataLoader[K, V], keys: Iterable[K]) -> None:
    """Drop keys a write just changed; keys never loaded are fine (strawberry's `clear` raises on them)."""
    for key in keys:
        with suppress(KeyError):
            loader.clear(key)
