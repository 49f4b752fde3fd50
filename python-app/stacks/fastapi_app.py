"""The FastAPI stack, written as FastAPI's documentation teaches: typed query parameters with
their limits, a Pydantic model for the /cpu/json body, and declared return types, which FastAPI
validates and serializes through pydantic-core.

Owns: routing, the handler kind of each endpoint, the request and response models, and turning
FastAPI's own errors (its 422s and {"detail": ...} bodies) into the contract's 400 and
{"error": ...} bodies. Leaves the computations to `claimbench_app.logic`, and the outbound client
to `claimbench_app.upstream`. The WebSocket endpoints take their rules and room registry from
`claimbench_app.realtime`; the streamed bodies at the end their pattern and digest from
`claimbench_app.streams` (a StreamingResponse for the download, `request.stream()` for the upload,
as Starlette's documentation shows, so neither body is held whole).

Two small ASGI guards keep the contract where FastAPI's defaults differ from it: the first value
of a repeated query key wins (Starlette keeps the last), and a POST body over the contract's
limit (/cpu/json's, or /stream/upload's) is a 413 before it is buffered (FastAPI has no body limit
of its own).

Handler kinds follow the contract's python_handler_style, which the GIL experiments depend on:
CPU endpoints are plain `def` (FastAPI runs them in its threadpool, as its docs advise for blocking
work); overhead and I/O endpoints are `async def` on the event loop. FastAPI itself parses and
validates a model body on the event loop before the `def` handler runs.

Run (from python-app/):
    .venv/bin/python -m uvicorn stacks.fastapi_app:app --loop uvloop --http httptools \
        --no-access-log --log-level warning --workers N
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal, Union
from urllib.parse import parse_qsl, urlencode

from fastapi import FastAPI, HTTPException, Query, Request, WebSocket
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse
from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, StrictFloat, StrictInt, StrictStr
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocketDisconnect

from claimbench_app import logic, realtime, sse, streams
from claimbench_app.limits import LIMITS, IntRange
from claimbench_app.logic import EndpointError
from claimbench_app.upstream import Upstream
from stacks import fastapi_db

STACK = os.environ.get("STACK") or "fastapi"

# ---------------------------------------------------------------------------------------------
# Request types: the contract's rules as Pydantic types

_DIGITS = re.compile(r"[0-9]+")


def _digits_only(value: Any) -> Any:
    # Pydantic's lax int also takes '+3', ' 3', '1_000' and '3.0'; the contract takes ^[0-9]+$.
    if isinstance(value, str) and not _DIGITS.fullmatch(value):
        raise ValueError("must be digits only")
    return value


def query_int(limits: IntRange) -> Any:
    """A typed integer query parameter within the contract's lo..=hi."""
    return Annotated[int, BeforeValidator(_digits_only), Query(ge=limits.lo, le=limits.hi)]


SleepMs = query_int(LIMITS.sleep_ms)
UpstreamMs = query_int(LIMITS.upstream_ms)
Fanout = query_int(LIMITS.fanout)
FibN = query_int(LIMITS.fib_n)
HashRounds = query_int(LIMITS.hash_rounds)
MatmulN = query_int(LIMITS.matmul_n)
StreamChunk = query_int(LIMITS.stream_chunk)
SseHz = query_int(LIMITS.sse_hz)
# `bytes` would shadow the builtin here too.
SseBytes = Annotated[
    int,
    BeforeValidator(_digits_only),
    Query(alias="bytes", ge=LIMITS.sse_bytes.lo, le=LIMITS.sse_bytes.hi),
]
# `bytes` would shadow the builtin, so the parameter is read under an alias.
StreamBytes = Annotated[
    int,
    BeforeValidator(_digits_only),
    Query(alias="bytes", ge=LIMITS.stream_bytes.lo, le=LIMITS.stream_bytes.hi),
]
MatmulImpl = Annotated[Literal[LIMITS.matmul_impls], Query()]  # type: ignore[valid-type]


def _integral(value: float) -> int:
    if not value.is_integer():
        raise ValueError("must be a JSON integer")
    return int(value)


# A JSON number with an integral value: 3 and 3.0 are 3, but true and "3" are not integers,
# although Pydantic's lax int takes both. Left to right, so an int settles in pydantic-core's
# StrictInt without calling Python: measured 1.6-1.9x the time of a plain lax `int` on
# orders-100k, against 2.7x for a BeforeValidator on every field.
JsonInt = Annotated[
    Union[StrictInt, Annotated[StrictFloat, AfterValidator(_integral)]],
    Field(union_mode="left_to_right"),
]
Name = Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]


