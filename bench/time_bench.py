"""Issue "Writing time": the case time page, a deep STATIC page and the capped write, through HTTP.

`.venv/bin/python -m bench.time_bench [--quick]`. Rebuilds `casetime_bench_time` on the embedded
server (migrated, then filled with SQL only, bench/timedata.py), serves the app and the time-page
floor (bench/time_floor.py) with uvicorn, one worker each, and drives them from bench/load.py:

a. page   `Case.timeList(first: 50)` (employee name, activity, amount) via `node(id:)`, app beside floor.
b. deep   page 1 and page 10,000 of a case holding 1,000,000 entries (STATIC by count), the cursor of
          page 10,000 computed directly from its keyset key; ratio page 10,000 / page 1.
c. write  PER_DATE `createTimeEntry` on a hot TIME-capped case, 16 clients; then its book year gets
          100,000 entries by SQL and the same load runs again; ratio second / first. A second capped
          case that never grows is measured in the same rounds as a control for machine noise.

Figures are medians across rounds; within a round the sides alternate so noise lands on both.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import orjson

from bench import seed, timedata
from bench.run import (
    DbBackends,
    LoadProcess,
    Round,
    Server,
    check_same,
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
from graph.pagination import encode_cursor

DATABASE = "casetime_bench_time"

TARGET_CPU_MS = 2.5
TARGET_FLOOR_SHARE = 0.20
TARGET_DEEP_RATIO = 1.2
TARGET_WRITE_RATIO = 0.9

PAGE_CASE = "C003-D001"  # no cap; an ordinary case with a few hundred entries at most: EDITABLE
DEEP_CASE = "C003-D002"  # no cap; 1,000,000 entries: STATIC
HOT_CASE = "C001-D001"  # TIME cap, the write target
CONTROL_CASE = "C001-D002"  # TIME cap, written alike but never grown: the noise control
BIG_CAP_MINUTES = 2_000_000_000  # no write reaches it, so every write is the same J entry in both phases
WRITE_DATE = "2025-06-02"
WRITE_YEAR = (2025, 1)  # the book year of WRITE_DATE with the default start month (January)

PAGE_QUERY = (
    "query($id: ID!) { node(id: $id) { ... on Case { timeList(first: 50) { edges { cursor"
    " node { id workDate minutes amount employee { name } activity { name } } } } } } }"
)
DEEP_QUERY = (
    "query($id: ID!, $after: String) { node(id: $id) { ... on Case { timeList(first: 50, after: $after) {"
    " edges { cursor node { id workDate minutes amount employee { name } activity { name } } } } } } }"
)
MODE_QUERY = "query($id: ID!) { node(id: $id) { ... on Case { timeList(first: 1) { mode totalCount } } } }"
WRITE_MUTATION = (
    "mutation($input: TimeEntryInput!) { createTimeEntry(input: $input) {"
    " timeEntry { id minutes status } overLimitEntry { id } warnings { code } userErrors { code message } } }"
)


@dataclass(frozen=True)
class Sizes:
    per_case: int  # entries on every case
    deep: int  # entries on the deep case
    hot_growth: int  # entries added to the hot case's book year between the write phases
    page: int  # the deep page to read


FULL = Sizes(per_case=100, deep=1_000_000, hot_growth=100_000, page=10_000)
QUICK = Sizes(per_case=10, deep=50_000, hot_growth=10_000, page=500)


@dataclass(frozen=True)
class Cases:
    page: int
    deep: int
    hot: int
    control: int


def global_id(type_name: str, db_id: int) -> str:
    from graph import ids

    return str(ids.encode(type_name, db_id))


# every case: `per_case` entries over 2025, employees and billable activities spread
SPREAD = """
SELECT 1 + g % 2000 AS case_id, 1 + (g * 7) % 500 AS employee_id, 1 + (g / 2000) % 16 AS activity_id,
       date '2025-01-01' + (((g / 2000) * 3 + g % 5) % 365)::int AS work_date, 15 + (g % 8) * 15 AS minutes,
       format('Advice and correspondence, item %s', g) AS description
