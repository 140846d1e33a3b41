"""`make bench`: the app against its floor on the same data, through HTTP, in one run.

Starts the embedded PostgreSQL, rebuilds `casetime_bench` (bench/seed.py), serves the app and the
floor (bench/floor.py) each with uvicorn in its own process, logs in once through the API, checks
that both answer each query with the same JSON, then drives them from a separate load process
(bench/load.py) in interleaved rounds. App CPU per request is the uvicorn process's user + system
CPU time over a round divided by the requests it answered. Figures are medians across rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

import httpx
import orjson
import psutil  # type: ignore[import-untyped]

from bench import seed
from settings import PROJECT_ROOT

TARGET_CPU_MS = 2.5
RESULTS_DIR = PROJECT_ROOT / "bench" / "results"
RESULTS = RESULTS_DIR / "latest.json"


def results_path(bench: str, *, quick: bool) -> Path:
    """Where a benchmark's run goes: `<bench>.json`, or `<bench>_quick.json` for a --quick run."""
    return RESULTS_DIR / f"{bench}{'_quick' if quick else ''}.json"


EMPLOYEES = "query { employees(first: 50) { totalCount edges { cursor node { id name email role { name } } } } }"
CASES = (
    "query { cases(first: 50) { totalCount edges { node { id code description debtor { code name }"
    " maxPerBookYear } } } }"
)
QUERIES = {"employees": EMPLOYEES, "cases": CASES}
LOGIN = "mutation($email: String!, $password: String!) { login(input: {email: $email, password: $password}) { token } }"


@dataclass(frozen=True)
class Round:
    requests: int
    errors: int
    req_s: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float  # server process CPU per request
    db_cpu_ms: float  # PostgreSQL backends of the bench database, per request
    client_cpu_pct: float  # the load process's CPU over the round; near 100 means the client limits req/s


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        times = psutil.Process(self.process.pid).cpu_times()
        return float(times.user + times.system)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class LoadProcess:
    """bench/load.py in its own process, one JSON command and one JSON reply per round."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.load"],
            cwd=PROJECT_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def round(self, command: dict[str, Any]) -> dict[str, Any]:
        stdin, stdout = self._pipes()
        stdin.write(json.dumps(command) + "\n")
        stdin.flush()
        line = stdout.readline()
        if not line:
            raise RuntimeError("the load process died")
        reply: dict[str, Any] = json.loads(line)
        if "failed" in reply:
            raise RuntimeError(f"load round failed: {reply['failed']}")
        return reply

    def stop(self) -> None:
        stdin, _ = self._pipes()
        if self.process.poll() is None:
            try:
                stdin.write("quit\n")
                stdin.flush()
                self.process.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()

    def _pipes(self) -> tuple[IO[str], IO[str]]:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        return self.process.stdin, self.process.stdout


class DbBackends:
    """CPU of the client backends of one database (other databases and autovacuum are noise)."""

    def __init__(self, postmaster_pid: int | None, database: str = seed.DATABASE) -> None:
        self.postmaster = psutil.Process(postmaster_pid) if postmaster_pid else None
        self.database = database

    def cpu_seconds(self) -> dict[int, float]:
        if self.postmaster is None:
            return {}
        found: dict[int, float] = {}
        for child in self.postmaster.children():
            try:
                # "postgres: user database [local] idle": the database as a whole word, autovacuum apart
                words = " ".join(child.cmdline()).split()
                if self.database in words and "autovacuum" not in words:
                    times = child.cpu_times()
                    found[child.pid] = float(times.user + times.system)
            except psutil.Error:
                continue
        return found

    @staticmethod
    def spent(before: dict[int, float], after: dict[int, float]) -> float:
        return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(name: str, app: str, database_url: str, *, cwd: Path = PROJECT_ROOT) -> Server:
    """`app` served by uvicorn from `cwd` (a checkout: its code, this project's virtualenv). Its standard output, where
    the app writes a log line per request, goes to /dev/null: written (and paid for) but not mixed into the report."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_READ_URL", "WEB_CONCURRENCY", "PORT")}
    env.update(DATABASE_URL=database_url, CASETIME_ENV="development")
    command = [sys.executable, "-m", "uvicorn", app, "--port", str(port), "--workers", "1"]
    command += ["--no-access-log", "--log-level", "warning"]
    return Server(name, port, subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL))


