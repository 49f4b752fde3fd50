"""The outbound HTTP client behind GET /io/upstream.

Owns: the single keep-alive connection pool each worker process opens at startup from
UPSTREAM_URL, the `fanout` concurrent GETs of UPSTREAM_URL/delay?ms=D, and turning any upstream
failure into a 502. Leaves to the stacks: when to open and close it (their lifespan hooks) and
parameter validation (`logic.upstream_params`).

The client is aiohttp's ClientSession, chosen over httpx.AsyncClient by measurement: httpx's
pool serialised concurrent requests (about 10x fewer req/s); python-app/README.md has the figures.
"""

from __future__ import annotations

import asyncio
import os

import aiohttp

from .logic import EndpointError

# The contract's largest delay is 10 s; past this margin the upstream is hung, not slow.
REQUEST_TIMEOUT_S = 60.0


# Connections of the one pool per process; equal to node-app/lib/upstream.js.
UPSTREAM_POOL_CONNECTIONS = 256


class Upstream:
    """One pooled client per process; `fanout` is safe to call from many requests at once."""

    def __init__(self, base_url: str | None) -> None:
        self.base_url = base_url.rstrip("/") if base_url else None
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def from_env(cls) -> Upstream:
        return cls(os.environ.get("UPSTREAM_URL") or None)

    async def open(self) -> None:
        """Opens the pool; must run inside the event loop that will use it (the lifespan)."""
        if self.base_url is None:
            # Not fatal: the other endpoints still work, and /io/upstream says what is missing.
            return
        self._session = aiohttp.ClientSession(
            # The same cap as Node's undici Agent (connections: 256), as the contract's
            # `upstream_pool` says: aiohttp's default of 100 would queue sooner than Node, and
            # no cap (limit=0) opened a socket per client connection and starved the upstream.
            connector=aiohttp.TCPConnector(
                limit=UPSTREAM_POOL_CONNECTIONS, limit_per_host=UPSTREAM_POOL_CONNECTIONS
            ),
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
            # The upstream is on loopback: proxy variables must not reroute it.
            trust_env=False,
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def fanout(self, ms: int, calls: int) -> int:
        """Issues `calls` concurrent GETs of /delay?ms=`ms`; returns the body bytes received."""
        if self.base_url is None:
            raise EndpointError(
                502, "UPSTREAM_URL is not set: start the app with UPSTREAM_URL=http://HOST:PORT"
            )
        if self._session is None:
            raise EndpointError(502, "the upstream client is not open: the lifespan did not run")
        session = self._session
        url = f"{self.base_url}/delay?ms={ms}"
        try:
            sizes = await asyncio.gather(*(_get(session, url) for _ in range(calls)))
        except EndpointError:
            raise
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as err:
            raise EndpointError(
                502, f"upstream {url} failed: {type(err).__name__}: {err}"
            ) from None
        return sum(sizes)


async def _get(session: aiohttp.ClientSession, url: str) -> int:
    """One upstream GET; the body is read whole, as a real client of the service would."""
    async with session.get(url) as response:
        body = await response.read()
        if response.status != 200:
            raise EndpointError(502, f"upstream {url} answered {response.status}")
    return len(body)