FROM generate_series(0, $1::bigint - 1) AS g
"""
# one case: `n` entries over ten years from 2016, about 270 a day, all employees and activities
DEEP = """
SELECT $2::int AS case_id, 1 + g % 500 AS employee_id, 1 + g % 20 AS activity_id,
       date '2016-01-01' + (g * 3650 / $1::bigint)::int AS work_date, 15 + (g % 8) * 15 AS minutes,
       format('Review of documents, part %s', g) AS description
FROM generate_series(0, $1::bigint - 1) AS g
"""
# one case's book year 2025: `n` billable entries spread over the year
GROWTH = """
SELECT $2::int AS case_id, 1 + g % 500 AS employee_id, 1 + g % 16 AS activity_id,
       date '2025-01-01' + (g % 365)::int AS work_date, 15 + (g % 8) * 15 AS minutes,
       format('Bulk work, item %s', g) AS description
FROM generate_series(0, $1::bigint - 1) AS g
"""


async def fill(url: str, sizes: Sizes, watch: timedata.Stopwatch) -> tuple[Cases, dict[str, float]]:
    connection = await timedata.connect(url)
    try:
        await timedata.fill_base(connection, url)
        cases = Cases(
            page=await timedata.case_id(connection, PAGE_CASE),
            deep=await timedata.case_id(connection, DEEP_CASE),
            hot=await timedata.case_id(connection, HOT_CASE),
            control=await timedata.case_id(connection, CONTROL_CASE),
        )
        await connection.execute(
            "UPDATE cases SET max_minutes = $1 WHERE id = ANY($2::int[])", BIG_CAP_MINUTES, [cases.hot, cases.control]
        )
        watch.lap("base data")
        spread = await timedata.insert_entries(
            connection, timedata.entries_from(SPREAD), sizes.per_case * 2000, rebuild_indexes=True
        )
        watch.lap(f"{spread:,} entries over all cases")
        deep = await timedata.insert_entries(
            connection, timedata.entries_from(DEEP), sizes.deep, cases.deep, rebuild_indexes=True
        )
        watch.lap(f"{deep:,} entries on the deep case")
        await timedata.add_kept(connection, 0, fresh=True)
        watch.lap("counts, book-year totals and rollup")
        await timedata.vacuum_analyze(
            connection, "time_entries", "time_rollup", "time_rollup_month", "case_year_totals", "cases"
        )
        watch.lap("vacuum analyze")
        await timedata.check_kept(connection)
    finally:
        await connection.close()
    return cases, {**watch.laps, "total": watch.total}


async def grow_hot_case(url: str, cases: Cases, entries: int) -> dict[str, float]:
    """Add `entries` to the hot case's book year by SQL, with its count, totals and rollup."""
    watch = timedata.Stopwatch("time_bench growth")
    connection = await timedata.connect(url)
    try:
        since = await timedata.max_entry_id(connection)
        added = await timedata.insert_entries(connection, timedata.entries_from(GROWTH), entries, cases.hot)
        await timedata.add_kept(connection, since)
        watch.lap(f"{added:,} entries on the hot case's book year, with counts, totals and rollup")
        await timedata.vacuum_analyze(
            connection, "time_entries", "time_rollup", "time_rollup_month", "case_year_totals"
        )
        watch.lap("vacuum analyze")
        await timedata.check_kept(connection)
    finally:
        await connection.close()
    return {**watch.laps, "total": watch.total}


async def page_cursor(url: str, case_id: int, page: int) -> str:
    """The `after` cursor of page `page` (50 a page): the key [work_date, id] of row (page - 1) * 50."""
    connection = await asyncpg.connect(url)
    try:
        row = await connection.fetchrow(
            "SELECT work_date, id FROM time_entries WHERE case_id = $1 ORDER BY work_date DESC, id DESC"
            " OFFSET $2 LIMIT 1",
            case_id,
            (page - 1) * 50 - 1,
        )
    finally:
        await connection.close()
    if row is None:
        raise RuntimeError(f"the deep case has fewer than {(page - 1) * 50} entries")
    return encode_cursor([row["work_date"], row["id"]])


