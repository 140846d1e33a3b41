"""Issue 14, "one read path": a 50-row page of every list field over HTTP, casetime beside the raw floor in one run.

`.venv/bin/python -m bench.lists_bench [--quick] [--clients 64 16] [--only employees cases ...] [--reuse]`.

Rebuilds `casetime_bench_lists` on the embedded server (migrated, then filled with SQL only: bench/timedata.py's base
data with four roles, 200 debtors, one debtor with 70 cases, time entries on every case and 60 invoices billing 60
entries each), serves casetime (`uvicorn edge.app:app --workers 1`) and ONE floor process (bench/lists_floor.py:
Starlette + asyncpg, the token lookup and one statement per list), checks that both answer every document with the
same JSON (a difference stops the run), then measures them from bench/load.py in alternating rounds at each of
`--clients`: req/s, p50, p99, CPU ms/request of the server process, db ms/request, and the same-round ratio of
casetime's CPU per request to the floor's (median and worst round). Target: every list ≤ 2.0x its floor's app CPU.
Everything goes to bench/results/lists_bench.json (`*_quick.json` with --quick).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

import orjson

from bench import seed, timedata
from bench.run import (
    DbBackends,
    LoadProcess,
    Round,
    Server,
    first_difference,
    login,
    measure,
    medians,
    post,
    results_path,
    start_server,
    wait_ready,
    write_results,
)
from bench.time_bench import PAGE_CASE, SPREAD, global_id
from db import embedded
from settings import PROJECT_ROOT

DATABASE = "casetime_bench_lists"
TARGET_CPU_RATIO = 2.0
BEFORE_ISSUE = "5539b7f"  # the commit before issue 14, for `bench.ab` and the lines of code
# no tests, no bench; `resolvers` held the root fields before the per-domain packages of `api`
APP_CODE = ("edge", "api", "graph", "resolvers", "services", "models", "db", "settings.py", "cli.py")

LIST_DEBTOR = "D001"  # gets extra cases: more than a page of them
INVOICE_NUMBER = "INV-000001"  # whose entries `Invoice.timeEntries` lists

_ENTRY = "id workDate minutes amount status employee { name } activity { name } case { code }"
_CASE = "id code description blocked maxPerBookYear debtor { code name }"
_PAGE_INFO = "pageInfo { hasNextPage endCursor }"


@dataclass(frozen=True)
class ListQuery:
    name: str  # the issue's name of the list field
    operation: str  # the document's operation name, which picks the floor's statement
    document: str
    parent: str | None = None  # the type of `$id` for a nested list


LISTS = {
    q.name: q
    for q in (
        ListQuery(
            "timeList",
            "CaseTimeList",
            "query CaseTimeList($id: ID!) { node(id: $id) { ... on Case { timeList(first: 50) { totalCount"
            f" {_PAGE_INFO} edges {{ cursor node {{ id workDate minutes amount status employee {{ name }}"
            " activity { name } description } } } } } }",
            "Case",
        ),
        ListQuery(
            "timeEntries",
            "TimeEntries",
            f"query TimeEntries {{ timeEntries(first: 50) {{ {_PAGE_INFO} edges {{ cursor node {{ {_ENTRY} }} }} }} }}",
        ),
        ListQuery(
            "cases",
            "Cases",
            f"query Cases {{ cases(first: 50) {{ totalCount {_PAGE_INFO} edges {{ cursor node {{ {_CASE} }} }} }} }}",
        ),
        ListQuery(
            "Debtor.cases",
            "DebtorCases",
            "query DebtorCases($id: ID!) { node(id: $id) { ... on Debtor { cases(first: 50) { totalCount"
            f" {_PAGE_INFO} edges {{ cursor node {{ {_CASE} }} }} }} }} }} }}",
            "Debtor",
        ),
        ListQuery(
            "employees",
            "Employees",
            f"query Employees {{ employees(first: 50) {{ totalCount {_PAGE_INFO} edges {{ cursor node {{ id name email"
            " active defaultRate role { name } } } } }",
        ),
        ListQuery(
            "debtors",
            "Debtors",
            f"query Debtors {{ debtors(first: 50) {{ totalCount {_PAGE_INFO} edges {{ cursor node {{ id code name"
            " adjustedRate } } } }",
        ),
        ListQuery(
            "invoices",
            "Invoices",
            f"query Invoices {{ invoices(first: 50) {{ totalCount {_PAGE_INFO} edges {{ cursor node {{ id number"
            " invoiceDate total voided debtor { code name } } } } }",
        ),
        ListQuery(
            "Invoice.timeEntries",
            "InvoiceTimeEntries",
            "query InvoiceTimeEntries($id: ID!) { node(id: $id) { ... on Invoice { timeEntries(first: 50) {"
            f" totalCount {_PAGE_INFO} edges {{ cursor node {{ {_ENTRY} }} }} }} }} }} }}",
            "Invoice",
        ),
    )
}


@dataclass(frozen=True)
class Sizes:
    entries: int  # spread over the first 2,000 cases (bench/seed.py's), as bench.time_bench spreads them
    invoices: int
    per_invoice: int


FULL = Sizes(entries=200_000, invoices=60, per_invoice=60)
QUICK = Sizes(entries=100_000, invoices=60, per_invoice=60)  # 50 entries a case: one full page

# three roles besides the administrator's; every employee but a quarter (the administrator, e0001, among them) moves
_ROLES = """
WITH made AS (
  INSERT INTO roles (name, is_administrator, can_enter_time_for_others, can_invoice, employee_visibility)
  VALUES ('Partner', false, true, true, 'ALL'), ('Associate', false, false, false, 'ALL'),
         ('Secretary', false, true, false, 'ALL')
  RETURNING id, name
)
UPDATE employees AS e SET role_id = made.id
FROM made
WHERE e.id % 4 <> 1 AND made.name = CASE e.id % 4 WHEN 2 THEN 'Partner' WHEN 3 THEN 'Associate' ELSE 'Secretary' END
"""
# 150 debtors more, four cases each (200 in all), a rate on every third; D001 gets 30 cases more (70) and a few cases
# everywhere are blocked, so the lists' filter leaves something out
_DEBTORS = """
INSERT INTO debtors (code, name, adjusted_rate)
SELECT format('D%s', lpad(g::text, 3, '0')), format('Debtor %s Ltd', g), CASE WHEN g % 3 = 0 THEN 90 + g % 40 END
FROM generate_series($1::int + 1, $1::int + 150) AS g
"""
_CASES = """
INSERT INTO cases (debtor_id, code, description)
SELECT d.id, format('C%s-%s', lpad(c::text, 3, '0'), d.code), format('Case %s of %s: ongoing advice', c, d.name)
FROM debtors AS d CROSS JOIN generate_series(1, 4) AS c WHERE d.id > $1
UNION ALL
SELECT d.id, format('C%s-%s', lpad(c::text, 3, '0'), d.code), format('Case %s of %s: a new matter', c, d.name)
FROM debtors AS d CROSS JOIN generate_series($2::int + 1, $2::int + 30) AS c WHERE d.code = $3
"""
_BLOCKED = "UPDATE cases SET blocked = true WHERE id % 97 = 0"

# invoice k bills debtor 1 + (k - 1) % 50 the `per` oldest billable entries it has not billed yet: entries are
# numbered per debtor, and invoice k takes numbers ((k - 1) / 50) * per + 1 onwards
_INVOICES = """
INSERT INTO invoices (number, debtor_id, invoice_date, total, created_by_id)
SELECT format('INV-%s', lpad(k::text, 6, '0')), 1 + (k - 1) % $2::int, date '2025-12-01' + k / 5, 0, 1
FROM generate_series(1, $1::int) AS k
"""
_BILLED = """
CREATE TEMP TABLE billed AS
SELECT i.id AS invoice_id, p.id AS entry_id
FROM (SELECT t.id, t.debtor_id, row_number() OVER (PARTITION BY t.debtor_id ORDER BY t.id) AS n
      FROM time_entries AS t WHERE t.status = 'J') AS p
