"""What recording every change costs a write (SPEC 13): the same server, the same database, rounds in turn with the
event triggers of migration 0008 enabled and disabled.

`.venv/bin/python -m bench.outbox_bench [--quick] [--clients 16 64] [--rounds 6]`. Builds write_bench's database
(`casetime_bench_write`, its caps raised so every write is the same plain J entry), serves the app with uvicorn (one
worker) and drives write_bench's spread load: `createTimeEntry` on ~500 capped cases in turn. Between rounds it
switches the triggers that append events (`ALTER TABLE … ENABLE/DISABLE TRIGGER`), so both sides share the server
process, its caches and its pool; the order alternates each round. Figures: req/s, p50, CPU ms a request of the
server and of the database's backends, medians, and the median of each round's with/without ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
from collections.abc import Callable
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import orjson

from bench import write_bench
from bench.run import DbBackends, LoadProcess, Round, login, measure, medians, start_server, wait_ready
from bench.run import results_path as results_file

# the triggers that append events (migration 0008), by table
EVENT_TRIGGERS = {
    "time_entries": ("entries_inserted", "entries_updated", "entries_deleted"),
    "case_year_totals": ("caps_crossed",),
}


async def switch(url: str, *, on: bool) -> None:
    connection = await asyncpg.connect(url)
    try:
        for table, triggers in EVENT_TRIGGERS.items():
            for trigger in triggers:
                await connection.execute(f"ALTER TABLE {table} {'ENABLE' if on else 'DISABLE'} TRIGGER {trigger}")
    finally:
        await connection.close()


async def events(url: str) -> int:
    connection = await asyncpg.connect(url)
    try:
        return int(await connection.fetchval("SELECT count(*) FROM events"))
    finally:
        await connection.close()


def with_and_without(
    args: argparse.Namespace,
    url: str,
    db: DbBackends,
    cases: write_bench.Cases,
    switch: Callable[[bool], None],
    counted: Callable[[], int],
) -> dict[str, Any]:
    """write_bench's spread load on one app, per client count of `args.clients`: a warm-up round, then `args.rounds`
    rounds a side, `switch(True)` or `switch(False)` before each, the order alternating. Per count: both sides'
    medians, the median of the rounds' with/without ratios, how much `counted()` grew over the with-rounds
    (`grown`) and the writes they made (`written`)."""
    app = start_server("app", "edge.app:app", url)
    load: LoadProcess | None = None
    results: dict[str, Any] = {}
    try:
        wait_ready(app)
        token = login(app)
        load = LoadProcess()
        command = {"bodies": [orjson.dumps(write_bench.body(c)).decode() for c in cases.spread], "token": token}
        command["expect"] = ""
        for clients in args.clients:
            measure(app, load, db, command, seconds=args.warmup, concurrency=clients)
            rounds: dict[str, list[Round]] = {"with": [], "without": []}
            grown = 0
            for number in range(args.rounds):
                for side in ("with", "without") if number % 2 == 0 else ("without", "with"):
                    switch(side == "with")
                    before = counted()
                    result = measure(app, load, db, command, seconds=args.seconds, concurrency=clients)
                    if side == "with":
                        grown += counted() - before
                    rounds[side].append(result)
                    write_bench.log_round(f"{clients} {side}", number, args.rounds, result)
            ratios = {
                field: statistics.median(
                    write_bench.ratio(getattr(w, field), getattr(o, field))
                    for w, o in zip(rounds["with"], rounds["without"], strict=True)
                )
                for field in ("req_s", "p50_ms", "cpu_ms", "db_cpu_ms")
            }
            results[str(clients)] = {
                "with": medians(rounds["with"]),
                "without": medians(rounds["without"]),
                "with_over_without": ratios,
                "grown": grown,
                "written": sum(r.requests - r.errors for r in rounds["with"]),
            }
    finally:
        if load is not None:
            load.stop()
        app.stop()
    return results


def run(args: argparse.Namespace) -> dict[str, Any]:
    built = write_bench.build("outbox_bench", quick=args.quick)
    url, cases, db = built.url, built.cases, built.db
    try:
        results = with_and_without(
            args, url, db, cases, lambda on: asyncio.run(switch(url, on=on)), lambda: asyncio.run(events(url))
        )
    finally:
        asyncio.run(switch(url, on=True))
    for figures in results.values():
        figures["events_per_write"] = figures["grown"] / max(figures["written"], 1)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.outbox_bench", description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--rounds", type=int, default=6, help="measured rounds per side (default 6)")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each round (default 4)")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured round first (default 2)")
    parser.add_argument("--clients", type=int, nargs="+", default=[16], help="client counts, in order (default 16)")
    parser.add_argument("--quick", action="store_true", help="small data and short rounds: a smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.seconds, args.warmup = 2, 1.0, 0.5
    results = run(args)
    for clients, figures in results.items():
        w, o, r = figures["with"], figures["without"], figures["with_over_without"]
        print(f"outbox, {clients} clients: with {w['req_s']:.0f} req/s, without {o['req_s']:.0f} req/s")
        print(
            f"  with/without (median of rounds): req/s {r['req_s']:.2f}x, p50 {r['p50_ms']:.2f}x, app CPU"
            f" {r['cpu_ms']:.2f}x, database CPU {r['db_cpu_ms']:.2f}x; {figures['events_per_write']:.2f} events a write"
        )
    path = results_file("outbox_bench", quick=args.quick)
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
