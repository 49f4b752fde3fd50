"""The bare Starlette stack, the ASGI floor under FastAPI: the same routes and handler kinds as
`fastapi_app`, with no FastAPI layer (no dependency injection, no validation, no encoder).

Owns: routing, the handler kind of each endpoint, reading the /cpu/json body, and turning
Starlette's own errors into the contract's {"error": ...} bodies. Leaves every computation and
validation to `claimbench_app.logic`, and the outbound client to `claimbench_app.upstream`.

Handler kinds follow the contract's python_handler_style: CPU endpoints are plain `def`
(Starlette runs them in its threadpool, as FastAPI does); overhead and I/O endpoints are
`async def` on the event loop. POST /cpu/json reads its body on the loop and parses it in the
threadpool, as the FastAPI stack does.

Run (from python-app/):
    .venv/bin/python -m uvicorn stacks.starlette_app:app --loop uvloop --http httptools \
        --no-access-log --log-level warning --workers N
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from claimbench_app import logic
from claimbench_app.logic import EndpointError
from claimbench_app.upstream import Upstream

STACK = os.environ.get("STACK") or "starlette"


def query(request: Request) -> dict[str, str]:
    # The raw string, not request.query_params: Starlette keeps the last of repeated keys.
    return logic.parse_query(request.scope["query_string"])


async def health(request: Request) -> JSONResponse:
    return JSONResponse(logic.health(STACK))


async def json_hello(request: Request) -> JSONResponse:
    return JSONResponse(logic.hello())


async def plaintext(request: Request) -> PlainTextResponse:
    return PlainTextResponse(logic.PLAINTEXT)


async def io_sleep(request: Request) -> JSONResponse:
    ms = logic.sleep_ms(query(request))
    await asyncio.sleep(ms / 1000)
    return JSONResponse(logic.slept(ms))


async def io_upstream(request: Request) -> JSONResponse:
    ms, fanout = logic.upstream_params(query(request))
    upstream: Upstream = request.app.state.upstream
    body_bytes = await upstream.fanout(ms, fanout)
    return JSONResponse(logic.upstream_result(fanout, ms, body_bytes))


def cpu_fib(request: Request) -> JSONResponse:
    return JSONResponse(logic.cpu_fib(query(request)))


def cpu_hash(request: Request) -> JSONResponse:
    return JSONResponse(logic.cpu_hash(query(request)))


def cpu_matmul(request: Request) -> JSONResponse:
    return JSONResponse(logic.cpu_matmul(query(request)))


async def cpu_json(request: Request) -> Response:
    """Reads the body on the loop (400 for a wrong type, 413 past the limit while streaming),
    then parses, validates, aggregates and serializes in the threadpool."""
    headers = request.headers
    logic.check_json_request(headers.get("content-type"), headers.get("content-length"))
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > logic.MAX_JSON_BODY_BYTES:
            raise logic.body_too_large()
        chunks.append(chunk)
    body = await run_in_threadpool(logic.cpu_json, b"".join(chunks))
    return Response(body, media_type="application/json")


_HTTP_ERRORS = {404: "not found", 405: "method not allowed"}


async def endpoint_error(request: Request, err: Exception) -> JSONResponse:
    assert isinstance(err, EndpointError)
    return JSONResponse(err.body(), status_code=err.status)


async def http_error(request: Request, err: Exception) -> JSONResponse:
    assert isinstance(err, HTTPException)
    message = _HTTP_ERRORS.get(err.status_code) or str(err.detail).lower()
    # Keeps the Allow header Starlette puts on a 405.
    return JSONResponse({"error": message}, status_code=err.status_code, headers=err.headers)


async def internal_error(request: Request, err: Exception) -> JSONResponse:
    return JSONResponse({"error": f"internal error: {type(err).__name__}"}, status_code=500)


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    # Runs once per uvicorn worker process: each worker owns one pooled client.
    upstream = Upstream.from_env()
    await upstream.open()
    app.state.upstream = upstream
    try:
        yield
    finally:
        await upstream.close()


app = Starlette(
    routes=[
        Route("/health", health, methods=["GET"]),
        Route("/json", json_hello, methods=["GET"]),
        Route("/plaintext", plaintext, methods=["GET"]),
        Route("/io/sleep", io_sleep, methods=["GET"]),
        Route("/io/upstream", io_upstream, methods=["GET"]),
        Route("/cpu/fib", cpu_fib, methods=["GET"]),
        Route("/cpu/json", cpu_json, methods=["POST"]),
        Route("/cpu/hash", cpu_hash, methods=["GET"]),
        Route("/cpu/matmul", cpu_matmul, methods=["GET"]),
    ],
    exception_handlers={
        EndpointError: endpoint_error,
        HTTPException: http_error,
        Exception: internal_error,
    },
    lifespan=lifespan,
)
# Paths outside the contract are 404s, not 307 redirects from /json/ to /json.
app.router.redirect_slashes = False