def wait_ready(server: Server, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited with status {server.process.returncode}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1.0, trust_env=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{server.name} did not answer /healthz within {timeout:.0f} s")


def post(server: Server, body: bytes, token: str | None = None) -> bytes:
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    response = httpx.post(f"{server.url}/graphql", content=body, headers=headers, timeout=30.0, trust_env=False)
    response.raise_for_status()
    return response.content


def login(app: Server) -> str:
    variables = {"email": seed.ADMIN_EMAIL, "password": seed.PASSWORD}
    answer = orjson.loads(post(app, orjson.dumps({"query": LOGIN, "variables": variables})))
    token = ((answer.get("data") or {}).get("login") or {}).get("token")
    if not isinstance(token, str):
        raise RuntimeError(f"login through the API failed: {answer}")
    return token


def first_difference(left: Any, right: Any, path: str = "") -> str:
    if isinstance(left, dict) and isinstance(right, dict):
        for key in sorted(set(left) | set(right)):
            if left.get(key) != right.get(key):
                return first_difference(left.get(key), right.get(key), f"{path}.{key}")
    if isinstance(left, list) and isinstance(right, list):
        if len(left) != len(right):
            return f"{path}: {len(left)} vs {len(right)} items"
        for index, (a, b) in enumerate(zip(left, right, strict=True)):
            if a != b:
                return first_difference(a, b, f"{path}[{index}]")
    return f"{path or '.'}: app {left!r} vs floor {right!r}"


def check_same(name: str, app_body: bytes, floor_body: bytes) -> None:
    app_json, floor_json = orjson.loads(app_body), orjson.loads(floor_body)
    if "errors" in app_json:
        raise RuntimeError(f"the app answered {name} with errors: {app_json['errors']}")
    if app_json != floor_json:
        print(f"WARNING: app and floor differ for {name}: {first_difference(app_json, floor_json)}")
    elif app_body != floor_body:
        print(f"note: {name}: same JSON, different bytes (key order or spacing)")


def measure(
    server: Server, load: LoadProcess, db: DbBackends, command: dict[str, Any], *, seconds: float, concurrency: int
) -> Round:
    command = {**command, "port": server.port, "seconds": seconds, "concurrency": concurrency}
    db_before, cpu_before = db.cpu_seconds(), server.cpu_seconds()
    reply = load.round(command)
    cpu_after, db_after = server.cpu_seconds(), db.cpu_seconds()
    requests = max(int(reply["requests"]), 1)
    if reply["errors"]:
        print(f"WARNING: {server.name}: {reply['errors']} bad answers, first: {reply['first_error']}")
    return Round(
        requests=int(reply["requests"]),
        errors=int(reply["errors"]),
        req_s=reply["requests"] / reply["elapsed"],
        p50_ms=float(reply["p50_ms"]),
        p99_ms=float(reply["p99_ms"]),
        cpu_ms=(cpu_after - cpu_before) * 1000 / requests,
        db_cpu_ms=DbBackends.spent(db_before, db_after) * 1000 / requests,
        client_cpu_pct=100 * reply["client_cpu_s"] / reply["elapsed"],
    )


def medians(rounds: list[Round]) -> dict[str, Any]:
    fields = ("req_s", "p50_ms", "p99_ms", "cpu_ms", "db_cpu_ms", "client_cpu_pct")
    summary: dict[str, Any] = {f: statistics.median(getattr(r, f) for r in rounds) for f in fields}
    summary["requests"] = sum(r.requests for r in rounds)
    summary["errors"] = sum(r.errors for r in rounds)
    summary["rounds"] = [asdict(r) for r in rounds]
    return summary


def ratios(app: dict[str, Any], floor: dict[str, Any]) -> dict[str, float]:
    def ratio(field: str) -> float:
        return float(app[field] / floor[field]) if floor[field] else float("nan")

    return {"req_s": ratio("req_s"), "p50_ms": ratio("p50_ms"), "cpu_ms": ratio("cpu_ms")}


def print_table(results: dict[str, Any], args: argparse.Namespace) -> None:
    print()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"casetime bench: {args.rounds} rounds x {args.seconds:g} s, {args.concurrency} connections, "
        f"{os.cpu_count()} cores, load average {load}; medians across rounds"
    )
    header = f"{'query':<10} {'server':<10} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/req':>11}"
    header += f" {'db ms/req':>10} {'client %':>9}"
    print(header)
    print("-" * len(header))
    for name, result in results.items():
        for label in ("app", "floor"):
            row = result[label]
            print(
                f"{name:<10} {label:<10} {row['req_s']:>8.0f} {row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f}"
                f" {row['cpu_ms']:>11.3f} {row['db_cpu_ms']:>10.3f} {row['client_cpu_pct']:>9.0f}"
            )
        r = result["ratio"]
        print(f"{name:<10} {'app/floor':<10} {r['req_s']:>7.2f}x {r['p50_ms']:>7.2f}x {'':>8} {r['cpu_ms']:>10.2f}x")
    print()
    for name, result in results.items():
        cpu = result["app"]["cpu_ms"]
        verdict = "meets" if cpu <= TARGET_CPU_MS else "MISSES"
        print(f"{name}: app CPU {cpu:.3f} ms/request {verdict} the target of {TARGET_CPU_MS} ms")


