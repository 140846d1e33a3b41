"""Issue 15, item 3: two bulk writes through HTTP against the real app, `saveCaseTimeList` of 50 rows and
`createInvoice` over 2,000 entries.

`.venv/bin/python -m bench.bulk_write_bench [--quick] [--rounds N]`. Rebuilds `casetime_bench_bulk` on the embedded
server (migrated, filled with SQL only: bench/timedata.py's base data and bench/time_bench.py's spread of entries over
every case, with counts, totals and rollups by `timedata.add_kept`), serves the app with uvicorn (one worker,
bench/run.py's `start_server`) and:

1. **save50 beside one create.** `saveCaseTimeList` of 50 new rows (no `id`: 50 creates, PER_DATE, 30 minutes each on
   50 days of 2025, activities A01-A16) against one `createTimeEntry` (bench/write_bench.py's `body`: 30 minutes on
   2025-06-02, A01), each spread over its own TIME-capped cases (caps raised to 2,000,000,000 minutes so every row is
   a plain J entry, the lists EDITABLE: 100 entries each and at most a few hundred written). One client, keep-alive,
   from bench/load.py (`measure` of bench/run.py, concurrency 1): latency per request. A `--warmup` round each, then
   `--rounds` rounds of `--seconds`, the two back to back (save50 first in odd rounds). Per round: p50 latency, server
   CPU per request (the uvicorn process's user + system time from /proc before and after, as bench/run.py does) and
   the database backends' CPU per request; figures are medians across rounds, ratio = median of per-round
   save50/create ratios (target p50 <= 10x).
2. **createInvoice over 2,000 entries.** A debtor `DBULK` of its own with 4 cases holds exactly `--invoice-entries`
   (2,000) uninvoiced J entries from 2025-01-01 to 2025-06-30, and beside them entries the invoice must leave alone:
   N entries in that period and J entries after it. `createInvoice(debtorId, upTo: 2025-06-30)` through HTTP (one
   unmeasured create and void first); the answer must hold no error, its total and its lines' minutes must be those
   of exactly the 2,000 entries, and the database must link 2,000 entries to it; then `voidInvoice` puts them back
   to J (checked) and the next round starts. Per round: latency, server CPU and database CPU of the create (and the
   void's latency); the median across `--rounds` (target < 1 s).
3. **Statements per request**, counted in this process before anything is measured (the app on its own engine
   through httpx's ASGI transport, bench/write_bench.py's `counted_statements`: SQLAlchemy's `before_cursor_execute`,
   `begin`, `commit` and `rollback` events): one create and one save50 (each the second of two), one createInvoice
   (the second of two create/void cycles). An executemany counts as one event but is sent once per parameter set;
   both figures are printed.

Results go to bench/results/bulk_write_bench.json (`bulk_write_bench_quick.json` with `--quick`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

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
from bench.write_bench import BIG_CAP_MINUTES, Send, counted_statements, environment, first_line, written_on
from bench.write_bench import body as create_body

DATABASE = "casetime_bench_bulk"
SAVE_ROWS = 50
SAVE_FIRST_DATE = date(2025, 5, 1)
CASES_PER_SIDE = 20  # TIME-capped cases each side cycles over

INVOICE_DEBTOR = "DBULK"
INVOICE_CASES = 4
INVOICE_FROM = date(2025, 1, 1)
INVOICE_UP_TO = date(2025, 6, 30)
INVOICE_DATE = date(2025, 7, 5)

TARGET_SAVE_RATIO = 10.0  # save50 p50 <= 10x one create's
TARGET_INVOICE_S = 1.0  # createInvoice over 2,000 entries: median < 1 s

SAVE_MUTATION = (
    "mutation($caseId: ID!, $changes: [TimeListChange!]!) { saveCaseTimeList(caseId: $caseId, changes: $changes) {"
    " timeEntries { id minutes status } warnings { code } userErrors { code message } } }"
)
INVOICE_MUTATION = (
    "mutation($input: InvoiceInput!) { createInvoice(input: $input) {"
    " invoice { id number total voided lines { minutes amount } } userErrors { code message } } }"
)
VOID_MUTATION = "mutation($id: ID!) { voidInvoice(id: $id) { invoice { id voided } userErrors { code message } } }"

# the invoice debtor's entries, over its cases ($2): `n` J entries in the period, then what the invoice leaves alone
INVOICED = f"""
SELECT ($2::int[])[1 + g % {INVOICE_CASES}] AS case_id, 1 + (g * 7) % 500 AS employee_id, 1 + g % 16 AS activity_id,
       date '{INVOICE_FROM}' + (g % {(INVOICE_UP_TO - INVOICE_FROM).days + 1})::int AS work_date,
       15 + (g % 8) * 15 AS minutes, format('Invoiced work, item %s', g) AS description
