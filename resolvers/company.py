from __future__ import annotations

from typing import Annotated

import strawberry

from graph.context import Info
from graph.types.company import Settings, SettingsInput, SettingsPayload
from resolvers.write import Refused, write
from services import company


async def settings(info: Info) -> Settings:
    async with info.context.db.read() as session:
        return Settings.from_model(await company.get(session))


async def update_settings(
    info: Info, input: Annotated[SettingsInput, strawberry.argument(description="The settings to change.")]
) -> SettingsPayload:
    outcome = await write(info, lambda session: company.update(session, input.to_data()))
    if isinstance(outcome, Refused):
        return SettingsPayload(user_errors=outcome.errors)
    return SettingsPayload(settings=Settings.from_model(outcome))
