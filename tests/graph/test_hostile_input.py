"""Hostile and malformed input (SPEC 5a, 5b): each check answers its code and writes nothing.

A value that is no valid scalar at all is a top-level VALIDATION error; one that parses but breaks a rule is a
`userErrors` VALIDATION entry; a malformed or foreign ID, or one beyond what its table's key holds, is NOT_FOUND (or
null from `node`); a bug is INTERNAL with nothing of its cause in the answer; production hides the schema. No text
may hold U+0000 (a top-level VALIDATION, nothing runs), and a message quotes at most 100 characters of the value it
refuses (SPEC 12).
"""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from edge import http
from edge.app import create_app
from edge.schema import schema
from graph import ids
from models import CapKind
from services import debtors, visibility
from settings import Config, ConfigError
from tests.conftest import StatementCounter
from tests.factories import Factory, error_codes, gql
from tests.graph.tables import rows_of
from tests.graph.test_limits import refused_at_once

CREATE_DEBTOR = """mutation($input: DebtorInput!) {
  createDebtor(input: $input) { debtor { id adjustedRate } userErrors { field code } } }"""
UPDATE_DEBTOR = """mutation($id: ID!, $input: DebtorInput!) {
  updateDebtor(id: $id, input: $input) { debtor { id } userErrors { field code } } }"""
CREATE_CASE = """mutation($input: CaseInput!) {
  createCase(input: $input) { case { id } userErrors { field code } } }"""
CREATE_EMPLOYEE = """mutation($input: EmployeeInput!) {
  createEmployee(input: $input) { employee { id } userErrors { field code } } }"""
UPDATE_SETTINGS = """mutation($input: SettingsInput!) {
  updateSettings(input: $input) { settings { timeZone } userErrors { field code } } }"""
NODE = "query($id: ID!) { node(id: $id) { id } }"
DEBTORS = "query { debtors { totalCount } }"
VIEWER = "query { viewer { id } }"
RATE_AS_A_FLOAT_LITERAL = """mutation {
  createDebtor(input: {code: "D", name: "Acme", adjustedRate: 12.5}) { debtor { id } userErrors { code } } }"""
RATE_AS_NAN_LITERAL = """mutation {
  createDebtor(input: {code: "D", name: "Acme", adjustedRate: "NaN"}) { debtor { id } userErrors { code } } }"""
DATE_LITERAL = """mutation($debtorId: ID!) {
  createCase(input: {debtorId: $debtorId, code: "C", activeFrom: "2026-13-40"}) { case { id } userErrors { code } } }"""
INT_LITERAL_OUT_OF_RANGE = """mutation($debtorId: ID!) {
  createCase(input: {debtorId: $debtorId, code: "C", maxMinutes: 3000000000}) { case { id } userErrors { code } } }"""
UNKNOWN_INPUT_FIELD_LITERAL = """mutation {
  createDebtor(input: {code: "D", name: "Acme", nmae: "x"}) { debtor { id } userErrors { code } } }"""
UNKNOWN_SELECTION = "query { viewer { id nmae } }"
UNKNOWN_ARGUMENT = "query { debtors(frist: 1) { totalCount } }"
UNKNOWN_ENUM_VALUE = "query($s: [TimeStatus!]) { timeEntries(filter: {statuses: $s}) { totalCount } }"
SCHEMA = "query { __schema { queryType { name } } }"
TYPE = 'query { __type(name: "Employee") { name } }'