class Item(BaseModel):
    sku: Name
    qty: Annotated[JsonInt, Field(ge=1, le=10_000)]
    price_cents: Annotated[JsonInt, Field(ge=0, le=10_000_000)]


class Order(BaseModel):
    id: JsonInt
    customer: Name
    items: list[Item]


class Orders(BaseModel):
    """The POST /cpu/json body; other keys are ignored, as the contract says."""

    orders: list[Order]


# ---------------------------------------------------------------------------------------------
# Response types, in the contract's key order


class Health(BaseModel):
    status: str
    stack: str


class Hello(BaseModel):
    message: str


class Slept(BaseModel):
    slept_ms: int


class UpstreamResult(BaseModel):
    calls: int
    ms: int
    bytes: int


class Fib(BaseModel):
    n: int
    value: int


class Digest(BaseModel):
    rounds: int
    digest: str


class Matmul(BaseModel):
    n: int
    impl: str
    checksum: int


class CustomerTotal(BaseModel):
    customer: str
    orders: int
    items: int
    total_cents: int


class Totals(BaseModel):
    order_count: int
    item_count: int
    total_cents: int
    customers: list[CustomerTotal]


# ---------------------------------------------------------------------------------------------
# The app


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Runs once per uvicorn worker process: each worker owns one pooled client.
    upstream = Upstream.from_env()
    await upstream.open()
    app.state.upstream = upstream
    await fastapi_db.open_database(app)
    try:
        yield
    finally:
        await fastapi_db.close_database(app)
        await upstream.close()


app = FastAPI(
    lifespan=lifespan,
    # Paths outside the contract must be 404s: no docs pages, no 307 from /json/ to /json.
    docs_url=None,
    redoc_url=None,
    openapi_url=None,
    redirect_slashes=False,
)
# The database group (/db, /queries, /updates, /fortunes): stacks/fastapi_db.py.
app.include_router(fastapi_db.router)


class ContractGuards:
    """Pure ASGI middleware: first value of a repeated query key, and the /cpu/json body limit."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query = scope["query_string"]
            if b"&" in query:
                scope = dict(scope, query_string=_first_values(query))
            if scope["method"] == "POST":
                limit, too_large = _body_limit(scope["path"])
                if _declared_length(scope) > limit:
                    # Outside the app, where FastAPI's exception handlers do not reach.
                    await _error(too_large.status, too_large.message)(scope, receive, send)
                    return
                receive = _limited(receive, limit, too_large)
        await self.app(scope, receive, send)


def _first_values(query: bytes) -> bytes:
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    if len({key for key, _ in pairs}) == len(pairs):
        return query
    first: dict[str, str] = {}
    for key, value in pairs:
        first.setdefault(key, value)
    return urlencode(first).encode("latin-1")


def _body_limit(path: str) -> tuple[int, EndpointError]:
    """A POST body's limit on `path`, and the 413 that answers a body over it."""
    if path == "/stream/upload":
        return streams.UPLOAD_MAX_BYTES, streams.upload_too_large()
    return logic.MAX_JSON_BODY_BYTES, logic.body_too_large()


def _declared_length(scope: Scope) -> int:
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit():
            return int(value)
    return 0


def _limited(receive: Receive, limit: int, too_large: EndpointError) -> Receive:
    """`receive` that refuses a streamed (chunked) body once it passes `limit`."""
    size = 0

    async def counted() -> Message:
        nonlocal size
        message = await receive()
        size += len(message.get("body", b""))
        if size > limit:
            # FastAPI re-raises an HTTPException from reading the body, so this stays a 413.
            raise HTTPException(413, detail=too_large.message)
        return message

    return counted


app.add_middleware(ContractGuards)


# ---------------------------------------------------------------------------------------------
# Errors: every one is {"error": "..."} (FastAPI's own are {"detail": ...} and 422s)

_HTTP_ERRORS = {404: "not found", 405: "method not allowed"}


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


@app.exception_handler(EndpointError)
async def endpoint_error(request: Request, err: EndpointError) -> JSONResponse:
    return _error(err.status, err.message)


@app.exception_handler(StarletteHTTPException)
async def http_error(request: Request, err: StarletteHTTPException) -> JSONResponse:
    message = _HTTP_ERRORS.get(err.status_code) or str(err.detail).lower()
    # Keeps the Allow header Starlette puts on a 405.
    return _error(err.status_code, message, err.headers)


@app.exception_handler(RequestValidationError)
async def validation_error(request: Request, err: RequestValidationError) -> JSONResponse:
    # The contract answers an invalid request with 400, FastAPI with 422: name the first problem.
    first = err.errors()[0]
    if first["type"] == "json_invalid":
        return _error(400, f"the body is not valid JSON: {first['ctx']['error']}")
    return _error(400, f"{_where(first['loc'])}: {first['msg']}")


