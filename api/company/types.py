from __future__ import annotations

from typing import cast

import strawberry

from graph.errors import UserError
from graph.objects import given, user_errors_field
from models import CompanySettings
from services.company import SettingsData


@strawberry.type(description="The company's settings for time writing: one set for the whole service.")
class Settings:
    time_tracking_enabled: bool = strawberry.field(
        description="The feature switch: while false, writing time and timers is refused (FEATURE_DISABLED)."
    )
    use_case_column: bool = strawberry.field(
        description="Whether entries carry a case; while false, naming one is refused (CASES_DISABLED)."
    )
    require_case: bool = strawberry.field(
        description="Whether every entry needs a case (CASE_REQUIRED); only while `useCaseColumn` is on."
    )
    book_year_start_month: int = strawberry.field(
        description="Month the book year starts in, 1 to 12 (1 by default): the year of caps and of BOOK_YEAR."
    )
    static_list_threshold: int = strawberry.field(
        description="A case with more entries than this (9500 by default) has a STATIC `timeList`."
    )
    time_zone: str = strawberry.field(
        description='IANA zone name, e.g. "Europe/Amsterdam" (UTC by default): it decides what "today" is for '
        "dates left out."
    )

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


@strawberry.input(description="Changes to the settings: a field left out stays as it is; null is VALIDATION.")
class SettingsInput:
    time_tracking_enabled: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Turn time writing on or off."
    )
    use_case_column: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Whether entries carry a case."
    )
    require_case: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="Whether every entry needs a case; on while `useCaseColumn` is off is VALIDATION.",
    )
    book_year_start_month: int | None = strawberry.field(default=strawberry.UNSET, description="1 to 12.")
    static_list_threshold: int | None = strawberry.field(default=strawberry.UNSET, description="1 to 1,000,000,000.")
    time_zone: str | None = strawberry.field(
        default=strawberry.UNSET,
        description='An IANA zone name as the tz database spells it, e.g. "UTC" or "Europe/Amsterdam".',
    )

    def to_data(self) -> SettingsData:
        return cast(SettingsData, given(self))


@strawberry.type(description="The answer to `updateSettings`.")
class SettingsPayload:
    settings: Settings | None = strawberry.field(
        default=None, description="The settings as written; null when refused."
    )
    user_errors: list[UserError] = user_errors_field()
