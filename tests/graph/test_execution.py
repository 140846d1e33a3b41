"""edge.execution answers exactly as graphql-core does, and leaves every failure to graphql-core."""

from __future__ import annotations

import enum
from datetime import date
from decimal import Decimal
from inspect import isawaitable
from typing import Any, cast

import httpx
import orjson
import pytest
import strawberry
from graphql import ExecutionResult, Executor, OperationDefinitionNode, execute, parse
from strawberry.permission import BasePermission

from edge import execution
from graph import ids
from graph.scalars import SCALAR_MAP
from tests.factories import Factory, gql

QUERIES = [
    "query { employees(first: 3) { totalCount pageInfo { hasNextPage endCursor }"
    " edges { cursor node { __typename id name email active defaultRate role { id name employeeVisibility } } } } }",
    "query { cases(first: 5) { totalCount edges { node { id code description debtor { code name }"
    " maxPerBookYear maxMinutes maxAmount activeFrom invoicing } } } }",
    # aliases, merged fields, named and inline fragments, variables
    """query Named($first: Int) { a: cases(first: $first) { ...page } b: cases(first: 1) { edges { node { code } } } }
    fragment page on CaseConnection { edges { node { code ... on Case { id code debtor { ...debtor } } } } }
    fragment debtor on Debtor { name code cases(first: 2) { edges { node { code } } } }""",
    "query { viewer { __typename name supervisor { name } activityRates { rate activity { code } } } }",
    "query { roles { name visibleRoles { name } } activities { code name defaultStatus defaultRate } }",
]
CREATE = """mutation($input: TimeEntryInput!) { createTimeEntry(input: $input) { userErrors { code } } }"""
REPORT = """query($groupBy: [ReportDimension!]!) { timeReport(filter: {}, groupBy: $groupBy) {
  totalMinutes totalAmount rows { __typename debtor { id code name } case { id code debtor { code } }
  employee { id name } employeeHidden activity { code name } status period minutes amount billableMinutes
  nonBillableMinutes billableAmount entryCount } } }"""


async def _answers(client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, query: str, **kw: Any) -> list[Any]:
    lean = await gql(client, query, **kw)
    with monkeypatch.context() as patch:

        async def never(self: execution.Plan, executor: Any) -> None:
            return None

        patch.setattr(execution.Plan, "execute", never)
        core = await gql(client, query, **kw)
    return [lean, core]


@pytest.mark.parametrize("query", QUERIES)
async def test_same_answer_as_graphql_core(
    client: httpx.AsyncClient, factory: Factory, monkeypatch: pytest.MonkeyPatch, query: str
) -> None:
    _, token = await factory.admin()
    for n in range(3):
        await factory.case(code=f"K{n}", max_per_book_year="TIME", max_minutes=600)
    lean, core = await _answers(client, monkeypatch, query, variables={"first": 2}, token=token)
    assert "errors" not in lean
    assert lean == core


