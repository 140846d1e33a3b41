from __future__ import annotations

from typing import cast

import strawberry

from graph.errors import UserError
from graph.types.common import given
from models import CompanySettings
from services.company import SettingsData


@strawberry.type
class Settings:
    time_tracking_enabled: bool
    use_case_column: bool
    require_case: bool
    book_year_start_month: int
    static_list_threshold: int
    time_zone: str

    @classmethod
    def from_model(cls, settings: CompanySettings) -> Settings:
        return cls(
            time_tracking_enabled=settings.time_tracking_enabled,
            use_case_column=settings.use_case_column,
            require_case=settings.require_case,
            book_year_start_month=settings.book_year_start_month,
            static_list_threshold=settings.static_list_threshold,
            time_zone=settings.time_zone,
        )


@strawberry.input
class SettingsInput:
    time_tracking_enabled: bool | None = strawberry.UNSET
    use_case_column: bool | None = strawberry.UNSET
    require_case: bool | None = strawberry.UNSET
    book_year_start_month: int | None = strawberry.UNSET
    static_list_threshold: int | None = strawberry.UNSET
    time_zone: str | None = strawberry.UNSET

    def to_data(self) -> SettingsData:
        return cast(SettingsData, given(self))


@strawberry.type
class SettingsPayload:
    settings: Settings | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