PRODUCTION = Config(
    environment="production", database_url="postgresql://unused/x", argon2_time_cost=1, argon2_memory_kib=8
)


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.fixture
async def production_client(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(PRODUCTION, sessionmaker=sessionmaker)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://casetime.test") as client:
        yield client


def _user_error_codes(body: dict[str, Any], field: str) -> list[str]:
    assert "errors" not in body, body
    payload = body["data"][field]
    return [e["code"] for e in payload["userErrors"]]


class TestScalars:
    @pytest.mark.parametrize(
        "rate", ["NaN", "Infinity", "-Infinity", "1e5", "12.5e0", 12.5, 12, "\u0661\u0662.\u0665\u0660", "", "12,50"]
    )
    async def test_a_decimal_that_is_no_decimal_string_is_refused_by_the_graphql_layer(
        self, client: httpx.AsyncClient, factory: Factory, session: AsyncSession, rate: object
    ) -> None:
        # given
        _, token = await factory.admin()
        before = await rows_of(session, "debtors")
        # when
        body = await gql(
            client, CREATE_DEBTOR, {"input": {"code": "D", "name": "Acme", "adjustedRate": rate}}, token=token
        )
        # then
        assert error_codes(body) == ["VALIDATION"]
        assert body.get("data") is None
        assert await rows_of(session, "debtors") == before

    @pytest.mark.parametrize("document", [RATE_AS_A_FLOAT_LITERAL, RATE_AS_NAN_LITERAL])
    async def test_a_decimal_literal_that_is_no_decimal_string_is_refused(
        self, client: httpx.AsyncClient, factory: Factory, session: AsyncSession, document: str
    ) -> None:
        # given
        _, token = await factory.admin()
        before = await rows_of(session, "debtors")
        # when
        body = await gql(client, document, token=token)
        # then
        assert error_codes(body) == ["VALIDATION"]
        assert await rows_of(session, "debtors") == before

    @pytest.mark.parametrize(
        "day",
        [
            "2026-13-40",
            "2026-02-30",
            "20261123",
            "2026-1-5",
            "2026-11-23\n",
            "\u0662\u0660\u0662\u0666-11-23",
            20261123,
        ],
    )
    async def test_a_date_that_is_no_calendar_date_is_refused_by_the_graphql_layer(
        self, client: httpx.AsyncClient, factory: Factory, session: AsyncSession, day: object
    ) -> None:
        # given
        _, token = await factory.admin()
        debtor_id = ids.encode("Debtor", (await factory.debtor()).id)
        before = await rows_of(session, "cases")
        # when
        body = await gql(
            client, CREATE_CASE, {"input": {"debtorId": debtor_id, "code": "C", "activeFrom": day}}, token=token
        )
        # then
        assert error_codes(body) == ["VALIDATION"]
        assert await rows_of(session, "cases") == before

    async def test_a_date_literal_that_is_no_calendar_date_is_refused(
        self, client: httpx.AsyncClient, factory: Factory, session: AsyncSession
    ) -> None:
        # given
        _, token = await factory.admin()
        debtor_id = ids.encode("Debtor", (await factory.debtor()).id)
        before = await rows_of(session, "cases")
        # when
        body = await gql(client, DATE_LITERAL, {"debtorId": debtor_id}, token=token)
        # then
        assert error_codes(body) == ["VALIDATION"]
        assert await rows_of(session, "cases") == before

    async def test_an_int_out_of_32_bits_is_refused_as_variable_and_literal(
        self, client: httpx.AsyncClient, factory: Factory, session: AsyncSession
    ) -> None:
        # given
        _, token = await factory.admin()
        debtor_id = ids.encode("Debtor", (await factory.debtor()).id)
        before = await rows_of(session, "cases")
        variables = {"input": {"debtorId": debtor_id, "code": "C", "maxMinutes": 2**31}}
        # when
        as_variable = await gql(client, CREATE_CASE, variables, token=token)
        as_literal = await gql(client, INT_LITERAL_OUT_OF_RANGE, {"debtorId": debtor_id}, token=token)
        # then
        assert error_codes(as_variable) == ["VALIDATION"]
        assert error_codes(as_literal) == ["VALIDATION"]
        assert await rows_of(session, "cases") == before


class TestRules:
    @pytest.mark.parametrize("rate", ["12.345", "-0.01", "100000000.00", "99999999.991"])
    async def test_money_breaking_a_rule_is_a_user_error(
        self, client: httpx.AsyncClient, factory: Factory, session: AsyncSession, rate: str
    ) -> None:
        # given
        _, token = await factory.admin()
        before = await rows_of(session, "debtors")
        # when
        body = await gql(
            client, CREATE_DEBTOR, {"input": {"code": "D", "name": "Acme", "adjustedRate": rate}}, token=token
        )
        # then
        assert _user_error_codes(body, "createDebtor") == ["VALIDATION"]
        assert body["data"]["createDebtor"]["userErrors"][0]["field"] == ["adjustedRate"]
        assert await rows_of(session, "debtors") == before

    @pytest.mark.parametrize("day", ["1999-12-31", "2101-01-01", "0001-01-01", "9999-12-31"])
    async def test_a_date_out_of_range_is_a_user_error(
        self, client: httpx.AsyncClient, factory: Factory, session: AsyncSession, day: str
    ) -> None:
        # given
        _, token = await factory.admin()
        debtor_id = ids.encode("Debtor", (await factory.debtor()).id)
        before = await rows_of(session, "cases")
        # when
        body = await gql(
            client, CREATE_CASE, {"input": {"debtorId": debtor_id, "code": "C", "activeFrom": day}}, token=token
        )
        # then
        assert _user_error_codes(body, "createCase") == ["VALIDATION"]
        assert body["data"]["createCase"]["userErrors"][0]["field"] == ["activeFrom"]
        assert await rows_of(session, "cases") == before

    @pytest.mark.parametrize("day", ["1999-12-31", "9999-12-31"])
    async def test_a_cap_usage_date_out_of_range_is_validation(
        self, client: httpx.AsyncClient, factory: Factory, day: str
    ) -> None:
        # given: a capped case, whose book year of a far date would lie beyond the calendar
        _, token = await factory.admin()
        case = await factory.case(max_per_book_year=CapKind.TIME, max_minutes=600)
        query = "query($id: ID!, $day: Date) { node(id: $id) { ... on Case { capUsage(date: $day) { usedMinutes } } } }"
        # when
        body = await gql(client, query, {"id": ids.encode("Case", case.id), "day": day}, token=token)
        # then
        assert error_codes(body) == ["VALIDATION"]
        assert body["data"] == {"node": {"capUsage": None}}

    @pytest.mark.parametrize("name", ["", "   ", "\t\n", "x" * 201])
    async def test_a_bad_name_is_a_user_error(
        self, client: httpx.AsyncClient, factory: Factory, session: AsyncSession, name: str
    ) -> None:
        # given
        _, token = await factory.admin()
        before = await rows_of(session, "debtors")
        # when
        body = await gql(client, CREATE_DEBTOR, {"input": {"code": "D", "name": name}}, token=token)
        # then
        assert _user_error_codes(body, "createDebtor") == ["VALIDATION"]
        assert await rows_of(session, "debtors") == before

    async def test_a_description_of_4001_characters_is_a_user_error(
        self, client: httpx.AsyncClient, factory: Factory, session: AsyncSession
    ) -> None:
        # given
        _, token = await factory.admin()
        debtor_id = ids.encode("Debtor", (await factory.debtor()).id)
        before = await rows_of(session, "cases")
        variables = {"input": {"debtorId": debtor_id, "code": "C", "description": "x" * 4001}}
        # when
        body = await gql(client, CREATE_CASE, variables, token=token)
        # then
        assert _user_error_codes(body, "createCase") == ["VALIDATION"]
        assert await rows_of(session, "cases") == before

    async def test_the_boundary_values_are_accepted(self, client: httpx.AsyncClient, factory: Factory) -> None:
        # given
        _, token = await factory.admin()
        debtor_id = ids.encode("Debtor", (await factory.debtor()).id)
        case = {"debtorId": debtor_id, "code": "C" * 200, "description": "x" * 4000}
        # when
        debtor = await gql(
            client,
            CREATE_DEBTOR,
            {"input": {"code": "D", "name": "n" * 200, "adjustedRate": "99999999.99"}},
            token=token,
        )
        first = await gql(client, CREATE_CASE, {"input": {**case, "activeFrom": "2000-01-01"}}, token=token)
        last = await gql(client, CREATE_CASE, {"input": {**case, "code": "L", "activeFrom": "2100-12-31"}}, token=token)
        # then
        assert _user_error_codes(debtor, "createDebtor") == []
        assert debtor["data"]["createDebtor"]["debtor"]["adjustedRate"] == "99999999.99"
        assert _user_error_codes(first, "createCase") == []
        assert _user_error_codes(last, "createCase") == []

    @pytest.mark.parametrize("email", ["not-an-email", "a@b", "a b@example.test", "@example.test", ""])
    async def test_a_bad_email_is_a_user_error(
        self, client: httpx.AsyncClient, factory: Factory, session: AsyncSession, email: str
    ) -> None:
        # given
        _, token = await factory.admin()
        role_id = ids.encode("Role", (await factory.role()).id)
        before = await rows_of(session, "employees")
        variables = {"input": {"name": "Ada", "email": email, "password": "long-enough-pw", "roleId": role_id}}
        # when
        body = await gql(client, CREATE_EMPLOYEE, variables, token=token)
        # then
        assert _user_error_codes(body, "createEmployee") == ["VALIDATION"]
        assert body["data"]["createEmployee"]["userErrors"][0]["field"] == ["email"]
        assert await rows_of(session, "employees") == before

    @pytest.mark.parametrize(
        "settings",
        [
            {"timeZone": "Mars/Olympus_Mons"},
            {"timeZone": "../../../etc/passwd"},
            {"timeZone": ""},
            {"timeZone": "localtime"},
            {"timeZone": "posixrules"},
            {"timeZone": "posix/Europe/Amsterdam"},
            {"timeZone": "right/UTC"},
            {"timeZone": "Factory"},
            {"bookYearStartMonth": 13},
            {"bookYearStartMonth": 0},
        ],
    )
    async def test_bad_settings_are_a_user_error(
        self, client: httpx.AsyncClient, factory: Factory, session: AsyncSession, settings: dict[str, Any]
    ) -> None:
        # given
        _, token = await factory.admin()
        before = await rows_of(session, "company_settings")
        # when
        body = await gql(client, UPDATE_SETTINGS, {"input": settings}, token=token)
        # then
        assert _user_error_codes(body, "updateSettings") == ["VALIDATION"]
        assert await rows_of(session, "company_settings") == before

    @pytest.mark.parametrize("zone", ["UTC", "Europe/Amsterdam"])
    async def test_an_iana_zone_name_is_stored(self, client: httpx.AsyncClient, factory: Factory, zone: str) -> None:
        # given
        _, token = await factory.admin()
        # when
        body = await gql(client, UPDATE_SETTINGS, {"input": {"timeZone": zone}}, token=token)
        # then
        assert _user_error_codes(body, "updateSettings") == []
        assert body["data"]["updateSettings"]["settings"]["timeZone"] == zone


MALFORMED_IDS = [
    "",
    "!!!",
    _b64("Debtor:abc"),
    _b64("Debtor:-1"),
    _b64("Debtor:0"),
    _b64("Debtor:1" + "0" * 30),
    _b64("Debtor:2147483648"),  # one beyond the 32-bit key of debtors
    _b64("Debtor:9223372036854775808"),
    "x" * 500,
]


LONG = 10_000


def _quotes_little(message: str, value: str) -> bool:
    """At most 100 characters of `value` (made of one repeated character) in `message`."""
    return value[:101] not in message and len(message) < 400


class TestLongValues:
    @pytest.mark.parametrize(
        ("field", "value"),
        [("activeFrom", "2026-11-23" + "x" * LONG), ("adjustedRate", "1" * LONG + "x"), ("maxPerBookYear", "T" * LONG)],
    )
    async def test_a_long_bad_variable_is_quoted_in_part(
        self, client: httpx.AsyncClient, factory: Factory, field: str, value: str
    ) -> None:
        # given
        _, token = await factory.admin()
        debtor_id = ids.encode("Debtor", (await factory.debtor()).id)
        # when
        body = await gql(
            client, CREATE_CASE, {"input": {"debtorId": debtor_id, "code": "C", field: value}}, token=token
        )
        # then
        assert error_codes(body) == ["VALIDATION"]
        assert _quotes_little(body["errors"][0]["message"], value[10:])

    @pytest.mark.parametrize(
        "literal",
        ['activeFrom: "' + "x" * LONG + '"', 'adjustedRate: "' + "1" * LONG + 'x"', "maxPerBookYear: " + "T" * LONG],
    )
    async def test_a_long_bad_literal_is_quoted_in_part(
        self, client: httpx.AsyncClient, factory: Factory, literal: str
    ) -> None:
        # given
        _, token = await factory.admin()
        document = 'mutation { createCase(input: {code: "C", ' + literal + "}) { case { id } } }"
        # when
        body = await gql(client, document, token=token)
        # then
        assert error_codes(body) == ["VALIDATION"]
        assert all(_quotes_little(e["message"], literal[-LONG:-1]) for e in body["errors"]), body

    async def test_a_long_unknown_field_name_is_quoted_in_part(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        # given
        _, token = await factory.admin()
        name = "n" * LONG
        # when
        body = await gql(client, CREATE_DEBTOR, {"input": {"code": "D", "name": "Acme", name: "x"}}, token=token)
        # then
        assert error_codes(body) == ["VALIDATION"]
        assert _quotes_little(body["errors"][0]["message"], name)

    async def test_a_long_unknown_time_zone_is_quoted_in_part(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        # given
        _, token = await factory.admin()
        zone = "Z" * LONG
        # when
        body = await gql(client, UPDATE_ZONE, {"zone": zone}, token=token)
        # then
        [error] = body["data"]["updateSettings"]["userErrors"]
        assert error["code"] == "VALIDATION"
        assert _quotes_little(error["message"], zone)


UPDATE_ZONE = """mutation($zone: String!) {
  updateSettings(input: {timeZone: $zone}) { settings { timeZone } userErrors { code message } } }"""
SEARCH_EMPLOYEES = "query($search: String) { employees(search: $search) { totalCount } }"
SEARCH_LITERAL = 'query { debtors(search: "a\\u0000b") { totalCount } }'
LOGIN = """mutation($email: String!) {
  login(input: {email: $email, password: "correct-horse"}) { token userErrors { code } } }"""
CREATE_ENTRY_ONCE = """mutation($input: TimeEntryInput!, $key: String) {
  createTimeEntry(input: $input, idempotencyKey: $key) { timeEntry { id } userErrors { code } } }"""
SAVE_LIST = """mutation($caseId: ID!, $changes: [TimeListChange!]!) {
  saveCaseTimeList(caseId: $caseId, changes: $changes) { timeEntries { id } userErrors { code } } }"""

NUL_LITERAL = 'mutation { createDebtor(input: {code: "D", name: "A\\u0000cme"}) { debtor { id } } }'


class TestNul:
    async def test_nul_in_a_search_is_validation_and_runs_no_sql(
        self, client: httpx.AsyncClient, factory: Factory, sql_statements: StatementCounter
    ) -> None:
        # given
        _, token = await factory.admin()
        # when / then
        for document, variables in ((SEARCH_EMPLOYEES, {"search": "a\x00b"}), (SEARCH_LITERAL, {})):
            await refused_at_once(client, document, sql_statements, token=token, variables=variables, code="VALIDATION")

    async def test_nul_in_the_login_email_is_validation(
        self, client: httpx.AsyncClient, factory: Factory, sql_statements: StatementCounter
    ) -> None:
        # given
        employee = await factory.employee()
        # when / then
        await refused_at_once(
            client, LOGIN, sql_statements, variables={"email": employee.email + "\x00"}, code="VALIDATION"
        )

    @pytest.mark.parametrize(
        ("key", "description"), [("retry-\x00-1", "fine"), ("retry-1", "nul \x00 inside"), (None, "\x00")]
    )
    async def test_nul_in_an_idempotency_key_or_a_description_is_validation_and_writes_nothing(
        self, client: httpx.AsyncClient, factory: Factory, session: AsyncSession, key: str | None, description: str
    ) -> None:
        # given
        _, token = await factory.admin()
        debtor = await factory.debtor()
        activity = await factory.activity()
        entry = {
            "debtorId": ids.encode("Debtor", debtor.id),
            "activityId": ids.encode("Activity", activity.id),
            "workDate": "2026-11-23",
            "minutes": 30,
            "description": description,
        }
        before = await rows_of(session, "time_entries")
        # when
        body = await gql(client, CREATE_ENTRY_ONCE, {"input": entry, "key": key}, token=token)
        # then
        assert error_codes(body) == ["VALIDATION"]
        assert body["data"] is None
        assert await rows_of(session, "time_entries") == before

    async def test_nul_in_an_input_object_literal_or_deep_in_a_variable_is_validation_and_writes_nothing(
        self, client: httpx.AsyncClient, factory: Factory, session: AsyncSession
    ) -> None:
        # given
        _, token = await factory.admin()
        case = await factory.case()
        changes = [{"entry": {"minutes": 5}}, {"entry": {"minutes": 5, "description": "ok"}}]
        changes.append({"entry": {"minutes": 5, "description": "not \x00 ok"}})
        before = {table: await rows_of(session, table) for table in ("time_entries", "debtors")}
        # when
        deep = await gql(client, SAVE_LIST, {"caseId": ids.encode("Case", case.id), "changes": changes}, token=token)
        literal = await gql(client, NUL_LITERAL, token=token)
        # then
        assert error_codes(deep) == error_codes(literal) == ["VALIDATION"]
        assert {table: await rows_of(session, table) for table in before} == before


class TestGlobalIds:
    @pytest.mark.parametrize("global_id", MALFORMED_IDS)
    async def test_a_malformed_id_is_not_found(
        self, client: httpx.AsyncClient, factory: Factory, session: AsyncSession, global_id: str
    ) -> None:
        # given
        _, token = await factory.admin()
        await factory.debtor()
        before = await rows_of(session, "debtors")
        # when
        body = await gql(client, UPDATE_DEBTOR, {"id": global_id, "input": {"name": "Renamed"}}, token=token)
        # then
        assert _user_error_codes(body, "updateDebtor") == ["NOT_FOUND"]
        assert await rows_of(session, "debtors") == before

    async def test_the_id_of_another_type_is_not_found(
        self, client: httpx.AsyncClient, factory: Factory, session: AsyncSession
    ) -> None:
        # given
        _, token = await factory.admin()
        debtor = await factory.debtor()
        case = await factory.case(debtor=debtor)
        before = await rows_of(session, "debtors")
        # when: a case's ID where a debtor's is wanted, and a debtor's number under the wrong type
        as_case = await gql(
            client, UPDATE_DEBTOR, {"id": ids.encode("Case", case.id), "input": {"name": "R"}}, token=token
        )
        renamed = ids.encode("Activity", debtor.id)
        as_activity = await gql(client, UPDATE_DEBTOR, {"id": renamed, "input": {"name": "R"}}, token=token)
        # then
        assert _user_error_codes(as_case, "updateDebtor") == ["NOT_FOUND"]
        assert _user_error_codes(as_activity, "updateDebtor") == ["NOT_FOUND"]
        assert await rows_of(session, "debtors") == before

    @pytest.mark.parametrize("global_id", [*MALFORMED_IDS, _b64("Nonsense:1")])
    async def test_node_of_a_malformed_id_is_null(
        self, client: httpx.AsyncClient, factory: Factory, global_id: str
    ) -> None:
        # given
        _, token = await factory.admin()
        await factory.debtor()
        # when
        body = await gql(client, NODE, {"id": global_id}, token=token)
        # then
        assert "errors" not in body, body
        assert body["data"]["node"] is None


class TestUnknownFields:
    @pytest.mark.parametrize(
        ("document", "variables"),
        [
            (UNKNOWN_SELECTION, {}),
            (UNKNOWN_ARGUMENT, {}),
            (UNKNOWN_INPUT_FIELD_LITERAL, {}),
            (CREATE_DEBTOR, {"input": {"code": "D", "name": "Acme", "nmae": "x"}}),
            (UNKNOWN_ENUM_VALUE, {"s": ["BILLABL"]}),
        ],
    )
    async def test_an_unknown_field_is_validation(
        self,
        client: httpx.AsyncClient,
        factory: Factory,
        session: AsyncSession,
        document: str,
        variables: dict[str, Any],
    ) -> None:
        # given
        _, token = await factory.admin()
        before = await rows_of(session, "debtors")
        # when
        body = await gql(client, document, variables, token=token)
        # then
        assert error_codes(body) == ["VALIDATION"]
        assert body.get("data") is None
        assert await rows_of(session, "debtors") == before


class TestUnexpectedErrors:
    async def test_an_exception_in_a_resolver_is_internal_without_its_cause(
        self,
        client: httpx.AsyncClient,
        factory: Factory,
        monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        # given
        _, token = await factory.admin()

        async def broken(*_args: object, **_kwargs: object) -> None:
            raise RuntimeError("secret table xyz: SELECT * FROM debtors")

        monkeypatch.setattr(debtors, "page", broken)
        # when
        with caplog.at_level(logging.ERROR, logger="casetime.graphql"):
            response = await client.post(
                "/graphql", json={"query": DEBTORS}, headers={"Authorization": f"Bearer {token}"}
            )
        # then
        assert response.status_code == 200
        assert error_codes(response.json()) == ["INTERNAL"]
        for leak in ("secret", "xyz", "SELECT", "debtors.", "Traceback", "RuntimeError", ".py"):
            assert leak not in response.text
        assert "secret table xyz" in caplog.text  # the log keeps what the answer hides

    @pytest.mark.parametrize(("module", "name"), [(visibility, "for_viewer"), (http, "validate")])
    async def test_an_exception_outside_any_field_is_internal_without_its_cause(
        self, client: httpx.AsyncClient, factory: Factory, monkeypatch: pytest.MonkeyPatch, module: object, name: str
    ) -> None:
        # given
        _, token = await factory.admin()

        def broken(*_args: object, **_kwargs: object) -> None:
            raise RuntimeError("secret table xyz")

        async def broken_async(*args: object, **kwargs: object) -> None:
            broken(*args, **kwargs)

        monkeypatch.setattr(module, name, broken_async if module is visibility else broken)
        # when
        response = await client.post("/graphql", json={"query": VIEWER}, headers={"Authorization": f"Bearer {token}"})
        # then
        assert response.status_code == 500
        assert error_codes(response.json()) == ["INTERNAL"]
        assert "secret" not in response.text
        assert "xyz" not in response.text

    async def test_a_scalar_failing_unexpectedly_is_internal_not_validation(
        self, client: httpx.AsyncClient, factory: Factory, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # given
        _, token = await factory.admin()
        debtor_id = ids.encode("Debtor", (await factory.debtor()).id)
        before = await rows_of(session, "cases")

        def broken(_value: object) -> None:
            raise LookupError("secret table xyz")

        monkeypatch.setattr(schema._schema.get_type("Date"), "coerce_input_value", broken)
        variables = {"input": {"debtorId": debtor_id, "code": "C", "activeFrom": "2026-11-23"}}
        # when
        body = await gql(client, CREATE_CASE, variables, token=token)
        # then
        assert error_codes(body) == ["INTERNAL"]
        assert "xyz" not in str(body)
        assert await rows_of(session, "cases") == before


class TestProduction:
    @pytest.mark.parametrize("document", [SCHEMA, TYPE])
    async def test_introspection_is_refused(
        self, production_client: httpx.AsyncClient, client: httpx.AsyncClient, document: str
    ) -> None:
        # when
        production = await gql(production_client, document)
        development = await gql(client, document)
        # then
        assert set(error_codes(production)) == {"VALIDATION"}
        assert production.get("data") is None
        assert "errors" not in development

    @pytest.mark.parametrize(
        ("document", "variables"),
        [
            (UNKNOWN_SELECTION, {}),
            (UNKNOWN_ARGUMENT, {}),
            (UNKNOWN_INPUT_FIELD_LITERAL, {}),
            (CREATE_DEBTOR, {"input": {"code": "D", "name": "Acme", "nmae": "x"}}),
            (UNKNOWN_ENUM_VALUE, {"s": ["BILLABL"]}),
        ],
    )
    async def test_errors_suggest_no_field_names(
        self,
        production_client: httpx.AsyncClient,
        client: httpx.AsyncClient,
        document: str,
        variables: dict[str, Any],
    ) -> None:
        # when
        production = await gql(production_client, document, variables)
        development = await gql(client, document, variables)
        # then
        assert error_codes(production) == ["VALIDATION"]
        assert not any("Did you mean" in e["message"] for e in production["errors"]), production
        assert any("Did you mean" in e["message"] for e in development["errors"]), development

    async def test_get_without_a_query_serves_no_graphiql(
        self, production_client: httpx.AsyncClient, client: httpx.AsyncClient
    ) -> None:
        # when
        production = await production_client.get("/graphql", headers={"Accept": "text/html"})
        development = await client.get("/graphql", headers={"Accept": "text/html"})
        # then
        assert production.status_code == 400
        assert production.headers["content-type"].startswith("application/json")
        assert error_codes(production.json()) == ["BAD_REQUEST"]
        assert "graphiql" not in production.text.lower()
        assert "graphiql" in development.text.lower()

    def test_production_refuses_to_start_without_a_database_url(self) -> None:
        # when / then
        with pytest.raises(ConfigError, match="DATABASE_URL"):
            Config.from_env({"CASETIME_ENV": "production"})