JOIN invoices AS i
  ON i.debtor_id = p.debtor_id AND i.number = format('INV-%s', lpad((((p.n - 1) / $1::int) * $2::int
     + p.debtor_id)::text, 6, '0'))
"""
_BILL = (
    "UPDATE time_entries AS t SET status = 'F', invoice_id = b.invoice_id FROM billed AS b WHERE t.id = b.entry_id",
    "INSERT INTO invoice_entries (invoice_id, time_entry_id) SELECT invoice_id, entry_id FROM billed",
    "INSERT INTO invoice_lines (invoice_id, case_id, activity_id, rate, minutes, amount)"
    " SELECT b.invoice_id, t.case_id, t.activity_id, t.rate, sum(t.minutes), sum(t.amount)"
    " FROM billed AS b JOIN time_entries AS t ON t.id = b.entry_id GROUP BY 1, 2, 3, 4",
    "UPDATE invoices AS i SET total = s.amount"
    " FROM (SELECT invoice_id, sum(amount) AS amount FROM invoice_lines GROUP BY 1) AS s WHERE i.id = s.invoice_id",
    "UPDATE invoice_counter SET last_number = (SELECT count(*) FROM invoices)",
    "DROP TABLE billed",
)


async def fill(url: str, sizes: Sizes, watch: timedata.Stopwatch) -> dict[str, float]:
    connection = await timedata.connect(url)
    try:
        await timedata.fill_base(connection, url)
        await connection.execute(_ROLES)
        await connection.execute(_DEBTORS, seed.DEBTORS)
        await connection.execute(_CASES, seed.DEBTORS, seed.CASES_PER_DEBTOR, LIST_DEBTOR)
        await connection.execute(_BLOCKED)
        watch.lap("base data, roles, debtors and cases")
        added = await timedata.insert_entries(
            connection, timedata.entries_from(SPREAD), sizes.entries, rebuild_indexes=True
        )
        watch.lap(f"{added:,} entries over the first 2,000 cases")
        # billed before the kept figures are added, so the totals and the rollup hold them as F
        await connection.execute(_INVOICES, sizes.invoices, seed.DEBTORS)
        await connection.execute(_BILLED, sizes.per_invoice, seed.DEBTORS)
        for statement in _BILL:
            await connection.execute(statement)
        watch.lap(f"{sizes.invoices} invoices of {sizes.per_invoice} entries")
        await timedata.add_kept(connection, 0, fresh=True)
        watch.lap("counts, book-year totals and rollup")
        await connection.execute("VACUUM ANALYZE")
        watch.lap("vacuum analyze")
        await timedata.check_kept(connection)
        short = await connection.fetchval(
            "SELECT count(*) FROM invoices AS i"
            " WHERE (SELECT count(*) FROM invoice_entries WHERE invoice_id = i.id) < $1",
            sizes.per_invoice,
        )
        if short:
            raise RuntimeError(f"{short} invoices bill fewer than {sizes.per_invoice} entries")
    finally:
        await connection.close()
    return {**watch.laps, "total": watch.total}


async def parents(url: str) -> dict[str, str]:
    """The global IDs of the nested lists' parents: the page case, the debtor with 70 cases, the first invoice."""
    connection = await timedata.connect(url)
    try:
        found = {
            "Case": await connection.fetchval("SELECT id FROM cases WHERE code = $1", PAGE_CASE),
            "Debtor": await connection.fetchval("SELECT id FROM debtors WHERE code = $1", LIST_DEBTOR),
            "Invoice": await connection.fetchval("SELECT id FROM invoices WHERE number = $1", INVOICE_NUMBER),
        }
    finally:
        await connection.close()
    missing = [name for name, db_id in found.items() if db_id is None]
    if missing:
        raise SystemExit(f"{DATABASE} lacks the {', '.join(missing)} the lists need: run without --reuse")
    return {name: global_id(name, int(db_id)) for name, db_id in found.items()}