FROM generate_series(0, $1::bigint - 1) AS g
"""
NOT_BILLABLE = f"""
SELECT ($2::int[])[1 + g % {INVOICE_CASES}] AS case_id, 1 + (g * 11) % 500 AS employee_id, 17 + g % 4 AS activity_id,
       date '{INVOICE_FROM}' + (g % 181)::int AS work_date, 30 AS minutes, format('Internal, item %s', g) AS description
FROM generate_series(0, $1::bigint - 1) AS g
"""
LATER = f"""
SELECT ($2::int[])[1 + g % {INVOICE_CASES}] AS case_id, 1 + (g * 13) % 500 AS employee_id, 1 + g % 16 AS activity_id,
       date '{INVOICE_UP_TO}' + (1 + g % 60)::int AS work_date, 45 AS minutes, format('Later work, item %s', g)
       AS description
FROM generate_series(0, $1::bigint - 1) AS g
"""
BILLABLE = """
SELECT count(*), coalesce(sum(minutes), 0), coalesce(sum(amount), 0) FROM time_entries
WHERE debtor_id = $1 AND status = 'J' AND invoice_id IS NULL AND work_date <= $2
"""


@dataclass(frozen=True)
class Sizes:
    per_case: int  # entries on every case
    invoice: int  # uninvoiced J entries of the invoice debtor in the period
    beside: int  # N entries in the period and J entries after it, each


FULL = Sizes(per_case=100, invoice=2000, beside=200)
QUICK = Sizes(per_case=10, invoice=200, beside=20)


@dataclass(frozen=True)
class Cases:
    save: list[int]
    create: list[int]
    debtor: int
    billable: tuple[int, int, Decimal]  # the invoice debtor's entries to invoice: count, minutes, amount


def save_body(case_id: int) -> dict[str, Any]:
    changes = [
        {
            "entry": {
                "activityId": global_id("Activity", 1 + i % 16),
                "workDate": (SAVE_FIRST_DATE + timedelta(days=i)).isoformat(),
                "minutes": 30,
            }
        }
        for i in range(SAVE_ROWS)
    ]
    return {"query": SAVE_MUTATION, "variables": {"caseId": global_id("Case", case_id), "changes": changes}}


def invoice_body(debtor_id: int) -> dict[str, Any]:
    variables = {
        "input": {
            "debtorId": global_id("Debtor", debtor_id),
            "upTo": INVOICE_UP_TO.isoformat(),
            "invoiceDate": INVOICE_DATE.isoformat(),
        }
    }
    return {"query": INVOICE_MUTATION, "variables": variables}


def void_body(invoice_id: str) -> dict[str, Any]:
    return {"query": VOID_MUTATION, "variables": {"id": invoice_id}}


async def fill(url: str, sizes: Sizes, watch: timedata.Stopwatch) -> Cases:
    connection = await timedata.connect(url)
    try:
        await timedata.fill_base(connection, url)
        watch.lap("base data")
        spread = await timedata.insert_entries(
            connection, timedata.entries_from(SPREAD), sizes.per_case * 2000, rebuild_indexes=True
        )
        watch.lap(f"{spread:,} entries over all cases")
        debtor = int(
            await connection.fetchval(
                "INSERT INTO debtors (code, name) VALUES ($1, 'Bulk invoice debtor Ltd') RETURNING id", INVOICE_DEBTOR
            )
        )
        invoice_cases = [
            int(
                await connection.fetchval(
                    "INSERT INTO cases (debtor_id, code, description, max_per_book_year)"
                    " VALUES ($1, $2, 'Bulk invoice case', 'NONE') RETURNING id",
                    debtor,
                    f"B{n}-{INVOICE_DEBTOR}",
                )
            )
            for n in range(1, INVOICE_CASES + 1)
        ]
        written = [
            await timedata.insert_entries(connection, timedata.entries_from(sql), n, invoice_cases)
            for sql, n in ((INVOICED, sizes.invoice), (NOT_BILLABLE, sizes.beside), (LATER, sizes.beside))
        ]
        watch.lap(f"invoice debtor: {written[0]:,} to invoice, {written[1]:,} N, {written[2]:,} J after the period")
        await timedata.add_kept(connection, 0, fresh=True)
        watch.lap("counts, book-year totals and rollup")
        await connection.execute("UPDATE cases SET max_minutes = $1 WHERE max_per_book_year = 'TIME'", BIG_CAP_MINUTES)
        rows = await connection.fetch(
            "SELECT id FROM cases WHERE max_per_book_year = 'TIME' AND NOT blocked ORDER BY id LIMIT $1",
            2 * CASES_PER_SIDE,
        )
        await timedata.vacuum_analyze(
            connection, "time_entries", "time_rollup", "time_rollup_month", "case_year_totals", "cases"
        )
        watch.lap("caps raised, vacuum analyze")
        await timedata.check_kept(connection)
        count, minutes, amount = await connection.fetchrow(BILLABLE, debtor, INVOICE_UP_TO)
        if count != sizes.invoice:
            raise RuntimeError(f"the invoice debtor has {count} billable entries, not {sizes.invoice}")
    finally:
        await connection.close()
    ids = [int(r["id"]) for r in rows]
    return Cases(save=ids[0::2], create=ids[1::2], debtor=debtor, billable=(int(count), int(minutes), Decimal(amount)))


# --- statements -------------------------------------------------------------------------------------------------


def summed(sent: list[tuple[str, int]]) -> dict[str, Any]:
    return {
        "events": len(sent),
        "sent": sum(n for _, n in sent),
        "executemany": [f"{n} x {first_line(s)}" for s, n in sent if n > 1],
        "statements": [first_line(s) for s, _ in sent],
    }


def count_statements(url: str, cases: Cases) -> dict[str, dict[str, Any]]:
    async def twice(send: Send, body: dict[str, Any], mutation: str) -> None:
        for number in range(2):
            answer = await send(body, number == 1)
            if answer.get("errors") or answer["data"][mutation]["userErrors"]:
                raise RuntimeError(f"the counted {mutation} failed: {answer}")

    async def invoice_cycles(send: Send) -> None:
        for number in range(2):
            created = await send(invoice_body(cases.debtor), number == 1)
            invoice_id = checked_invoice(created)
            voided = await send(void_body(invoice_id), False)
            checked_void(voided)

    counted: dict[str, dict[str, Any]] = {}
    with environment(DATABASE_URL=url, CASETIME_ENV="development"):
        for name, drive in (
            ("create", lambda send: twice(send, create_body(cases.create[0]), "createTimeEntry")),
            ("save50", lambda send: twice(send, save_body(cases.save[0]), "saveCaseTimeList")),
            ("createInvoice", invoice_cycles),
        ):
            counted[name] = summed(asyncio.run(counted_statements(url, drive)))
            print(
                f"bulk_write_bench: {name}: {counted[name]['events']} statements ({counted[name]['sent']} sent)",
                file=sys.stderr,
            )
    return counted


# --- save50 beside one create ------------------------------------------------------------------------------------


def check_save_and_create(app: Server, token: str, cases: Cases) -> None:
    """One of each through HTTP before the load: 50 J rows, one J entry, no error."""
    saved = orjson.loads(post(app, orjson.dumps(save_body(cases.save[0])), token))
    payload = (saved.get("data") or {}).get("saveCaseTimeList") or {}
    statuses = [e["status"] for e in payload.get("timeEntries") or []]
    if saved.get("errors") or payload.get("userErrors") or statuses != ["BILLABLE"] * SAVE_ROWS:
        raise RuntimeError(f"saveCaseTimeList answered {str(saved)[:600]}")
    created = orjson.loads(post(app, orjson.dumps(create_body(cases.create[0])), token))
    entry = ((created.get("data") or {}).get("createTimeEntry") or {}).get("timeEntry") or {}
    if created.get("errors") or entry.get("status") != "BILLABLE":
        raise RuntimeError(f"createTimeEntry answered {created}")


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def run_pair(
    args: argparse.Namespace, app: Server, load: LoadProcess, db: DbBackends, token: str, cases: Cases
) -> tuple[dict[str, Any], dict[str, int]]:
    parts: dict[str, dict[str, Any]] = {
        "save50": {"bodies": [orjson.dumps(save_body(c)).decode() for c in cases.save], "token": token, "expect": ""},
        "create": {
            "bodies": [orjson.dumps(create_body(c)).decode() for c in cases.create],
            "token": token,
            "expect": "",
        },
    }
    answered = dict.fromkeys(parts, 0)
    if args.warmup > 0:
        for part, cmd in parts.items():
            warm = measure(app, load, db, cmd, seconds=args.warmup, concurrency=1)
            answered[part] += warm.requests - warm.errors
    rounds: dict[str, list[Round]] = {part: [] for part in parts}
    for number in range(args.rounds):
        order = ["save50", "create"] if number % 2 == 0 else ["create", "save50"]
        for part in order:
            result = measure(app, load, db, parts[part], seconds=args.seconds, concurrency=1)
            answered[part] += result.requests - result.errors
            rounds[part].append(result)
            print(
                f"bulk_write_bench: round {number + 1}/{args.rounds} {part:<7} {result.requests:5} requests"
                f"  p50 {result.p50_ms:8.2f} ms  CPU {result.cpu_ms:8.3f} ms/req  db {result.db_cpu_ms:7.3f} ms/req",
                file=sys.stderr,
            )
    paired = {
        field: [
            ratio(getattr(s, field), getattr(c, field)) for s, c in zip(rounds["save50"], rounds["create"], strict=True)
        ]
        for field in ("p50_ms", "cpu_ms", "db_cpu_ms")
    }
    results = {
        "save50": medians(rounds["save50"]),
        "create": medians(rounds["create"]),
        "ratio": {field: statistics.median(values) for field, values in paired.items()},
        "ratio_rounds": paired,
    }
    return results, answered


# --- createInvoice ----------------------------------------------------------------------------------------------


def checked_invoice(answer: dict[str, Any]) -> str:
    payload = (answer.get("data") or {}).get("createInvoice") or {}
    invoice = payload.get("invoice")
    if answer.get("errors") or payload.get("userErrors") or not invoice:
        raise RuntimeError(f"createInvoice answered {str(answer)[:600]}")
    return str(invoice["id"])


def checked_void(answer: dict[str, Any]) -> None:
    payload = (answer.get("data") or {}).get("voidInvoice") or {}
    if answer.get("errors") or payload.get("userErrors") or not (payload.get("invoice") or {}).get("voided"):
        raise RuntimeError(f"voidInvoice answered {str(answer)[:600]}")


async def invoiced_entries(url: str, number: str, debtor: int) -> tuple[int, tuple[int, int, Decimal]]:
    """Entries linked to invoice `number`, and the debtor's billable entries left in the period."""
    connection = await timedata.connect(url)
    try:
        linked = await connection.fetchval(
            "SELECT count(*) FROM invoice_entries AS l JOIN invoices AS i ON i.id = l.invoice_id WHERE i.number = $1",
            number,
        )
        count, minutes, amount = await connection.fetchrow(BILLABLE, debtor, INVOICE_UP_TO)
        return int(linked), (int(count), int(minutes), Decimal(amount))
    finally:
        await connection.close()


