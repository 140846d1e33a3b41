"""What live subscriptions cost writes, and how fast an event reaches a subscriber on another worker (SPEC 13).

`.venv/bin/python -m bench.live_bench [--quick] [--clients 16 64] [--rounds 6] [--subscribers 100]`. Builds
write_bench's database (`casetime_bench_write`: every write the same plain J entry), serves the app twice with uvicorn
(one worker each, both on that database) and drives write_bench's spread load on the first: `createTimeEntry` on ~500
capped cases in turn.

Write throughput, in rounds taken in turn (the order alternating) on the same server: `without` any subscriber;
`idle`: `--subscribers` websocket connections, each following its own `timerChanged`, so every worker follows the
event feed but nothing is sent; `following`: as many connections each following `caseTimeChanged` of one of the
written cases, so about `subscribers / cases` of the writes are sent to someone. The subscribers are another process,
connected to the second server (a worker of their own, as in a deployment), and connected anew for each round.
Figures: req/s, p50, CPU ms a request of the writing server and of the database's backends, medians, and the median
of each round's ratio to `without`.

Latency: one subscriber on the second server follows `caseTimeChanged` on three cases the load leaves alone while
this process writes on them through the first, one at a time, 20 a second: from the write's answer to the event's
arrival, p50 and p99, with the servers otherwise idle and under the spread load at the first client count.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

import httpx
import orjson
import websockets

from bench import write_bench
from bench.run import DbBackends, LoadProcess, Round, Server, login, measure, medians, start_server, wait_ready
from bench.run import results_path as results_file
from graph import ids

PROTOCOL = "graphql-transport-ws"
CASE_TIME = "subscription($caseId: ID!) { caseTimeChanged(caseId: $caseId) { kind timeEntryId } }"
TIMER = "subscription { timerChanged { at } }"
CREATE = "mutation($input: TimeEntryInput!) { createTimeEntry(input: $input) { timeEntry { id } } }"
PROBES_PER_SECOND = 20


def _ws(server: Server) -> str:
    return f"ws://127.0.0.1:{server.port}/graphql"


async def _subscribed(url: str, token: str, query: str, variables: dict[str, Any] | None) -> Any:
    """A connection with one subscription the server has set up (it answers the ping after it)."""
    socket = await websockets.connect(url, subprotocols=[websockets.Subprotocol(PROTOCOL)], max_size=None)
    await socket.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
    assert json.loads(await socket.recv())["type"] == "connection_ack"
    await socket.send(json.dumps({"type": "subscribe", "id": "1", "payload": {"query": query, "variables": variables}}))
    await socket.send(json.dumps({"type": "ping"}))
    while (message := json.loads(await socket.recv()))["type"] != "pong":
        assert message["type"] == "next", message
    return socket


async def _hold(url: str, token: str, count: int, cases: list[str]) -> None:
    """The subscriber process: `count` connections (following `cases` in turn, or their timer when none), "ready" on
    standard output once all are set up, then reading whatever comes until standard input closes; then how many
    events came."""
    follow = [(CASE_TIME, {"caseId": cases[n % len(cases)]}) if cases else (TIMER, None) for n in range(count)]
    sockets = await asyncio.gather(*(_subscribed(url, token, query, variables) for query, variables in follow))
    received = 0

    async def read(socket: Any) -> None:
        nonlocal received
        async for _ in socket:
            received += 1

    readers = [asyncio.create_task(read(socket)) for socket in sockets]
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.read)
    for reader in readers:
        reader.cancel()
    await asyncio.gather(*(socket.close() for socket in sockets), return_exceptions=True)
    print(json.dumps({"received": received}), flush=True)


class Subscribers:
    """`count` subscribers in a process of their own, connected for as long as the block lasts."""

    def __init__(self, server: Server, token: str, count: int, cases: Sequence[str]) -> None:
        command = [sys.executable, "-m", "bench.live_bench", "--hold", _ws(server), token, str(count), ",".join(cases)]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.received = 0

    def __enter__(self) -> Subscribers:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"the subscribers did not start: {line!r}")
        return self

    def __exit__(self, *_: object) -> None:
        stdout = self.process.communicate("", timeout=60)[0]
        self.received = int(json.loads(stdout.strip().splitlines()[-1])["received"])


def _entry(case: str, activity: str) -> dict[str, Any]:
    return {"caseId": case, "activityId": activity, "workDate": "2026-06-15", "minutes": 1}


async def latency(
    writer: Server, reader: Server, token: str, cases: Sequence[str], activity: str, probes: int
) -> dict[str, float]:
    """Probes written through `writer`, one at a time, each timed from its answer to its event on `reader`."""
    answered: dict[str, float] = {}
    arrived: dict[str, float] = {}
    sockets = [await _subscribed(_ws(reader), token, CASE_TIME, {"caseId": case}) for case in cases]
    done = asyncio.Event()

    async def read(socket: Any) -> None:
        async for raw in socket:
            arrived[json.loads(raw)["payload"]["data"]["caseTimeChanged"]["timeEntryId"]] = time.perf_counter()
            if len(arrived) == probes:
                done.set()

    readers = [asyncio.create_task(read(socket)) for socket in sockets]
    async with httpx.AsyncClient(base_url=writer.url, trust_env=False) as http:
        for n in range(probes):
            variables = {"input": _entry(cases[n % len(cases)], activity)}
            response = await http.post("/graphql", json={"query": CREATE, "variables": variables},
                                       headers={"Authorization": f"Bearer {token}"})  # fmt: skip
            answered[response.json()["data"]["createTimeEntry"]["timeEntry"]["id"]] = time.perf_counter()
            await asyncio.sleep(1 / PROBES_PER_SECOND)
    await asyncio.wait_for(done.wait(), 30)
    for task in readers:
        task.cancel()
    await asyncio.gather(*(socket.close() for socket in sockets), return_exceptions=True)
    delays = [arrived[entry] - at for entry, at in answered.items()]
    ordered = sorted(delays)
    return {
        "probes": len(ordered),
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
        "max_ms": ordered[-1] * 1000,
    }


def _under_load(load: LoadProcess, writer: Server, db: DbBackends, command: dict[str, Any], seconds: float,
                clients: int) -> threading.Thread:  # fmt: skip
    thread = threading.Thread(
        target=measure, args=(writer, load, db, command), kwargs={"seconds": seconds, "concurrency": clients}
    )
    thread.start()
    return thread


def run(args: argparse.Namespace) -> dict[str, Any]:
    built = write_bench.build("live_bench", quick=args.quick)
    url, cases, db = built.url, built.cases, built.db
    writer, reader = start_server("app", "edge.app:app", url), start_server("app2", "edge.app:app", url)
    load: LoadProcess | None = None
    results: dict[str, Any] = {}
    try:
        wait_ready(writer)
        wait_ready(reader)
        token = login(writer)
        load = LoadProcess()
        bodies = [write_bench.body(c) for c in cases.spread]
        command = {"bodies": [orjson.dumps(b).decode() for b in bodies], "token": token, "expect": ""}
        written = [ids.encode("Case", c) for c in cases.spread]
        activity = bodies[0]["variables"]["input"]["activityId"]
        followed = {"without": None, "idle": [], "following": written[: args.subscribers]}
        for clients in args.clients:
            measure(writer, load, db, command, seconds=args.warmup, concurrency=clients)
            rounds: dict[str, list[Round]] = {side: [] for side in followed}
            sent: dict[str, int] = dict.fromkeys(followed, 0)
            for number in range(args.rounds):
                sides = list(followed) if number % 2 == 0 else list(reversed(followed))
                for side in sides:
                    watching = followed[side]
                    if watching is None:
                        result = measure(writer, load, db, command, seconds=args.seconds, concurrency=clients)
                    else:
                        with Subscribers(reader, token, args.subscribers, watching) as subscribers:
                            result = measure(writer, load, db, command, seconds=args.seconds, concurrency=clients)
                        sent[side] += subscribers.received
                    rounds[side].append(result)
                    write_bench.log_round(f"{clients} {side}", number, args.rounds, result)
            results[str(clients)] = {
                side: {
                    **medians(rounds[side]),
                    "over_without": {
                        field: statistics.median(
                            write_bench.ratio(getattr(w, field), getattr(o, field))
                            for w, o in zip(rounds[side], rounds["without"], strict=True)
                        )
                        for field in ("req_s", "p50_ms", "cpu_ms", "db_cpu_ms")
                    },
                    "events_sent": sent[side],
                }
                for side in followed
            }
        # cases the load does not write on: their events are the probes' only
        probe_cases = [ids.encode("Case", c) for c in (cases.hot, *cases.twins)]
        results["latency_idle"] = asyncio.run(latency(writer, reader, token, probe_cases, activity, args.probes))
        loaded = _under_load(load, writer, db, command, args.probes / PROBES_PER_SECOND + 5, args.clients[0])
        results[f"latency_under_{args.clients[0]}_clients"] = asyncio.run(
            latency(writer, reader, token, probe_cases, activity, args.probes)
        )
        loaded.join()
    finally:
        if load is not None:
            load.stop()
        writer.stop()
        reader.stop()
    return results


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--hold"]:
        url, token, count, cases = argv[1:5]
        asyncio.run(_hold(url, token, int(count), [c for c in cases.split(",") if c]))
        return 0
    parser = argparse.ArgumentParser(prog="bench.live_bench", description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--rounds", type=int, default=6, help="measured rounds per side (default 6)")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each round (default 4)")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured round first (default 2)")
    parser.add_argument("--clients", type=int, nargs="+", default=[16], help="client counts, in order (default 16)")
    parser.add_argument("--subscribers", type=int, default=100, help="websocket subscribers (default 100)")
    parser.add_argument("--probes", type=int, default=200, help="latency probes per condition (default 200)")
    parser.add_argument("--quick", action="store_true", help="small data and short rounds: a smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.seconds, args.warmup, args.probes = 2, 1.0, 0.5, 20
    results = run(args)
    for clients in args.clients:
        figures = results[str(clients)]
        print(f"live, {clients} clients writing:")
        for side, f in figures.items():
            r = f["over_without"]
            print(
                f"  {side:>9}: {f['req_s']:.0f} req/s, p50 {f['p50_ms']:.1f} ms; over without: req/s {r['req_s']:.2f}x,"
                f" app CPU {r['cpu_ms']:.2f}x, database CPU {r['db_cpu_ms']:.2f}x; {f['events_sent']} events sent"
            )
    for key in [k for k in results if k.startswith("latency")]:
        f = results[key]
        print(f"{key}: p50 {f['p50_ms']:.0f} ms, p99 {f['p99_ms']:.0f} ms, max {f['max_ms']:.0f} ms ({f['probes']})")
    path = results_file("live_bench", quick=args.quick)
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
