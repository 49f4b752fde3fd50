"""The Flask stack, served by gunicorn's threaded sync workers (`gthread`): plain synchronous
views, one request per thread, no event loop anywhere.

Owns: routing, reading the /cpu/json body, and turning Flask's own errors (HTML pages) into the
contract's {"error": ...} bodies. Leaves every computation and validation to
`claimbench_app.logic`, and the outbound client to `claimbench_app.sync_upstream` (one pooled
`requests.Session` and a thread pool for the fan-out, as synchronous Flask code does it).

Every view runs in a gunicorn worker thread: CPU work holds the GIL against the other threads of
its process, which is exactly what the GIL experiments measure (threads against processes).

Run (from python-app/):
    .venv/bin/python -m gunicorn stacks.flask_app:app --bind 127.0.0.1:8000 --workers N \
        --worker-class gthread --threads 32 --graceful-timeout 2 --log-level warning
"""

from __future__ import annotations

import os
import time
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from claimbench_app import logic
from claimbench_app.logic import EndpointError
from claimbench_app.sync_upstream import SyncUpstream

STACK = os.environ.get("STACK") or "flask"

app = Flask(__name__)
# Werkzeug answers 413 for a larger declared or streamed body.
app.config["MAX_CONTENT_LENGTH"] = logic.MAX_JSON_BODY_BYTES
# Keys in the contract's order (Flask sorts them by default); compact separators.
app.json.sort_keys = False  # type: ignore[attr-defined]
app.json.compact = True  # type: ignore[attr-defined]

# Made at import, so once per gunicorn worker process (no --preload).
upstream = SyncUpstream.from_env()


def query() -> dict[str, str]:
    # The raw string, not request.args: the contract's parameter rules are logic's.
    return logic.parse_query(request.query_string)


@app.get("/health")
def health() -> dict[str, Any]:
    return logic.health(STACK)


@app.get("/json")
def json_hello() -> dict[str, Any]:
    return logic.hello()


@app.get("/plaintext")
def plaintext() -> Response:
    return Response(logic.PLAINTEXT, mimetype="text/plain")


@app.get("/io/sleep")
def io_sleep() -> dict[str, Any]:
    ms = logic.sleep_ms(query())
    time.sleep(ms / 1000)
    return logic.slept(ms)


@app.get("/io/upstream")
def io_upstream() -> dict[str, Any]:
    ms, fanout = logic.upstream_params(query())
    return logic.upstream_result(fanout, ms, upstream.fanout(ms, fanout))


@app.get("/cpu/fib")
def cpu_fib() -> dict[str, Any]:
    return logic.cpu_fib(query())


@app.get("/cpu/hash")
def cpu_hash() -> dict[str, Any]:
    return logic.cpu_hash(query())


@app.get("/cpu/matmul")
def cpu_matmul() -> dict[str, Any]:
    return logic.cpu_matmul(query())


@app.post("/cpu/json")
def cpu_json() -> Response:
    logic.check_json_request(request.headers.get("Content-Type"), request.headers.get("Content-Length"))
    body = request.get_data(cache=False)
    return Response(logic.cpu_json(body), mimetype="application/json")


_HTTP_ERRORS = {404: "not found", 405: "method not allowed"}


@app.errorhandler(EndpointError)
def endpoint_error(err: EndpointError) -> tuple[dict[str, str], int]:
    return err.body(), err.status


@app.errorhandler(HTTPException)
def http_error(err: HTTPException) -> tuple[dict[str, str], int, dict[str, str]]:
    status = err.code or 500
    if status == 413:
        return logic.body_too_large().body(), 413, {}
    message = _HTTP_ERRORS.get(status) or (err.description or err.name).lower()
    headers = {}
    if isinstance(err, MethodNotAllowed) and err.valid_methods:
        headers["Allow"] = ", ".join(err.valid_methods)
    return {"error": message}, status, headers


@app.errorhandler(Exception)
def internal_error(err: Exception) -> tuple[dict[str, str], int]:
    app.logger.exception("unhandled error")
    return {"error": f"internal error: {type(err).__name__}"}, 500
