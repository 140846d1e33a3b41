"""Root fields of logging in and out and of the viewer's own password."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.auth.types import ChangePasswordInput, ChangePasswordPayload, LoginInput, LoginPayload
from api.employee.types import Employee
from graph import metrics
from graph.context import Info
from graph.errors import UserError
from graph.loaders import forget
from graph.permissions import USER
from graph.write import Refused, nothing, write
from services import auth, employees, visibility
from settings import Config


def _throttle(config: Config) -> auth.Throttle:
    return auth.Throttle(
        per_email=config.login_failures_per_email,
        per_address=config.login_failures_per_address,
        window=config.login_window,
    )


async def login(
    info: Info, input: Annotated[LoginInput, strawberry.argument(description="The email and password.")]
) -> LoginPayload:
    ctx = info.context
    # two transactions: the attempt is counted (as a failure until it succeeds) and committed before the password
    # is hashed, so a refusal keeps its count and attempts in other workers see it at once
    admitted = await write(
        info,
        nothing,
        lambda session, _: auth.admit(
            session, email=input.email, address=ctx.client_address, throttle=_throttle(ctx.config)
        ),
    )
    if isinstance(admitted, Refused):
        metrics.login_refused(admitted.errors)
        return LoginPayload(user_errors=admitted.errors)
    attempt = admitted
    issued = await write(
        info,
        nothing,
        lambda session, _: auth.sign_in(
            session, ctx.passwords, attempt, password=input.password, ttl=ctx.config.token_ttl
        ),
    )
    if isinstance(issued, Refused):
        metrics.login_refused(issued.errors)
        return LoginPayload(user_errors=issued.errors)
    # the payload shows the viewer one has just become (their own rates, their supervisor), as `viewer` would
    async with ctx.db.reader() as reader:
        ctx.viewer = await auth.authenticate(reader, token=issued.token)
        ctx.visibility = await visibility.for_viewer(reader, ctx.viewer)
    ctx.token = issued.token
    row = await ctx.loaders.employee_by_id.load(issued.employee.id)
    return LoginPayload(
        token=issued.token, expires_at=issued.expires_at, viewer=Employee.from_row(row) if row else None
    )


async def logout(info: Info) -> bool:
    token = info.context.token
    assert token is not None
    async with info.context.db.write() as session:
        return await auth.logout(session, token=token)


async def change_password(
    info: Info,
    input: Annotated[ChangePasswordInput, strawberry.argument(description="The current password and the new one.")],
) -> ChangePasswordPayload:
    ctx = info.context
    token = ctx.token
    assert token is not None  # the permission class required a viewer, hence their token
    outcome = await write(
        info,
        nothing,
        lambda session, _: employees.change_password(
            session,
            ctx.passwords,
            employee_id=ctx.me.employee_id,
            current=input.current_password,
            new=input.new_password,
            keep_token=token,
            address=ctx.client_address,
            throttle=_throttle(ctx.config),
        ),
    )
    if isinstance(outcome, Refused):
        return ChangePasswordPayload(ok=False, user_errors=outcome.errors)
    if outcome:
        return ChangePasswordPayload(ok=False, user_errors=[UserError.of(error) for error in outcome])
    forget(ctx.loaders.employee_by_id, [ctx.me.employee_id])
    return ChangePasswordPayload(ok=True)


@strawberry.type
class AuthMutations:
    login: LoginPayload = strawberry.mutation(
        resolver=login,
        description="Exchange an email and password for a bearer token: the one field that needs no token.",
    )
    logout: bool = strawberry.mutation(
        resolver=logout,
        permission_classes=USER,
        description="Revoke the token this request carries; true when it was revoked.",
    )
    change_password: ChangePasswordPayload = strawberry.mutation(
        resolver=change_password,
        permission_classes=USER,
        description="Change the viewer's own password; every other token of theirs is revoked, this one stays.",
    )
