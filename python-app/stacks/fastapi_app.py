"""The FastAPI stack: routes the contract's endpoints to `claimbench_app` and serializes answers.

Owns: routing, the handler kind of each endpoint, reading the /cpu/json body, and turning
FastAPI's own errors into the contract's {"error": ...} bodies. Leaves every computation and
validation to `claimbench_app.logic`, and the outbound client to `claimbench_app.upstream`. The
WebSocket endpoints at the end take their rules and room registry from `claimbench_app.realtime`.

Handler kinds follow the contract's python_handler_style, which the GIL experiments depend on:
CPU endpoints are plain `def` (FastAPI runs them in its threadpool, as its docs advise for blocking
work); overhead and I/O endpoints are `async def` on the event loop.

Run (from python-app/):
    .venv/bin/python -m uvicorn stacks.fastapi_app:app --loop uvloop --http httptools \
        --no-access-log --log-level warning --workers N
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, Request, WebSocket
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import HTTPConnection
from starlette.websockets import WebSocketDisconnect

from claimbench_app import logic, realtime
from claimbench_app.logic import EndpointError
from claimbench_app.upstream import Upstream

STACK = os.environ.get("STACK") or "fastapi"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Runs once per uvicorn worker process: each worker owns one pooled client.
    upstream = Upstream.from_env()
    await upstream.open()
    app.state.upstream = upstream
    try:
        yield
    finally:
        await upstream.close()


app = FastAPI(
    lifespan=lifespan,
    # Paths outside the contract must be 404s: no docs pages, no 307 from /json/ to /json.
    docs_url=None,
    redoc_url=None,
    openapi_url=None,
    redirect_slashes=False,
)


def query(request: HTTPConnection) -> dict[str, str]:
    # The raw string, not request.query_params: Starlette keeps the last of repeated keys.
    return logic.parse_query(request.scope["query_string"])


# ---------------------------------------------------------------------------------------------
# Errors: every one is {"error": "..."} (FastAPI's own are {"detail": ...} and 422s)

_HTTP_ERRORS = {404: "not found", 405: "method not allowed"}


@app.exception_handler(EndpointError)
async def endpoint_error(request: Request, err: EndpointError) -> JSONResponse:
    return JSONResponse(err.body(), status_code=err.status)


@app.exception_handler(StarletteHTTPException)
async def http_error(request: Request, err: StarletteHTTPException) -> JSONResponse:
    message = _HTTP_ERRORS.get(err.status_code) or str(err.detail).lower()
    # Keeps the Allow header Starlette puts on a 405.
    return JSONResponse({"error": message}, status_code=err.status_code, headers=err.headers)


@app.exception_handler(RequestValidationError)
async def validation_error(request: Request, err: RequestValidationError) -> JSONResponse:
    # No route declares typed parameters, so this only fires if one is added by mistake.
    return JSONResponse({"error": f"invalid request: {err.errors()}"}, status_code=400)


@app.exception_handler(Exception)
async def internal_error(request: Request, err: Exception) -> JSONResponse:
    return JSONResponse({"error": f"internal error: {type(err).__name__}"}, status_code=500)


# ---------------------------------------------------------------------------------------------
# Overhead endpoints (async def)


@app.get("/health")
async def health() -> JSONResponse:
    return JSONResponse(logic.health(STACK))


@app.get("/json")
async def json_hello() -> JSONResponse:
    # JSONResponse rather than a returned dict: it skips jsonable_encoder, the usual fast path.
    return JSONResponse(logic.hello())


@app.get("/plaintext")
async def plaintext() -> PlainTextResponse:
    return PlainTextResponse(logic.PLAINTEXT)


# ---------------------------------------------------------------------------------------------
# I/O endpoints (async def)


@app.get("/io/sleep")
async def io_sleep(request: Request) -> JSONResponse:
    ms = logic.sleep_ms(query(request))
    await asyncio.sleep(ms / 1000)
    return JSONResponse(logic.slept(ms))


@app.get("/io/upstream")
async def io_upstream(request: Request) -> JSONResponse:
    ms, fanout = logic.upstream_params(query(request))
    upstream: Upstream = request.app.state.upstream
    body_bytes = await upstream.fanout(ms, fanout)
    return JSONResponse(logic.upstream_result(fanout, ms, body_bytes))


# ---------------------------------------------------------------------------------------------
# CPU endpoints (plain def: FastAPI runs them in its threadpool)


@app.get("/cpu/fib")
def cpu_fib(request: Request) -> JSONResponse:
    return JSONResponse(logic.cpu_fib(query(request)))


@app.get("/cpu/hash")
def cpu_hash(request: Request) -> JSONResponse:
    return JSONResponse(logic.cpu_hash(query(request)))


@app.get("/cpu/matmul")
def cpu_matmul(request: Request) -> JSONResponse:
    return JSONResponse(logic.cpu_matmul(query(request)))


async def json_body(request: Request) -> bytes:
    """The raw /cpu/json body, read on the event loop; parsing is left to the `def` handler.

    Checks the content type (400) and stops reading past the 1 MiB limit (413), so an oversized
    body is never buffered whole.
    """
    headers = request.headers
    logic.check_json_request(headers.get("content-type"), headers.get("content-length"))
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > logic.MAX_JSON_BODY_BYTES:
            raise logic.body_too_large()
        chunks.append(chunk)
    return b"".join(chunks)


@app.post("/cpu/json")
def cpu_json(body: Annotated[bytes, Depends(json_body)]) -> Response:
    # Parse, validate, aggregate and serialize all happen here, in the threadpool.
    return Response(logic.cpu_json(body), media_type="application/json")


# ---------------------------------------------------------------------------------------------
# WebSocket endpoints (group "realtime"); a plain GET on their paths is a 426


@app.get("/ws/echo")
@app.get("/ws/room")
async def websocket_plain_get() -> JSONResponse:
    raise realtime.upgrade_required()


@app.websocket("/ws/echo")
async def ws_echo(websocket: WebSocket) -> None:
    await websocket.accept()
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        if text is not None:
            if realtime.text_too_large(text, realtime.ECHO_MAX_BYTES):
                await websocket.close(realtime.CLOSE_TOO_LARGE, "message too large")
                return
            await websocket.send_text(text)
        else:
            data = message.get("bytes") or b""
            if len(data) > realtime.ECHO_MAX_BYTES:
                await websocket.close(realtime.CLOSE_TOO_LARGE, "message too large")
                return
            await websocket.send_bytes(data)


ROOMS: realtime.Rooms[WebSocket] = realtime.Rooms()


@app.websocket("/ws/room")
async def ws_room(websocket: WebSocket) -> None:
    try:
        name = realtime.room_name(query(websocket))
    except EndpointError as err:
        await websocket.send_denial_response(JSONResponse(err.body(), status_code=err.status))
        return
    await websocket.accept()
    # A member from its 101 on, as the contract says; joined only once accepted, so a broadcast
    # never sends to a socket that cannot take it yet.
    ROOMS.join(name, websocket)
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None:
                await websocket.close(realtime.CLOSE_UNSUPPORTED, "binary messages are not accepted in a room")
                return
            if realtime.text_too_large(text, realtime.ROOM_MAX_BYTES):
                await websocket.close(realtime.CLOSE_TOO_LARGE, "message too large")
                return
            # FastAPI's documented broadcast: one send after another from the sender's task.
            for member in ROOMS.members(name):
                try:
                    await member.send_text(text)
                except (WebSocketDisconnect, RuntimeError, OSError):
                    ROOMS.leave(name, member)
    finally:
        ROOMS.leave(name, websocket)

