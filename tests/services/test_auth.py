"""services.auth: login, bearer tokens and logout (SPEC 5a); the login throttle, password rules, changing and
resetting a password (SPEC 12)."""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from db.engine import create_sessionmaker
from models import Employee, EmployeeVisibility
from services import auth, employees
from services.employees import EmployeeData
from services.errors import DomainError, ErrorCode
from services.passwords import Passwords
from tests.factories import PASSWORD, Factory
from tests.services.support import refused

TTL = timedelta(hours=1)
THROTTLE = auth.Throttle(per_email=5, per_address=20, window=timedelta(minutes=15))
HERE = "192.0.2.10"
ELEVEN = "eleven-char"
TWELVE = "twelve-chars"
NEW_PASSWORD = "a-brand-new-secret"
WRONG = "wrong-password"


async def attempt(
    session: AsyncSession,
    passwords: Passwords,
    *,
    email: str,
    password: str,
    address: str | None = HERE,
    throttle: auth.Throttle = THROTTLE,
) -> auth.Issued | DomainError:
    """One login as the API runs it: the admission kept (committed there, a released savepoint here), then the
    password check, rolled back when refused."""
    try:
        async with session.begin_nested():
            admitted = await auth.admit(session, email=email, address=address, throttle=throttle)
        async with session.begin_nested():
            return await auth.sign_in(session, passwords, admitted, password=password, ttl=TTL)
    except DomainError as error:
        return error


async def wrong_logins(
    session: AsyncSession, passwords: Passwords, email: str, times: int, **where: Any
) -> list[auth.Issued | DomainError]:
    """`times` logins with a wrong password; `where` is the address and the throttle, as `attempt` takes them."""
    return [await attempt(session, passwords, email=email, password=WRONG, **where) for _ in range(times)]


def codes(outcomes: list[auth.Issued | DomainError]) -> list[ErrorCode | None]:
    return [o.code if isinstance(o, DomainError) else None for o in outcomes]


async def failures(session: AsyncSession) -> int:
    return int(await session.scalar(text("SELECT count(*) FROM login_failures")) or 0)


class TestLogin:
    async def test_valid_credentials_give_a_token_that_authenticates(
        self, session: AsyncSession, passwords: Passwords, factory: Factory
    ) -> None:
        # given
        role = await factory.role(visibility=EmployeeVisibility.OWN, can_enter_time_for_others=True, can_invoice=True)
        employee = await factory.employee(role=role, email="grace@example.test")
        # when
        token, who = await auth.login(session, passwords, email="grace@example.test", password=PASSWORD, ttl=TTL)
        viewer = await auth.authenticate(session, token=token)
        # then
        assert who.id == employee.id
        assert viewer == auth.Viewer(
            employee_id=employee.id,
            role_id=role.id,
            is_administrator=False,
            can_enter_time_for_others=True,
            can_invoice=True,
            visibility=EmployeeVisibility.OWN,
        )

    async def test_email_ignores_case_and_surrounding_spaces(
        self, session: AsyncSession, passwords: Passwords, factory: Factory
    ) -> None:
        # given
        employee = await factory.employee(email="Grace@Example.test")
        # when
        token, who = await auth.login(session, passwords, email="  GRACE@example.TEST ", password=PASSWORD, ttl=TTL)
        # then
        assert who.id == employee.id
        assert await auth.authenticate(session, token=token) is not None

    async def test_every_login_gets_its_own_token(self, factory: Factory) -> None:
        # given
        employee = await factory.employee()
        # when
        first = await factory.token(employee)
        second = await factory.token(employee)
        # then
        assert first != second
        assert len(first) >= 32

    async def test_unknown_email_wrong_password_and_inactive_answer_alike(
        self, session: AsyncSession, passwords: Passwords, factory: Factory
    ) -> None:
        # given
        active = await factory.employee(email="active@example.test")
        await factory.employee(email="inactive@example.test", active=False)
        attempts = [
            ("nobody@example.test", PASSWORD),
            (active.email, WRONG),
            ("inactive@example.test", PASSWORD),
        ]
        # when
        errors: list[DomainError] = [
            await refused(session, auth.login(session, passwords, email=email, password=password, ttl=TTL))
            for email, password in attempts
        ]
        # then
        assert [e.code for e in errors] == [ErrorCode.INVALID_CREDENTIALS] * 3
        assert {(e.code, e.message, e.field) for e in errors} == {
            (ErrorCode.INVALID_CREDENTIALS, errors[0].message, errors[0].field)
        }
        assert "nobody" not in errors[0].message

    async def test_a_refused_login_stores_no_token(
        self, session: AsyncSession, passwords: Passwords, factory: Factory
    ) -> None:
        # given
        employee = await factory.employee()
        # when
        await refused(session, auth.login(session, passwords, email=employee.email, password="nope-nope", ttl=TTL))
        # then
        count = await session.scalar(
            text("SELECT count(*) FROM auth_tokens WHERE employee_id = :id"), {"id": employee.id}
        )
        assert count == 0