async def test_the_page_runs_without_graphql_core(
    client: httpx.AsyncClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, token = await factory.admin()
    case = await factory.case()
    answered: list[bool] = []
    run = execution.Plan.execute

    async def counted(self: execution.Plan, executor: Any) -> Any:
        result = await run(self, executor)
        answered.append(result is not None)
        return result

    monkeypatch.setattr(execution.Plan, "execute", counted)
    body = await gql(
        client,
        "query($id: ID!) { node(id: $id) { ... on Case { code timeList(first: 50) { mode totalCount edges { cursor"
        " node { id workDate minutes amount employee { name } activity { name } } } } } } }",
        {"id": ids.encode("Case", case.id)},
        token=token,
    )
    assert body["data"]["node"]["timeList"]["mode"] == "EDITABLE"
    assert answered == [True]


@pytest.mark.parametrize(
    ("query", "variables", "authenticated"),
    [
        ("query { employees(first: 2) { edges { node { name } } } }", {}, False),  # permission refused
        ("query { employees(first: 500) { edges { node { name } } } }", {}, True),  # argument refused
        ("query($n: Int) { cases(first: $n) { totalCount } }", {"n": "x"}, True),  # variable refused
        ('query { cases(first: 1, after: "bad") { totalCount } }', {}, True),  # cursor refused
        (  # an error under a field: partial data
            "query($id: ID!) { viewer { name } node(id: $id) { ... on Employee { name } } roles { name } }",
            {"id": 12},
            True,
        ),
        ("query($id: ID!) { node(id: $id) { ... on Case { timeList(first: 500) { totalCount } } } }", {}, True),
        ("query { __schema { queryType { name } } }", {}, True),  # introspection
        ("query($s: Boolean!) { viewer { name @include(if: $s) email } }", {"s": False}, True),  # directives
    ],
)
async def test_failures_answer_as_graphql_core(
    client: httpx.AsyncClient,
    factory: Factory,
    monkeypatch: pytest.MonkeyPatch,
    query: str,
    variables: dict[str, Any],
    authenticated: bool,
) -> None:
    role = await factory.role(name="Plain")
    employee = await factory.employee(role=role)
    token = await factory.token(employee) if authenticated else None
    lean, core = await _answers(client, monkeypatch, query, variables=variables, token=token)
    assert lean == core


# A schema of plain objects: a custom scalar (Decimal, Date), an enum, IDs, nulls inside lists, one object named by
# many items (answered once per run) and a non-null field that turns out null (graphql-core answers that).
class Colour(enum.Enum):
    RED = "R"
    GREEN = "G"


@strawberry.type
class Owner:
    id: strawberry.ID
    name: str
    colour: Colour | None


@strawberry.type
class Item:
    id: strawberry.ID
    count: int
    price: Decimal
    day: date
    colour: Colour
    note: str | None
    owner: Owner | None
    tags: list[str | None]
    scores: list[int | None] | None
    ratio: float
    flag: bool
    label: str = ""  # non-null: set to None by the failure case


@strawberry.type
class Plain:
    items: list[Item | None]
    first: Item


def _items() -> list[Item | None]:
    shared = Owner(id=strawberry.ID("o1"), name="Ann", colour=Colour.RED)
    other = Owner(id=strawberry.ID("o2"), name="Bob", colour=None)
    return [
        Item(
            id=strawberry.ID(f"i{n}"),
            count=n,
            price=Decimal(n) / 3,
            day=date(2026, 11, 1 + n),
            colour=Colour.GREEN if n % 2 else Colour.RED,
            note=None if n % 2 else f"note {n}",
            owner=(shared, other, None)[n % 3],
            tags=["a", None, "b"][: n % 4],
            scores=None if n == 2 else [n, None, True],  # a bool where an Int goes: coerced, not natively passed
            ratio=n / 4,
            flag=n % 2 == 0,
            label=f"item {n}",
        )
        if n != 4
        else None
        for n in range(7)
    ]


PLAIN_QUERY = """query { plain {
  items { __typename id count price day colour note owner { __typename id name colour } tags scores ratio flag label }
  first { id owner { name } same: owner { id name } price }
} }"""


@strawberry.type
class PlainQuery:
    @strawberry.field
    def plain(self, info: strawberry.Info) -> Plain:
        return cast(Plain, info.root_value)


_PLAIN_SCHEMA = strawberry.Schema(query=PlainQuery, scalar_overrides=SCALAR_MAP)


async def _plan_and_core(
    query: str, root: Any, schema_of: strawberry.Schema | None = None
) -> tuple[ExecutionResult | None, ExecutionResult]:
    schema = (schema_of or _PLAIN_SCHEMA)._schema
    document = parse(query)
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    executor = Executor.build(schema, document, root_value=root)
    assert not isinstance(executor, list)
    lean = await execution.Plan(schema, document, operation).execute(executor)
    core = execute(schema, document, root_value=root)
    if isawaitable(core):
        core = await core
    assert isinstance(core, ExecutionResult)
    return lean, core


async def test_plain_objects_answer_as_graphql_core(monkeypatch: pytest.MonkeyPatch) -> None:
    walked: list[str] = []
    plain_walker = execution._walker

    def counted_walker(selection: Any, fields: Any) -> Any:
        walk = plain_walker(selection, fields)

        def counted(run: Any, source: Any) -> Any:
            walked.append(type(source).__name__)
            return walk(run, source)

        return counted

    monkeypatch.setattr(execution, "_walker", counted_walker)
    plain = Plain(items=_items(), first=cast(Item, _items()[0]))
    lean, core = await _plan_and_core(PLAIN_QUERY, plain)
    # every item and each owner once per selection that names it: the plain walk answered, once per object
    assert sorted(walked) == ["Item"] * 7 + ["Owner"] * 4 + ["Plain"]
    assert core.errors is None
    assert lean is not None
    assert lean.data == core.data
    assert orjson.dumps(lean.data) == orjson.dumps(core.data)  # the same keys in the same order
    items = cast(dict[str, Any], lean.data)["plain"]["items"]
    assert (items[1]["price"], items[0]["day"], items[1]["colour"]) == ("0.33", "2026-11-01", "GREEN")
    assert (items[4], items[1]["scores"]) == (None, [1, None, 1])


async def test_plain_objects_leave_a_null_in_a_non_null_field_to_graphql_core() -> None:
    items = _items()
    broken = items[3]
    assert broken is not None
    broken.label = cast(str, None)
    lean, core = await _plan_and_core(PLAIN_QUERY, Plain(items=items, first=cast(Item, items[0])))
    assert lean is None
    assert core.errors
    assert core.errors[0].path == ["plain", "items", 3, "label"]


async def test_report_answers_as_graphql_core(
    client: httpx.AsyncClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, token = await factory.admin()
    activity = await factory.activity(default_rate=Decimal("60.00"))
    cases = [await factory.case(code=f"R{n}") for n in range(2)]
    for n, day in enumerate(("2026-10-30", "2026-11-02", "2026-11-03")):
        entry = {
            "caseId": ids.encode("Case", cases[n % 2].id),
            "activityId": ids.encode("Activity", activity.id),
            "workDate": day,
            "minutes": 45 + n,
        }
        created = await gql(client, CREATE, {"input": entry}, token=token)
        assert created["data"]["createTimeEntry"]["userErrors"] == []
    for group_by in (["EMPLOYEE", "CASE"], ["DEBTOR", "MONTH"], ["STATUS", "DAY"], ["ACTIVITY"]):
        lean, core = await _answers(client, monkeypatch, REPORT, variables={"groupBy": group_by}, token=token)
        assert "errors" not in lean
        assert lean == core
        assert lean["data"]["timeReport"]["rows"]


# Resolvers the plan calls without Strawberry's wrappers (`execution._Direct`): permissions, Python argument names,
# the source as `self` or `root`, and refusals left to graphql-core.
class Allowed(BasePermission):
    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        seen.append(("allowed", kwargs))
        return True


class Refused(BasePermission):
    message = "not for you"

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        seen.append(("refused", kwargs))
        return False


seen: list[tuple[str, dict[str, Any]]] = []


@strawberry.input
class Bounds:
    low: int


@strawberry.type
class Shelf:
    name: str

    @strawberry.field(permission_classes=[Allowed])  # type: ignore[untyped-decorator]
    def label(self, info: strawberry.Info, upper_case: bool = False, colour: Colour = Colour.RED) -> str:
        text = f"{self.name}/{colour.name}/{info.field_name}"
        return text.upper() if upper_case else text


async def shelf(root: Any, name: str, day: date | None = None) -> Shelf:
    return Shelf(name=f"{name}@{day}" if day else name)


def secret() -> str:
    return "secret"


def within(bounds: Bounds) -> int:
    return bounds.low


@strawberry.type
class DirectQuery:
    shelf: Shelf = strawberry.field(resolver=shelf, permission_classes=[Allowed])
    secret: str = strawberry.field(resolver=secret, permission_classes=[Allowed, Refused])
    within: int = strawberry.field(resolver=within)


_DIRECT_SCHEMA = strawberry.Schema(query=DirectQuery, scalar_overrides=SCALAR_MAP)


async def test_resolvers_called_directly_answer_as_graphql_core() -> None:
    # given
    query = """query { shelf(name: "A", day: "2026-11-30") { name label(upperCase: true, colour: GREEN) plain: label }
                       other: shelf(name: "B") { name } }"""
    seen.clear()
    # when
    lean, core = await _plan_and_core(query, None, _DIRECT_SCHEMA)
    # then: both ran every permission, with the arguments under their Python names
    assert lean is not None
    assert core.errors is None
    assert (
        lean.data
        == core.data
        == {
            "shelf": {"name": "A@2026-11-30", "label": "A@2026-11-30/GREEN/LABEL", "plain": "A@2026-11-30/RED/label"},
            "other": {"name": "B"},
        }
    )
    allowed = sorted(repr(kwargs) for name, kwargs in seen if name == "allowed")
    expected = [
        {"name": "A", "day": date(2026, 11, 30), "root": None},
        {"name": "B", "day": None, "root": None},
        {"upper_case": True, "colour": Colour.GREEN},
        {"upper_case": False, "colour": Colour.RED},
    ]
    # once in the plan's run, once in graphql-core's run through Strawberry
    assert allowed == sorted(repr(kwargs) for kwargs in expected * 2)


async def test_a_refused_permission_is_answered_by_graphql_core() -> None:
    # when
    lean, core = await _plan_and_core('query { shelf(name: "A") { name } secret }', None, _DIRECT_SCHEMA)
    # then
    assert lean is None
    assert [error.message for error in core.errors or ()] == ["not for you"]


def test_input_objects_are_left_to_strawberry() -> None:
    fields = _DIRECT_SCHEMA._schema.query_type.fields  # type: ignore[union-attr]
    assert execution._Direct.of(fields["within"], _DIRECT_SCHEMA._schema) is None
    assert execution._Direct.of(fields["shelf"], _DIRECT_SCHEMA._schema) is not None