def body(query: ListQuery, ids: dict[str, str]) -> bytes:
    payload: dict[str, Any] = {"query": query.document, "operationName": query.operation}
    if query.parent is not None:
        payload["variables"] = {"id": ids[query.parent]}
    return orjson.dumps(payload)


def prepare(args: argparse.Namespace) -> tuple[Any, str, dict[str, float]]:
    """The embedded server and the URL of the lists database: rebuilt and filled, or the last run's (--reuse)."""
    server = seed.start_server()
    if args.reuse:
        if "(1 row)" not in server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}';"):
            raise SystemExit(f"no database {DATABASE} to reuse: run without --reuse first")
        return server, embedded.url_of(server, DATABASE), {}
    watch = timedata.Stopwatch("lists_bench seed")
    url = timedata.recreate(server, DATABASE)
    watch.lap("database created and migrated")
    laps = asyncio.run(fill(url, QUICK if args.quick else FULL, watch))
    return server, url, laps


def checked_commands(servers: dict[str, Server], token: str, names: list[str], ids: dict[str, str]) -> dict[str, Any]:
    """Each list's load command per server, after checking that both answer it alike; a difference stops the run."""
    commands: dict[str, Any] = {}
    for name in names:
        request = body(LISTS[name], ids)
        answers = {label: post(server, request, token) for label, server in servers.items()}
        decoded = {label: orjson.loads(answer) for label, answer in answers.items()}
        if "errors" in decoded["casetime"]:
            raise SystemExit(f"casetime answered {name} with errors: {decoded['casetime']['errors']}")
        if decoded["casetime"] != decoded["floor"]:
            difference = first_difference(decoded["casetime"], decoded["floor"]).replace("app ", "casetime ", 1)
            print(f"WARNING: casetime and floor differ for {name}: {difference}")
            raise SystemExit(f"lists_bench: stopped: the floor does not answer {name} as casetime does")
        edges = _edges(decoded["casetime"])
        if len(edges) < 50:
            print(f"WARNING: {name}: a page of {len(edges)} rows, fewer than 50")
        commands[name] = {
            label: {"body": request.decode(), "token": token, "expect": answer.decode()}
            for label, answer in answers.items()
        }
    return commands


