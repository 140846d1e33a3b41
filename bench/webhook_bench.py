"""Webhooks (SPEC 13): how fast deliveries go out to a local receiver with one and with two delivery loops, and what a
webhook of every event type costs the writes of the worker that delivers it.

`.venv/bin/python -m bench.webhook_bench [--quick] [--clients 16 64] [--rounds 4] [--events 3000]`. Builds
write_bench's database (`casetime_bench_write`, its caps raised so every write is the same plain J entry), and
serves a receiver (`python -m bench.webhook_bench receive`: uvicorn, one process, answering 200 to every POST
without checking it) beside the app.

1. **Deliveries.** Per round, one app (`uvicorn edge.app:app`, one worker: its lifespan runs the delivery loop) or
   two (two instances on one database), started and ready before anything is timed; then `--events` events of one
   transaction (`timer.changed`, inserted by SQL) for a webhook of that type, and the time from their commit until
   every delivery is recorded DELIVERED (the first poll's wait, up to 250 ms, included). Figures: deliveries a
   second, CPU ms a delivery of the loops' processes and of the database's backends; the side that goes first
   alternates each round.
2. **Writes.** write_bench's spread load (`createTimeEntry` on ~500 capped cases in turn) on one app whose loop
   delivers, in rounds in turn with a webhook of every event type switched on (each write's event is delivered by the
   same process, while it serves the writes) and off (`UPDATE webhooks`, as `updateWebhook` does; switched on again
   it receives the events from then on). Figures as outbox_bench's: req/s, p50, CPU ms a request of the server and of
   the database's backends, medians, and the median of each round's with/without ratio; and the deliveries the
   with-rounds made a second.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import uvicorn

from bench import outbox_bench, write_bench
from bench.run import (
    DbBackends,
    Server,
    free_port,
    start_server,
    wait_ready,
)
from bench.run import results_path as results_file
from services import events
from services.event_feed import PAST_ANY_ID
from settings import PROJECT_ROOT

SECRET = "bench-webhook-secret"
# a webhook starts after the feed's position when it is made or switched on (services/webhooks.py)
_FROM_NOW = f"pg_snapshot_xmin(pg_current_snapshot())::text::bigint - 1, {PAST_ANY_ID}"


async def _receive(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})


def start_receiver() -> Server:
    port = free_port()
    command = [sys.executable, "-m", "bench.webhook_bench", "receive", "--port", str(port)]
    return Server("receiver", port, subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL))


async def _sql(url: str, statement: str, *args: Any) -> Any:
    connection = await asyncpg.connect(url)
    try:
        return await connection.fetchval(statement, *args)
    finally:
        await connection.close()


def add_webhook(url: str, receiver: Server, types: list[str], *, active: bool) -> int:
    return int(
        asyncio.run(
            _sql(
                url,
                "INSERT INTO webhooks (url, event_types, secret, active, created_by_id, from_xid, from_event_id)"
                f" VALUES ($1, $2, $3, $4, 1, {_FROM_NOW}) RETURNING id",
                f"{receiver.url}/hooks",
                types,
                SECRET,
                active,
            )
        )
    )


def switch(url: str, webhook_id: int, *, on: bool) -> None:
    asyncio.run(
        _sql(
            url,
            f"UPDATE webhooks SET active = $2, (from_xid, from_event_id) = (SELECT {_FROM_NOW}) WHERE id = $1",
            webhook_id,
            on,
        )
    )


def delivered(url: str) -> int:
    return int(asyncio.run(_sql(url, "SELECT count(*) FROM webhook_deliveries WHERE status = 'DELIVERED'")))


async def _events_then_wait(url: str, count: int, within: float) -> float:
    """Commit `count` timer events in one transaction; the seconds until every one of them is delivered."""
    connection = await asyncpg.connect(url)
    try:
        before = await connection.fetchval("SELECT count(*) FROM webhook_deliveries WHERE status = 'DELIVERED'")
        await connection.execute(
            "INSERT INTO events (type, record_type, record_id, employee_id, data) SELECT 'timer.changed', 'Timer', g,"
            " 1, '{\"running\": true}' FROM generate_series(1, $1::int) g",
            count,
        )
        started = time.monotonic()
        while time.monotonic() - started < within:
            done = await connection.fetchval("SELECT count(*) FROM webhook_deliveries WHERE status = 'DELIVERED'")
            if done - before >= count:
                return time.monotonic() - started
            await asyncio.sleep(0.02)
        raise RuntimeError(f"{count} deliveries not done within {within:g} s")
    finally:
        await connection.close()


def delivery_round(url: str, db: DbBackends, loops: int, count: int) -> dict[str, float]:
    apps = [start_server(f"loop {n}", "edge.app:app", url) for n in range(loops)]
    try:
        for app in apps:
            wait_ready(app)
        cpu_before, db_before = sum(a.cpu_seconds() for a in apps), db.cpu_seconds()
        seconds = asyncio.run(_events_then_wait(url, count, within=120))
        cpu_after, db_after = sum(a.cpu_seconds() for a in apps), db.cpu_seconds()
    finally:
        for app in apps:
            app.stop()
    return {
        "deliveries_s": count / seconds,
        "seconds": seconds,
        "cpu_ms": (cpu_after - cpu_before) * 1000 / count,
        "db_cpu_ms": DbBackends.spent(db_before, db_after) * 1000 / count,
    }


def deliveries(args: argparse.Namespace, url: str, db: DbBackends, receiver: Server) -> dict[str, Any]:
    webhook = add_webhook(url, receiver, ["timer.changed"], active=True)
    rounds: dict[int, list[dict[str, float]]] = {1: [], 2: []}
    try:
        for number in range(args.rounds):
            for loops in (1, 2) if number % 2 == 0 else (2, 1):
                result = delivery_round(url, db, loops, args.events)
                rounds[loops].append(result)
                print(
                    f"  deliveries, {loops} loop(s), round {number + 1}/{args.rounds}: {result['deliveries_s']:.0f}/s,"
                    f" loops' CPU {result['cpu_ms']:.3f} ms and database's {result['db_cpu_ms']:.3f} ms a delivery",
                    file=sys.stderr,
                )
    finally:
        switch(url, webhook, on=False)
    results: dict[str, Any] = {}
    for loops, found in rounds.items():
        results[str(loops)] = {
            field: statistics.median(r[field] for r in found) for field in ("deliveries_s", "cpu_ms", "db_cpu_ms")
        }
        results[str(loops)]["rounds"] = found
    results["two_over_one"] = statistics.median(
        two["deliveries_s"] / one["deliveries_s"] for one, two in zip(rounds[1], rounds[2], strict=True)
    )
    return results


def writes(
    args: argparse.Namespace, url: str, db: DbBackends, receiver: Server, cases: write_bench.Cases
) -> dict[str, Any]:
    webhook = add_webhook(url, receiver, list(events.TYPES), active=False)
    try:
        results = outbox_bench.with_and_without(
            args, url, db, cases, lambda on: switch(url, webhook, on=on), lambda: delivered(url)
        )
    finally:
        switch(url, webhook, on=False)
    for figures in results.values():
        figures["deliveries_s_while_writing"] = figures["grown"] / (args.rounds * args.seconds)
    return results


def run(args: argparse.Namespace) -> dict[str, Any]:
    built = write_bench.build("webhook_bench", quick=args.quick)
    url, cases, db = built.url, built.cases, built.db
    receiver = start_receiver()
    try:
        wait_ready(receiver)  # it answers 200 to /healthz as to anything
        return {
            "deliveries": deliveries(args, url, db, receiver),
            "writes": writes(args, url, db, receiver, cases),
            "receiver_cpu_s": receiver.cpu_seconds(),
        }
    finally:
        receiver.stop()


def report(results: dict[str, Any]) -> None:
    for loops in ("1", "2"):
        d = results["deliveries"][loops]
        print(
            f"deliveries, {loops} loop(s): {d['deliveries_s']:.0f}/s; CPU a delivery: loops {d['cpu_ms']:.3f} ms,"
            f" database {d['db_cpu_ms']:.3f} ms"
        )
    print(f"  two loops / one (median of rounds): {results['deliveries']['two_over_one']:.2f}x")
    for clients, figures in results["writes"].items():
        w, o, r = figures["with"], figures["without"], figures["with_over_without"]
        print(
            f"writes, {clients} clients: with a webhook of every type {w['req_s']:.0f} req/s, without"
            f" {o['req_s']:.0f} req/s; {figures['deliveries_s_while_writing']:.0f} deliveries/s meanwhile"
        )
        print(
            f"  with/without (median of rounds): req/s {r['req_s']:.2f}x, p50 {r['p50_ms']:.2f}x, app CPU"
            f" {r['cpu_ms']:.2f}x, database CPU {r['db_cpu_ms']:.2f}x"
        )


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["receive"]:
        port = argparse.ArgumentParser(prog="bench.webhook_bench receive")
        port.add_argument("--port", type=int, required=True)
        given = port.parse_args(argv[1:])
        uvicorn.run(_receive, host="127.0.0.1", port=given.port, log_level="warning", access_log=False)
        return 0
    parser = argparse.ArgumentParser(prog="bench.webhook_bench", description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--rounds", type=int, default=4, help="measured rounds per side (default 4)")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each write round (default 4)")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured write round first (default 2)")
    parser.add_argument("--events", type=int, default=3000, help="events a delivery round sends (default 3000)")
    parser.add_argument("--clients", type=int, nargs="+", default=[16, 64], help="write clients (default 16 64)")
    parser.add_argument("--quick", action="store_true", help="small data and short rounds: a smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.seconds, args.warmup, args.events = 1, 1.0, 0.5, 300
    results = run(args)
    report(results)
    path = results_file("webhook_bench", quick=args.quick)
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