class TestTokenStorage:
    async def test_the_token_is_stored_only_as_a_hash(self, session: AsyncSession, factory: Factory) -> None:
        # given
        employee = await factory.employee()
        # when
        token = await factory.token(employee)
        # then
        rows = (
            (await session.execute(text("SELECT * FROM auth_tokens WHERE employee_id = :id"), {"id": employee.id}))
            .mappings()
            .all()
        )
        assert len(rows) == 1
        stored = rows[0]
        assert bytes(stored["token_hash"]) != token.encode()
        for value in stored.values():
            as_text = bytes(value).decode("latin-1") if isinstance(value, bytes | memoryview) else str(value)
            assert token not in as_text
            assert token.encode().hex() not in as_text
        assert stored["expires_at"] > stored["created_at"]


class TestAuthenticate:
    async def test_unknown_token_is_none(self, session: AsyncSession) -> None:
        # when
        viewer = await auth.authenticate(session, token="not-a-token-anyone-was-given")
        # then
        assert viewer is None

    async def test_expired_token_is_none(self, session: AsyncSession, factory: Factory) -> None:
        # given
        employee = await factory.employee()
        token = await factory.token(employee)
        assert await auth.authenticate(session, token=token) is not None
        # when
        await session.execute(
            text("UPDATE auth_tokens SET expires_at = now() - interval '1 second' WHERE employee_id = :id"),
            {"id": employee.id},
        )
        # then
        assert await auth.authenticate(session, token=token) is None

    async def test_token_of_an_employee_made_inactive_behind_the_service_is_none(
        self, session: AsyncSession, factory: Factory
    ) -> None:
        # given
        employee = await factory.employee()
        token = await factory.token(employee)
        # when
        await session.execute(text("UPDATE employees SET active = false WHERE id = :id"), {"id": employee.id})
        # then
        assert await auth.authenticate(session, token=token) is None


class TestLogout:
    async def test_logout_revokes_that_token_only(self, session: AsyncSession, factory: Factory) -> None:
        # given
        employee = await factory.employee()
        token, other = await factory.token(employee), await factory.token(employee)
        # when
        revoked = await auth.logout(session, token=token)
        # then
        assert revoked is True
        assert await auth.authenticate(session, token=token) is None
        assert await auth.authenticate(session, token=other) is not None

    async def test_logout_twice_or_with_an_unknown_token_revokes_nothing(
        self, session: AsyncSession, factory: Factory
    ) -> None:
        # given
        token = await factory.token(await factory.employee())
        await auth.logout(session, token=token)
        # when
        again = await auth.logout(session, token=token)
        unknown = await auth.logout(session, token="never-issued")
        # then
        assert (again, unknown) == (False, False)


class TestSignIn:
    async def test_the_token_expires_after_the_ttl(
        self, session: AsyncSession, passwords: Passwords, factory: Factory
    ) -> None:
        # given
        employee = await factory.employee()
        before = datetime.now(UTC)
        # when
        issued = await attempt(session, passwords, email=employee.email, password=PASSWORD)
        # then
        assert isinstance(issued, auth.Issued)
        assert before + TTL <= issued.expires_at <= datetime.now(UTC) + TTL
        stored = await session.scalar(
            text("SELECT expires_at FROM auth_tokens WHERE token_hash = :digest"),
            {"digest": auth.token_digest(issued.token)},
        )
        assert stored == issued.expires_at