def _edges(answer: dict[str, Any]) -> list[Any]:
    connection: Any = answer["data"]
    while "edges" not in connection:
        connection = next(iter(connection.values()))
    edges: list[Any] = connection["edges"]
    return edges


def summarise(rounds: dict[str, list[Round]]) -> dict[str, Any]:
    """Medians of both sides, and casetime / floor round by round (the two run back to back)."""
    pairs = list(zip(rounds["casetime"], rounds["floor"], strict=True))
    cpu = [a.cpu_ms / f.cpu_ms for a, f in pairs if f.cpu_ms]
    req = [a.req_s / f.req_s for a, f in pairs if f.req_s]
    return {
        "casetime": medians(rounds["casetime"]),
        "floor": medians(rounds["floor"]),
        "cpu_ratio": {"median": statistics.median(cpu), "worst": max(cpu), "rounds": cpu},
        "req_s_ratio": {"median": statistics.median(req), "worst": min(req), "rounds": req},
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    names: list[str] = args.only or list(LISTS)
    server, url, seed_laps = prepare(args)
    ids = asyncio.run(parents(url))
    db = DbBackends(server.get_pid(), DATABASE)
    servers = {
        "casetime": start_server("casetime", "edge.app:app", url),
        "floor": start_server("floor", "bench.lists_floor:app", url),
    }
    load: LoadProcess | None = None
    results: dict[str, Any] = {"seed_seconds": seed_laps, "clients": {}}
    try:
        for each in servers.values():
            wait_ready(each)
        token = login(servers["casetime"])
        commands = checked_commands(servers, token, names, ids)
        load = LoadProcess()
        for clients in args.clients:
            if args.warmup > 0:
                for name in names:
                    for label, target in servers.items():
                        measure(target, load, db, commands[name][label], seconds=args.warmup, concurrency=clients)
            rounds: dict[str, dict[str, list[Round]]] = {name: {"casetime": [], "floor": []} for name in names}
            for number in range(args.rounds):
                order = ["casetime", "floor"] if number % 2 == 0 else ["floor", "casetime"]
                for name in names:
                    for label in order:
                        result = measure(
                            servers[label], load, db, commands[name][label], seconds=args.seconds, concurrency=clients
                        )
                        rounds[name][label].append(result)
                        print(
                            f"lists_bench: {clients} clients, round {number + 1}/{args.rounds} {name:<19} {label:<8}"
                            f" {result.req_s:6.0f} req/s  p50 {result.p50_ms:6.2f} ms  CPU {result.cpu_ms:6.3f} ms/req",
                            file=sys.stderr,
                        )
            results["clients"][str(clients)] = {name: summarise(rounds[name]) for name in names}
    finally:
        if load is not None:
            load.stop()
        for each in servers.values():
            each.stop()
    return results


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True).stdout


