"""Issue "Billing and reports": `timeReport` from the rollup against the same GROUP BY over the entries.

`.venv/bin/python -m bench.report_bench [--quick]`. Rebuilds `casetime_bench_report` on the embedded
server (migrated, then filled with SQL only: bench/seed.py's 500 employees, 50 debtors and 2,000 cases,
20 activities and 2,000,000 entries over three years from one INSERT … SELECT generate_series, then the
case counts, book-year totals and rollup, bench/timedata.py), serves the app with uvicorn (one worker)
and times, in alternating rounds:

- the app: `timeReport` over HTTP from bench/load.py, one connection (latency, not throughput);
- the floor: the same GROUP BY written by hand over `time_entries`, run directly with asyncpg.

Reports: one year by [DEBTOR, MONTH] and one quarter by [EMPLOYEE, CASE]. Before timing, each app
answer is checked group by group against the floor's (the rollup must agree with the entries).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, cast

import asyncpg  # type: ignore[import-untyped]
import orjson
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncSession

from bench import seed, timedata
from bench.load import percentile
from bench.run import (
    DbBackends,
    LoadProcess,
    Round,
    login,
    measure,
    medians,
    post,
    results_path,
    start_server,
    wait_ready,
    write_results,
)
from db import embedded
from services import reporting
from services.reporting import Dimension
from services.time_queries import EntryFilter
from services.visibility import EVERYONE

DATABASE = "casetime_bench_report"

TARGET_RATIO = 0.5
TARGET_P50_MS = 150.0

FIRST_MONDAY = date(2023, 1, 2)
WORKING_DAYS = 783  # 2023-01-02 .. 2025-12-31, Monday to Friday
CASES_PER_EMPLOYEE = 12  # each employee's portfolio; two of its cases a day
CASES = seed.DEBTORS * seed.CASES_PER_DEBTOR

# entry g: employee g % 500 writes its (g / 500)-th entry, about five a working day, alternating between
# two cases of its portfolio of 12 (which two changes daily), one activity per employee and case
ENTRIES = f"""
SELECT 1 + (e * {CASES_PER_EMPLOYEE} + slot) % {CASES} AS case_id, 1 + e AS employee_id,
       1 + (e + slot * 3) % {timedata.ACTIVITIES} AS activity_id,
       date '{FIRST_MONDAY.isoformat()}' + ((w / 5) * 7 + w % 5)::int AS work_date,
       15 * (1 + (g * 7919) % 16) AS minutes, format('Advice and correspondence, item %s', g) AS description
FROM (SELECT g, e, j, w, (w * 5 + (j % 2) * 7) % {CASES_PER_EMPLOYEE} AS slot
      FROM (SELECT g, g % $2 AS e, g / $2 AS j, (g / $2) * {WORKING_DAYS} / ($1::bigint / $2) AS w
            FROM generate_series(0, $1::bigint - 1) AS g) AS n) AS p
"""

TOTALS = """
       sum(t.minutes) AS minutes, sum(t.amount) AS amount,
       coalesce(sum(t.minutes) FILTER (WHERE t.status IN ('J', 'F')), 0) AS billable_minutes,
       coalesce(sum(t.minutes) FILTER (WHERE t.status = 'N'), 0) AS non_billable_minutes,
       coalesce(sum(t.amount) FILTER (WHERE t.status IN ('J', 'F')), 0) AS billable_amount,
       count(*) AS entries
"""
# the hand-written reports over the entries: group, then name the groups
FLOOR_DEBTOR_MONTH = f"""
SELECT d.code, d.name, s.period, s.minutes, s.amount, s.billable_minutes, s.non_billable_minutes,
       s.billable_amount, s.entries
FROM (SELECT t.debtor_id, to_char(t.work_date, 'YYYY-MM') AS period, {TOTALS}
      FROM time_entries AS t WHERE t.work_date BETWEEN $1 AND $2
      GROUP BY 1, 2) AS s