class TestThrottle:
    async def test_the_sixth_attempt_is_too_many_for_an_existing_and_an_unknown_email_alike(
        self, session: AsyncSession, passwords: Passwords, factory: Factory
    ) -> None:
        # given
        known = await factory.employee(email="known@example.test")
        # when: five wrong passwords each, then the right one for the existing email
        answers = {}
        for email in (known.email, "nobody@example.test"):
            answers[email] = await wrong_logins(session, passwords, email, 5)
            answers[email].append(await attempt(session, passwords, email=email, password=PASSWORD))
        # then
        for outcomes in answers.values():
            assert codes(outcomes) == [ErrorCode.INVALID_CREDENTIALS] * 5 + [ErrorCode.TOO_MANY_ATTEMPTS]
        throttled = [outcomes[-1] for outcomes in answers.values()]
        assert all(isinstance(e, DomainError) for e in throttled)
        assert len({(e.code, e.message, e.field) for e in throttled if isinstance(e, DomainError)}) == 1

    async def test_email_is_counted_without_case_and_surrounding_spaces(
        self, session: AsyncSession, passwords: Passwords, factory: Factory
    ) -> None:
        # given
        employee = await factory.employee(email="grace@example.test")
        for spelling in ["GRACE@example.test", " grace@EXAMPLE.test", "Grace@Example.Test ", "grace@example.test"]:
            await attempt(session, passwords, email=spelling, password=WRONG)
        await attempt(session, passwords, email="grace@example.TEST", password=WRONG)
        # when
        outcome = await attempt(session, passwords, email=employee.email, password=PASSWORD)
        # then
        assert codes([outcome]) == [ErrorCode.TOO_MANY_ATTEMPTS]

    async def test_another_email_is_unaffected(
        self, session: AsyncSession, passwords: Passwords, factory: Factory
    ) -> None:
        # given
        attacked = await factory.employee()
        other = await factory.employee()
        await wrong_logins(session, passwords, attacked.email, 5)
        # when
        outcome = await attempt(session, passwords, email=other.email, password=PASSWORD)
        # then
        assert isinstance(outcome, auth.Issued)
        assert outcome.employee.id == other.id

    async def test_the_21st_failure_from_one_address_is_too_many_whatever_the_email(
        self, session: AsyncSession, passwords: Passwords, factory: Factory
    ) -> None:
        # given
        employee = await factory.employee()
        spread = [await attempt(session, passwords, email=f"guess{n}@example.test", password=WRONG) for n in range(20)]
        # when
        from_here = await attempt(session, passwords, email=employee.email, password=PASSWORD)
        from_elsewhere = await attempt(
            session, passwords, email=employee.email, password=PASSWORD, address="2001:db8::1"
        )
        # then
        assert codes(spread) == [ErrorCode.INVALID_CREDENTIALS] * 20
        assert codes([from_here]) == [ErrorCode.TOO_MANY_ATTEMPTS]
        assert isinstance(from_elsewhere, auth.Issued)

    async def test_a_success_clears_the_email_failures_but_not_the_address_ones(
        self, session: AsyncSession, passwords: Passwords, factory: Factory
    ) -> None:
        # given
        employee = await factory.employee()
        await wrong_logins(session, passwords, employee.email, 4)
        # when
        success = await attempt(session, passwords, email=employee.email, password=PASSWORD)
        after = await wrong_logins(session, passwords, employee.email, 6)
        # then
        assert isinstance(success, auth.Issued)
        assert codes(after) == [ErrorCode.INVALID_CREDENTIALS] * 5 + [ErrorCode.TOO_MANY_ATTEMPTS]
        assert await failures(session) == 5 + 4 + 5  # the email's five since; the address keeps all nine

    async def test_a_throttled_attempt_writes_nothing(
        self, session: AsyncSession, passwords: Passwords, factory: Factory
    ) -> None:
        # given
        employee = await factory.employee()
        await wrong_logins(session, passwords, employee.email, 5, address=None)
        before = await failures(session)
        # when
        outcomes = [await attempt(session, passwords, email=employee.email, password=PASSWORD) for _ in range(3)]
        # then
        assert codes(outcomes) == [ErrorCode.TOO_MANY_ATTEMPTS] * 3
        assert (before, await failures(session)) == (5, 5)

    async def test_failures_older_than_the_window_no_longer_count_and_are_removed(
        self, session: AsyncSession, passwords: Passwords, factory: Factory
    ) -> None:
        # given
        employee = await factory.employee()
        await wrong_logins(session, passwords, employee.email, 5)
        await session.execute(text("UPDATE login_failures SET at = now() - interval '15 minutes 1 second'"))
        # when
        outcome = await attempt(session, passwords, email=employee.email, password=WRONG)
        # then
        assert codes([outcome]) == [ErrorCode.INVALID_CREDENTIALS]
        assert await failures(session) == 2  # this failure, under its email and its address

    async def test_the_limits_and_the_window_come_from_the_settings(
        self, session: AsyncSession, passwords: Passwords, factory: Factory
    ) -> None:
        # given
        employee = await factory.employee()
        strict = auth.Throttle(per_email=2, per_address=20, window=timedelta(minutes=1))
        # when
        outcomes = await wrong_logins(session, passwords, employee.email, 3, throttle=strict)
        await session.execute(text("UPDATE login_failures SET at = now() - interval '61 seconds'"))
        later = await attempt(session, passwords, email=employee.email, password=PASSWORD, throttle=strict)
        # then
        assert codes(outcomes) == [ErrorCode.INVALID_CREDENTIALS] * 2 + [ErrorCode.TOO_MANY_ATTEMPTS]
        assert isinstance(later, auth.Issued)

    async def test_the_table_holds_no_email_or_address_in_the_clear(
        self, session: AsyncSession, passwords: Passwords
    ) -> None:
        # when
        await attempt(session, passwords, email="Secret.Person@example.test", password=WRONG)
        # then
        rows = (await session.execute(text("SELECT * FROM login_failures"))).mappings().all()
        assert len(rows) == 2
        for row in rows:
            for value in row.values():
                as_text = bytes(value).decode("latin-1") if isinstance(value, bytes | memoryview) else str(value)
                assert "secret.person" not in as_text.lower()
                assert HERE not in as_text

    async def test_a_throttled_answer_takes_no_hashing_time(self, session: AsyncSession, factory: Factory) -> None:
        # given: argon2id at the production cost, for the stored hash and the check alike
        realistic = Passwords(time_cost=3, memory_kib=65536)
        role = await factory.role()
        employee = await employees.create(
            session,
            realistic,
            {"name": "Slow Hash", "email": "slow@example.test", "password": PASSWORD, "role_id": role.id},
        )
        throttle = auth.Throttle(per_email=3, per_address=20, window=timedelta(minutes=15))

        async def timed() -> tuple[float, ErrorCode | None]:
            start = time.perf_counter()
            outcome = await attempt(session, realistic, email=employee.email, password=WRONG, throttle=throttle)
            return time.perf_counter() - start, codes([outcome])[0]

        # when
        hashed = [await timed() for _ in range(3)]
        throttled = [await timed() for _ in range(3)]
        # then
        assert {code for _, code in hashed} == {ErrorCode.INVALID_CREDENTIALS}
        assert {code for _, code in throttled} == {ErrorCode.TOO_MANY_ATTEMPTS}
        hashed_median = statistics.median(t for t, _ in hashed)
        throttled_median = statistics.median(t for t, _ in throttled)
        assert throttled_median < hashed_median / 3, (throttled_median, hashed_median)