def code_lines(before: str = BEFORE_ISSUE) -> dict[str, Any]:
    """Lines of the application's Python at `before` and in the working tree, and `git diff --shortstat` between."""

    def lines(*rev: str) -> int:
        counted = _git(
            "grep", "-c", "", *rev, "--", *(f"{path}/*.py" if "." not in path else path for path in APP_CODE)
        )
        return sum(int(line.rsplit(":", 1)[1]) for line in counted.splitlines())

    return {
        "before": before,
        "lines_before": lines(before),
        "lines_after": lines(),
        "diff": _git("diff", "--shortstat", before, "--", *APP_CODE).strip(),
    }


def print_table(results: dict[str, Any], args: argparse.Namespace) -> None:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"\nlists_bench: {args.rounds} rounds x {args.seconds:g} s, {os.cpu_count()} cores, load average {load};"
        " medians across rounds, ratios casetime / floor of each round"
    )
    header = (
        f"{'clients':>7} {'list':<19} {'server':<8} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'CPU ms/req':>10}"
        f" {'db ms/req':>9}"
    )
    print(header)
    print("-" * len(header))
    for clients, lists in results["clients"].items():
        for name, result in lists.items():
            for label in ("casetime", "floor"):
                row = result[label]
                print(
                    f"{clients:>7} {name:<19} {label:<8} {row['req_s']:>7.0f} {row['p50_ms']:>7.2f}"
                    f" {row['p99_ms']:>7.2f} {row['cpu_ms']:>10.3f} {row['db_cpu_ms']:>9.3f}"
                )
            cpu, req = result["cpu_ratio"], result["req_s_ratio"]
            verdict = "meets" if cpu["worst"] <= TARGET_CPU_RATIO else "MISSES"
            print(
                f"{clients:>7} {name:<19} {'ratio':<8} {req['median']:>6.2f}x {'':>7} {'':>7}"
                f" {cpu['median']:>9.2f}x  worst {cpu['worst']:.2f}x, req/s worst {req['worst']:.2f}x:"
                f" {verdict} <= {TARGET_CPU_RATIO}x"
            )
    code = results["code"]
    print(
        f"\napplication code (Python in {', '.join(APP_CODE)}): {code['lines_before']:,} lines at {code['before']},"
        f" {code['lines_after']:,} now; git diff --shortstat: {code['diff']}"
    )
    print(f"seed seconds: {results['seed_seconds'] or 'reused'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.lists_bench", description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds (default 3)")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each round (default 4)")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured round per list and server (default 1)")
    parser.add_argument("--clients", type=int, nargs="+", default=[16], help="keep-alive connections (default 16)")
    parser.add_argument("--only", nargs="+", choices=list(LISTS), help="measure these lists only")
    parser.add_argument("--quick", action="store_true", help="small data (100,000 entries: 50 a case)")
    parser.add_argument("--reuse", action="store_true", help="keep the database of the last run")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.seconds <= 0 or min(args.clients) < 1:
        parser.error("--rounds, --seconds and --clients must be positive")
    load_before = os.getloadavg()
    started = time.monotonic()
    results = run(args)
    results["code"] = code_lines()
    print_table(results, args)
    written = results_path("lists_bench", quick=args.quick)
    documents = {name: LISTS[name].document for name in args.only or LISTS}
    write_results(
        written, args, load_before, started, documents=documents, target_cpu_ratio=TARGET_CPU_RATIO, results=results
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
