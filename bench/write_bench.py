"""Issue "Lean writes": PER_DATE `createTimeEntry` on TIME-capped cases, the app beside its write floor.

`.venv/bin/python -m bench.write_bench [--quick] [--clients 64 16]`. Rebuilds `casetime_bench_write` on the embedded
server (migrated, filled with SQL only: bench/timedata.py's base data and bench/time_bench.py's spread of entries over
every case, with counts, totals and rollups), then:

1. **Equivalence.** Two fresh TIME-capped twin cases (cap 100 minutes, no entries); `--check-writes` writes of 30
   minutes through the app on one and through the floor (bench/write_floor.py) on the other: J, J, J, then a J cut to
   10 with an L line of 20, then whole L entries. Every answer must match its twin's (ids aside), and the twins'
   entries, book-year totals, both rollups and entry counts must be equal.
2. **Statements per write**, counted in this process before anything is measured, each side on a connection of its
   own: the app (`edge.app.create_app` on `db.engine.create_engine`, through httpx's ASGI transport) with
   SQLAlchemy's `before_cursor_execute`, `begin`, `commit` and `rollback` events (BEGIN and COMMIT as SQLAlchemy
   starts and ends transactions: under AUTOCOMMIT they would reach no server, but a write's token lookup and its
   writes each run in a transaction, as asyncpg's query log showed once); the floor with asyncpg's query logger.
   The second write of each is counted (the first warms caches).
3. **Load.** Both served by uvicorn, one worker each (bench/run.py's `start_server`: the app is `edge.app:app`), the
   measured cases' caps raised to 2,000,000,000 minutes so every write is the same plain J entry on both sides:
   `spread` (each of the clients cycles over its own share of the ~500 TIME-capped cases) and `hot` (every client on
   C001-D001). Per clients figure (`--clients`, 16 by default): a `--warmup` round per part and side, then `--rounds`
   rounds with app and floor back to back (app first in odd rounds). Figures: req/s, p50/p99, CPU ms/request of the
   server process and of the database's backends, medians across rounds, and the app/floor ratios of each round.

Results go to bench/results/write_bench.json (`write_bench_quick.json` with `--quick`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from bench import seed, timedata
from bench.run import (
    DbBackends,
    LoadProcess,
    Round,
    Server,
    login,
    measure,
    medians,
    post,
    results_path,
    start_server,
    wait_ready,
    write_results,
)
from bench.time_bench import SPREAD, WRITE_MUTATION, global_id
from bench.write_floor import WriteFloor
from db.engine import DEFAULT_APPLICATION_NAME

DATABASE = "casetime_bench_write"
HOT_CASE = "C001-D001"
TWINS = ("W-TWIN-APP", "W-TWIN-FLOOR")
TWIN_CAP = 100
BIG_CAP_MINUTES = 2_000_000_000
WRITE_DATE = "2025-06-02"
WRITE_MINUTES = 30

TARGET_REQ_S = 0.5  # app req/s >= 0.5x the floor's, spread and hot
TARGET_CPU = 3.0  # app CPU <= 3x the floor's, spread
TARGET_P99_OVER_P50 = 5.0  # at 64 clients, the app's p99 <= 5x its p50


@dataclass(frozen=True)
class Cases:
    hot: int
    spread: list[int]
    twins: tuple[int, int]


def body(case_id: int) -> dict[str, Any]:
    variables = {
        "input": {
            "caseId": global_id("Case", case_id),
            "activityId": global_id("Activity", 1),
            "workDate": WRITE_DATE,
            "minutes": WRITE_MINUTES,
        }
    }
    return {"query": WRITE_MUTATION, "variables": variables}


async def fill(url: str, per_case: int, watch: timedata.Stopwatch) -> Cases:
    connection = await timedata.connect(url)
    try:
        await timedata.fill_base(connection, url)
        watch.lap("base data")
        written = await timedata.insert_entries(
            connection, timedata.entries_from(SPREAD), per_case * 2000, rebuild_indexes=True
        )
        watch.lap(f"{written:,} entries over all cases")
        await timedata.add_kept(connection, 0, fresh=True)
        watch.lap("counts, book-year totals and rollup")
        twins = []
        for code in TWINS:
            twins.append(
                await connection.fetchval(
                    "INSERT INTO cases (debtor_id, code, description, max_per_book_year, max_minutes)"
                    " VALUES (1, $1, 'Write floor twin', 'TIME', $2) RETURNING id",
                    code,
                    TWIN_CAP,
                )
            )
        await connection.execute(
            "UPDATE cases SET max_minutes = $1 WHERE max_per_book_year = 'TIME' AND NOT (code = ANY($2::text[]))",
            BIG_CAP_MINUTES,
            list(TWINS),
        )
        hot = await timedata.case_id(connection, HOT_CASE)
        spread = await spread_cases(connection, hot)
        await timedata.vacuum_analyze(
            connection, "time_entries", "time_rollup", "time_rollup_month", "case_year_totals", "cases"
        )
        watch.lap("twins, caps raised, vacuum analyze")
        await timedata.check_kept(connection)
    finally:
        await connection.close()
    return Cases(hot=hot, spread=spread, twins=(int(twins[0]), int(twins[1])))


async def spread_cases(connection: Any, hot: int) -> list[int]:
    """The TIME-capped cases the spread load writes on: all but the hot case and the twins."""
    rows = await connection.fetch(
        "SELECT id FROM cases WHERE max_per_book_year = 'TIME' AND NOT blocked AND id <> $1"
        " AND NOT (code = ANY($2::text[])) ORDER BY id",
        hot,
        list(TWINS),
    )
    return [int(row["id"]) for row in rows]


async def spread_bodies(url: str) -> list[str]:
    """The spread load's bodies, one per case, on the database a full run left."""
    connection = await timedata.connect(url)
    try:
        cases = await spread_cases(connection, await timedata.case_id(connection, HOT_CASE))
    finally:
        await connection.close()
    return [orjson.dumps(body(case_id)).decode() for case_id in cases]


