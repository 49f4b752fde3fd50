"""The outbound HTTP client behind GET /io/upstream for the synchronous (WSGI) stacks.

Owns: the one pooled `requests.Session` each worker process makes at import from UPSTREAM_URL,
the thread pool that issues a request's `fanout` GETs of UPSTREAM_URL/delay?ms=D concurrently,
and turning any upstream failure into a 502. This is how Flask and Django code does concurrent
outbound calls without an event loop: a `concurrent.futures.ThreadPoolExecutor` over one session.

The cap is the same as everywhere else (the contract's `upstream_pool`): 256 connections per
process, and the pool blocks (queues) beyond that instead of opening more; the executor has as
many threads as the pool has connections, so neither limit is hit before the other.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import requests
from requests.adapters import HTTPAdapter

from .logic import EndpointError
from .upstream import REQUEST_TIMEOUT_S, UPSTREAM_POOL_CONNECTIONS


class SyncUpstream:
    """One pooled session and one thread pool per process; `fanout` is safe from many threads."""

    def __init__(self, base_url: str | None) -> None:
        self.base_url = base_url.rstrip("/") if base_url else None
        self._session: requests.Session | None = None
        self._threads: ThreadPoolExecutor | None = None
        if self.base_url is None:
            # Not fatal: the other endpoints still work, and /io/upstream says what is missing.
            return
        session = requests.Session()
        # The upstream is on loopback: proxy variables must not reroute it.
        session.trust_env = False
        adapter = HTTPAdapter(
            pool_connections=1,
            pool_maxsize=UPSTREAM_POOL_CONNECTIONS,
            pool_block=True,
            max_retries=0,
        )
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        self._session = session
        self._threads = ThreadPoolExecutor(
            max_workers=UPSTREAM_POOL_CONNECTIONS, thread_name_prefix="upstream"
        )

    @classmethod
    def from_env(cls) -> SyncUpstream:
        return cls(os.environ.get("UPSTREAM_URL") or None)

    def fanout(self, ms: int, calls: int) -> int:
        """Issues `calls` concurrent GETs of /delay?ms=`ms`; returns the body bytes received."""
        if self._session is None or self._threads is None:
            raise EndpointError(
                502, "UPSTREAM_URL is not set: start the app with UPSTREAM_URL=http://HOST:PORT"
            )
        url = f"{self.base_url}/delay?ms={ms}"
        futures = [self._threads.submit(self._get, url) for _ in range(calls)]
        # Every call is waited for, so none is left running when the response goes out.
        total = 0
        failure: EndpointError | None = None
        for future in futures:
            try:
                total += future.result()
            except EndpointError as err:
                failure = failure or err
        if failure is not None:
            raise failure
        return total

    def _get(self, url: str) -> int:
        """One upstream GET; the body is read whole, as a real client of the service would."""
        assert self._session is not None
        try:
            response = self._session.get(url, timeout=REQUEST_TIMEOUT_S)
            body = response.content
        except (requests.RequestException, OSError) as err:
            raise EndpointError(502, f"upstream {url} failed: {type(err).__name__}: {err}") from None
        if response.status_code != 200:
            raise EndpointError(502, f"upstream {url} answered {response.status_code}")
        return len(body)
