"""Accounts through the API (SPEC 12): the login throttle, `expiresAt`, `changePassword`, a password reset by an
administrator, and the 12-character rule wherever a password is set."""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from edge.app import create_app
from graph import ids
from services.auth import token_digest
from settings import Config
from tests.conftest import TEST_CONFIG
from tests.factories import PASSWORD, Factory, error_codes, gql

LOGIN = """mutation($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) {
    token expiresAt viewer { name } userErrors { field code message } } }"""
CHANGE_PASSWORD = """mutation($current: String!, $new: String!) {
  changePassword(input: {currentPassword: $current, newPassword: $new}) { ok userErrors { field code message } } }"""
VIEWER = "query { viewer { name } }"
CREATE_EMPLOYEE = """mutation($input: EmployeeInput!) {
  createEmployee(input: $input) { employee { email } userErrors { field code } } }"""
UPDATE_EMPLOYEE = """mutation($id: ID!, $input: EmployeeInput!) {
  updateEmployee(id: $id, input: $input) { employee { email } userErrors { field code } } }"""

WRONG = "wrong-password"
NEW_PASSWORD = "a-brand-new-secret"
ELEVEN = "eleven-char"
TWELVE = "twelve-chars"

Clients = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def client_at(sessionmaker: async_sessionmaker[AsyncSession]) -> Clients:
    """A client of its own app, calling from `address` (the ASGI client uvicorn reports), under `config`."""

    @asynccontextmanager
    async def open_client(address: str, config: Config = TEST_CONFIG) -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.ASGITransport(app=create_app(config, sessionmaker=sessionmaker), client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://casetime.test") as client:
            yield client

    return open_client


def login_of(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["login"]
    return result


def refusal(body: dict[str, Any], field: str) -> list[tuple[str, list[str] | None]]:
    assert "errors" not in body, body
    return [(e["code"], e["field"]) for e in body["data"][field]["userErrors"]]


async def log_in(client: httpx.AsyncClient, email: str, password: str) -> dict[str, Any]:
    return login_of(await gql(client, LOGIN, {"email": email, "password": password}))


def code_of(answer: dict[str, Any]) -> str | None:
    errors = answer["userErrors"]
    assert len(errors) <= 1
    return errors[0]["code"] if errors else None


# --- expiresAt --------------------------------------------------------------------------------------------------


async def test_login_says_when_the_token_ends(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession
) -> None:
    # given
    employee = await factory.employee()
    before = datetime.now(UTC)
    # when
    answer = await log_in(client, employee.email, PASSWORD)
    # then
    expires_at = datetime.fromisoformat(answer["expiresAt"])
    assert before + TEST_CONFIG.token_ttl <= expires_at <= datetime.now(UTC) + TEST_CONFIG.token_ttl
    stored = await session.scalar(
        text("SELECT expires_at FROM auth_tokens WHERE token_hash = :digest"), {"digest": token_digest(answer["token"])}
    )
    assert stored == expires_at


async def test_a_refused_login_has_no_expiry(client: httpx.AsyncClient, factory: Factory) -> None:
    # given
    employee = await factory.employee()
    # when
    answer = await log_in(client, employee.email, WRONG)
    # then
    assert (answer["token"], answer["expiresAt"], code_of(answer)) == (None, None, "INVALID_CREDENTIALS")


# --- the throttle -----------------------------------------------------------------------------------------------


async def test_the_sixth_attempt_is_too_many_for_an_existing_and_an_unknown_email_alike(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    # given
    employee = await factory.employee(email="known@example.test")
    answers: dict[str, list[dict[str, Any]]] = {}
    # when: five wrong passwords each, then the right password of the existing employee
    for email in (employee.email, "nobody@example.test"):
        answers[email] = [await log_in(client, email, WRONG) for _ in range(5)]
        answers[email].append(await log_in(client, email, PASSWORD))
    # then
    for email, sequence in answers.items():
        assert [code_of(a) for a in sequence] == ["INVALID_CREDENTIALS"] * 5 + ["TOO_MANY_ATTEMPTS"], email
        assert (sequence[-1]["token"], sequence[-1]["viewer"]) == (None, None)
    throttled = [sequence[-1]["userErrors"] for sequence in answers.values()]
    assert throttled[0] == throttled[1]
    assert "known" not in throttled[0][0]["message"]


async def test_another_email_is_unaffected(client: httpx.AsyncClient, factory: Factory) -> None:
    # given
    attacked = await factory.employee()
    other = await factory.employee(name="Other Person")
    for _ in range(6):
        await log_in(client, attacked.email, WRONG)
    # when
    answer = await log_in(client, other.email, PASSWORD)
    # then
    assert code_of(answer) is None
    assert answer["viewer"] == {"name": "Other Person"}


async def test_the_21st_attempt_from_one_address_is_too_many_whatever_the_email(
    client_at: Clients, factory: Factory
) -> None:
    # given
    employee = await factory.employee()
    async with client_at("203.0.113.5") as attacker, client_at("198.51.100.20") as elsewhere:
        spread = [await log_in(attacker, f"guess{n}@example.test", WRONG) for n in range(20)]
        # when
        from_there = await log_in(attacker, employee.email, PASSWORD)
        from_elsewhere = await log_in(elsewhere, employee.email, PASSWORD)
    # then
    assert [code_of(a) for a in spread] == ["INVALID_CREDENTIALS"] * 20
    assert code_of(from_there) == "TOO_MANY_ATTEMPTS"
    assert code_of(from_elsewhere) is None
    assert from_elsewhere["token"]


async def test_a_throttled_answer_is_measurably_faster_than_a_hashed_one(client_at: Clients, factory: Factory) -> None:
    # given: argon2id at the production cost; an unknown email is checked against a hash of that cost too
    realistic = dataclasses.replace(
        TEST_CONFIG, argon2_time_cost=3, argon2_memory_kib=65536, login_failures_per_email=3
    )

    async def timed(client: httpx.AsyncClient) -> tuple[float, str | None]:
        start = time.perf_counter()
        answer = await log_in(client, "nobody@example.test", WRONG)
        return time.perf_counter() - start, code_of(answer)

    async with client_at("192.0.2.44", realistic) as client:
        # when
        hashed = [await timed(client) for _ in range(3)]
        throttled = [await timed(client) for _ in range(3)]
    # then
    assert {code for _, code in hashed} == {"INVALID_CREDENTIALS"}
    assert {code for _, code in throttled} == {"TOO_MANY_ATTEMPTS"}
    hashed_median = statistics.median(t for t, _ in hashed)
    throttled_median = statistics.median(t for t, _ in throttled)
    assert throttled_median < hashed_median / 3, (throttled_median, hashed_median)


# --- changePassword ---------------------------------------------------------------------------------------------


async def test_change_password_keeps_the_current_token_and_revokes_the_others(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    # given
    employee = await factory.employee(name="Changer")
    token_a = (await log_in(client, employee.email, PASSWORD))["token"]
    token_b = (await log_in(client, employee.email, PASSWORD))["token"]
    # when
    body = await gql(client, CHANGE_PASSWORD, {"current": PASSWORD, "new": NEW_PASSWORD}, token=token_a)
    # then
    assert body == {"data": {"changePassword": {"ok": True, "userErrors": []}}}
    assert (await gql(client, VIEWER, token=token_a))["data"] == {"viewer": {"name": "Changer"}}
    assert error_codes(await gql(client, VIEWER, token=token_b)) == ["UNAUTHENTICATED"]
    assert code_of(await log_in(client, employee.email, PASSWORD)) == "INVALID_CREDENTIALS"
    assert code_of(await log_in(client, employee.email, NEW_PASSWORD)) is None


@pytest.mark.parametrize(
    ("current", "new", "expected"),
    [
        pytest.param(WRONG, NEW_PASSWORD, [("INVALID_CREDENTIALS", ["currentPassword"])], id="wrong-current"),
        pytest.param(PASSWORD, ELEVEN, [("VALIDATION", ["newPassword"])], id="short-new"),
        pytest.param(
            WRONG, ELEVEN, [("INVALID_CREDENTIALS", ["currentPassword"]), ("VALIDATION", ["newPassword"])], id="both"
        ),
    ],
)
async def test_a_refused_change_changes_nothing(
    client: httpx.AsyncClient, factory: Factory, current: str, new: str, expected: list[tuple[str, list[str]]]
) -> None:
    # given
    employee = await factory.employee()
    token_a, token_b = await factory.token(employee), await factory.token(employee)
    # when
    body = await gql(client, CHANGE_PASSWORD, {"current": current, "new": new}, token=token_a)
    # then
    assert refusal(body, "changePassword") == expected
    assert body["data"]["changePassword"]["ok"] is False
    assert "errors" not in await gql(client, VIEWER, token=token_b)
    assert code_of(await log_in(client, employee.email, PASSWORD)) is None


async def test_wrong_current_passwords_count_as_failed_logins(client: httpx.AsyncClient, factory: Factory) -> None:
    # given: a stolen token guessing the password
    employee = await factory.employee()
    token = await factory.token(employee)
    guesses = [
        await gql(client, CHANGE_PASSWORD, {"current": f"guess-number-{n}", "new": NEW_PASSWORD}, token=token)
        for n in range(5)
    ]
    # when
    right_guess = await gql(client, CHANGE_PASSWORD, {"current": PASSWORD, "new": NEW_PASSWORD}, token=token)
    login = await log_in(client, employee.email, PASSWORD)
    # then
    assert [refusal(g, "changePassword") for g in guesses] == [[("INVALID_CREDENTIALS", ["currentPassword"])]] * 5
    assert refusal(right_guess, "changePassword") == [("TOO_MANY_ATTEMPTS", ["currentPassword"])]
    assert code_of(login) == "TOO_MANY_ATTEMPTS"


async def test_change_password_needs_a_token(client: httpx.AsyncClient) -> None:
    # when
    body = await gql(client, CHANGE_PASSWORD, {"current": PASSWORD, "new": NEW_PASSWORD})
    # then
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert body["data"] is None


# --- a reset by an administrator ----------------------------------------------------------------------------------


async def test_an_administrator_setting_a_password_revokes_every_token_of_that_employee(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    # given
    _, admin_token = await factory.admin()
    employee = await factory.employee(name="Reset Me")
    tokens = [(await log_in(client, employee.email, PASSWORD))["token"] for _ in range(2)]
    # when
    body = await gql(
        client,
        UPDATE_EMPLOYEE,
        {"id": ids.encode("Employee", employee.id), "input": {"password": NEW_PASSWORD}},
        token=admin_token,
    )
    # then
    assert refusal(body, "updateEmployee") == []
    assert [error_codes(await gql(client, VIEWER, token=t)) for t in tokens] == [["UNAUTHENTICATED"]] * 2
    assert "errors" not in await gql(client, VIEWER, token=admin_token)
    assert (await log_in(client, employee.email, NEW_PASSWORD))["viewer"] == {"name": "Reset Me"}


async def test_making_an_employee_inactive_still_revokes_their_tokens(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    # given
    _, admin_token = await factory.admin()
    employee = await factory.employee()
    token = await factory.token(employee)
    # when
    await gql(
        client,
        UPDATE_EMPLOYEE,
        {"id": ids.encode("Employee", employee.id), "input": {"active": False}},
        token=admin_token,
    )
    # then
    assert error_codes(await gql(client, VIEWER, token=token)) == ["UNAUTHENTICATED"]


# --- 12 characters ------------------------------------------------------------------------------------------------


async def test_eleven_characters_are_refused_wherever_a_password_is_set(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession
) -> None:
    # given
    _, admin_token = await factory.admin()
    role = await factory.role()
    employee = await factory.employee()
    own_token = await factory.token(employee)
    new = {"name": "Pat", "email": "pat@example.test", "roleId": ids.encode("Role", role.id)}
    # when
    created = await gql(client, CREATE_EMPLOYEE, {"input": {**new, "password": ELEVEN}}, token=admin_token)
    updated = await gql(
        client,
        UPDATE_EMPLOYEE,
        {"id": ids.encode("Employee", employee.id), "input": {"password": ELEVEN}},
        token=admin_token,
    )
    changed = await gql(client, CHANGE_PASSWORD, {"current": PASSWORD, "new": ELEVEN}, token=own_token)
    # then
    assert refusal(created, "createEmployee") == [("VALIDATION", ["password"])]
    assert refusal(updated, "updateEmployee") == [("VALIDATION", ["password"])]
    assert refusal(changed, "changePassword") == [("VALIDATION", ["newPassword"])]
    assert await session.scalar(text("SELECT count(*) FROM employees WHERE email = 'pat@example.test'")) == 0
    assert code_of(await log_in(client, employee.email, PASSWORD)) is None


async def test_twelve_characters_are_enough(client: httpx.AsyncClient, factory: Factory) -> None:
    # given
    _, admin_token = await factory.admin()
    role = await factory.role()
    new = {"name": "Pat", "email": "pat@example.test", "roleId": ids.encode("Role", role.id), "password": TWELVE}
    # when
    created = await gql(client, CREATE_EMPLOYEE, {"input": new}, token=admin_token)
    # then
    assert refusal(created, "createEmployee") == []
    assert code_of(await log_in(client, "pat@example.test", TWELVE)) is None
