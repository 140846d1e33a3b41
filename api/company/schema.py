"""Root fields of the company's settings."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.company.types import Settings, SettingsInput, SettingsPayload
from graph.context import Info
from graph.permissions import ADMIN, USER
from graph.write import Refused, write
from services import company


async def settings(info: Info) -> Settings:
    async with info.context.db.read() as session:
        return Settings.from_model(await company.get(session))


async def update_settings(
    info: Info, input: Annotated[SettingsInput, strawberry.argument(description="The settings to change.")]
) -> SettingsPayload:
    outcome = await write(info, input.to_data, company.update)
    if isinstance(outcome, Refused):
        return SettingsPayload(user_errors=outcome.errors)
    return SettingsPayload(settings=Settings.from_model(outcome))


@strawberry.type
class CompanyQueries:
    settings: Settings = strawberry.field(
        resolver=settings, permission_classes=USER, description="The company's settings."
    )


@strawberry.type
class CompanyMutations:
    update_settings: SettingsPayload = strawberry.mutation(
        resolver=update_settings,
        permission_classes=ADMIN,
        description="Change the company's settings. Administrators only.",
    )
