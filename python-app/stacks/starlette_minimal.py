"""E-coldstart's serverless case for bare Starlette: the framework and its /health route, none of
the contract's endpoint logic (`claimbench_app`). Served by the same uvicorn command line as
`stacks.starlette_app`."""

from __future__ import annotations

import os

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

STACK = os.environ.get("STACK") or "starlette"


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok", "stack": STACK})


app = Starlette(routes=[Route("/health", health, methods=["GET"])])
