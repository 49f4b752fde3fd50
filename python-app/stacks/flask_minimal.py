"""E-coldstart's serverless case for Flask: the framework and its /health view, none of the
contract's endpoint logic (`claimbench_app`). Served by the same gunicorn command line as
`stacks.flask_app`."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

STACK = os.environ.get("STACK") or "flask"

app = Flask(__name__)


@app.get("/health")
def health() -> dict[str, Any]:
    return {"status": "ok", "stack": STACK}
