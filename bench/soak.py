"""`make soak`: a minute of mixed load on two workers, then every invariant of the books recomputed from the entries.

Rebuilds `casetime_soak` on the embedded server and serves it with `cli.py serve` and WEB_CONCURRENCY=2, as an
operator would. Twenty employees each keep one connection and send 80% reads (a hot case's time list, their
entries, reports, cases, cap usage) and 20% writes: PER_DATE creates, edits and deletes on three cases with a small
TIME maximum (so each cap fills, splits onto L and is freed again all run long), their timers,
entries on open cases and copies of them. Two billing connections list invoices and, in one request of five,
invoice a debtor, void a live invoice or release L time to N. Releases to N and copies off the capped cases keep
the capped cases under the cap check only, so no counted minute may ever exceed their maximum.

Afterwards `services.books.audit` recomputes totals, entry counts, both rollups, the billing rules and the caps, and
the run fails loudly on any difference, any 5xx, any error without a code, INTERNAL or a traceback in the server's
log. `--control` serves with CASETIME_CAP_LOCK_OFF_FOR_TESTS (writers stop queueing on the cap's row): the checker
must then find the books broken (totals that lost an update, caps overshot), else the control fails. Reported:
req/s, p50/p99, BUSY, refusals by code, and per worker the CPU per request and RSS in the first and the last window
(a minute, or a third of a shorter run).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
import orjson
import psutil  # type: ignore[import-untyped]
import uvloop

from bench import seed
from bench.load import build_request, read_response
from bench.run import RESULTS_DIR, Server, free_port, wait_ready
from cli import migrate, transaction
from db import embedded
from graph import ids
from services import books
from services.passwords import Passwords
from settings import PROJECT_ROOT

DATABASE = "casetime_soak"
WRITERS = 20
BILLERS = 2
HOT_CASES = 3
OPEN_CASES = 6
CAP_MINUTES = 600
WORKERS = 2
TODAY = datetime.now(UTC).date()
DATES = [TODAY - timedelta(days=d) for d in range(TODAY.timetuple().tm_yday)]  # this (calendar) book year

CREATE = """mutation($input: TimeEntryInput!) { createTimeEntry(input: $input) {
  timeEntry { id } overLimitEntry { id } warnings { code } userErrors { code } } }"""
UPDATE = """mutation($id: ID!, $input: TimeEntryInput!) { updateTimeEntry(id: $id, input: $input) {
  timeEntry { id minutes } overLimitEntry { id } userErrors { code } } }"""
DELETE = "mutation($id: ID!) { deleteTimeEntry(id: $id) { deletedId userErrors { code } } }"
START = "mutation($input: StartTimerInput!) { startTimer(input: $input) { timer { id } userErrors { code } } }"
STOP = "mutation { stopTimer { timeEntry { id } overLimitEntry { id } userErrors { code } } }"
COPY = """mutation($ids: [ID!]!, $to: Date!) { copyTimeEntries(ids: $ids, toDate: $to) {
  timeEntries { id } userErrors { code } } }"""
INVOICE = (
    "mutation($input: InvoiceInput!) { createInvoice(input: $input) { invoice { id total } userErrors { code } } }"
)
VOID = "mutation($id: ID!) { voidInvoice(id: $id) { invoice { id voided } userErrors { code } } }"
RELEASE = """mutation($ids: [ID!]!) { releaseOverLimit(ids: $ids, status: NON_BILLABLE) {
  timeEntries { id status } userErrors { code } } }"""
TIME_LIST = """query($id: ID!) { node(id: $id) { ... on Case { timeList(first: 20) { mode totalCount
  edges { node { id minutes status employee { name } } } } } } }"""
ENTRIES = "{ timeEntries(first: 20) { edges { node { id minutes status case { code } } } } }"
REPORT = """query($filter: TimeEntryFilter!) { timeReport(filter: $filter, groupBy: [CASE, EMPLOYEE]) {
  totalMinutes totalAmount rows { minutes amount employee { name } } } }"""
CASES = "{ cases(first: 20) { totalCount edges { node { id code maxPerBookYear } } } }"
CAP = "query($id: ID!) { node(id: $id) { ... on Case { capUsage { usedMinutes limitMinutes availableMinutes } } } }"
INVOICES = "{ invoices(first: 20) { edges { node { id number total voided } } } }"
OVER_LIMIT = "{ timeEntries(first: 20, filter: {statuses: [OVER_LIMIT]}) { edges { node { id } } } }"
LOGIN = "mutation($email: String!, $password: String!) { login(input: {email: $email, password: $password}) { token } }"


@dataclass(frozen=True)
class World:
    """What the seed made, as the API names it."""

    hot_debtor: str
    open_debtor: str
    hot_cases: tuple[str, ...]
    hot_case_ids: tuple[int, ...]
    open_cases: tuple[str, ...]
    activity: str
    writer_emails: tuple[str, ...]
    biller_emails: tuple[str, ...]


async def fill(url: str) -> World:
    """A billing role and a plain one, 20 writers and 2 billers, a debtor with the capped cases, one with open ones."""
    password_hash = Passwords(time_cost=1, memory_kib=8).hash_now(seed.PASSWORD)
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            billing = await conn.fetchval(
                "INSERT INTO roles (name, is_administrator, can_invoice) VALUES ('Billing', true, true) RETURNING id"
            )
            staff = await conn.fetchval("INSERT INTO roles (name) VALUES ('Staff') RETURNING id")
            emails = [f"w{n:02}@soak.test" for n in range(WRITERS)] + [f"b{n}@soak.test" for n in range(BILLERS)]
            for n, email in enumerate(emails):
                await conn.execute(
                    "INSERT INTO employees (name, email, password_hash, role_id) VALUES ($1, $2, $3, $4)",
                    f"Soak {email.split('@')[0]}",
                    email,
                    password_hash,
                    staff if n < WRITERS else billing,
                )
            activity = await conn.fetchval(
                "INSERT INTO activities (code, name, default_rate) VALUES ('ADV', 'Advice', 120.00) RETURNING id"
            )
            hot, open_ = [
                await conn.fetchval("INSERT INTO debtors (code, name) VALUES ($1, $2) RETURNING id", code, name)
                for code, name in (("HOT", "Capped Ltd"), ("OPEN", "Open Ltd"))
            ]
            hot_cases = [
                await conn.fetchval(
                    "INSERT INTO cases (debtor_id, code, max_per_book_year, max_minutes) VALUES ($1, $2, 'TIME', $3)"
                    " RETURNING id",
                    hot,
                    f"H{n}",
                    CAP_MINUTES,
                )
                for n in range(HOT_CASES)
            ]
            open_cases = [
                await conn.fetchval("INSERT INTO cases (debtor_id, code) VALUES ($1, $2) RETURNING id", open_, f"O{n}")
                for n in range(OPEN_CASES)
            ]
    finally:
        await conn.close()
    return World(
        hot_debtor=ids.encode("Debtor", hot),
        open_debtor=ids.encode("Debtor", open_),
        hot_cases=tuple(ids.encode("Case", case) for case in hot_cases),
        hot_case_ids=tuple(hot_cases),
        open_cases=tuple(ids.encode("Case", case) for case in open_cases),
        activity=ids.encode("Activity", activity),
        writer_emails=tuple(emails[:WRITERS]),
        biller_emails=tuple(emails[WRITERS:]),
    )


@dataclass
class Tally:
    """Every answer of the run: when it ended, how long it took, and what it said."""

    ends: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    by_operation: dict[str, list[float]] = field(default_factory=dict)
    kinds: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    busy: int = 0
    refusals: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def answered(self, operation: str, status: int, body: bytes, started: float) -> dict[str, Any]:
        ended = time.monotonic()
        self.ends.append(ended)
        self.latencies.append((ended - started) * 1000)
        self.by_operation.setdefault(operation, []).append((ended - started) * 1000)
        self.kinds[operation] += 1
        self.statuses[status] += 1
        try:
            answer: dict[str, Any] = orjson.loads(body)
        except orjson.JSONDecodeError:
            self.problem(f"{operation}: status {status}, a body that is no JSON: {body[:200]!r}")
            return {}
        if status >= 500 and status != 503:
            self.problem(f"{operation}: status {status}: {body[:200]!r}")
        for error in answer.get("errors") or []:
            code = (error.get("extensions") or {}).get("code")
            if code == "BUSY":
                self.busy += 1
            elif code is None or code == "INTERNAL":
                self.problem(f"{operation}: {code or 'an error without a code'}: {error.get('message')!r}")
            else:
                self.refusals[f"{operation} {code}"] += 1
        for payload in (answer.get("data") or {}).values():
            if isinstance(payload, dict):
                self.refusals.update(f"{operation} {error['code']}" for error in payload.get("userErrors") or [])
        return answer

    def problem(self, message: str) -> None:
        if len(self.problems) < 20:
            self.problems.append(message)
        else:
            self.problems[-1] = f"... and more; the last: {message}"


class Connection:
    """One keep-alive HTTP connection of one user, as a frontend holds it."""

    def __init__(self, port: int, token: str, tally: Tally) -> None:
        self.port, self.token, self.tally = port, token, tally
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def call(self, operation: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = orjson.dumps({"query": query, "variables": variables or {}})
        started = time.monotonic()
        try:
            if self.streams is None:
                self.streams = await asyncio.open_connection("127.0.0.1", self.port)
            reader, writer = self.streams
            writer.write(build_request(self.port, body, self.token))
            await writer.drain()
            status, answer = await read_response(reader)
        except (OSError, asyncio.IncompleteReadError) as error:
            self.streams = None
            self.tally.problem(f"{operation}: the connection failed: {error!r}")
            return {}
        return self.tally.answered(operation, status, answer, started)

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()


def _data(answer: dict[str, Any], field_name: str) -> dict[str, Any]:
    return ((answer.get("data") or {}).get(field_name)) or {}


@dataclass
class Writer:
    """An employee writing their own time: what they wrote and still have, and whether their timer runs."""

    connection: Connection
    world: World
    rng: random.Random
    hot: list[str] = field(default_factory=list)
    open: list[str] = field(default_factory=list)
    timer: bool = False

    async def read(self) -> None:
        world, pick = self.world, self.rng.choice
        roll = self.rng.random()
        if roll < 0.25:
            await self.connection.call("timeList", TIME_LIST, {"id": pick(world.hot_cases)})
        elif roll < 0.45:
            await self.connection.call("timeEntries", ENTRIES)
        elif roll < 0.6:
            period = {"from": DATES[-1].isoformat(), "to": TODAY.isoformat()}
            await self.connection.call("timeReport", REPORT, {"filter": period})
        elif roll < 0.75:
            await self.connection.call("cases", CASES)
        elif roll < 0.9:
            await self.connection.call("capUsage", CAP, {"id": pick(world.hot_cases)})
        else:
            entry = pick(self.hot or self.open) if self.hot or self.open else pick(world.hot_cases)
            await self.connection.call("node", "query($id: ID!) { node(id: $id) { id } }", {"id": entry})

    async def write(self) -> None:
        roll, pick = self.rng.random(), self.rng.choice
        if roll < 0.4 or not self.hot:
            await self._create(pick(self.world.hot_cases), self.hot)
        elif roll < 0.5:
            await self._create(pick(self.world.open_cases), self.open)
        elif roll < 0.65:
            answer = await self.connection.call(
                "updateTimeEntry", UPDATE, {"id": pick(self.hot), "input": {"minutes": self.rng.randint(5, 120)}}
            )
            self._keep(_data(answer, "updateTimeEntry").get("overLimitEntry"), self.hot)
        elif roll < 0.8:
            entry = self.hot.pop(self.rng.randrange(len(self.hot)))
            answer = await self.connection.call("deleteTimeEntry", DELETE, {"id": entry})
            if _data(answer, "deleteTimeEntry").get("userErrors"):
                self.hot.append(entry)  # invoiced (F): kept, for a later try once voided
        elif roll < 0.9:
            await self._timer()
        elif self.open:
            copies = [pick(self.open)]
            answer = await self.connection.call("copyTimeEntries", COPY, {"ids": copies, "to": pick(DATES).isoformat()})
            self.open += [e["id"] for e in _data(answer, "copyTimeEntries").get("timeEntries") or []]
        else:
            await self._create(pick(self.world.open_cases), self.open)

    async def _create(self, case: str, into: list[str]) -> None:
        entry = {
            "caseId": case,
            "activityId": self.world.activity,
            "workDate": self.rng.choice(DATES).isoformat(),
            "minutes": self.rng.randint(5, 120),
        }
        answer = await self.connection.call("createTimeEntry", CREATE, {"input": entry})
        payload = _data(answer, "createTimeEntry")
        self._keep(payload.get("timeEntry"), into)
        self._keep(payload.get("overLimitEntry"), into)

    async def _timer(self) -> None:
        if self.timer:
            answer = await self.connection.call("stopTimer", STOP)
            payload = _data(answer, "stopTimer")
            self._keep(payload.get("timeEntry"), self.hot)
            self._keep(payload.get("overLimitEntry"), self.hot)
        else:
            timer = {"debtorId": self.world.hot_debtor, "caseId": self.rng.choice(self.world.hot_cases)}
            await self.connection.call("startTimer", START, {"input": {**timer, "activityId": self.world.activity}})
        self.timer = not self.timer

    @staticmethod
    def _keep(entry: dict[str, Any] | None, into: list[str]) -> None:
        if entry and entry.get("id"):
            into.append(entry["id"])


@dataclass
class Biller:
    """Billing staff: list invoices; invoice a debtor, void a live invoice, or release L time to N."""

    connection: Connection
    world: World
    rng: random.Random

    async def read(self) -> None:
        await self.connection.call("invoices", INVOICES)

    async def write(self) -> None:
        roll = self.rng.random()
        if roll < 0.4:
            debtor = self.rng.choice((self.world.hot_debtor, self.world.open_debtor))
            upto = self.rng.choice(DATES).isoformat()
            await self.connection.call("createInvoice", INVOICE, {"input": {"debtorId": debtor, "upTo": upto}})
        elif roll < 0.7:
            listed = _data(await self.connection.call("invoices", INVOICES), "invoices").get("edges") or []
            live = [edge["node"]["id"] for edge in listed if not edge["node"]["voided"]]
            if live:
                await self.connection.call("voidInvoice", VOID, {"id": self.rng.choice(live)})
        else:
            listed = _data(await self.connection.call("overLimit", OVER_LIMIT), "timeEntries").get("edges") or []
            over = [edge["node"]["id"] for edge in listed]
            if over:
                await self.connection.call(
                    "releaseOverLimit", RELEASE, {"ids": self.rng.sample(over, min(3, len(over)))}
                )


async def drive(user: Writer | Biller, until: float) -> None:
    while time.monotonic() < until:
        await (user.write() if user.rng.random() < 0.2 else user.read())


@dataclass(frozen=True)
class Sample:
    at: float
    answered: int
    cpu: dict[int, float]  # per worker pid: user + system seconds
    rss: dict[int, int]  # per worker pid: bytes


def _workers(server: subprocess.Popen[bytes]) -> list[psutil.Process]:
    """uvicorn's worker processes (its supervisor is `server`; multiprocessing's resource tracker is no worker)."""
    children = psutil.Process(server.pid).children(recursive=True)
    return [child for child in children if "resource_tracker" not in " ".join(child.cmdline())]


def sample(workers: list[psutil.Process], answered: int) -> Sample:
    cpu, rss = {}, {}
    for worker in workers:
        with worker.oneshot():
            times = worker.cpu_times()
            cpu[worker.pid] = float(times.user + times.system)
            rss[worker.pid] = int(worker.memory_info().rss)
    return Sample(time.monotonic(), answered, cpu, rss)


async def watch(workers: list[psutil.Process], tally: Tally, samples: list[Sample], until: float) -> None:
    while time.monotonic() < until:
        samples.append(sample(workers, len(tally.ends)))
        await asyncio.sleep(1.0)
    samples.append(sample(workers, len(tally.ends)))


def window_figures(samples: list[Sample], start: float, end: float) -> dict[str, Any]:
    """CPU per request (all workers) and RSS per worker over the samples from `start` to `end`."""
    inside = [s for s in samples if start - 0.5 <= s.at <= end + 0.5]
    first, last = inside[0], inside[-1]
    answered = max(last.answered - first.answered, 1)
    cpu = sum(last.cpu[pid] - first.cpu.get(pid, last.cpu[pid]) for pid in last.cpu)
    return {
        "seconds": round(last.at - first.at, 1),
        "req_s": round(answered / max(last.at - first.at, 1e-9), 1),
        "cpu_ms_per_request": round(cpu * 1000 / answered, 3),
        "rss_mib_per_worker": {pid: round(rss / 2**20, 1) for pid, rss in last.rss.items()},
    }


def serve(url: str, port: int, *, control: bool, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_READ_URL", "PROMETHEUS_MULTIPROC_DIR")}
    env.update(DATABASE_URL=url, PORT=str(port), WEB_CONCURRENCY=str(WORKERS), CASETIME_ENV="development")
    if control:
        env.update(CASETIME_ENV="test", CASETIME_CAP_LOCK_OFF_FOR_TESTS="1")
    with log.open("wb") as errors:
        return subprocess.Popen(
            [sys.executable, "cli.py", "serve"], cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=errors
        )


def login(port: int, email: str) -> str:
    body = {"query": LOGIN, "variables": {"email": email, "password": seed.PASSWORD}}
    answer = httpx.post(f"http://127.0.0.1:{port}/graphql", json=body, timeout=30, trust_env=False).json()
    token = ((answer.get("data") or {}).get("login") or {}).get("token")
    if not isinstance(token, str):
        raise RuntimeError(f"login of {email} failed: {answer}")
    return token


async def load(
    port: int, world: World, tokens: dict[str, str], server: subprocess.Popen[bytes], duration: float
) -> tuple[Tally, list[Sample], float, float]:
    tally, samples = Tally(), list[Sample]()
    rng = random.Random(20261207)
    users: list[Writer | Biller] = [
        Writer(Connection(port, tokens[email], tally), world, random.Random(rng.random()))
        for email in world.writer_emails
    ]
    users += [
        Biller(Connection(port, tokens[email], tally), world, random.Random(rng.random()))
        for email in world.biller_emails
    ]
    workers = _workers(server)
    started = time.monotonic()
    until = started + duration
    await asyncio.gather(watch(workers, tally, samples, until), *(drive(user, until) for user in users))
    for user in users:
        user.connection.close()
    return tally, samples, started, time.monotonic()


async def check(url: str, world: World) -> list[str]:
    async with transaction(url) as session:
        return await books.audit(session, capped_cases=world.hot_case_ids)


def run(duration: float, *, control: bool) -> dict[str, Any]:
    server_pg = seed.start_server()
    if "(1 row)" in server_pg.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}';"):
        server_pg.psql(f'DROP DATABASE "{DATABASE}" WITH (FORCE);')
    server_pg.psql(f'CREATE DATABASE "{DATABASE}";')
    url = embedded.url_of(server_pg, DATABASE)
    migrate(url)
    world = asyncio.run(fill(url))
    port = free_port()
    log = RESULTS_DIR / f"soak{'_control' if control else ''}.stderr.log"
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    app = serve(url, port, control=control, log=log)
    try:
        wait_ready(Server("casetime", port, app))
        tokens = {email: login(port, email) for email in world.writer_emails + world.biller_emails}
        tally, samples, started, ended = uvloop.run(load(port, world, tokens, app, duration))
    finally:
        app.terminate()
        try:
            app.wait(20)
        except subprocess.TimeoutExpired:
            app.kill()
    problems = asyncio.run(check(url, world))
    tracebacks = log.read_text(errors="replace").count("Traceback")
    window = min(60.0, (ended - started) / 3)
    return {
        "control": control,
        "seconds": round(ended - started, 1),
        "workers": WORKERS,
        "connections": WRITERS + BILLERS,
        "requests": len(tally.ends),
        "req_s": round(len(tally.ends) / (ended - started), 1),
        "p50_ms": _percentile(tally.latencies, 0.5),
        "p99_ms": _percentile(tally.latencies, 0.99),
        "writes": sum(n for op, n in tally.kinds.items() if op in _WRITES),
        "busy": tally.busy,
        "statuses": dict(tally.statuses),
        "refusals": dict(tally.refusals.most_common()),
        "operations": {
            operation: {"count": len(times), "p50_ms": _percentile(times, 0.5), "p99_ms": _percentile(times, 0.99)}
            for operation, times in sorted(tally.by_operation.items(), key=lambda item: -len(item[1]))
        },
        "answer_problems": tally.problems,
        "tracebacks_in_log": tracebacks,
        "first_window": window_figures(samples, started, started + window),
        "last_window": window_figures(samples, ended - window, ended),
        "rss_mib_by_minute": _rss_by_minute(samples, started),
        "invariant_problems": problems[:200],
        "invariant_problem_count": len(problems),
        "overshot_caps": [problem for problem in problems if "over its maximum" in problem],
    }


def _rss_by_minute(samples: list[Sample], started: float) -> dict[int, list[float]]:
    """Each worker's RSS at the end of each whole minute of the run (and at its end), in MiB."""
    marks: dict[int, Sample] = {}
    for sample in samples:
        marks[int((sample.at - started) // 60) + 1] = sample
    return {pid: [round(marks[m].rss[pid] / 2**20, 1) for m in sorted(marks)] for pid in samples[-1].rss}


def _percentile(values: list[float], share: float) -> float | None:
    ordered = sorted(values)
    return round(ordered[min(int(len(ordered) * share), len(ordered) - 1)], 2) if ordered else None


_WRITES = {
    "createTimeEntry",
    "updateTimeEntry",
    "deleteTimeEntry",
    "startTimer",
    "stopTimer",
    "copyTimeEntries",
    "createInvoice",
    "voidInvoice",
    "releaseOverLimit",
}


def report(result: dict[str, Any]) -> None:
    first, last = result["first_window"], result["last_window"]
    print(
        f"soak{' (negative control: cap lock off)' if result['control'] else ''}: {result['seconds']} s,"
        f" {result['workers']} workers, {result['connections']} connections"
    )
    print(
        f"  {result['requests']:,} requests ({result['writes']:,} writes), {result['req_s']} req/s,"
        f" p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms, BUSY {result['busy']}"
    )
    print(f"  statuses {result['statuses']}; refusals {result['refusals']}")
    for operation, figures in result["operations"].items():
        print(
            f"    {operation:<17} {figures['count']:>6,}  p50 {figures['p50_ms']:>7} ms  p99 {figures['p99_ms']:>7} ms"
        )
    for name, window in (("first", first), ("last", last)):
        print(
            f"  {name} {window['seconds']} s: {window['req_s']} req/s, {window['cpu_ms_per_request']} ms CPU a request,"
            f" RSS MiB per worker {list(window['rss_mib_per_worker'].values())}"
        )
    for pid, trend in result["rss_mib_by_minute"].items():
        print(f"  RSS MiB of worker {pid} minute by minute: {trend}")
    print(
        f"  CPU a request last/first {last['cpu_ms_per_request'] / max(first['cpu_ms_per_request'], 1e-9):.2f}x;"
        f" answers with a problem {len(result['answer_problems'])}, tracebacks in the log {result['tracebacks_in_log']}"
    )
    for problem in result["answer_problems"]:
        print(f"  ANSWER: {problem}")
    print(f"  invariants: {result['invariant_problem_count']} problems, {len(result['overshot_caps'])} caps overshot")
    for problem in result["invariant_problems"][:20]:
        print(f"  BOOKS: {problem}")


def verdict(result: dict[str, Any]) -> list[str]:
    """Why the run failed; empty when it passed. The control passes when the checker caught the overshoot."""
    failures = []
    if result["answer_problems"] or result["tracebacks_in_log"]:
        failures.append("answers with a 5xx, an uncoded error, INTERNAL or a traceback")
    if result["control"]:
        if not result["invariant_problem_count"]:
            failures.append("the negative control: with the cap lock off the checker found nothing wrong")
    elif result["invariant_problem_count"]:
        failures.append(f"{result['invariant_problem_count']} invariants broken")
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (default 60)")
    parser.add_argument("--control", action="store_true", help="the negative control: the cap lock switched off")
    args = parser.parse_args(argv)
    result = run(args.duration, control=args.control)
    report(result)
    name = "soak_control.json" if args.control else "soak.json"
    (RESULTS_DIR / name).write_text(json.dumps(result, indent=2, default=str) + "\n")
    failures = verdict(result)
    for failure in failures:
        print(f"soak FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
