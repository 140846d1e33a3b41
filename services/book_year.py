"""Book years: twelve months from the company's start month (SPEC 2, 6)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, Date, Integer, case, cast, extract, func


@dataclass(frozen=True, slots=True)
class BookYear:
    """The half-open range [start, end) of one book year."""

    start: date
    end: date

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day < self.end


def book_year_of(day: date, start_month: int) -> BookYear:
    """The book year holding `day` when book years start on the first of `start_month`."""
    year = day.year if day.month >= start_month else day.year - 1
    start = date(year, start_month, 1)
    return BookYear(start=start, end=date(year + 1, start_month, 1))


def year_start_sql(day: ColumnElement[date], start_month: ColumnElement[int]) -> ColumnElement[date]:
    """`book_year_of(day, start_month).start`: the SQL twin, for a statement that locks a book year's totals row."""
    year = cast(extract("year", day), Integer) - case((cast(extract("month", day), Integer) < start_month, 1), else_=0)
    return func.make_date(year, start_month, 1, type_=Date)