def _where(loc: tuple[Any, ...]) -> str:
    """`('query', 'ms')` -> 'parameter ms'; `('body', 'orders', 3, 'qty')` -> 'orders[3].qty'."""
    if loc and loc[0] == "query":
        return f"parameter {loc[1]}" if len(loc) > 1 else "the query"
    path = ""
    # A union's errors add its member's tag ('int', 'function-after[...]') after the field.
    for part in (p for p in loc[1:] if p != "int" and not str(p).startswith("function-after[")):
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "the body"


@app.exception_handler(Exception)
async def internal_error(request: Request, err: Exception) -> JSONResponse:
    return _error(500, f"internal error: {type(err).__name__}")


# ---------------------------------------------------------------------------------------------
# Overhead endpoints (async def)


@app.get("/health")
async def health() -> Health:
    return Health(**logic.health(STACK))


@app.get("/json")
async def json_hello() -> Hello:
    # A fresh object per call: TechEmpower's json rules forbid caching the object or its bytes.
    return Hello(**logic.hello())


@app.get("/plaintext")
async def plaintext() -> PlainTextResponse:
    return PlainTextResponse(logic.PLAINTEXT)


# ---------------------------------------------------------------------------------------------
# I/O endpoints (async def)


@app.get("/io/sleep")
async def io_sleep(ms: SleepMs) -> Slept:
    await asyncio.sleep(ms / 1000)
    return Slept(**logic.slept(ms))


@app.get("/io/upstream")
async def io_upstream(
    request: Request,
    ms: UpstreamMs,
    fanout: Fanout = LIMITS.fanout.default,
) -> UpstreamResult:
    upstream: Upstream = request.app.state.upstream
    body_bytes = await upstream.fanout(ms, fanout)
    return UpstreamResult(**logic.upstream_result(fanout, ms, body_bytes))


# ---------------------------------------------------------------------------------------------
# CPU endpoints (plain def: FastAPI runs them in its threadpool)


@app.get("/cpu/fib")
def cpu_fib(n: FibN) -> Fib:
    return Fib(n=n, value=logic.fib(n))


@app.get("/cpu/hash")
def cpu_hash(rounds: HashRounds) -> Digest:
    return Digest(rounds=rounds, digest=logic.hash_chain(rounds))


@app.get("/cpu/matmul")
def cpu_matmul(n: MatmulN, impl: MatmulImpl) -> Matmul:
    checksum = logic.matmul_checksum_lib(n) if impl == "lib" else logic.matmul_checksum_pure(n)
    return Matmul(n=n, impl=impl, checksum=checksum)


@app.post("/cpu/json")
def cpu_json(body: Orders) -> Totals:
    orders = ((o.customer, ((i.qty, i.price_cents) for i in o.items)) for o in body.orders)
    return Totals.model_validate(logic.summarise(orders))


# ---------------------------------------------------------------------------------------------
# WebSocket endpoints (group "realtime"); a plain GET on their paths is a 426


@app.get("/sse/ticks")
async def sse_ticks(hz: SseHz = LIMITS.sse_hz.default, size: SseBytes = LIMITS.sse_bytes.default) -> StreamingResponse:
    # Server-sent events from the process's shared ticker (claimbench_app.sse); Starlette closes
    # the generator when the client goes away, which unsubscribes it.
    return StreamingResponse(
        sse.subscribe(hz, size), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )


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
        # The raw query string: the first of repeated keys wins, as the contract says (the HTTP
        # guard above only rewrites HTTP scopes).
        name = realtime.room_name(logic.parse_query(websocket.scope["query_string"]))
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


# ---------------------------------------------------------------------------------------------
# Streamed bodies (group "streams"): async def, on the event loop


class Uploaded(BaseModel):
    bytes: int
    sha256: str


@app.get("/stream/download")
async def stream_download(size: StreamBytes, chunk: StreamChunk = LIMITS.stream_chunk.default) -> StreamingResponse:
    # A sync iterator would be run in the threadpool chunk by chunk; an async generator keeps
    # the writes on the event loop, where Starlette awaits each send (its backpressure).
    async def body() -> AsyncIterator[memoryview]:
        for piece in streams.download_chunks(size, chunk):
            yield piece

    return StreamingResponse(body(), media_type="application/octet-stream")


@app.post("/stream/upload")
async def stream_upload(request: Request) -> Uploaded:
    digest = streams.UploadDigest()
    try:
        async for piece in request.stream():
            digest.update(piece)
    except HTTPException as err:
        # The ASGI guard's 413 for a chunked body over the limit, raised from inside receive.
        raise EndpointError(err.status_code, str(err.detail)) from None
    return Uploaded.model_validate(digest.result())
