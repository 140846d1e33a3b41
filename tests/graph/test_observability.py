"""What operators look at (SPEC 12): one JSON line per request on standard output, X-Request-ID in and out, and
Prometheus series on GET /metrics. The line never holds a token, a password, a variable's value or the query."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import Receive, Scope, Send

import cli
from edge.admission import Admission
from edge.app import create_app
from edge.observability import JOURNAL, RequestLog
from graph import metrics
from settings import PROJECT_ROOT
from tests.conftest import TEST_CONFIG
from tests.factories import PASSWORD, Factory

VIEWER = "query WhoAmI { viewer { id name } }"
LOGIN = """mutation SignIn($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { token userErrors { code } } }"""
WRONG_PASSWORD = "Recognizable-Wrong-Password-4711"
SECRET_EMAIL = "recognizable.variable.value@example.test"
SANE_ID = "req-42.A_b"

Lines = list[dict[str, Any]]


def _log_lines(capfd: pytest.CaptureFixture[str]) -> tuple[str, Lines]:
    JOURNAL.flush()
    out, _ = capfd.readouterr()
    return out, [orjson.loads(line) for line in out.splitlines() if line.startswith("{")]


def _sample(name: str, **labels: str) -> float:
    JOURNAL.flush()
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_a_query_is_one_line_with_its_operation_viewer_status_and_duration(
    client: httpx.AsyncClient, factory: Factory, capfd: pytest.CaptureFixture[str]
) -> None:
    # given
    employee, token = await factory.admin()
    _log_lines(capfd)  # what earlier tests wrote
    # when
    response = await client.post(
        "/graphql", json={"query": VIEWER}, headers={"Authorization": f"Bearer {token}", "X-Request-ID": SANE_ID}
    )
    # then
    out, lines = _log_lines(capfd)
    assert response.status_code == 200
    assert len(lines) == 1
    line = lines[0]
    assert set(line) == {
        "time",
        "request_id",
        "method",
        "path",
        "operation",
        "type",
        "viewer",
        "status",
        "duration_ms",
        "codes",
        "user_errors",
    }
    assert line["request_id"] == SANE_ID == response.headers["x-request-id"]
    assert (line["method"], line["path"]) == ("POST", "/graphql")
    assert (line["operation"], line["type"], line["viewer"]) == ("WhoAmI", "query", employee.id)
    assert (line["status"], line["codes"], line["user_errors"]) == (200, [], [])
    assert 0 < line["duration_ms"] < 10_000
    assert abs(datetime.fromisoformat(line["time"]) - datetime.now().astimezone()) < timedelta(minutes=1)
    assert token not in out
    assert "viewer { id name }" not in out


async def test_a_mutation_line_holds_no_password_token_or_variable_value(
    client: httpx.AsyncClient, factory: Factory, capfd: pytest.CaptureFixture[str]
) -> None:
    # given
    employee = await factory.employee(email=SECRET_EMAIL)
    failed_before = _sample("casetime_logins_refused_total", reason="failed")
    refusals_before = _sample("casetime_requests_total", operation="SignIn", outcome="INVALID_CREDENTIALS")
    _log_lines(capfd)  # what earlier tests wrote
    # when: a login refused for its password, then one that succeeds
    refused = await client.post(
        "/graphql", json={"query": LOGIN, "variables": {"email": employee.email, "password": WRONG_PASSWORD}}
    )
    signed_in = await client.post(
        "/graphql", json={"query": LOGIN, "variables": {"email": employee.email, "password": PASSWORD}}
    )
    # then
    out, lines = _log_lines(capfd)
    assert refused.json()["data"]["login"]["userErrors"] == [{"code": "INVALID_CREDENTIALS"}]
    token = signed_in.json()["data"]["login"]["token"]
    assert token
    assert [
        (line["operation"], line["type"], line["status"], line["viewer"], line["user_errors"]) for line in lines
    ] == [
        ("SignIn", "mutation", 200, None, ["INVALID_CREDENTIALS"]),
        ("SignIn", "mutation", 200, None, []),
    ]
    for secret in (WRONG_PASSWORD, PASSWORD, SECRET_EMAIL, token, "login(input"):
        assert secret not in out
    assert _sample("casetime_logins_refused_total", reason="failed") == failed_before + 1
    assert _sample("casetime_requests_total", operation="SignIn", outcome="INVALID_CREDENTIALS") == refusals_before + 1


async def test_a_refused_request_is_logged_with_its_codes(
    client: httpx.AsyncClient, capfd: pytest.CaptureFixture[str]
) -> None:
    # given
    _log_lines(capfd)  # what earlier tests wrote
    # when: a body that is not JSON, and a query without a token for a field that needs one
    bad = await client.post("/graphql", content=b"{nope", headers={"Content-Type": "application/json"})
    anonymous = await client.post("/graphql", json={"query": "{ employees(first: 1) { totalCount } }"})
    # then
    _, lines = _log_lines(capfd)
    assert bad.status_code == 400
    assert anonymous.status_code == 200
    assert [(line["operation"], line["type"], line["status"], line["codes"]) for line in lines] == [
        (None, None, 400, ["BAD_REQUEST"]),
        (None, "query", 200, ["UNAUTHENTICATED"]),
    ]


async def test_a_request_refused_at_admission_is_logged_busy(capfd: pytest.CaptureFixture[str]) -> None:
    # given: one slot, held by a request that waits until let go, and no time to queue
    config = dataclasses.replace(TEST_CONFIG, max_in_flight=1, queue_timeout_ms=0)
    release = asyncio.Event()

    async def slow(scope: Scope, receive: Receive, send: Send) -> None:
        await release.wait()
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    app = RequestLog(Admission(slow, config=config))
    busy_before = _sample("casetime_busy_answers_total")
    _log_lines(capfd)  # what earlier tests wrote
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://casetime.test") as api:
        held = asyncio.create_task(api.post("/graphql", json={"query": VIEWER}))
        await asyncio.sleep(0.05)
        # when
        refused = await api.post("/graphql", json={"query": VIEWER})
        release.set()
        served = await held
    # then
    _, lines = _log_lines(capfd)
    assert (refused.status_code, served.status_code) == (503, 204)
    assert refused.headers["retry-after"] == "1"
    assert [(line["status"], line["codes"]) for line in lines] == [(503, ["BUSY"]), (204, [])]
    assert lines[0]["request_id"] == refused.headers["x-request-id"]
    assert _sample("casetime_busy_answers_total") == busy_before + 1


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        (SANE_ID, True),
        ("0123456789abcdef" * 8, True),  # 128 characters
        ("0123456789abcdef" * 8 + "x", False),
        ("two words", False),
        ('"},{"admin":true', False),
        ("", False),
    ],
)
async def test_x_request_id_is_echoed_when_sane_and_made_otherwise(
    client: httpx.AsyncClient, capfd: pytest.CaptureFixture[str], given: str, kept: bool
) -> None:
    # given
    _log_lines(capfd)  # what earlier tests wrote
    # when
    response = await client.post("/graphql", json={"query": "{ __typename }"}, headers={"X-Request-ID": given})
    # then
    _, lines = _log_lines(capfd)
    echoed = response.headers["x-request-id"]
    assert lines[0]["request_id"] == echoed
    if kept:
        assert echoed == given
    else:
        assert re.fullmatch(r"[0-9a-f]{32}", echoed), echoed


async def test_a_request_without_an_id_gets_a_new_one_each_time(client: httpx.AsyncClient) -> None:
    # when
    first = await client.get("/graphql", params={"query": "{ __typename }"})
    second = await client.get("/graphql", params={"query": "{ __typename }"})
    # then
    ids = [first.headers["x-request-id"], second.headers["x-request-id"]]
    assert all(re.fullmatch(r"[0-9a-f]{32}", request_id) for request_id in ids)
    assert ids[0] != ids[1]


async def test_probes_and_scrapes_are_not_logged(client: httpx.AsyncClient, capfd: pytest.CaptureFixture[str]) -> None:
    # given
    _log_lines(capfd)  # what earlier tests wrote
    # when
    await client.get("/healthz")
    await client.get("/metrics")
    # then
    out, _ = _log_lines(capfd)
    assert out == ""


async def test_metrics_count_requests_by_operation_and_outcome(client: httpx.AsyncClient) -> None:
    # given
    ok_before = _sample("casetime_requests_total", operation="Ping", outcome="ok")
    refused_before = _sample("casetime_requests_total", operation="none", outcome="BAD_REQUEST")
    # when
    for _ in range(2):
        await client.post("/graphql", json={"query": "query Ping { __typename }"})
    await client.post("/graphql", json={"query": ""})
    scrape = await client.get("/metrics")
    # then
    assert scrape.status_code == 200
    assert scrape.headers["content-type"].startswith("text/plain")
    for series in (
        "casetime_requests_total",
        "casetime_request_duration_seconds",
        "casetime_requests_in_flight",
        "casetime_requests_refused_total",
        "casetime_busy_answers_total",
        "casetime_db_connections_in_use",
        "casetime_db_pool_size",
        "casetime_db_connections_opened_total",
        "casetime_logins_refused_total",
    ):
        assert f"# TYPE {series} " in scrape.text, series
    assert "_created" not in scrape.text
    assert f'casetime_requests_total{{operation="Ping",outcome="ok"}} {ok_before + 2}' in scrape.text
    assert _sample("casetime_requests_total", operation="none", outcome="BAD_REQUEST") == refused_before + 1
    assert _sample("casetime_request_duration_seconds_count", operation="Ping", outcome="ok") >= 2


async def test_metrics_ask_for_the_token_when_one_is_set(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    # given
    app = create_app(dataclasses.replace(TEST_CONFIG, metrics_token="scrape-me"), sessionmaker=sessionmaker)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://casetime.test") as api:
        # when
        anonymous = await api.get("/metrics")
        wrong = await api.get("/metrics", headers={"Authorization": "Bearer scrape-you"})
        right = await api.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    # then
    assert (anonymous.status_code, wrong.status_code, right.status_code) == (401, 401, 200)
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert "casetime_requests_total" in right.text


def test_operation_labels_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    # given: room for one more name
    monkeypatch.setattr(metrics, "_operations", {"Known"})
    monkeypatch.setattr(metrics, "MAX_OPERATIONS", 2)
    # when / then
    assert metrics.operation_label("x" * 65, "query") == "other"
    assert metrics.operation_label("Fresh", "query") == "Fresh"
    assert metrics.operation_label("OneTooMany", "query") == "other"
    assert metrics.operation_label("Known", "mutation") == "Known"
    assert metrics.operation_label(None, "query") == "anonymous"
    assert metrics.operation_label(None, None) == "none"


def test_several_workers_add_their_metrics_up(tmp_path: Any) -> None:
    # given: two workers counting into one PROMETHEUS_MULTIPROC_DIR, as `cli.py serve` sets up; one has stopped
    count = "from graph import metrics; metrics.count_request('Ping', 'ok', 0.01); metrics.LIVE.in_flight += 1"
    scrape = "from graph import metrics; import sys; sys.stdout.buffer.write(metrics.exposition())"
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}

    def run(code: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=True
        )
        return done.stdout

    # when
    run(f"{count}; metrics.LIVE.sample()")
    run(f"{count}; metrics.LIVE.sample(); metrics.LIVE.stop()")
    text = run(scrape)
    # then: the counts of both, read by a third; only the live one's requests in flight
    assert 'casetime_requests_total{operation="Ping",outcome="ok"} 2.0' in text
    assert 'casetime_request_duration_seconds_count{operation="Ping",outcome="ok"} 2.0' in text
    assert "casetime_requests_in_flight 1.0" in text


def test_serve_shares_one_metrics_directory_among_several_workers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    # given: no directory named (set empty, so that the one serve names is undone after the test)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")
    # when / then: one worker needs none; several get a new one
    assert cli._share_metrics(dataclasses.replace(TEST_CONFIG, workers=1)) is None
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == ""
    created = cli._share_metrics(dataclasses.replace(TEST_CONFIG, workers=2))
    assert created is not None
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == created
    assert os.listdir(created) == []
    os.rmdir(created)


def test_serve_empties_or_makes_the_operators_metrics_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    # given: the operator's directory, holding an earlier run's files, and one that does not exist yet
    stale = tmp_path / "counter_4711.db"
    stale.write_bytes(b"old")
    missing = tmp_path / "not" / "yet"
    # when / then: serve owns neither, whatever the number of workers
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    assert cli._share_metrics(dataclasses.replace(TEST_CONFIG, workers=4)) is None
    assert not stale.exists()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(missing))
    assert cli._share_metrics(dataclasses.replace(TEST_CONFIG, workers=1)) is None
    assert missing.is_dir()