JOIN debtors AS d ON d.id = s.debtor_id
ORDER BY s.debtor_id, s.period
"""
FLOOR_EMPLOYEE_CASE = f"""
SELECT e.name, c.code, s.minutes, s.amount, s.billable_minutes, s.non_billable_minutes,
       s.billable_amount, s.entries
FROM (SELECT t.employee_id, t.case_id, {TOTALS}
      FROM time_entries AS t WHERE t.work_date BETWEEN $1 AND $2
      GROUP BY 1, 2) AS s
JOIN employees AS e ON e.id = s.employee_id
LEFT JOIN cases AS c ON c.id = s.case_id
ORDER BY s.employee_id, s.case_id
"""
ROW_FIELDS = "minutes amount billableMinutes nonBillableMinutes billableAmount entryCount"
DEBTOR_MONTH_QUERY = (
    "query($filter: TimeEntryFilter!) { timeReport(filter: $filter, groupBy: [DEBTOR, MONTH]) {"
    f" totalMinutes totalAmount rows {{ debtor {{ code name }} period {ROW_FIELDS} }} }} }}"
)
EMPLOYEE_CASE_QUERY = (
    "query($filter: TimeEntryFilter!) { timeReport(filter: $filter, groupBy: [EMPLOYEE, CASE]) {"
    f" totalMinutes totalAmount rows {{ employee {{ name }} case {{ code }} {ROW_FIELDS} }} }} }}"
)


@dataclass(frozen=True)
class Report:
    name: str
    query: str
    floor_sql: str
    group_by: tuple[Dimension, ...]
    start: date
    end: date

    def body(self) -> bytes:
        variables = {"filter": {"from": self.start.isoformat(), "to": self.end.isoformat()}}
        return orjson.dumps({"query": self.query, "variables": variables})


REPORTS = (
    Report(
        "year by debtor, month",
        DEBTOR_MONTH_QUERY,
        FLOOR_DEBTOR_MONTH,
        (Dimension.DEBTOR, Dimension.MONTH),
        date(2025, 1, 1),
        date(2025, 12, 31),
    ),
    Report(
        "quarter by employee, case",
        EMPLOYEE_CASE_QUERY,
        FLOOR_EMPLOYEE_CASE,
        (Dimension.EMPLOYEE, Dimension.CASE),
        date(2025, 4, 1),
        date(2025, 6, 30),
    ),
)


class _Capture:
    """Stands in for the session: keeps the statement services/reporting.py would run, returns no rows."""

    def __init__(self) -> None:
        self.statement: Any = None

    async def connection(self) -> _Capture:
        return self

    async def execute(self, statement: Any) -> list[Any]:
        self.statement = statement
        return []


async def app_sql(report: Report) -> tuple[str, list[Any]]:
    """The SQL and arguments `timeReport` sends for `report` (an administrator sees every employee)."""
    capture = _Capture()
    where = EntryFilter(start=report.start, end=report.end)
    await reporting.time_report(cast(AsyncSession, capture), EVERYONE, where, report.group_by, start_month=1)
    compiled = capture.statement.compile(
        dialect=asyncpg_dialect(),  # type: ignore[no-untyped-call]
        compile_kwargs={"render_postcompile": True},
    )
    return str(compiled), [compiled.params[name] for name in compiled.positiontup or ()]


async def fill(url: str, entries: int, watch: timedata.Stopwatch) -> dict[str, Any]:
    connection = await timedata.connect(url)
    try:
        await timedata.fill_base(connection, url)
        watch.lap("base data")
        written = await timedata.insert_entries(
            connection, timedata.entries_from(ENTRIES), entries, seed.EMPLOYEES, rebuild_indexes=True
        )
        watch.lap(f"{written:,} entries, secondary indexes rebuilt")
        await timedata.add_kept(connection, 0, fresh=True)
        watch.lap("counts, book-year totals and rollup")
        await timedata.vacuum_analyze(
            connection, "time_entries", "time_rollup", "time_rollup_month", "case_year_totals", "cases"
        )
        watch.lap("vacuum analyze")
        await timedata.check_kept(connection)
        found = await shape(connection)
    finally:
        await connection.close()
    return {"seconds": {**watch.laps, "total": watch.total}, "shape": found}


async def shape(connection: Any) -> dict[str, Any]:
    found = dict(
        await connection.fetchrow(
            "SELECT (SELECT count(*) FROM time_entries) AS entries,"
            " (SELECT count(*) FROM time_rollup) AS rollup_rows,"
            " (SELECT count(*) FROM time_rollup_month) AS month_rows,"
            " (SELECT min(work_date) FROM time_entries) AS first_day,"
            " (SELECT max(work_date) FROM time_entries) AS last_day,"
            " pg_size_pretty(pg_table_size('time_entries')) AS entries_size,"
            " pg_size_pretty(pg_table_size('time_rollup')) AS rollup_size,"
            " pg_size_pretty(pg_table_size('time_rollup_month')) AS month_size"
        )
    )
    found["entries_per_rollup_row"] = round(found["entries"] / max(found["rollup_rows"], 1), 2)
    return found


async def existing(url: str) -> dict[str, Any]:
    connection = await asyncpg.connect(url)
    try:
        return {"seconds": {}, "shape": await shape(connection), "reused": True}
    finally:
        await connection.close()


def app_groups(report: Report, answer: dict[str, Any]) -> list[tuple[Any, ...]]:
    rows = answer["data"]["timeReport"]["rows"]
    if report.query is DEBTOR_MONTH_QUERY:
        keys = [(r["debtor"]["code"], r["period"]) for r in rows]
    else:
        keys = [(r["employee"]["name"], (r["case"] or {}).get("code")) for r in rows]
    return [
        (*key, r["minutes"], Decimal(r["amount"]), r["billableMinutes"], r["nonBillableMinutes"], r["entryCount"])
        for key, r in zip(keys, rows, strict=True)
    ]


def floor_groups(report: Report, rows: list[Any]) -> list[tuple[Any, ...]]:
    if report.query is DEBTOR_MONTH_QUERY:
        keys = [(r["code"], r["period"]) for r in rows]
    else:
        keys = [(r["name"], r["code"]) for r in rows]
    return [
        (*key, r["minutes"], r["amount"], r["billable_minutes"], r["non_billable_minutes"], r["entries"])
        for key, r in zip(keys, rows, strict=True)
    ]


class Floor:
    """The hand-written reports, run directly on one asyncpg connection in this process."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.connection: Any = None

    async def open(self) -> None:
        self.connection = await asyncpg.connect(self.url)

    async def close(self) -> None:
        await self.connection.close()

    async def fetch(self, report: Report) -> list[Any]:
        return list(await self.connection.fetch(report.floor_sql, report.start, report.end))

    async def round(self, report: Report, seconds: float) -> dict[str, float]:
        latencies: list[float] = []
        started = time.perf_counter()
        deadline = started + seconds
        while True:
            before = time.perf_counter()
            await self.connection.fetch(report.floor_sql, report.start, report.end)
            after = time.perf_counter()
            latencies.append(after - before)
            if after >= deadline:
                break
        ordered = sorted(latencies)
        return {
            "requests": len(ordered),
            "req_s": len(ordered) / (time.perf_counter() - started),
            "p50_ms": percentile(ordered, 0.5) * 1000,
            "p99_ms": percentile(ordered, 0.99) * 1000,
        }

    async def explain(self, sql: str, *args: Any) -> str:
        rows = await self.connection.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *args)
        return "\n".join(r[0] for r in rows)