async def write_state(url: str, cases: Cases) -> dict[str, Any]:
    """Entries written through the API (they have no description), L lines and cap use of the two cases."""
    connection = await asyncpg.connect(url)
    try:
        row = await connection.fetchrow(
            "SELECT count(*) FILTER (WHERE description IS NULL) AS api_written,"
            " count(*) FILTER (WHERE status = 'L') AS over_limit"
            " FROM time_entries WHERE case_id = ANY($1::int[])",
            [cases.hot, cases.control],
        )
        used = await connection.fetch(
            "SELECT case_id, j_minutes + f_minutes AS used FROM case_year_totals"
            " WHERE case_id = ANY($1::int[]) AND year_start = make_date($2, $3, 1)",
            [cases.hot, cases.control],
            *WRITE_YEAR,
        )
        counts = await connection.fetch(
            "SELECT id, time_entry_count FROM cases WHERE id = ANY($1::int[])", [cases.hot, cases.control]
        )
        await timedata.check_kept(connection)
    finally:
        await connection.close()
    return {
        "api_written": int(row["api_written"]),
        "over_limit": int(row["over_limit"]),
        "used_minutes": {int(r["case_id"]): int(r["used"]) for r in used},
        "entry_count": {int(r["id"]): int(r["time_entry_count"]) for r in counts},
    }


def command(body: dict[str, Any], token: str, expect: bytes | None) -> dict[str, Any]:
    return {"body": orjson.dumps(body).decode(), "token": token, "expect": expect.decode() if expect else ""}


def log_round(label: str, number: int, rounds: int, result: Round) -> None:
    print(
        f"time_bench: round {number + 1}/{rounds} {label:<24} {result.req_s:7.0f} req/s  p50 {result.p50_ms:7.2f} ms"
        f"  CPU {result.cpu_ms:6.3f} ms/req",
        file=sys.stderr,
    )


class Bench:
    def __init__(self, args: argparse.Namespace, load: LoadProcess, db: DbBackends) -> None:
        self.args, self.load, self.db = args, load, db
        self.requests = 0  # answered in every round so far, warm-ups included

    def measure(self, server: Server, cmd: dict[str, Any], seconds: float, concurrency: int) -> Round:
        result = measure(server, self.load, self.db, cmd, seconds=seconds, concurrency=concurrency)
        self.requests += result.requests
        return result

    def rounds(self, plan: dict[str, tuple[Server, dict[str, Any]]], concurrency: int) -> dict[str, dict[str, Any]]:
        """Warm each entry of `plan` up, then measure them in rounds, rotating the order every round."""
        labels = list(plan)
        if self.args.warmup > 0:
            for label in labels:
                server, cmd = plan[label]
                self.measure(server, cmd, self.args.warmup, concurrency)
        results: dict[str, list[Round]] = {label: [] for label in labels}
        for number in range(self.args.rounds):
            shift = number % len(labels)
            for label in labels[shift:] + labels[:shift]:
                server, cmd = plan[label]
                result = self.measure(server, cmd, self.args.seconds, concurrency)
                results[label].append(result)
                log_round(label, number, self.args.rounds, result)
        return {label: medians(rounds) for label, rounds in results.items()}


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def paired(a: dict[str, Any], b: dict[str, Any], field: str) -> float:
    """Median over rounds of a/b, each round's two figures measured back to back: steadier on a noisy machine."""
    return float(statistics.median(ratio(x[field], y[field]) for x, y in zip(a["rounds"], b["rounds"], strict=True)))


async def existing_cases(url: str) -> Cases:
    connection = await timedata.connect(url)
    try:
        codes = (PAGE_CASE, DEEP_CASE, HOT_CASE, CONTROL_CASE)
        return Cases(*[await timedata.case_id(connection, code) for code in codes])
    finally:
        await connection.close()


def run(args: argparse.Namespace) -> dict[str, Any]:
    sizes = QUICK if args.quick else FULL
    server = seed.start_server()
    if args.reuse:
        if "write" in (args.only or ["write"]):
            raise SystemExit("--reuse measures the page and deep parts only (--only page deep): the write part grows")
        url = embedded.url_of(server, DATABASE)
        cases = asyncio.run(existing_cases(url))
        seed_times: dict[str, float] = {}
    else:
        print(f"time_bench: rebuilding {DATABASE} ({'quick' if args.quick else 'full'} size)", file=sys.stderr)
        watch = timedata.Stopwatch("time_bench seed")
        url = timedata.recreate(server, DATABASE)
        watch.lap("database dropped, created and migrated")
        cases, seed_times = asyncio.run(fill(url, sizes, watch))
    db = DbBackends(server.get_pid(), DATABASE)
    app = start_server("app", "edge.app:app", url)
    floor = start_server("floor", "bench.time_floor:app", url)
    load: LoadProcess | None = None
    results: dict[str, Any] = {"seed_seconds": seed_times, "sizes": sizes.__dict__}
    try:
        wait_ready(app)
        wait_ready(floor)
        token = login(app)
        load = LoadProcess()
        bench = Bench(args, load, db)
        parts = args.only or ["page", "deep", "write"]
        if "page" in parts:
            results["page"] = page_part(bench, app, floor, token, cases)
        if "deep" in parts:
            results["deep"] = deep_part(bench, app, floor, token, cases, url, sizes)
        if "write" in parts:
            results["write"] = write_part(bench, app, token, cases, url, sizes)
    finally:
        if load is not None:
            load.stop()
        app.stop()
        floor.stop()
    return results


