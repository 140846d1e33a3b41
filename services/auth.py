"""Login, logout, bearer-token authentication (SPEC 5a) and the throttle of failed logins (SPEC 12)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import BigInteger, bindparam, cast, delete, func, insert, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from db.driver import Prebuilt, Reader
from models import AuthToken, Employee, EmployeeVisibility, LoginFailure, RecentWrite, Role
from services.errors import DomainError, ErrorCode
from services.passwords import Passwords

_INVALID = DomainError(ErrorCode.INVALID_CREDENTIALS, "Wrong email or password")
# expired failures removed by each admitted attempt: enough to keep pace with any rate of attempts
_PRUNE_BATCH = 100
_LOCK = text("SELECT pg_advisory_xact_lock(:lock)")


@dataclass(frozen=True, slots=True)
class Viewer:
    """The logged-in employee and what their role allows, read once per request."""

    employee_id: int
    role_id: int
    is_administrator: bool
    can_enter_time_for_others: bool
    can_invoice: bool
    visibility: EmployeeVisibility
    # how long ago, by the database's clock, the employee last began a write (recorded only with a read replica)
    since_write_ms: int | None = None

    @property
    def is_billing_staff(self) -> bool:
        """May create and void invoices, list them and release L time (SPEC 5a)."""
        return self.can_invoice or self.is_administrator


@dataclass(frozen=True, slots=True)
class Throttle:
    """Failed password checks allowed per email and per client address within the window (SPEC 12; settings
    LOGIN_FAILURES_PER_EMAIL, LOGIN_FAILURES_PER_ADDRESS and LOGIN_WINDOW_MINUTES override these)."""

    per_email: int = 5
    per_address: int = 20
    window: timedelta = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Attempt:
    """A password check the throttle let through. It is counted as a failure from the start, so attempts running at
    the same time (in any worker) count it too; a success takes it back."""

    email: str  # trimmed and lower-cased
    email_key: bytes
    failure_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Issued:
    token: str
    employee: Employee
    expires_at: datetime


def too_many(*field: str) -> DomainError:
    """One message whoever asks: a throttled answer tells nothing about the email (SPEC 12)."""
    return DomainError(ErrorCode.TOO_MANY_ATTEMPTS, "Too many failed attempts; try again later", field)


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _key(kind: str, value: str) -> bytes:
    return hashlib.sha256(f"{kind}\0{value}".encode()).digest()


async def try_admit(session: AsyncSession, *, email: str, address: str | None, throttle: Throttle) -> Attempt | None:
    """Count the failures of the email and of the client address within the window, before any hashing: None when
    either has reached its limit (nothing is written then), else the attempt, recorded as a failure (SPEC 12)."""
    normalised = email.strip().lower()
    limits = {_key("email", normalised): throttle.per_email}
    if address:
        limits[_key("address", address)] = throttle.per_address
    # one attempt per key at a time, in one order everywhere: a burst cannot all read a count below the limit
    for key in sorted(limits):
        await session.execute(_LOCK, {"lock": int.from_bytes(key[:8], "big", signed=True)})
    since = func.now() - throttle.window
    counted = await session.execute(
        select(LoginFailure.key, func.count())
        .where(LoginFailure.key.in_(list(limits)), LoginFailure.at > since)
        .group_by(LoginFailure.key)
    )
    counts: dict[bytes, int] = {bytes(key): count for key, count in counted}
    if any(counts.get(key, 0) >= limit for key, limit in limits.items()):
        return None
    ids = await session.scalars(
        insert(LoginFailure).values([{"key": key} for key in limits]).returning(LoginFailure.id)
    )
    failure_ids = tuple(ids.all())
    expired = select(LoginFailure.id).where(LoginFailure.at <= since).limit(_PRUNE_BATCH)
    await session.execute(delete(LoginFailure).where(LoginFailure.id.in_(expired.with_for_update(skip_locked=True))))
    return Attempt(email=normalised, email_key=_key("email", normalised), failure_ids=failure_ids)


async def admit(session: AsyncSession, *, email: str, address: str | None, throttle: Throttle) -> Attempt:
    """`try_admit`, with TOO_MANY_ATTEMPTS for a throttled attempt: the same answer whether or not the email exists and
    whatever the password (SPEC 12)."""
    attempt = await try_admit(session, email=email, address=address, throttle=throttle)
    if attempt is None:
        raise too_many()
    return attempt


async def succeeded(session: AsyncSession, attempt: Attempt) -> None:
    """The password was right: the attempt was no failure, and the email's earlier failures are forgiven."""
    await session.execute(
        delete(LoginFailure).where(or_(LoginFailure.key == attempt.email_key, LoginFailure.id.in_(attempt.failure_ids)))
    )