def floor_medians(rounds: list[dict[str, float]]) -> dict[str, Any]:
    summary: dict[str, Any] = {f: statistics.median(r[f] for r in rounds) for f in ("req_s", "p50_ms", "p99_ms")}
    summary["requests"] = sum(int(r["requests"]) for r in rounds)
    summary["rounds"] = rounds
    return summary


def run(args: argparse.Namespace) -> dict[str, Any]:
    entries = args.entries or (200_000 if args.quick else 2_000_000)
    print(f"report_bench: rebuilding {DATABASE} with {entries:,} entries", file=sys.stderr)
    server = seed.start_server()
    if args.reuse:
        url = embedded.url_of(server, DATABASE)
        filled = asyncio.run(existing(url))
    else:
        watch = timedata.Stopwatch("report_bench seed")
        url = timedata.recreate(server, DATABASE)
        watch.lap("database dropped, created and migrated")
        filled = asyncio.run(fill(url, entries, watch))
    db = DbBackends(server.get_pid(), DATABASE)
    app = start_server("app", "edge.app:app", url)
    load: LoadProcess | None = None
    loop = asyncio.new_event_loop()
    floor = Floor(url)
    results: dict[str, Any] = {"seed": filled, "reports": {}}
    try:
        loop.run_until_complete(floor.open())
        wait_ready(app)
        token = login(app)
        commands: dict[str, dict[str, Any]] = {}
        for report in REPORTS:
            answer = post(app, report.body(), token)
            parsed = orjson.loads(answer)
            if "errors" in parsed:
                raise RuntimeError(f"the app answered {report.name} with errors: {parsed['errors']}")
            mine, theirs = (
                app_groups(report, parsed),
                floor_groups(report, loop.run_until_complete(floor.fetch(report))),
            )
            if mine != theirs:
                first = next((i for i, (a, b) in enumerate(zip(mine, theirs, strict=False)) if a != b), None)
                print(
                    f"WARNING: {report.name}: the app's {len(mine)} groups differ from the entries' {len(theirs)};"
                    f" first at {first}: {mine[first] if first is not None else ''} vs"
                    f" {theirs[first] if first is not None else ''}",
                    file=sys.stderr,
                )
            results["reports"][report.name] = {"groups": len(mine), "response_bytes": len(answer)}
            commands[report.name] = {"body": report.body().decode(), "token": token, "expect": answer.decode()}
        if args.explain:
            for report in REPORTS:
                rollup_sql, rollup_args = loop.run_until_complete(app_sql(report))
                for label, plan in (
                    ("rollup (app)", loop.run_until_complete(floor.explain(rollup_sql, *rollup_args))),
                    (
                        "entries (floor)",
                        loop.run_until_complete(floor.explain(report.floor_sql, report.start, report.end)),
                    ),
                ):
                    print(f"\nEXPLAIN {report.name}, {label}:\n{plan}")
                    results["reports"][report.name][f"explain {label}"] = plan
        load = LoadProcess()
        app_rounds: dict[str, list[Round]] = {r.name: [] for r in REPORTS}
        floor_rounds: dict[str, list[dict[str, float]]] = {r.name: [] for r in REPORTS}
        if args.warmup > 0:
            for report in REPORTS:
                measure(app, load, db, commands[report.name], seconds=args.warmup, concurrency=1)
                loop.run_until_complete(floor.round(report, args.warmup))
        for number in range(args.rounds):
            for report in REPORTS:
                for side in ("app", "floor") if number % 2 == 0 else ("floor", "app"):
                    if side == "app":
                        result = measure(app, load, db, commands[report.name], seconds=args.seconds, concurrency=1)
                        app_rounds[report.name].append(result)
                        p50, cpu = result.p50_ms, f"  CPU {result.cpu_ms:7.2f} ms/req"
                    else:
                        floor_round = loop.run_until_complete(floor.round(report, args.seconds))
                        floor_rounds[report.name].append(floor_round)
                        p50, cpu = floor_round["p50_ms"], ""
                    print(
                        f"report_bench: round {number + 1}/{args.rounds} {report.name:<26} {side:<5}"
                        f" p50 {p50:8.2f} ms{cpu}",
                        file=sys.stderr,
                    )
    finally:
        if load is not None:
            load.stop()
        app.stop()
        if floor.connection is not None:
            loop.run_until_complete(floor.close())
        loop.close()
    for report in REPORTS:
        app_summary, floor_summary = medians(app_rounds[report.name]), floor_medians(floor_rounds[report.name])
        ratio = app_summary["p50_ms"] / floor_summary["p50_ms"] if floor_summary["p50_ms"] else float("nan")
        per_round = [
            a.p50_ms / f["p50_ms"] for a, f in zip(app_rounds[report.name], floor_rounds[report.name], strict=True)
        ]
        results["reports"][report.name].update(
            {
                "period": [report.start.isoformat(), report.end.isoformat()],
                "app": app_summary,
                "floor": floor_summary,
                "ratio_p50": ratio,
                "ratio_p50_median_of_rounds": statistics.median(per_round),
            }
        )
    return results