@pytest.mark.concurrency
class TestThrottleAcrossConnections:
    async def test_a_burst_of_parallel_attempts_admits_no_more_than_the_limit(self, engine: AsyncEngine) -> None:
        # given: every attempt on a connection of its own, committed for real, as from several workers at once
        maker = create_sessionmaker(engine)

        async def one(n: int) -> bool:
            async with maker() as session, session.begin():
                admitted = await auth.try_admit(
                    session, email="burst@example.test", address=f"10.0.0.{n}", throttle=THROTTLE
                )
                await asyncio.sleep(0.05)  # the others reach their count meanwhile
                return admitted is not None

        try:
            # when
            admitted = await asyncio.gather(*(one(n) for n in range(10)))
            # then
            assert sum(admitted) == THROTTLE.per_email
        finally:
            async with maker() as session, session.begin():
                await session.execute(text("DELETE FROM login_failures"))


def new_employee(role_id: int, password: str) -> EmployeeData:
    return {"name": "Pat", "email": "pat@example.test", "password": password, "role_id": role_id}


async def change(
    session: AsyncSession, passwords: Passwords, employee: Employee, token: str, *, current: str, new: str
) -> list[DomainError]:
    """`employee` changes their password, asking with `token`."""
    return await employees.change_password(
        session,
        passwords,
        employee_id=employee.id,
        current=current,
        new=new,
        keep_token=token,
        address=HERE,
        throttle=THROTTLE,
    )