# what a twin holds, with its own ids left out: entries (L lines by their entry's rank), totals, rollups, count
TWIN_STATE = {
    "entries": """
        SELECT t.employee_id, t.debtor_id, t.activity_id, t.work_date, t.minutes, t.status, t.rate, t.amount,
               t.description, t.tags, t.source, t.created_by_id, t.version,
               (SELECT count(*) FROM time_entries AS o WHERE o.case_id = t.case_id AND o.id < t.over_limit_of_id)
                 AS line_of_rank
        FROM time_entries AS t WHERE t.case_id = $1 ORDER BY t.id""",
    "totals": "SELECT year_start, j_minutes, f_minutes, n_minutes, l_minutes, j_amount, f_amount, n_amount, l_amount"
    " FROM case_year_totals WHERE case_id = $1 ORDER BY year_start",
    "day": "SELECT work_date, employee_id, debtor_id, activity_id, status, minutes, amount, entries"
    " FROM time_rollup WHERE case_id = $1 ORDER BY 1, 2, 3, 4, 5",
    "month": "SELECT month, employee_id, debtor_id, activity_id, status, minutes, amount, entries"
    " FROM time_rollup_month WHERE case_id = $1 ORDER BY 1, 2, 3, 4, 5",
    "count": "SELECT time_entry_count FROM cases WHERE id = $1",
}


async def twin_state(url: str, case_id: int) -> dict[str, list[tuple[Any, ...]]]:
    connection = await timedata.connect(url)
    try:
        return {name: [tuple(r) for r in await connection.fetch(sql, case_id)] for name, sql in TWIN_STATE.items()}
    finally:
        await connection.close()


def without_ids(answer: dict[str, Any]) -> Any:
    created = (answer.get("data") or {}).get("createTimeEntry") or answer
    entry = created.get("timeEntry") or {}
    return {
        "timeEntry": {k: v for k, v in entry.items() if k != "id"},
        "overLimitEntry": created.get("overLimitEntry") is not None,
        "warnings": created.get("warnings"),
        "userErrors": created.get("userErrors"),
        "errors": answer.get("errors"),
    }


def check_twins(url: str, app: Server, floor: Server, token: str, cases: Cases, writes: int) -> dict[str, Any]:
    """`writes` writes on each twin, app and floor in turn; the answers and the twins' state must match."""
    answers: list[dict[str, Any]] = []
    for number in range(writes):
        got = [
            orjson.loads(post(s, orjson.dumps(body(c)), token)) for s, c in zip((app, floor), cases.twins, strict=True)
        ]
        a, f = without_ids(got[0]), without_ids(got[1])
        if a != f:
            raise RuntimeError(f"write {number + 1}: app answered {got[0]}, floor {got[1]}")
        if got[0].get("errors"):
            raise RuntimeError(f"write {number + 1}: the app answered with errors: {got[0]['errors']}")
        answers.append(a)
    states = [asyncio.run(twin_state(url, c)) for c in cases.twins]
    differ = [name for name in TWIN_STATE if states[0][name] != states[1][name]]
    if differ:
        for name in differ:
            print(f"WARNING: twins differ in {name}: app {states[0][name]} vs floor {states[1][name]}")
        raise RuntimeError(f"after {writes} writes each the twins differ in {', '.join(differ)}")
    outcomes = [
        f"{a['timeEntry'].get('status')} {a['timeEntry'].get('minutes')}" + (" + L" if a["overLimitEntry"] else "")
        for a in answers
    ]
    print(f"write_bench: twins equal after {writes} writes each: {'; '.join(outcomes)}", file=sys.stderr)
    return {"writes": writes, "outcomes": outcomes, "entries": len(states[0]["entries"]), "equal": True}