def page_part(bench: Bench, app: Server, floor: Server, token: str, cases: Cases) -> dict[str, Any]:
    body = {"query": PAGE_QUERY, "variables": {"id": global_id("Case", cases.page)}}
    raw = orjson.dumps(body)
    answers = {s.name: post(s, raw, token) for s in (app, floor)}
    check_same("case page", answers["app"], answers["floor"])
    mode = orjson.loads(post(app, orjson.dumps({"query": MODE_QUERY, "variables": body["variables"]}), token))
    plan = {
        "page app": (app, command(body, token, answers["app"])),
        "page floor": (floor, command(body, token, answers["floor"])),
    }
    summary = bench.rounds(plan, bench.args.concurrency)
    a, f = summary["page app"], summary["page floor"]
    return {
        "case": PAGE_CASE,
        "list": mode["data"]["node"]["timeList"],
        "app": a,
        "floor": f,
        "ratio": {
            "req_s": ratio(a["req_s"], f["req_s"]),
            "p50_ms": ratio(a["p50_ms"], f["p50_ms"]),
            "cpu_ms": ratio(a["cpu_ms"], f["cpu_ms"]),
            "req_s_paired": paired(a, f, "req_s"),
        },
    }


def deep_part(
    bench: Bench, app: Server, floor: Server, token: str, cases: Cases, url: str, sizes: Sizes
) -> dict[str, Any]:
    case = global_id("Case", cases.deep)
    mode = orjson.loads(post(app, orjson.dumps({"query": MODE_QUERY, "variables": {"id": case}}), token))
    listing = mode["data"]["node"]["timeList"]
    if listing["mode"] != "STATIC":
        print(f"WARNING: the deep case's list is {listing['mode']}, not STATIC", file=sys.stderr)
    after = asyncio.run(page_cursor(url, cases.deep, sizes.page))
    bodies = {
        "page 1": {"query": DEEP_QUERY, "variables": {"id": case}},
        f"page {sizes.page}": {"query": DEEP_QUERY, "variables": {"id": case, "after": after}},
    }
    plan: dict[str, tuple[Server, dict[str, Any]]] = {}
    for name, body in bodies.items():
        raw = orjson.dumps(body)
        answers = {s.name: post(s, raw, token) for s in (app, floor)}
        check_same(f"deep {name}", answers["app"], answers["floor"])
        for target in (app, floor):
            plan[f"deep {name} {target.name}"] = (target, command(body, token, answers[target.name]))
    summary = bench.rounds(plan, bench.args.deep_concurrency)
    deep_ratios = {}
    for side in ("app", "floor"):
        first, far = summary[f"deep page 1 {side}"], summary[f"deep page {sizes.page} {side}"]
        deep_ratios[side] = {
            "p50_ms": ratio(far["p50_ms"], first["p50_ms"]),
            "cpu_ms": ratio(far["cpu_ms"], first["cpu_ms"]),
            "req_s": ratio(far["req_s"], first["req_s"]),
            "p50_ms_paired": paired(far, first, "p50_ms"),
        }
    return {"case": DEEP_CASE, "list": listing, "page": sizes.page, "results": summary, "ratio": deep_ratios}