class TestPasswordRules:
    async def test_eleven_characters_are_refused_wherever_a_password_is_set(
        self, session: AsyncSession, passwords: Passwords, factory: Factory
    ) -> None:
        # given
        role = await factory.role()
        employee = await factory.employee()
        token = await factory.token(employee)
        # when
        created = await refused(session, employees.create(session, passwords, new_employee(role.id, ELEVEN)))
        updated = await refused(session, employees.update(session, passwords, employee.id, {"password": ELEVEN}))
        changed = await change(session, passwords, employee, token, current=PASSWORD, new=ELEVEN)
        # then
        assert [(e.code, e.field) for e in (created, updated, *changed)] == [
            (ErrorCode.VALIDATION, ("password",)),
            (ErrorCode.VALIDATION, ("password",)),
            (ErrorCode.VALIDATION, ("newPassword",)),
        ]
        assert "12" in created.message
        assert isinstance(await attempt(session, passwords, email=employee.email, password=PASSWORD), auth.Issued)

    async def test_twelve_characters_are_enough(
        self, session: AsyncSession, passwords: Passwords, factory: Factory
    ) -> None:
        # given
        role = await factory.role()
        # when
        employee = await employees.create(session, passwords, new_employee(role.id, TWELVE))
        # then
        assert isinstance(await attempt(session, passwords, email=employee.email, password=TWELVE), auth.Issued)


async def token_count(session: AsyncSession, employee: Employee) -> int:
    return int(
        await session.scalar(text("SELECT count(*) FROM auth_tokens WHERE employee_id = :id"), {"id": employee.id}) or 0
    )