def print_tables(results: dict[str, Any], args: argparse.Namespace) -> None:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    shape = results["seed"]["shape"]
    print()
    print(
        f"report_bench: {args.rounds} rounds x {args.seconds:g} s, one connection, {os.cpu_count()} cores,"
        f" load average {load}; medians across rounds"
    )
    print(
        f"data: {shape['entries']:,} entries ({shape['entries_size']}) {shape['first_day']} .. {shape['last_day']},"
        f" rollup {shape['rollup_rows']:,} rows ({shape['rollup_size']}),"
        f" monthly {shape.get('month_rows', 0):,} rows ({shape.get('month_size', '-')}),"
        f" {shape['entries_per_rollup_row']} entries a row"
    )
    header = (
        f"{'report':<27} {'groups':>6} {'app p50':>8} {'app p99':>8} {'app CPU':>8} {'floor p50':>10}"
        f" {'app/floor':>9} {'p50<150':>8}"
    )
    print(header)
    print("-" * len(header))
    for name, r in results["reports"].items():
        app, floor = r["app"], r["floor"]
        print(
            f"{name:<27} {r['groups']:>6} {app['p50_ms']:>8.1f} {app['p99_ms']:>8.1f} {app['cpu_ms']:>8.1f}"
            f" {floor['p50_ms']:>10.1f} {r['ratio_p50']:>8.2f}x {'yes' if app['p50_ms'] < TARGET_P50_MS else 'NO':>8}"
        )
    print("(ms; app = timeReport over HTTP from the rollup, CPU = uvicorn process per request;")
    print(" floor = the same GROUP BY over time_entries with asyncpg, no HTTP)")
    for name, r in results["reports"].items():
        verdict = "meets" if r["ratio_p50"] <= TARGET_RATIO else "MISSES"
        print(
            f"{name}: app/floor p50 {r['ratio_p50']:.2f} (median of per-round ratios"
            f" {r['ratio_p50_median_of_rounds']:.2f}) {verdict} the target of <= {TARGET_RATIO}"
        )
    print(f"seed seconds: {results['seed']['seconds']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.report_bench", description="timeReport against hand-written SQL")
    parser.add_argument("--rounds", type=int, default=5, help="measured rounds per report and side (default 5)")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each round (default 4)")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured warm-up per report and side")
    parser.add_argument("--entries", type=int, help="entries to seed (default 2,000,000; --quick 200,000)")
    parser.add_argument("--quick", action="store_true", help="200,000 entries")
    parser.add_argument("--reuse", action="store_true", help="keep the database of the last run (no seeding)")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN (ANALYZE, BUFFERS) of both sides")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.seconds <= 0:
        parser.error("--rounds and --seconds must be positive")
    entries = args.entries or 0
    if entries and entries % seed.EMPLOYEES:
        parser.error(f"--entries must be a multiple of {seed.EMPLOYEES}")
    load_before = os.getloadavg()
    started = time.monotonic()
    results = run(args)
    print_tables(results, args)
    written = results_path("report_bench", quick=args.quick)
    queries = {r.name: {"graphql": r.query, "floor_sql": r.floor_sql} for r in REPORTS}
    targets = {"ratio": TARGET_RATIO, "p50_ms": TARGET_P50_MS}
    write_results(written, args, load_before, started, queries=queries, targets=targets, results=results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
