"""Sending one webhook delivery (SPEC 13): the signed POST, and the addresses it may reach.

In production (unless WEBHOOK_ALLOW_PRIVATE) a webhook may only reach public addresses: its host is resolved when the
webhook is saved, and again before every attempt, whose connection then goes to the very address just checked (a
name that was public when saved may point inside the network by now: DNS rebinding). Nothing is read from the
environment (no proxy), no redirect is followed, and at most ANSWER_MAX bytes of an answer are read (and dropped).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import socket
import time
from ipaddress import IPv4Address, IPv6Address, ip_address

import httpx

TIMEOUT_SECONDS = 10.0  # an attempt without a 2xx by then failed (SPEC 13)
RESOLVE_SECONDS = 5.0
ERROR_MAX = 200  # characters of an attempt's `lastError`
ANSWER_MAX = 64 * 1024  # bytes of an answer read (and dropped); a longer one costs its connection
SIGNATURE_HEADER = "Casetime-Signature"

IPAddress = IPv4Address | IPv6Address


class Unreachable(Exception):
    """The host does not resolve, or resolves to an address it may not reach."""


def public(address: IPAddress) -> bool:
    """An address on the internet: no loopback, private, link-local, shared or reserved range (an IPv4 address
    written as IPv6 counts as itself)."""
    mapped = address.ipv4_mapped if isinstance(address, IPv6Address) else None
    return (mapped or address).is_global


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` names, in the resolver's order; OSError or TimeoutError when it names none."""
    async with asyncio.timeout(RESOLVE_SECONDS):
        found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    # an IPv6 address may carry its interface (`fe80::1%eth0`), which names no other address
    return list(dict.fromkeys(ip_address(str(info[4][0]).partition("%")[0]) for info in found))


async def public_addresses(host: str, port: int) -> list[IPAddress]:
    """The addresses of `host`, each of them public; Unreachable otherwise."""
    try:
        found = await resolve(host, port)
    except (OSError, TimeoutError, UnicodeError):
        raise Unreachable(f"{clipped(host)} does not resolve") from None
    hidden = [address for address in found if not public(address)]
    if hidden or not found:
        raise Unreachable(f"{clipped(host)} resolves to {hidden[0] if hidden else 'nothing'}, not a public address")
    return found


def clipped(text: str) -> str:
    return text if len(text) <= ERROR_MAX else text[: ERROR_MAX - 1] + "…"


async def _drain(response: httpx.Response) -> None:
    """Read a short answer to its end, so its connection can serve the next POST; a longer one is left unread and
    its connection closed."""
    read = 0
    async for chunk in response.aiter_raw():
        read += len(chunk)
        if read > ANSWER_MAX:
            return


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed by the secret>` (SPEC 13)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


class Sender:
    """Signed POSTs, `slots` at once; `private_allowed` false: public addresses only, checked per attempt.

    Each attempt borrows an HTTP client of its own that keeps one connection at most: httpcore's pool walks every
    connection it holds for every request (idle? expired?), which at 16 connections in one client was most of a
    delivery's CPU (bench/README.md)."""

    def __init__(self, *, private_allowed: bool, slots: int) -> None:
        self.private_allowed = private_allowed
        # a connection is kept by the address it reached; while the address is checked per attempt, one kept for a
        # host would serve another name of the same address, its TLS session made for the first
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1 if private_allowed else 0)
        tls = httpx.create_ssl_context()  # one for all: loading the trusted certificates takes ~60 ms a client
        self._clients: asyncio.Queue[httpx.AsyncClient] = asyncio.Queue()
        for _ in range(slots):
            self._clients.put_nowait(
                httpx.AsyncClient(
                    verify=tls, timeout=TIMEOUT_SECONDS, follow_redirects=False, trust_env=False, limits=limits
                )
            )

    async def aclose(self) -> None:
        while not self._clients.empty():
            await self._clients.get_nowait().aclose()

    async def post(self, url: str, secret: str, body: bytes) -> str | None:
        """POST `body` to `url`, signed with `secret`: None when answered 2xx within the timeout, else why not."""
        client = await self._clients.get()
        try:
            async with asyncio.timeout(TIMEOUT_SECONDS):
                request = await self._request(client, url, secret, body)
                response = await client.send(request, stream=True)
                try:
                    await _drain(response)
                finally:
                    await response.aclose()
        except TimeoutError:
            return f"no answer within {TIMEOUT_SECONDS:g} s"
        except Unreachable as error:
            return str(error)
        except (httpx.HTTPError, OSError) as error:
            return clipped(f"{type(error).__name__}: {error}".rstrip(": "))
        finally:
            self._clients.put_nowait(client)
        if 200 <= response.status_code < 300:
            return None
        return f"HTTP {response.status_code}"

    async def _request(self, client: httpx.AsyncClient, url: str, secret: str, body: bytes) -> httpx.Request:
        target = httpx.URL(url)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "casetime-webhooks",
            SIGNATURE_HEADER: signature(secret, int(time.time()), body),
        }
        extensions: dict[str, str] = {}
        if not self.private_allowed:
            host = target.raw_host.decode("ascii")
            address = (await public_addresses(host, target.port or (443 if target.scheme == "https" else 80)))[0]
            headers["Host"] = target.netloc.decode("ascii")
            extensions["sni_hostname"] = host
            target = target.copy_with(host=str(address))
        return client.build_request("POST", target, content=body, headers=headers, extensions=extensions)