class TestChangePassword:
    async def test_keeps_the_asking_token_and_revokes_the_others(
        self, session: AsyncSession, passwords: Passwords, factory: Factory
    ) -> None:
        # given
        employee = await factory.employee()
        asking, other, third = [await factory.token(employee) for _ in range(3)]
        colleague_token = await factory.token(await factory.employee())
        version = employee.version
        # when
        errors = await change(session, passwords, employee, asking, current=PASSWORD, new=NEW_PASSWORD)
        # then
        assert errors == []
        assert await auth.authenticate(session, token=asking) is not None
        assert [await auth.authenticate(session, token=t) for t in (other, third)] == [None, None]
        assert await auth.authenticate(session, token=colleague_token) is not None
        assert codes([await attempt(session, passwords, email=employee.email, password=PASSWORD)]) == [
            ErrorCode.INVALID_CREDENTIALS
        ]
        assert isinstance(await attempt(session, passwords, email=employee.email, password=NEW_PASSWORD), auth.Issued)
        assert employee.version == version + 1

    @pytest.mark.parametrize(
        ("current", "new", "expected"),
        [
            pytest.param(WRONG, NEW_PASSWORD, [(ErrorCode.INVALID_CREDENTIALS, ("currentPassword",))], id="wrong"),
            pytest.param(PASSWORD, ELEVEN, [(ErrorCode.VALIDATION, ("newPassword",))], id="short"),
            pytest.param(
                WRONG,
                ELEVEN,
                [(ErrorCode.INVALID_CREDENTIALS, ("currentPassword",)), (ErrorCode.VALIDATION, ("newPassword",))],
                id="both",
            ),
        ],
    )
    async def test_a_refusal_changes_nothing(
        self,
        session: AsyncSession,
        passwords: Passwords,
        factory: Factory,
        current: str,
        new: str,
        expected: list[tuple[ErrorCode, tuple[str, ...]]],
    ) -> None:
        # given
        employee = await factory.employee()
        asking, other = await factory.token(employee), await factory.token(employee)
        hash_before = employee.password_hash
        # when
        errors = await change(session, passwords, employee, asking, current=current, new=new)
        # then
        assert [(e.code, e.field) for e in errors] == expected
        assert employee.password_hash == hash_before
        assert await auth.authenticate(session, token=other) is not None

    async def test_a_wrong_current_password_counts_as_a_failed_login(
        self, session: AsyncSession, passwords: Passwords, factory: Factory
    ) -> None:
        # given
        employee = await factory.employee()
        token = await factory.token(employee)
        wrong = [
            await change(session, passwords, employee, token, current=f"guess-number-{n}", new=NEW_PASSWORD)
            for n in range(5)
        ]
        # when
        login = await attempt(session, passwords, email=employee.email, password=PASSWORD, address="198.51.100.1")
        right = await change(session, passwords, employee, token, current=PASSWORD, new=NEW_PASSWORD)
        # then
        assert [[e.code for e in errors] for errors in wrong] == [[ErrorCode.INVALID_CREDENTIALS]] * 5
        assert codes([login]) == [ErrorCode.TOO_MANY_ATTEMPTS]
        assert [(e.code, e.field) for e in right] == [(ErrorCode.TOO_MANY_ATTEMPTS, ("currentPassword",))]
        assert await passwords.verify(employee.password_hash, PASSWORD)

    async def test_the_right_current_password_clears_the_email_failures(
        self, session: AsyncSession, passwords: Passwords, factory: Factory
    ) -> None:
        # given
        employee = await factory.employee()
        token = await factory.token(employee)
        await wrong_logins(session, passwords, employee.email, 4)
        # when
        errors = await change(session, passwords, employee, token, current=PASSWORD, new=NEW_PASSWORD)
        # then
        assert errors == []
        outcomes = await wrong_logins(session, passwords, employee.email, 5)
        assert codes(outcomes) == [ErrorCode.INVALID_CREDENTIALS] * 5


class TestPasswordReset:
    async def test_an_administrator_setting_a_password_revokes_every_token(
        self, session: AsyncSession, passwords: Passwords, factory: Factory
    ) -> None:
        # given
        employee = await factory.employee()
        tokens = [await factory.token(employee) for _ in range(2)]
        # when
        await employees.update(session, passwords, employee.id, {"password": NEW_PASSWORD})
        # then
        assert [await auth.authenticate(session, token=t) for t in tokens] == [None, None]
        assert await token_count(session, employee) == 0

    async def test_a_reset_lifts_the_throttle_of_that_email(
        self, session: AsyncSession, passwords: Passwords, factory: Factory
    ) -> None:
        # given
        employee = await factory.employee()
        await wrong_logins(session, passwords, employee.email, 5, address=None)
        # when
        await employees.update(session, passwords, employee.id, {"password": NEW_PASSWORD})
        # then
        assert isinstance(await attempt(session, passwords, email=employee.email, password=NEW_PASSWORD), auth.Issued)

    async def test_other_changes_keep_the_tokens(
        self, session: AsyncSession, passwords: Passwords, factory: Factory
    ) -> None:
        # given
        employee = await factory.employee()
        token = await factory.token(employee)
        # when
        await employees.update(session, passwords, employee.id, {"name": "Renamed"})
        # then
        assert await auth.authenticate(session, token=token) is not None
