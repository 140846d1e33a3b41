"""Fuzzing every root field (hypothesis-graphql): documents valid by the schema, with arbitrary arguments (custom
scalars included, some of them no date or decimal at all, NUL characters too), sent as an administrator and as a
plain employee. Whatever comes back is an answer: no 5xx, every error with an `extensions.code`, never INTERNAL,
never a traceback. `make test` runs a few examples per field; `make fuzz` (FUZZ_EXAMPLES, 100 by default there)
many."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import mutations, nodes, queries

from edge.schema import schema
from graph import ids
from graph.strawberry_internals import graphql_schema
from services import auth, company, time_entries
from services.time_entries import Writer
from services.visibility import EVERYONE
from tests.factories import Factory

GRAPHQL = graphql_schema(schema)
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))
ROOT_FIELDS = [
    *(f"Query.{name}" for name in GRAPHQL.query_type.fields),  # type: ignore[union-attr]
    *(f"Mutation.{name}" for name in GRAPHQL.mutation_type.fields),  # type: ignore[union-attr]
]

# what a client could send for the custom scalars: mostly valid values, sometimes anything at all
TEXT = st.text(max_size=12)
SCALARS = {
    "Date": st.one_of(st.dates().map(lambda d: d.isoformat()), TEXT).map(nodes.String),
    "DateTime": st.one_of(st.datetimes().map(lambda d: d.isoformat() + "Z"), TEXT).map(nodes.String),
    "Decimal": st.one_of(
        st.decimals(allow_nan=False, allow_infinity=False, places=2, max_value=10**12, min_value=-(10**12)).map(str),
        TEXT,
    ).map(nodes.String),
}


@functools.cache
def _documents(root_field: str, known_ids: tuple[str, ...]) -> st.SearchStrategy[Any]:
    """Documents of one root field, whose IDs are mostly those of rows that exist (of any type, so often the wrong
    one for the argument), sometimes anything at all."""
    kind, name = root_field.split(".")
    generate = mutations if kind == "Mutation" else queries
    ids = st.one_of(st.sampled_from(known_ids), TEXT).map(nodes.String)
    return generate(GRAPHQL, fields=[name], custom_scalars={**SCALARS, "ID": ids})


def _problems(response: httpx.Response) -> list[str]:
    """What makes `response` no proper answer."""
    if response.status_code >= 500 and response.status_code != 503:
        return [f"status {response.status_code}"]
    if "Traceback" in response.text:
        return ["a traceback in the body"]
    try:
        body = response.json()
    except ValueError:
        return ["a body that is no JSON"]
    problems = []
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        if code is None:
            problems.append(f"an error without a code: {error.get('message')!r}")
        elif code == "INTERNAL":
            problems.append(f"INTERNAL at {error.get('path')}")
    return problems


@dataclass(frozen=True)
class World:
    tokens: tuple[str, str]  # an administrator's and a plain employee's
    ids: tuple[str, ...]  # a row of every node type


@pytest.fixture
async def world(factory: Factory) -> World:
    return await make_world(factory)


async def make_world(factory: Factory) -> World:
    """An administrator and a plain employee, and a row of every node type (a capped case, an entry on it)."""
    admin, admin_token = await factory.admin()
    employee = await factory.employee()
    case = await factory.case(max_per_book_year="TIME", max_minutes=120)
    activity = await factory.activity(default_rate=Decimal("80.00"))
    viewer = await auth.authenticate(factory.session, token=admin_token)
    assert viewer is not None
    data: time_entries.EntryData = {
        "case_id": case.id,
        "activity_id": activity.id,
        "work_date": date(2026, 11, 2),
        "minutes": 30,
        "employee_id": employee.id,
    }
    entry = (await time_entries.create(factory.session, Writer(viewer, EVERYONE), data)).entry
    webhook = await factory.webhook(by=admin)
    delivery = await factory.delivery(webhook)
    rows = [
        ("Employee", admin.id),
        ("Employee", employee.id),
        ("Role", employee.role_id),
        ("Debtor", case.debtor_id),
        ("Case", case.id),
        ("Activity", activity.id),
        ("TimeEntry", entry.id),
        ("Webhook", webhook.id),
        ("WebhookDelivery", delivery.id),
    ]
    return World((admin_token, await factory.token(employee)), tuple(ids.encode(kind, id_) for kind, id_ in rows))


def fuzzing(examples: int) -> settings:
    """Hypothesis' settings of a fuzz run: `examples` documents a field, however slow, none replayed from a store."""
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        database=None,
    )


@pytest.mark.parametrize("root_field", ROOT_FIELDS)
@fuzzing(EXAMPLES)
@given(data=st.data())
async def test_every_answer_is_coded(
    client: httpx.AsyncClient, world: World, root_field: str, data: st.DataObject
) -> None:
    document = data.draw(_documents(root_field, world.ids), label="document")
    for token in world.tokens:
        response = await client.post("/graphql", json={"query": document}, headers={"Authorization": f"Bearer {token}"})
        assert _problems(response) == [], response.text[:500]


async def test_negative_control_a_resolver_that_fails_is_found(
    client: httpx.AsyncClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(company, "get", broken)
    response = await client.post(
        "/graphql", json={"query": "{ settings { timeZone } }"}, headers={"Authorization": f"Bearer {world.tokens[0]}"}
    )
    assert _problems(response) == ["INTERNAL at ['settings']"]
