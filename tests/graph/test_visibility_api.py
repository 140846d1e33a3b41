"""Hidden names never leak (SPEC 5): not in lists, searches, orders, lookups by ID, supervisors or cursors.

Each check reads the raw response body, so a hidden name cannot hide in a field the test forgot to select.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from graph import ids
from models import Employee, EmployeeVisibility
from tests.factories import Factory

HIDDEN_NAME = "Zebulon Hiddenname"
HIDDEN_EMAIL = "zebulon.hiddenname@example.test"
# every fragment of the hidden employee that must not show, compared without case
HIDDEN_FRAGMENTS = ("zebulon", "hiddenname")

EMPLOYEES = """query($first: Int, $after: String, $search: String) {
  employees(first: $first, after: $after, search: $search) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id name email role { name } supervisor { id name email } } } } }"""
NODE = """query($id: ID!) { node(id: $id) { __typename id
  ... on Employee { name email supervisor { id name email } } } }"""
VIEWER = "query { viewer { name supervisor { id name email } } }"


@dataclass(frozen=True)
class World:
    hidden: Employee
    token: str
    visible: list[str]  # the names the viewer sees, in the picker's order
    reports_to_hidden: Employee  # a visible employee whose supervisor is the hidden one


async def build(factory: Factory, visibility: EmployeeVisibility) -> World:
    """The hidden employee sorts after every visible name; another hidden one sorts between them."""
    others = await factory.role(name="Others")
    hidden = await factory.employee(role=others, name=HIDDEN_NAME, email=HIDDEN_EMAIL)
    await factory.employee(role=others, name="Olga Outside", email="olga@example.test")
    if visibility is EmployeeVisibility.OWN:
        viewer = await factory.employee(
            role=await factory.role(visibility=visibility), name="Nina Own", supervisor=hidden
        )
        return World(hidden, await factory.token(viewer), ["Nina Own"], viewer)
    if visibility is EmployeeVisibility.OWN_AND_SUBORDINATES:
        role = await factory.role(visibility=visibility)
        viewer = await factory.employee(role=role, name="Mona Manager", supervisor=hidden)
        sam = await factory.employee(role=others, name="Sam Sub", supervisor=viewer)
        await factory.employee(role=others, name="Tina Tiny", supervisor=sam)
        return World(hidden, await factory.token(viewer), ["Mona Manager", "Sam Sub", "Tina Tiny"], viewer)
    support = await factory.role(name="Support")
    role = await factory.role(visibility=visibility, visible_role_ids=[support.id])
    viewer = await factory.employee(role=role, name="Selma Selector")
    sue = await factory.employee(role=support, name="Sue Support", supervisor=hidden)
    await factory.employee(role=support, name="Stan Support")
    return World(hidden, await factory.token(viewer), ["Selma Selector", "Stan Support", "Sue Support"], sue)


RESTRICTED = [
    pytest.param(EmployeeVisibility.OWN, id="own"),
    pytest.param(EmployeeVisibility.OWN_AND_SUBORDINATES, id="own-and-subordinates"),
    pytest.param(EmployeeVisibility.SELECTED_ROLES, id="selected-roles"),
]


async def post(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None, *, token: str
) -> httpx.Response:
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    return response


def assert_no_leak(response: httpx.Response) -> None:
    body = response.text.lower()
    for fragment in HIDDEN_FRAGMENTS:
        assert fragment not in body, response.text
    for edge in (response.json()["data"].get("employees") or {}).get("edges", []):
        cursor = base64.urlsafe_b64decode(edge["cursor"]).decode().lower()
        assert all(fragment not in cursor for fragment in HIDDEN_FRAGMENTS), cursor


def names(response: httpx.Response) -> list[str]:
    return [e["node"]["name"] for e in response.json()["data"]["employees"]["edges"]]


@pytest.mark.parametrize("visibility", RESTRICTED)
async def test_the_employee_list_shows_only_visible_names(
    client: httpx.AsyncClient, factory: Factory, visibility: EmployeeVisibility
) -> None:
    # given
    world = await build(factory, visibility)
    # when
    response = await post(client, EMPLOYEES, token=world.token)
    # then
    assert_no_leak(response)
    assert names(response) == world.visible
    assert response.json()["data"]["employees"]["totalCount"] == len(world.visible)


@pytest.mark.parametrize("visibility", RESTRICTED)
@pytest.mark.parametrize("search", ["Zebulon", "hiddenname", "zebulon.hiddenname@", "n"])
async def test_a_hidden_employee_never_matches_a_search(
    client: httpx.AsyncClient, factory: Factory, visibility: EmployeeVisibility, search: str
) -> None:
    # given
    world = await build(factory, visibility)
    # when
    response = await post(client, EMPLOYEES, {"search": search}, token=world.token)
    # then
    assert_no_leak(response)
    expected = [n for n in world.visible if search.lower() in n.lower()] if search == "n" else []
    assert names(response) == expected
    assert response.json()["data"]["employees"]["totalCount"] == len(expected)


@pytest.mark.parametrize("visibility", RESTRICTED)
async def test_a_hidden_name_decides_no_order_nor_the_next_page(
    client: httpx.AsyncClient, factory: Factory, visibility: EmployeeVisibility
) -> None:
    # given
    world = await build(factory, visibility)
    # when
    responses = []
    after = None
    for _ in range(len(world.visible)):
        response = await post(client, EMPLOYEES, {"first": 1, "after": after}, token=world.token)
        responses.append(response)
        after = response.json()["data"]["employees"]["pageInfo"]["endCursor"]
    past_the_end = await post(client, EMPLOYEES, {"first": 1, "after": after}, token=world.token)
    # then
    for response in [*responses, past_the_end]:
        assert_no_leak(response)
    assert [name for r in responses for name in names(r)] == world.visible
    has_next = [r.json()["data"]["employees"]["pageInfo"]["hasNextPage"] for r in responses]
    assert has_next == [True] * (len(world.visible) - 1) + [False]
    assert names(past_the_end) == []


@pytest.mark.parametrize("visibility", RESTRICTED)
async def test_node_of_a_hidden_employee_is_null(
    client: httpx.AsyncClient, factory: Factory, visibility: EmployeeVisibility
) -> None:
    # given
    world = await build(factory, visibility)
    # when
    response = await post(client, NODE, {"id": ids.encode("Employee", world.hidden.id)}, token=world.token)
    # then
    assert_no_leak(response)
    assert response.json() == {"data": {"node": None}}


@pytest.mark.parametrize("visibility", RESTRICTED)
async def test_a_hidden_supervisor_is_null(
    client: httpx.AsyncClient, factory: Factory, visibility: EmployeeVisibility
) -> None:
    # given
    world = await build(factory, visibility)
    employee_id = ids.encode("Employee", world.reports_to_hidden.id)
    # when
    by_node = await post(client, NODE, {"id": employee_id}, token=world.token)
    by_viewer = await post(client, VIEWER, token=world.token)
    in_list = await post(client, EMPLOYEES, token=world.token)
    # then
    for response in (by_node, by_viewer, in_list):
        assert_no_leak(response)
    node = by_node.json()["data"]["node"]
    assert (node["name"], node["supervisor"]) == (world.reports_to_hidden.name, None)
    edges = in_list.json()["data"]["employees"]["edges"]
    (listed,) = [e["node"] for e in edges if e["node"]["id"] == employee_id]
    assert listed["supervisor"] is None


async def test_a_visible_supervisor_shows_to_own_and_subordinates(client: httpx.AsyncClient, factory: Factory) -> None:
    # given
    world = await build(factory, EmployeeVisibility.OWN_AND_SUBORDINATES)
    # when
    response = await post(client, EMPLOYEES, token=world.token)
    # then
    assert_no_leak(response)
    supervisors = {e["node"]["name"]: e["node"]["supervisor"] for e in response.json()["data"]["employees"]["edges"]}
    assert supervisors["Mona Manager"] is None
    assert supervisors["Sam Sub"]["name"] == "Mona Manager"
    assert supervisors["Tina Tiny"]["name"] == "Sam Sub"


@pytest.mark.parametrize(
    ("admin", "visibility"),
    [
        pytest.param(True, EmployeeVisibility.OWN, id="administrator-with-own"),
        pytest.param(True, EmployeeVisibility.SELECTED_ROLES, id="administrator-with-selected-roles"),
        pytest.param(False, EmployeeVisibility.ALL, id="role-with-all"),
    ],
)
async def test_administrators_and_all_roles_see_everyone(
    client: httpx.AsyncClient, factory: Factory, admin: bool, visibility: EmployeeVisibility
) -> None:
    # given
    world = await build(factory, EmployeeVisibility.SELECTED_ROLES)
    seer = await factory.employee(role=await factory.role(admin=admin, visibility=visibility), name="Ada Admin")
    token = await factory.token(seer)
    # when
    listed = await post(client, EMPLOYEES, token=token)
    searched = await post(client, EMPLOYEES, {"search": "zebulon"}, token=token)
    by_id = await post(client, NODE, {"id": ids.encode("Employee", world.hidden.id)}, token=token)
    supervisor = await post(client, NODE, {"id": ids.encode("Employee", world.reports_to_hidden.id)}, token=token)
    # then
    assert names(listed) == [
        "Ada Admin",
        "Olga Outside",
        "Selma Selector",
        "Stan Support",
        "Sue Support",
        HIDDEN_NAME,
    ]
    assert names(searched) == [HIDDEN_NAME]
    assert by_id.json()["data"]["node"]["email"] == HIDDEN_EMAIL
    assert supervisor.json()["data"]["node"]["supervisor"]["name"] == HIDDEN_NAME