def invoice_rounds(
    args: argparse.Namespace, url: str, app: Server, db: DbBackends, token: str, cases: Cases
) -> dict[str, Any]:
    n, minutes, amount = cases.billable
    create, rounds = orjson.dumps(invoice_body(cases.debtor)), []
    for number in range(args.rounds + 1):  # the first: unmeasured warm-up
        db_before, cpu_before, started = db.cpu_seconds(), app.cpu_seconds(), time.perf_counter()
        answer = orjson.loads(post(app, create, token))
        elapsed = time.perf_counter() - started
        cpu, db_cpu = app.cpu_seconds() - cpu_before, DbBackends.spent(db_before, db.cpu_seconds())
        invoice_id = checked_invoice(answer)
        invoice = answer["data"]["createInvoice"]["invoice"]
        line_minutes = sum(int(line["minutes"]) for line in invoice["lines"])
        linked, left = asyncio.run(invoiced_entries(url, invoice["number"], cases.debtor))
        if (linked, line_minutes, Decimal(invoice["total"]), left[0]) != (n, minutes, amount, 0):
            raise RuntimeError(
                f"invoice {invoice['number']}: {linked} entries linked, lines of {line_minutes} min, total"
                f" {invoice['total']}, {left[0]} billable left; expected {n} entries, {minutes} min, {amount}, 0 left"
            )
        started = time.perf_counter()
        checked_void(orjson.loads(post(app, orjson.dumps(void_body(invoice_id)), token)))
        void_s = time.perf_counter() - started
        _, back = asyncio.run(invoiced_entries(url, invoice["number"], cases.debtor))
        if back != cases.billable:
            raise RuntimeError(f"after the void the debtor's billable entries are {back}, not {cases.billable}")
        figures = {
            "invoice": invoice["number"],
            "entries": linked,
            "lines": len(invoice["lines"]),
            "seconds": elapsed,
            "cpu_ms": cpu * 1000,
            "db_cpu_ms": db_cpu * 1000,
            "void_seconds": void_s,
        }
        label = "warm-up" if number == 0 else f"round {number}/{args.rounds}"
        print(
            f"bulk_write_bench: createInvoice {label}: {linked} entries, {len(invoice['lines'])} lines,"
            f" {elapsed * 1000:.0f} ms, CPU {cpu * 1000:.0f} ms, db {db_cpu * 1000:.0f} ms;"
            f" void {void_s * 1000:.0f} ms",
            file=sys.stderr,
        )
        if number > 0:
            rounds.append(figures)
    summary = {
        field: statistics.median(r[field] for r in rounds)
        for field in ("seconds", "cpu_ms", "db_cpu_ms", "void_seconds")
    }
    return {"entries": n, "median": summary, "rounds": rounds}


