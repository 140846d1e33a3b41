"""Logging in and out, and the viewer's own password."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.employee.types import Employee
from graph.errors import UserError


@strawberry.type(description="The answer to `login`: a bearer token and who it belongs to, or why not.")
class LoginPayload:
    token: str | None = strawberry.field(
        default=None, description="The bearer token for the Authorization header; null when refused."
    )
    expires_at: datetime | None = strawberry.field(
        default=None, description="When the token ends (TOKEN_TTL_MINUTES after the login); null when refused."
    )
    viewer: Employee | None = strawberry.field(default=None, description="The employee now logged in.")
    user_errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="INVALID_CREDENTIALS, with one message whether or not the email exists; TOO_MANY_ATTEMPTS "
        "after too many failed logins for the email or from the client address.",
    )


@strawberry.input(description="An email and password to log in with.")
class LoginInput:
    email: str = strawberry.field(description="Compared without case and surrounding spaces.")
    password: str = strawberry.field(description="The employee's password, as given.")


@strawberry.input(description="The viewer's current password and the one to replace it.")
class ChangePasswordInput:
    current_password: str = strawberry.field(
        description="Checked as a login checks it: a wrong one counts as a failed login of the viewer's email."
    )
    new_password: str = strawberry.field(description="12 to 200 characters.")


@strawberry.type(description="The answer to `changePassword`.")
class ChangePasswordPayload:
    ok: bool = strawberry.field(
        description="True when the password was changed and every other token of the viewer revoked."
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="INVALID_CREDENTIALS or TOO_MANY_ATTEMPTS on currentPassword, VALIDATION on newPassword; "
        "all that apply at once.",
    )
