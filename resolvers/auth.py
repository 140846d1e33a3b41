from __future__ import annotations

from graph.context import Info
from graph.types.employee import Employee, LoginInput, LoginPayload
from resolvers.write import Refused, write
from services import auth, visibility


async def login(info: Info, input: LoginInput) -> LoginPayload:
    ctx = info.context
    outcome = await write(
        info,
        lambda session: auth.login(
            session, ctx.passwords, email=input.email, password=input.password, ttl=ctx.config.token_ttl
        ),
    )
    if isinstance(outcome, Refused):
        return LoginPayload(user_errors=outcome.errors)
    token, employee = outcome
    # the payload shows the viewer one has just become (their own rates, their supervisor), as `viewer` would
    async with ctx.db.read() as session:
        ctx.viewer = await auth.authenticate(session, token=token)
        ctx.visibility = await visibility.for_viewer(session, ctx.viewer)
    ctx.token = token
    row = await ctx.loaders.employee_by_id.load(employee.id)
    return LoginPayload(token=token, viewer=Employee.from_row(row) if row else None)


async def logout(info: Info) -> bool:
    token = info.context.token
    assert token is not None
    async with info.context.db.write() as session:
        return await auth.logout(session, token=token)