# --- the run -----------------------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    sizes = QUICK if args.quick else FULL
    if args.invoice_entries is not None:
        sizes = Sizes(sizes.per_case, args.invoice_entries, sizes.beside)
    server = seed.start_server()
    print(f"bulk_write_bench: rebuilding {DATABASE} ({'quick' if args.quick else 'full'} size)", file=sys.stderr)
    watch = timedata.Stopwatch("bulk_write_bench seed")
    url = timedata.recreate(server, DATABASE)
    watch.lap("database dropped, created and migrated")
    cases = asyncio.run(fill(url, sizes, watch))
    results: dict[str, Any] = {
        "seed_seconds": {**watch.laps, "total": watch.total},
        "sizes": vars(sizes),
        "cases": {"save50": len(cases.save), "create": len(cases.create)},
    }
    results["statements"] = count_statements(url, cases)
    db = DbBackends(server.get_pid(), DATABASE)
    app = start_server("app", "edge.app:app", url)
    load: LoadProcess | None = None
    try:
        wait_ready(app)
        token = login(app)
        check_save_and_create(app, token, cases)
        before = {
            part: asyncio.run(written_on(url, ids)) for part, ids in (("save50", cases.save), ("create", cases.create))
        }
        load = LoadProcess()
        results["pair"], answered = run_pair(args, app, load, db, token, cases)
        load.stop()
        load = None
        written = {
            part: asyncio.run(written_on(url, ids)) - before[part]
            for part, ids in (("save50", cases.save), ("create", cases.create))
        }
        results["written"] = {"answered": answered, "entries": written}
        for part, rows in (("save50", SAVE_ROWS), ("create", 1)):
            if written[part] != answered[part] * rows:
                print(
                    f"WARNING: {part}: {answered[part]} answered, {written[part]} entries written"
                    f" (expected {answered[part] * rows})",
                    file=sys.stderr,
                )
        results["invoice"] = invoice_rounds(args, url, app, db, token, cases)
    finally:
        if load is not None:
            load.stop()
        app.stop()
    return results