def write_part(bench: Bench, app: Server, token: str, cases: Cases, url: str, sizes: Sizes) -> dict[str, Any]:
    def body(case_id: int) -> dict[str, Any]:
        variables = {
            "input": {
                "caseId": global_id("Case", case_id),
                "activityId": global_id("Activity", 1),
                "workDate": WRITE_DATE,
                "minutes": 30,
            }
        }
        return {"query": WRITE_MUTATION, "variables": variables}

    bodies = {"hot": body(cases.hot), "control": body(cases.control)}
    for name, payload in bodies.items():
        answer = orjson.loads(post(app, orjson.dumps(payload), token))
        created = (answer.get("data") or {}).get("createTimeEntry") or {}
        if "errors" in answer or created.get("userErrors") or created.get("overLimitEntry"):
            raise RuntimeError(f"the {name} write did not give one plain entry: {answer}")
    plan = {name: (app, command(payload, token, None)) for name, payload in bodies.items()}
    concurrency = bench.args.write_concurrency
    before = write_state_sync(url, cases)
    sent_before = bench.requests
    first = bench.rounds({f"write {k} before": v for k, v in plan.items()}, concurrency)
    growth = asyncio.run(grow_hot_case(url, cases, sizes.hot_growth))
    middle = write_state_sync(url, cases)
    second = bench.rounds({f"write {k} after": v for k, v in plan.items()}, concurrency)
    after = write_state_sync(url, cases)
    sent = bench.requests - sent_before
    written = after["api_written"] - before["api_written"]
    if written != sent:
        print(f"WARNING: {sent} writes answered but {written} entries written through the API", file=sys.stderr)
    hot1, hot2 = first["write hot before"], second["write hot after"]
    control1, control2 = first["write control before"], second["write control after"]
    hot_ratio, control_ratio = ratio(hot2["req_s"], hot1["req_s"]), ratio(control2["req_s"], control1["req_s"])
    if after["over_limit"]:
        print(f"WARNING: {after['over_limit']} L lines on the written cases", file=sys.stderr)
    return {
        "hot_case": HOT_CASE,
        "control_case": CONTROL_CASE,
        "concurrency": concurrency,
        "growth_seconds": growth,
        "state": {"before": before, "after_growth": middle, "after": after, "answered": sent, "written": written},
        "results": {**first, **second},
        "ratio": {
            "hot_req_s": hot_ratio,
            "control_req_s": control_ratio,
            "hot_over_control": ratio(hot_ratio, control_ratio),
            "hot_over_control_paired": ratio(paired(hot2, control2, "req_s"), paired(hot1, control1, "req_s")),
            "hot_cpu_ms": ratio(hot2["cpu_ms"], hot1["cpu_ms"]),
        },
    }


def write_state_sync(url: str, cases: Cases) -> dict[str, Any]:
    return asyncio.run(write_state(url, cases))


def row_line(label: str, row: dict[str, Any]) -> str:
    return (
        f"{label:<28} {row['req_s']:>8.0f} {row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f} {row['cpu_ms']:>11.3f}"
        f" {row['db_cpu_ms']:>10.3f} {row['client_cpu_pct']:>9.0f}"
    )


HEADER = f"{'':<28} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/req':>11} {'db ms/req':>10} {'client %':>9}"


def verdict(ok: bool) -> str:
    return "meets" if ok else "MISSES"


