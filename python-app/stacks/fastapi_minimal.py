"""E-coldstart's serverless case for FastAPI: the framework and its /health route, none of the
contract's endpoint logic (`claimbench_app`), as a function's handler module would be. Served by
the same uvicorn command line as `stacks.fastapi_app`."""

from __future__ import annotations

import os

from fastapi import FastAPI
from pydantic import BaseModel

STACK = os.environ.get("STACK") or "fastapi"


class Health(BaseModel):
    status: str
    stack: str


app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@app.get("/health")
async def health() -> Health:
    return Health(status="ok", stack=STACK)