async def sign_in(
    session: AsyncSession, passwords: Passwords, attempt: Attempt, *, password: str, ttl: timedelta
) -> Issued:
    """Issue a token for valid credentials; unknown email, wrong password and inactive answer alike (SPEC 5a).

    A refusal leaves the attempt's failure as `admit` recorded it, so `admit` belongs in a transaction committed
    before this one (the API's login runs them apart)."""
    employee = await session.scalar(select(Employee).where(func.lower(Employee.email) == attempt.email))
    valid = await passwords.verify(employee.password_hash if employee else None, password)
    if employee is None or not valid or not employee.active:
        raise DomainError(_INVALID.code, _INVALID.message)
    await succeeded(session, attempt)
    token = secrets.token_urlsafe(32)
    expires_at = datetime.now(UTC) + ttl
    session.add(AuthToken(token_hash=token_digest(token), employee_id=employee.id, expires_at=expires_at))
    await session.flush()
    return Issued(token=token, employee=employee, expires_at=expires_at)


async def login(
    session: AsyncSession,
    passwords: Passwords,
    *,
    email: str,
    password: str,
    ttl: timedelta,
    address: str | None = None,
    throttle: Throttle = Throttle(),
) -> tuple[str, Employee]:
    """`admit` and `sign_in` in the caller's one transaction (the command line, the demo, tests): a refusal rolls
    its failure back with it."""
    attempt = await admit(session, email=email, address=address, throttle=throttle)
    issued = await sign_in(session, passwords, attempt, password=password, ttl=ttl)
    return issued.token, issued.employee


async def logout(session: AsyncSession, *, token: str) -> bool:
    result = await session.execute(delete(AuthToken).where(AuthToken.token_hash == token_digest(token)))
    return bool(getattr(result, "rowcount", 0))


async def revoke_all(session: AsyncSession, *, employee_id: int, but: str | None = None) -> None:
    """Revoke every token of the employee, except the token `but` when given (SPEC 5a, 12)."""
    condition = AuthToken.employee_id == employee_id
    if but is not None:
        condition &= AuthToken.token_hash != token_digest(but)
    await session.execute(delete(AuthToken).where(condition))


async def forgive(session: AsyncSession, *, email: str) -> None:
    """Forget the failed logins of an email (an administrator has just set its password)."""
    await session.execute(delete(LoginFailure).where(LoginFailure.key == _key("email", email.strip().lower())))


# run on every request: prebuilt for the driver (db.driver)
_VIEWER = Prebuilt(
    select(
        Employee.id,
        Employee.role_id,
        Role.is_administrator,
        Role.can_enter_time_for_others,
        Role.can_invoice,
        Role.employee_visibility,
        # whole milliseconds: asyncpg reads an integer as it is (an interval would take SQLAlchemy's conversion)
        cast(func.extract("epoch", func.now() - RecentWrite.at) * 1000, BigInteger).label("since_write_ms"),
    )
    .select_from(AuthToken)
    .join(Employee, Employee.id == AuthToken.employee_id)
    .join(Role, Role.id == Employee.role_id)
    .outerjoin(RecentWrite, RecentWrite.employee_id == Employee.id)
    .where(AuthToken.token_hash == bindparam("token_hash"), AuthToken.expires_at > func.now(), Employee.active)
)


async def still_valid(session: AsyncSession, digests: Sequence[bytes]) -> set[bytes]:
    """Which of these token digests still authenticate: known, unexpired, their employee active."""
    rows = await session.scalars(
        select(AuthToken.token_hash)
        .join(Employee, Employee.id == AuthToken.employee_id)
        .where(AuthToken.token_hash.in_(digests), AuthToken.expires_at > func.now(), Employee.active)
    )
    return set(rows)


async def authenticate(reader: Reader, *, token: str) -> Viewer | None:
    """The viewer behind a bearer token, or None when it is unknown, expired or its employee inactive."""
    row = await _VIEWER.first(reader, {"token_hash": token_digest(token)})  # a token hash is unique
    if row is None:
        return None
    return Viewer(
        employee_id=row["id"],
        role_id=row["role_id"],
        is_administrator=row["is_administrator"],
        can_enter_time_for_others=row["can_enter_time_for_others"],
        can_invoice=row["can_invoice"],
        visibility=row["employee_visibility"],
        since_write_ms=row["since_write_ms"],
    )
