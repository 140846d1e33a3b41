"""services.auth: login, bearer tokens and logout (SPEC 5a)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from models import EmployeeVisibility
from services import auth
from services.errors import DomainError, ErrorCode
from services.passwords import Passwords
from tests.factories import PASSWORD, Factory
from tests.services.support import refused

TTL = timedelta(hours=1)


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
            (active.email, "wrong-password"),
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