def print_tables(results: dict[str, Any], args: argparse.Namespace) -> None:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print()
    print(
        f"bulk_write_bench: {args.rounds} rounds, {os.cpu_count()} cores, load average {load}; one client, sequential;"
        " CPU = uvicorn process user+system per request, db = the database's backends per request"
    )
    pair, written = results["pair"], results["written"]
    print(
        f"\nsaveCaseTimeList of {SAVE_ROWS} new rows vs one createTimeEntry, PER_DATE, TIME-capped cases"
        f" ({results['cases']['save50']} each), rounds of {args.seconds:g} s, medians across rounds"
    )
    header = f"{'':<14} {'requests':>9} {'p50 ms':>9} {'p99 ms':>9} {'CPU ms/req':>11} {'db ms/req':>10}"
    header += f" {'statements':>11} {'sent':>6}"
    print(header)
    for part in ("save50", "create"):
        row, sent = pair[part], results["statements"][part]
        print(
            f"{part:<14} {row['requests']:>9} {row['p50_ms']:>9.2f} {row['p99_ms']:>9.2f} {row['cpu_ms']:>11.2f}"
            f" {row['db_cpu_ms']:>10.2f} {sent['events']:>11} {sent['sent']:>6}"
        )
    r = pair["ratio"]
    save_stmts, create_stmts = results["statements"]["save50"]["events"], results["statements"]["create"]["events"]
    print(
        f"{'save50/create':<14} {'':>9} {r['p50_ms']:>8.2f}x {'':>9} {r['cpu_ms']:>10.2f}x {r['db_cpu_ms']:>9.2f}x"
        f" {ratio(save_stmts, create_stmts):>10.2f}x"
    )
    verdict = "meets" if r["p50_ms"] <= TARGET_SAVE_RATIO else "MISSES"
    print(f"   target: save50 p50 {r['p50_ms']:.2f}x one create's ({verdict} <= {TARGET_SAVE_RATIO:g}x)")
    print(f"   answered {written['answered']}, entries written {written['entries']}")
    invoice = results["invoice"]
    m = invoice["median"]
    sent = results["statements"]["createInvoice"]
    print(f"\ncreateInvoice over {invoice['entries']:,} entries (then voidInvoice), {len(invoice['rounds'])} rounds")
    print(f"{'round':<8} {'ms':>9} {'CPU ms':>9} {'db ms':>9} {'lines':>6} {'void ms':>9}")
    for number, row in enumerate(invoice["rounds"], 1):
        print(
            f"{number:<8} {row['seconds'] * 1000:>9.0f} {row['cpu_ms']:>9.0f} {row['db_cpu_ms']:>9.0f}"
            f" {row['lines']:>6} {row['void_seconds'] * 1000:>9.0f}"
        )
    print(
        f"{'median':<8} {m['seconds'] * 1000:>9.0f} {m['cpu_ms']:>9.0f} {m['db_cpu_ms']:>9.0f} {'':>6}"
        f" {m['void_seconds'] * 1000:>9.0f}"
    )
    verdict = "meets" if m["seconds"] < TARGET_INVOICE_S else "MISSES"
    print(f"   target: median {m['seconds'] * 1000:.0f} ms ({verdict} < {TARGET_INVOICE_S * 1000:.0f} ms)")
    print(f"   statements: {sent['events']} ({sent['sent']} sent, executemany counted once per parameter set)")
    for name, counted in results["statements"].items():
        print(f"\nstatements per request, {name}: {counted['events']} ({counted['sent']} sent)")
        for line in counted["executemany"]:
            print(f"  executemany: {line}")
        if len(counted["statements"]) <= 40:
            for number, statement in enumerate(counted["statements"], 1):
                print(f"  {number:>2}. {statement}")
    print(f"\nseed seconds: {results['seed_seconds']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bench.bulk_write_bench", description=__doc__.splitlines()[0] if __doc__ else ""
    )
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds of each part (default 3)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each save50/create round (default 10)")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured save50 and create round (default 1)")
    parser.add_argument("--invoice-entries", type=int, help="entries to invoice (default 2,000; --quick 200)")
    parser.add_argument("--quick", action="store_true", help="small data and short rounds: a smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.seconds, args.warmup = min(args.rounds, 1), min(args.seconds, 1.5), min(args.warmup, 0.5)
    if args.rounds < 1 or args.seconds <= 0 or (args.invoice_entries is not None and args.invoice_entries < 1):
        parser.error("--rounds, --seconds and --invoice-entries must be positive")
    load_before = os.getloadavg()
    started = time.monotonic()
    results = run(args)
    print_tables(results, args)
    written = results_path("bulk_write_bench", quick=args.quick)
    queries = {"save50": SAVE_MUTATION, "create": WRITE_MUTATION, "invoice": INVOICE_MUTATION, "void": VOID_MUTATION}
    targets = {"save50_p50_ratio": TARGET_SAVE_RATIO, "invoice_median_s": TARGET_INVOICE_S}
    write_results(written, args, load_before, started, queries=queries, targets=targets, **results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