def print_tables(results: dict[str, Any], args: argparse.Namespace) -> None:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print()
    print(
        f"time_bench: {args.rounds} rounds x {args.seconds:g} s, {os.cpu_count()} cores, load average {load};"
        " medians across rounds; CPU = server process user+system per request"
    )
    if "page" in results:
        page = results["page"]
        r = page["ratio"]
        print(f"\na. case page {page['case']} ({page['list']['mode']}, {page['list']['totalCount']} entries),")
        print(f"   timeList(first: 50), {args.concurrency} connections")
        print(HEADER)
        print(row_line("app", page["app"]))
        print(row_line("floor", page["floor"]))
        print(f"{'app/floor':<28} {r['req_s']:>7.2f}x {r['p50_ms']:>7.2f}x {'':>8} {r['cpu_ms']:>10.2f}x")
        print(f"   app/floor req/s, median of per-round ratios: {r['req_s_paired']:.3f}")
        cpu = page["app"]["cpu_ms"]
        print(f"   app CPU {cpu:.3f} ms/request {verdict(cpu <= TARGET_CPU_MS)} the target of <= {TARGET_CPU_MS} ms")
        print(
            f"   app req/s = {r['req_s']:.2f} of the floor's, {verdict(r['req_s'] >= TARGET_FLOOR_SHARE)}"
            f" the target of >= {TARGET_FLOOR_SHARE}"
        )
    if "deep" in results:
        deep = results["deep"]
        print(
            f"\nb. deep case {deep['case']} ({deep['list']['mode']}, {deep['list']['totalCount']:,} entries):"
            f" page 1 vs page {deep['page']:,}, {args.deep_concurrency} connection(s)"
        )
        print(HEADER)
        for label, row in deep["results"].items():
            print(row_line(label.removeprefix("deep "), row))
        for side, r in deep["ratio"].items():
            print(
                f"{side + ' page ' + format(deep['page'], ',') + ' / page 1':<28} {r['req_s']:>7.2f}x"
                f" {r['p50_ms']:>7.2f}x {'':>8} {r['cpu_ms']:>10.2f}x"
            )
        p50, p50_paired = deep["ratio"]["app"]["p50_ms"], deep["ratio"]["app"]["p50_ms_paired"]
        print(
            f"   app p50 page {deep['page']:,} / page 1: {p50:.2f} (median of per-round ratios {p50_paired:.2f})"
            f" {verdict(p50 <= TARGET_DEEP_RATIO)} the target of <= {TARGET_DEEP_RATIO}"
        )
    if "write" in results:
        write = results["write"]
        state = write["state"]
        print(
            f"\nc. createTimeEntry PER_DATE on TIME-capped {write['hot_case']} (control {write['control_case']}),"
            f" {write['concurrency']} connections, one token"
        )
        print(
            f"   hot case entries {state['before']['entry_count']} before, {state['after_growth']['entry_count']}"
            f" after adding {results['sizes']['hot_growth']:,} by SQL (book-year used minutes"
            f" {state['after_growth']['used_minutes']})"
        )
        print(
            f"   writes answered {state['answered']:,}, entries written {state['written']:,},"
            f" L lines {state['after']['over_limit']}"
        )
        print(HEADER)
        for label, row in write["results"].items():
            print(row_line(label, row))
        r = write["ratio"]
        print(f"   hot after/before req/s {r['hot_req_s']:.2f}, control {r['control_req_s']:.2f},")
        print(
            f"   hot corrected by control {r['hot_over_control']:.2f} (from per-round hot/control ratios"
            f" {r['hot_over_control_paired']:.2f}); hot CPU ms/req after/before {r['hot_cpu_ms']:.2f}"
        )
        print(
            f"   req/s ratio {r['hot_req_s']:.2f} {verdict(r['hot_req_s'] >= TARGET_WRITE_RATIO)} the target of"
            f" >= {TARGET_WRITE_RATIO}"
        )
    print(f"\nseed seconds: {results['seed_seconds']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.time_bench", description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--rounds", type=int, default=5, help="measured rounds (default 5)")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each round (default 4)")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured warm-up per measured item (default 1)")
    parser.add_argument("--concurrency", type=int, default=8, help="connections for the page reads (default 8)")
    parser.add_argument("--deep-concurrency", type=int, default=1, help="connections for the deep pages (default 1)")
    parser.add_argument("--write-concurrency", type=int, default=16, help="connections for the writes (default 16)")
    parser.add_argument("--only", nargs="+", choices=["page", "deep", "write"], help="run these parts only")
    parser.add_argument("--quick", action="store_true", help="small data (deep case 50,000, growth 10,000)")
    parser.add_argument("--reuse", action="store_true", help="keep the database of the last run (page and deep only)")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.seconds <= 0 or min(args.concurrency, args.deep_concurrency, args.write_concurrency) < 1:
        parser.error("--rounds, --seconds and the concurrencies must be positive")
    load_before = os.getloadavg()
    started = time.monotonic()
    results = run(args)
    print_tables(results, args)
    written = results_path("time_bench", quick=args.quick)
    queries = {"page": PAGE_QUERY, "deep": DEEP_QUERY, "write": WRITE_MUTATION}
    targets = {
        "cpu_ms": TARGET_CPU_MS,
        "floor_share": TARGET_FLOOR_SHARE,
        "deep_ratio": TARGET_DEEP_RATIO,
        "write_ratio": TARGET_WRITE_RATIO,
    }
    write_results(written, args, load_before, started, queries=queries, targets=targets, results=results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