@contextmanager
def environment(**values: str) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def first_line(statement: str) -> str:
    text = " ".join(statement.split())
    return text if len(text) <= 140 else text[:137] + "..."


Send = Callable[[dict[str, Any], bool], Awaitable[dict[str, Any]]]


async def counted_statements(url: str, drive: Callable[[Send], Awaitable[None]]) -> list[tuple[str, int]]:
    """What the app sends while `drive` posts bodies through it (`await send(body, record)`, the JSON answer back),
    counted through SQLAlchemy's events for the bodies posted with `record`: each statement with the number of
    parameter sets it went with (an executemany sends the statement once per set; any other, 1)."""
    from sqlalchemy import event
    from sqlalchemy.engine.interfaces import ExecuteStyle

    from db.engine import create_engine
    from edge.app import create_app

    statements: list[tuple[str, int]] = []
    recording = False

    def executed(_conn: Any, _cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        # an INSERT of many rows in one statement (insertmanyvalues) comes with `many` too, and goes once
        if recording:
            sets = many and getattr(context, "execute_style", None) is ExecuteStyle.EXECUTEMANY
            statements.append((statement, len(parameters) if sets else 1))

    def mark(word: str) -> Any:
        return lambda *_args: statements.append((word, 1)) if recording else None

    engine = create_engine(url, pool_size=2)
    event.listen(engine.sync_engine, "before_cursor_execute", executed)
    for name in ("begin", "commit", "rollback"):
        event.listen(engine.sync_engine, name, mark(name.upper()))
    try:
        app = create_app(engine=engine)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            variables = {"email": seed.ADMIN_EMAIL, "password": seed.PASSWORD}
            from bench.run import LOGIN

            answer = (await client.post("/graphql", json={"query": LOGIN, "variables": variables})).json()
            token = answer["data"]["login"]["token"]
            headers = {"authorization": f"Bearer {token}"}

            async def send(body_: dict[str, Any], record: bool) -> dict[str, Any]:
                nonlocal recording
                recording = record
                try:
                    answered: dict[str, Any] = (await client.post("/graphql", json=body_, headers=headers)).json()
                finally:
                    recording = False
                return answered

            await drive(send)
    finally:
        await engine.dispose()
    return statements


async def app_statements(url: str, case_id: int) -> list[str]:
    """What the app sends for one write (its second: the first warms caches), counted through SQLAlchemy's events."""

    async def drive(send: Send) -> None:
        for number in range(2):
            answer = await send(body(case_id), number == 1)
            if answer.get("errors"):
                raise RuntimeError(f"the app's counted write failed: {answer}")

    return [statement for statement, _ in await counted_statements(url, drive)]


async def floor_statements(url: str, token: str, case_id: int) -> list[str]:
    """What the floor sends for one write (its second), counted with asyncpg's query logger."""
    statements: list[str] = []
    floor = WriteFloor(statements)
    app = floor.app()
    async with floor.lifespan(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            first = 0
            for _ in range(2):
                first = len(statements)
                answer = (
                    await client.post("/graphql", json=body(case_id), headers={"authorization": f"Bearer {token}"})
                ).json()
                if answer.get("errors"):
                    raise RuntimeError(f"the floor's counted write failed: {answer}")
                await asyncio.sleep(0.1)  # asyncpg calls its query loggers soon after, not during, the statement
    return statements[first:]


def count_statements(url: str, token: str, case_id: int) -> dict[str, list[str]]:
    with environment(DATABASE_URL=url, CASETIME_ENV="development"):
        app_sent = asyncio.run(app_statements(url, case_id))
        floor_sent = asyncio.run(floor_statements(url, token, case_id))
    return {"app": [first_line(s) for s in app_sent], "floor": [first_line(s) for s in floor_sent]}


async def written_on(url: str, case_ids: list[int]) -> int:
    connection = await timedata.connect(url)
    try:
        return int(
            await connection.fetchval(
                "SELECT count(*) FROM time_entries WHERE case_id = ANY($1::int[]) AND description IS NULL", case_ids
            )
        )
    finally:
        await connection.close()


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def log_round(label: str, number: int, rounds: int, result: Round) -> None:
    print(
        f"write_bench: round {number + 1}/{rounds} {label:<22} {result.req_s:7.0f} req/s  p50 {result.p50_ms:7.2f} ms"
        f"  CPU {result.cpu_ms:6.3f} ms/req  db {result.db_cpu_ms:6.3f} ms/req",
        file=sys.stderr,
    )


async def app_backends(url: str) -> dict[int, Any]:
    """The app's connections to the database (its pool), by backend pid, with when each was opened."""
    connection = await timedata.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT pid, backend_start FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = $1",
            DEFAULT_APPLICATION_NAME,
        )
    finally:
        await connection.close()
    return {int(row["pid"]): row["backend_start"] for row in rows}


def run_load(
    args: argparse.Namespace,
    servers: dict[str, Server],
    load: LoadProcess,
    db: DbBackends,
    token: str,
    cases: Cases,
    url: str,
) -> tuple[dict[str, Any], int]:
    parts: dict[str, dict[str, Any]] = {
        "spread": {"bodies": [orjson.dumps(body(c)).decode() for c in cases.spread], "token": token, "expect": ""},
        "hot": {"body": orjson.dumps(body(cases.hot)).decode(), "token": token, "expect": ""},
    }
    answered = 0
    results: dict[str, Any] = {}
    for clients in args.clients:
        if args.warmup > 0:
            for cmd in parts.values():
                for server in servers.values():
                    warm = measure(server, load, db, cmd, seconds=args.warmup, concurrency=clients)
                    answered += warm.requests - warm.errors
        rounds: dict[tuple[str, str], list[Round]] = {(p, s): [] for p in parts for s in servers}
        opened = dict.fromkeys(parts, 0)  # PostgreSQL connections the app opened during its measured rounds
        for number in range(args.rounds):
            order = ["app", "floor"] if number % 2 == 0 else ["floor", "app"]
            for part, cmd in parts.items():
                for side in order:
                    pool_before = asyncio.run(app_backends(url)) if side == "app" else {}
                    result = measure(servers[side], load, db, cmd, seconds=args.seconds, concurrency=clients)
                    if side == "app":
                        opened[part] += len(set(asyncio.run(app_backends(url))) - set(pool_before))
                    answered += result.requests - result.errors  # refusals (BUSY) wrote nothing
                    rounds[part, side].append(result)
                    log_round(f"{clients} {part} {side}", number, args.rounds, result)
        per_part: dict[str, Any] = {}
        for part in parts:
            a, f = rounds[part, "app"], rounds[part, "floor"]
            paired = {
                field: [ratio(getattr(x, field), getattr(y, field)) for x, y in zip(a, f, strict=True)]
                for field in ("req_s", "p50_ms", "cpu_ms", "db_cpu_ms")
            }
            per_part[part] = {
                "app": medians(a),
                "floor": medians(f),
                "ratio": {field: statistics.median(values) for field, values in paired.items()},
                "ratio_rounds": paired,
                "app_connections_opened": opened[part],
                "app_p99_over_p50": ratio(medians(a)["p99_ms"], medians(a)["p50_ms"]),
            }
        results[str(clients)] = per_part
    return results, answered


@dataclass(frozen=True)
class Built:
    """This bench's database, rebuilt for another bench of writes: its URL, cases and backends' CPU."""

    url: str
    cases: Cases
    db: DbBackends


def build(label: str, *, quick: bool) -> Built:
    server = seed.start_server()
    watch = timedata.Stopwatch(f"{label} seed")
    url = timedata.recreate(server, DATABASE)
    cases = asyncio.run(fill(url, 10 if quick else 100, watch))
    return Built(url, cases, DbBackends(server.get_pid(), DATABASE))


def run(args: argparse.Namespace) -> dict[str, Any]:
    server = seed.start_server()
    print(f"write_bench: rebuilding {DATABASE} ({'quick' if args.quick else 'full'} size)", file=sys.stderr)
    watch = timedata.Stopwatch("write_bench seed")
    url = timedata.recreate(server, DATABASE)
    watch.lap("database dropped, created and migrated")
    cases = asyncio.run(fill(url, 10 if args.quick else 100, watch))
    results: dict[str, Any] = {"seed_seconds": {**watch.laps, "total": watch.total}, "spread_cases": len(cases.spread)}
    db = DbBackends(server.get_pid(), DATABASE)
    app = start_server("app", "edge.app:app", url)
    floor = start_server("floor", "bench.write_floor:app", url)
    load: LoadProcess | None = None
    try:
        wait_ready(app)
        wait_ready(floor)
        token = login(app)
        results["twins"] = check_twins(url, app, floor, token, cases, args.check_writes)
        results["statements"] = count_statements(url, token, cases.hot)
        measured = [cases.hot, *cases.spread]
        before = asyncio.run(written_on(url, measured))
        load = LoadProcess()
        results["load"], answered = run_load(args, {"app": app, "floor": floor}, load, db, token, cases, url)
        written = asyncio.run(written_on(url, measured)) - before
        results["written"] = {"answered": answered, "entries": written}
        if written != answered:
            print(f"WARNING: {answered} writes answered but {written} entries written", file=sys.stderr)
    finally:
        if load is not None:
            load.stop()
        app.stop()
        floor.stop()
    return results


def row_line(label: str, row: dict[str, Any]) -> str:
    return (
        f"{label:<16} {row['req_s']:>8.0f} {row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f} {row['cpu_ms']:>11.3f}"
        f" {row['db_cpu_ms']:>10.3f} {row['client_cpu_pct']:>9.0f} {row['errors']:>8}"
    )


def print_tables(results: dict[str, Any], args: argparse.Namespace) -> None:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print()
    print(
        f"write_bench: {args.rounds} rounds x {args.seconds:g} s, {os.cpu_count()} cores, load average {load};"
        " medians across rounds; CPU = server process user+system per request; ratios = median of per-round app/floor"
    )
    print(f"twins: {results['twins']['writes']} writes each, equal: {'; '.join(results['twins']['outcomes'])}")
    for side, sent in results["statements"].items():
        print(f"\nstatements per write, {side}: {len(sent)}")
        for number, statement in enumerate(sent, 1):
            print(f"  {number:>2}. {statement}")
    written = results["written"]
    print(f"\nwrites answered 200 {written['answered']:,}, entries written {written['entries']:,}")
    print("req/s, p50 and p99 count every answer, refusals (`refused`: not 200, the app's BUSY) included")
    header = f"{'':<16} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/req':>11} {'db ms/req':>10} {'client %':>9}"
    header += f" {'refused':>8}"
    for clients, parts in results["load"].items():
        for part, figures in parts.items():
            cases = f"{results['spread_cases']} TIME-capped cases" if part == "spread" else HOT_CASE
            print(f"\ncreateTimeEntry PER_DATE, {part} ({cases}), {clients} clients")
            print(header)
            print(row_line("app", figures["app"]))
            print(row_line("floor", figures["floor"]))
            r = figures["ratio"]
            print(
                f"{'app/floor':<16} {r['req_s']:>7.2f}x {r['p50_ms']:>7.2f}x {'':>8} {r['cpu_ms']:>10.2f}x"
                f" {r['db_cpu_ms']:>9.2f}x"
            )
            verdicts = [f"req/s {r['req_s']:.2f}x ({'meets' if r['req_s'] >= TARGET_REQ_S else 'MISSES'} >= 0.5x)"]
            if part == "spread":
                verdicts.append(f"CPU {r['cpu_ms']:.2f}x ({'meets' if r['cpu_ms'] <= TARGET_CPU else 'MISSES'} <= 3x)")
            if int(clients) >= 64:
                spread = figures["app_p99_over_p50"]
                verdicts.append(
                    f"p99/p50 {spread:.2f}x ({'meets' if spread <= TARGET_P99_OVER_P50 else 'MISSES'} <= 5x)"
                )
                opened_now = figures["app_connections_opened"]
                verdicts.append(f"connections opened {opened_now} ({'meets' if opened_now == 0 else 'MISSES'} 0)")
            print("   target: " + ", ".join(verdicts))
    print(f"\nseed seconds: {results['seed_seconds']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.write_bench", description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds (default 3)")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each round (default 4)")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured round per part and side (default 1)")
    parser.add_argument("--clients", type=int, nargs="+", default=[16], help="client counts, in order (default 16)")
    parser.add_argument("--check-writes", type=int, default=8, help="writes on each twin case (default 8)")
    parser.add_argument("--quick", action="store_true", help="small data and short rounds: a smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.seconds, args.warmup = min(args.rounds, 1), min(args.seconds, 1.0), min(args.warmup, 0.5)
    if args.rounds < 1 or args.seconds <= 0 or min(args.clients) < 1 or args.check_writes < 1:
        parser.error("--rounds, --seconds, --clients and --check-writes must be positive")
    load_before = os.getloadavg()
    started = time.monotonic()
    results = run(args)
    print_tables(results, args)
    written = results_path("write_bench", quick=args.quick)
    targets = {"req_s_share": TARGET_REQ_S, "cpu_ratio": TARGET_CPU}
    write_results(written, args, load_before, started, queries={"write": WRITE_MUTATION}, targets=targets, **results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
