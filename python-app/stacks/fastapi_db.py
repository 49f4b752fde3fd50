"""The database group for the FastAPI stack: an APIRouter the app includes, and the pool's life.

Owns: routing /db, /queries, /updates and /fortunes to `claimbench_app.db` and serializing what it
returns (JSON, or the fortunes page as text/html; charset=utf-8). All four are `async def` on the
event loop, as the contract's io handler style says. Leaves the SQL, the pool and the template to
`claimbench_app.db`; the app's lifespan calls `open_database` and `close_database`.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse

from claimbench_app import logic
from claimbench_app.db import Database, query_count

router = APIRouter()


async def open_database(app: FastAPI) -> None:
    """Creates this worker's pool (connections open on first use)."""
    database = Database.from_env()
    await database.open()
    app.state.database = database


async def close_database(app: FastAPI) -> None:
    await app.state.database.close()


def _database(request: Request) -> Database:
    return request.app.state.database


def _query(request: Request) -> dict[str, str]:
    return logic.parse_query(request.scope["query_string"])


@router.get("/db")
async def db(request: Request) -> JSONResponse:
    return JSONResponse(await _database(request).world())


@router.get("/queries")
async def queries(request: Request) -> JSONResponse:
    return JSONResponse(await _database(request).worlds(query_count(_query(request))))


@router.get("/updates")
async def updates(request: Request) -> JSONResponse:
    return JSONResponse(await _database(request).updates(query_count(_query(request))))


@router.get("/fortunes")
async def fortunes(request: Request) -> HTMLResponse:
    return HTMLResponse(await _database(request).fortunes())
