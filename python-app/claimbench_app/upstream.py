"""The outbound HTTP client behind GET /io/upstream.

Owns: the single keep-alive connection pool each worker process opens at startup from
UPSTREAM_URL, the `fanout` concurrent GETs of UPSTREAM_URL/delay?ms=D, and turning any upstream
failure into a 502. Leaves to the stacks: when to open and close it (their lifespan hooks) and
parameter validation (`logic.upstream_params`).

The client library was chosen by measurement; python-app/README.md has the figures.
"""

from __future__ import annotations

import asyncio
import os

from .logic import EndpointError

# TEMPORARY while measuring: CLAIMBENCH_OUTBOUND picks httpx or aiohttp.
_IMPL = os.environ.get("CLAIMBENCH_OUTBOUND", "aiohttp")
if _IMPL == "httpx":
    import httpx
else:
    import aiohttp

# The contract's largest delay is 10 s; past this margin the upstream is hung, not slow.
REQUEST_TIMEOUT_S = 60.0


class Upstream:
    """One pooled client per process; `fanout` is safe to call from many requests at once."""

    def __init__(self, base_url: str | None) -> None:
        self.base_url = base_url.rstrip("/") if base_url else None
        self._client = None

    @classmethod
    def from_env(cls) -> "Upstream":
        return cls(os.environ.get("UPSTREAM_URL") or None)

    async def open(self) -> None:
        if self.base_url is None:
            return
        if _IMPL == "httpx":
            # No pool cap (undici's Agent has none either) and every connection kept alive:
            # httpx's defaults (100 connections, 20 idle) would reconnect under a 1000-client load.
            self._client = httpx.AsyncClient(
                limits=httpx.Limits(max_connections=None, max_keepalive_connections=None),
                timeout=REQUEST_TIMEOUT_S,
                # The upstream is on loopback: proxy variables must not reroute it.
                trust_env=False,
            )
        else:
            # limit=0 lifts aiohttp's default cap of 100 connections.
            self._client = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0, limit_per_host=0),
                timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
                trust_env=False,
            )

    async def close(self) -> None:
        if self._client is not None:
            if _IMPL == "httpx":
                await self._client.aclose()
            else:
                await self._client.close()
            self._client = None

    async def fanout(self, ms: int, calls: int) -> int:
        """Issues `calls` concurrent GETs of /delay?ms=`ms`; returns the body bytes received."""
        if self.base_url is None:
            raise EndpointError(
                502, "UPSTREAM_URL is not set: start the app with UPSTREAM_URL=http://HOST:PORT"
            )
        if self._client is None:
            raise EndpointError(502, "the upstream client is not open (lifespan did not run)")
        url = f"{self.base_url}/delay?ms={ms}"
        try:
            sizes = await asyncio.gather(*(self._get(url) for _ in range(calls)))
        except EndpointError:
            raise
        except Exception as err:  # noqa: BLE001 - every transport failure is the upstream's 502
            raise EndpointError(502, f"upstream {url} failed: {type(err).__name__}: {err}") from None
        return sum(sizes)

    async def _get(self, url: str) -> int:
        if _IMPL == "httpx":
            response = await self._client.get(url)
            status, body = response.status_code, response.content
        else:
            async with self._client.get(url) as response:
                status, body = response.status, await response.read()
        if status != 200:
            raise EndpointError(502, f"upstream {url} answered {status}")
        return len(body)
