"""An A/B of two commits on one database: `.venv/bin/python -m bench.ab --base REV [--query employees]`.

On a shared machine the same server measures ±15% of CPU per request from one run to the next, more than most
single changes are worth. This serves a checkout of REV (a temporary git worktree, with this project's virtualenv)
and the working tree side by side on the database a benchmark left (`make bench` for employees and cases,
`bench.time_bench` for page, `bench.report_bench` for report, `bench.write_bench` for write), checks that they answer
alike, then measures them in alternating rounds and prints the medians and the median of the per-round CPU ratios
(B / A, working tree / REV).

`--query write` is write_bench's spread load: `createTimeEntry` on its 499 capped cases in turn (their caps raised, so
every write is written whole); both sides write into the same database, and their answers are compared without ids.

`--query` takes several names when they share a database, e.g. the lists of issue 14 (`bench.lists_bench`'s
documents on its database): `--query lists` for all eight, or `--query lists.cases lists.invoices`. One pair of
servers then answers them all, each measured in its own alternating rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import orjson

from bench import lists_bench, report_bench, seed, time_bench, write_bench
from bench.run import QUERIES, DbBackends, LoadProcess, Server, login, measure, post, start_server, wait_ready
from db import embedded
from settings import PROJECT_ROOT

DATABASES = {
    "employees": seed.DATABASE,
    "cases": seed.DATABASE,
    "page": time_bench.DATABASE,
    "report": report_bench.DATABASE,
    "write": write_bench.DATABASE,
    **{f"lists.{name}": lists_bench.DATABASE for name in lists_bench.LISTS},
}


async def _page_case(url: str) -> int:
    connection = await asyncpg.connect(url)
    try:
        case_id: int | None = await connection.fetchval("SELECT id FROM cases WHERE code = $1", time_bench.PAGE_CASE)
    finally:
        await connection.close()
    if case_id is None:
        raise SystemExit(f"{DATABASES['page']} has no case {time_bench.PAGE_CASE}: run bench.time_bench first")
    return case_id


def _body(query: str, url: str) -> bytes:
    if query.startswith("lists."):
        return lists_bench.body(lists_bench.LISTS[query.removeprefix("lists.")], asyncio.run(lists_bench.parents(url)))
    if query == "page":
        variables = {"id": time_bench.global_id("Case", asyncio.run(_page_case(url)))}
        return orjson.dumps({"query": time_bench.PAGE_QUERY, "variables": variables})
    if query == "report":
        return report_bench.REPORTS[1].body()  # the quarter by [EMPLOYEE, CASE]
    if query == "write":  # the first of the spread load's bodies, to compare the answers
        return asyncio.run(write_bench.spread_bodies(url))[0].encode()
    return orjson.dumps({"query": QUERIES[query]})


def _comparable(query: str, answer: bytes) -> Any:
    return write_bench.without_ids(orjson.loads(answer)) if query == "write" else orjson.loads(answer)


def _command(query: str, url: str, body: bytes, token: str, answer: bytes) -> dict[str, Any]:
    """What the load process sends: a write goes round the spread cases and is not checked against one answer."""
    if query == "write":
        return {"bodies": asyncio.run(write_bench.spread_bodies(url)), "token": token, "expect": ""}
    return {"body": body.decode(), "token": token, "expect": answer.decode()}


def queries_of(names: list[str]) -> list[str]:
    """The queries `--query` names, `lists` standing for every list of bench.lists_bench; all on one database."""
    queries = [f"lists.{list_name}" for list_name in lists_bench.LISTS] if names == ["lists"] else names
    if len({DATABASES[query] for query in queries}) > 1:
        raise SystemExit(f"ab: {', '.join(queries)} lie in different databases: compare them in separate runs")
    return queries


def _app(checkout: Path) -> str:
    """The ASGI app of a checkout: `edge.app` since the HTTP edge has its own package, `graph.app` before."""
    return "edge.app:app" if (checkout / "edge" / "app.py").exists() else "graph.app:app"


def run(args: argparse.Namespace) -> tuple[dict[str, dict[str, list[float]]], dict[str, dict[str, list[float]]]]:
    """CPU ms/request of A and B, the app's and the database's, round by round, for each query."""
    queries = queries_of(args.query)
    database = DATABASES[queries[0]]
    server = embedded.start(PROJECT_ROOT / ".pgdata")
    if "1" not in server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';"):
        raise SystemExit(f"no database {database}: run the benchmark that fills it first")
    url = embedded.url_of(server, database)
    bodies = {query: _body(query, url) for query in queries}
    with tempfile.TemporaryDirectory(prefix="casetime-ab-") as folder:
        base = Path(folder) / "base"
        subprocess.run(["git", "worktree", "add", "--detach", str(base), args.base], cwd=PROJECT_ROOT, check=True)
        servers: list[Server] = []
        load = LoadProcess()
        try:
            servers = [start_server("A", _app(base), url, cwd=base), start_server("B", _app(PROJECT_ROOT), url)]
            for each in servers:
                wait_ready(each)
            token = login(servers[1])
            db = DbBackends(server.get_pid(), database)
            commands: dict[str, list[dict[str, Any]]] = {}
            for query, body in bodies.items():
                answers = [post(each, body, token) for each in servers]
                if _comparable(query, answers[0]) != _comparable(query, answers[1]):
                    print(f"WARNING: A and B answer {query} differently", file=sys.stderr)
                commands[query] = [_command(query, url, body, token, answer) for answer in answers]
                for each, command in zip(servers, commands[query], strict=True):
                    measure(each, load, db, command, seconds=1, concurrency=args.concurrency)  # warm-up
            cpu: dict[str, dict[str, list[float]]] = {query: {"A": [], "B": []} for query in queries}
            db_cpu: dict[str, dict[str, list[float]]] = {query: {"A": [], "B": []} for query in queries}
            for number in range(args.rounds):
                order = [0, 1] if number % 2 == 0 else [1, 0]
                for query in queries:
                    for index in order:
                        result = measure(
                            servers[index],
                            load,
                            db,
                            commands[query][index],
                            seconds=args.seconds,
                            concurrency=args.concurrency,
                        )
                        cpu[query][servers[index].name].append(result.cpu_ms)
                        db_cpu[query][servers[index].name].append(result.db_cpu_ms)
                        print(
                            f"ab: round {number + 1}/{args.rounds} {query} {servers[index].name}:"
                            f" {result.cpu_ms:.3f} ms CPU/req, db {result.db_cpu_ms:.3f} ms/req,"
                            f" {result.req_s:.0f} req/s,"
                            f" p50 {result.p50_ms:.2f} ms",
                            file=sys.stderr,
                        )
        finally:
            load.stop()
            for each in servers:
                each.process.terminate()
                each.process.wait()
            subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=PROJECT_ROOT, check=False)
    return cpu, db_cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True, help="the commit to compare the working tree with (A)")
    parser.add_argument(
        "--query", nargs="+", choices=[*sorted(DATABASES), "lists"], default=["employees"], metavar="QUERY"
    )
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args(argv)
    app_cpu, db_cpu = run(args)
    for query in app_cpu:
        for what, cpu in (("CPU", app_cpu[query]), ("database CPU", db_cpu[query])):
            ratios = [b / a for a, b in zip(cpu["A"], cpu["B"], strict=True) if a]
            medians: dict[str, Any] = {name: statistics.median(values) for name, values in cpu.items()}
            print(
                f"{query}: {what} ms/request, median of {args.rounds} rounds: A ({args.base}) {medians['A']:.3f},"
                f" B (working tree) {medians['B']:.3f}; B/A per round {statistics.median(ratios):.3f}"
                f" (from {min(ratios):.3f} to {max(ratios):.3f})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
