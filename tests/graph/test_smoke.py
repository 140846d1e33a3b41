from __future__ import annotations

import httpx

from tests.factories import Factory, error_codes, gql

VIEWER = "query { viewer { id name email role { name isAdministrator } } }"
LOGIN = """mutation($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { token viewer { name } userErrors { code message } }
}"""


async def test_viewer_needs_a_token(client: httpx.AsyncClient) -> None:
    # when
    body = await gql(client, VIEWER)
    # then
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert body["data"] is None


async def test_login_then_viewer(client: httpx.AsyncClient, factory: Factory) -> None:
    # given
    employee = await factory.employee(name="Grace Hopper")
    # when
    login = await gql(client, LOGIN, {"email": employee.email.upper(), "password": "correct-horse"})
    token = login["data"]["login"]["token"]
    viewer = await gql(client, VIEWER, token=token)
    # then
    assert login["data"]["login"]["viewer"]["name"] == "Grace Hopper"
    assert viewer["data"]["viewer"]["name"] == "Grace Hopper"
