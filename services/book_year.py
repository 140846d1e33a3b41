"""Book years: twelve months from the company's start month (SPEC 2, 6)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


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
