"""The load generator: a separate process (so its CPU is not the server's) driven over stdin/stdout.

`python -m bench.load` reads one JSON command per line and answers each with one JSON line:

    {"port": 8123, "body": "...", "token": "...", "expect": "...", "seconds": 4, "concurrency": 8}
    -> {"requests": 9120, "errors": 0, "elapsed": 4.01, "p50_ms": 3.4, "p99_ms": 7.9, "max_ms": 21.0,
        "statuses": {"200": 9120}, "busy": 0, "client_cpu_s": 2.1}

Each of `concurrency` keep-alive connections sends the POST, reads the whole answer and sends the
next, until `seconds` have passed; requests in flight then finish, so the server did exactly the work
counted. Plain asyncio streams on uvloop with a prebuilt request keep the client's own cost low.
Every answer counts in the latencies, refusals included; `busy` counts the answers other than 200 whose
body carries the error code BUSY. A connection the server closes is counted as an error (status 0) and
opened again. `token` may be empty (no Authorization header). With `"bodies": [...]` in place of `"body"`, connection
i sends bodies i, i + concurrency, ... in turn (bench/write_bench.py spreads writes over cases so).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import uvloop

BUSY = b'"code":"BUSY"'


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str | None = None
    statuses: dict[int, int] = field(default_factory=dict)
    busy: int = 0

    def answered(self, status: int, body: bytes) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if status != 200 and BUSY in body:
            self.busy += 1

    def error(self, message: str) -> None:
        self.errors += 1
        if self.first_error is None:
            self.first_error = message


def build_request(port: int, body: bytes, token: str) -> bytes:
    head = (
        "POST /graphql HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "Content-Type: application/json\r\n"
        "Accept: application/json\r\n"
        + (f"Authorization: Bearer {token}\r\n" if token else "")
        + f"Content-Length: {len(body)}\r\n"
        "\r\n"
    )
    return head.encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
            break
        if name == b"transfer-encoding" and b"chunked" in value.lower():
            return status, await read_chunks(reader)
    return status, await reader.readexactly(length)


async def read_chunks(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")  # no trailers expected: the empty line ending the body
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


async def connection_loop(port: int, requests: list[bytes], expect: bytes, deadline: float, tally: Tally) -> None:
    """Send `requests` in turn (one request: always the same) until `deadline`."""
    clock = time.perf_counter
    finished = 0.0
    turn = 0
    while finished < deadline:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while True:
                started = clock()
                writer.write(requests[turn % len(requests)])
                turn += 1
                try:
                    status, body = await read_response(reader)
                except (asyncio.IncompleteReadError, ConnectionError) as closed:
                    finished = clock()
                    tally.latencies.append(finished - started)
                    tally.answered(0, b"")
                    tally.error(f"connection closed by the server: {type(closed).__name__}")
                    break  # opened again unless the round is over
                finished = clock()
                tally.latencies.append(finished - started)
                tally.answered(status, body)
                if status != 200 or (expect and body != expect):
                    tally.error(f"HTTP {status}: {body[:300]!r}")
                if finished >= deadline:
                    break
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


def percentile(ordered: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not ordered:
        return 0.0
    rank = max(1, min(len(ordered), math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]


async def run_round(command: dict[str, Any]) -> dict[str, Any]:
    port = int(command["port"])
    # "bodies" (a list) instead of "body": connection i sends bodies i, i + concurrency, ... in turn
    bodies: list[str] = command.get("bodies") or [command["body"]]
    concurrency = int(command["concurrency"])
    requests = [build_request(port, body.encode(), command["token"]) for body in bodies]
    shares = [requests[i::concurrency] or [requests[i % len(requests)]] for i in range(concurrency)]
    expect = command.get("expect", "").encode()
    tally = Tally()
    cpu_before = time.process_time()
    started = time.perf_counter()
    deadline = started + float(command["seconds"])
    await asyncio.gather(*(connection_loop(port, share, expect, deadline, tally) for share in shares))
    elapsed = time.perf_counter() - started
    ordered = sorted(tally.latencies)
    return {
        "requests": len(ordered),
        "errors": tally.errors,
        "first_error": tally.first_error,
        "elapsed": elapsed,
        "p50_ms": percentile(ordered, 0.50) * 1000,
        "p99_ms": percentile(ordered, 0.99) * 1000,
        "max_ms": (ordered[-1] if ordered else 0.0) * 1000,
        "statuses": {str(status): count for status, count in sorted(tally.statuses.items())},
        "busy": tally.busy,
        "client_cpu_s": time.process_time() - cpu_before,
    }


async def serve() -> None:
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line or line.strip() == "quit":
            return
        try:
            reply = await run_round(json.loads(line))
        except Exception as error:  # report to the driver rather than die silently
            reply = {"failed": f"{type(error).__name__}: {error}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


def main() -> None:
    uvloop.run(serve())


if __name__ == "__main__":
    main()
