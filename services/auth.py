"""Login, logout and bearer-token authentication (SPEC 5a)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.driver import Prebuilt
from models import AuthToken, Employee, EmployeeVisibility, Role
from services.errors import DomainError, ErrorCode
from services.passwords import Passwords

_INVALID = DomainError(ErrorCode.INVALID_CREDENTIALS, "Wrong email or password")


@dataclass(frozen=True, slots=True)
class Viewer:
    """The logged-in employee and what their role allows, read once per request."""

    employee_id: int
    role_id: int
    is_administrator: bool
    can_enter_time_for_others: bool
    can_invoice: bool
    visibility: EmployeeVisibility

    @property
    def is_billing_staff(self) -> bool:
        """May create and void invoices, list them and release L time (SPEC 5a)."""
        return self.can_invoice or self.is_administrator


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def login(
    session: AsyncSession, passwords: Passwords, *, email: str, password: str, ttl: timedelta
) -> tuple[str, Employee]:
    """Issue a token for valid credentials; unknown email, wrong password and inactive answer alike."""
    employee = await session.scalar(select(Employee).where(func.lower(Employee.email) == email.strip().lower()))
    valid = await passwords.verify(employee.password_hash if employee else None, password)
    if employee is None or not valid or not employee.active:
        raise DomainError(_INVALID.code, _INVALID.message)
    token = secrets.token_urlsafe(32)
    session.add(AuthToken(token_hash=token_digest(token), employee_id=employee.id, expires_at=datetime.now(UTC) + ttl))
    await session.flush()
    return token, employee


async def logout(session: AsyncSession, *, token: str) -> bool:
    result = await session.execute(delete(AuthToken).where(AuthToken.token_hash == token_digest(token)))
    return bool(getattr(result, "rowcount", 0))


async def revoke_all(session: AsyncSession, *, employee_id: int) -> None:
    await session.execute(delete(AuthToken).where(AuthToken.employee_id == employee_id))


# run on every request: prebuilt for the driver (db.driver)
_VIEWER = Prebuilt(
    select(
        Employee.id,
        Employee.role_id,
        Role.is_administrator,
        Role.can_enter_time_for_others,
        Role.can_invoice,
        Role.employee_visibility,
    )
    .select_from(AuthToken)
    .join(Employee, Employee.id == AuthToken.employee_id)
    .join(Role, Role.id == Employee.role_id)
    .where(AuthToken.token_hash == bindparam("token_hash"), AuthToken.expires_at > func.now(), Employee.active)
)


async def authenticate(session: AsyncSession, *, token: str) -> Viewer | None:
    """The viewer behind a bearer token, or None when it is unknown, expired or its employee inactive."""
    row = await _VIEWER.first(session, {"token_hash": token_digest(token)})  # a token hash is unique
    if row is None:
        return None
    return Viewer(
        employee_id=row["id"],
        role_id=row["role_id"],
        is_administrator=row["is_administrator"],
        can_enter_time_for_others=row["can_enter_time_for_others"],
        can_invoice=row["can_invoice"],
        visibility=row["employee_visibility"],
    )