def run(args: argparse.Namespace) -> dict[str, Any]:
    names = [args.only] if args.only else list(QUERIES)
    print(f"bench: preparing database {seed.DATABASE} on the embedded server", file=sys.stderr)
    server, database_url = seed.prepare()
    print(f"bench: {seed.DATABASE} filled: {database_url}", file=sys.stderr)
    db = DbBackends(server.get_pid())
    app = start_server("app", "edge.app:app", database_url)
    floor = start_server("floor", "bench.floor:app", database_url)
    load: LoadProcess | None = None
    try:
        wait_ready(app)
        wait_ready(floor)
        token = login(app)
        commands: dict[tuple[str, str], dict[str, Any]] = {}
        for name in names:
            body = orjson.dumps({"query": QUERIES[name]})
            answers = {s.name: post(s, body, token) for s in (app, floor)}
            check_same(name, answers["app"], answers["floor"])
            for label, answer in answers.items():
                commands[name, label] = {"body": body.decode(), "token": token, "expect": answer.decode()}
        load = LoadProcess()
        servers = {"app": app, "floor": floor}
        if args.warmup > 0:
            for name in names:
                for label, target in servers.items():
                    measure(target, load, db, commands[name, label], seconds=args.warmup, concurrency=args.concurrency)
        rounds: dict[tuple[str, str], list[Round]] = {key: [] for key in commands}
        for number in range(args.rounds):
            order = ["app", "floor"] if number % 2 == 0 else ["floor", "app"]
            for name in names:
                for label in order:
                    result = measure(
                        servers[label],
                        load,
                        db,
                        commands[name, label],
                        seconds=args.seconds,
                        concurrency=args.concurrency,
                    )
                    rounds[name, label].append(result)
                    print(
                        f"bench: round {number + 1}/{args.rounds} {name:<9} {label:<5} {result.req_s:7.0f} req/s"
                        f"  p50 {result.p50_ms:6.2f} ms  CPU {result.cpu_ms:6.3f} ms/req",
                        file=sys.stderr,
                    )
    finally:
        if load is not None:
            load.stop()
        app.stop()
        floor.stop()
    results: dict[str, Any] = {}
    for name in names:
        app_summary, floor_summary = medians(rounds[name, "app"]), medians(rounds[name, "floor"])
        results[name] = {"app": app_summary, "floor": floor_summary, "ratio": ratios(app_summary, floor_summary)}
    return results


def write_results(
    path: Path, args: argparse.Namespace, load_before: tuple[float, float, float], started: float, **sections: Any
) -> None:
    """The run's settings (with the machine's load before and after) and `sections`, as JSON at `path`."""
    settings = {
        **vars(args),
        "cores": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "wall_seconds": round(time.monotonic() - started, 1),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"settings": settings, **sections}, indent=2, default=str) + "\n")
    print(f"\nwritten: {path.relative_to(PROJECT_ROOT)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench", description="casetime page benchmark against a bare floor")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds per query and server (default 3)")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each round (default 4)")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured warm-up per query and server")
    parser.add_argument("--concurrency", type=int, default=8, help="keep-alive connections (default 8)")
    parser.add_argument("--only", choices=sorted(QUERIES), help="measure one query only")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.seconds <= 0 or args.concurrency < 1:
        parser.error("--rounds, --seconds and --concurrency must be positive")
    load_before = os.getloadavg()
    started = time.monotonic()
    results = run(args)
    print_table(results, args)
    queries = {name: QUERIES[name] for name in results}
    write_results(RESULTS, args, load_before, started, queries=queries, target_cpu_ms=TARGET_CPU_MS, results=results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
