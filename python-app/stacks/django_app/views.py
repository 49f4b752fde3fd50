"""The Django stack's views: synchronous function views (WSGI), one per contract path.

Owns: the allowed method of each path (405 with Allow otherwise), reading the /cpu/json body,
and the contract's {"error": ...} bodies for Django's 404 and 500. Leaves every computation and
validation to `claimbench_app.logic`, and the outbound client to `claimbench_app.sync_upstream`
(one pooled `requests.Session` and a thread pool for the fan-out).
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse

from claimbench_app import logic
from claimbench_app.logic import EndpointError
from claimbench_app.sync_upstream import SyncUpstream

STACK = os.environ.get("STACK") or "django"

# Made at import, so once per gunicorn worker process (no --preload).
upstream = SyncUpstream.from_env()

# Compact, as the contract wants (Django's default separators put spaces after , and :).
_COMPACT = {"separators": (",", ":")}


def _json(value: dict[str, Any], status: int = 200) -> JsonResponse:
    return JsonResponse(value, status=status, json_dumps_params=_COMPACT)


def endpoint(method: str) -> Callable[[Callable[[HttpRequest], HttpResponse]], Callable[..., HttpResponse]]:
    """A view answering only `method` (405 with Allow otherwise) and EndpointError as JSON."""

    def wrap(view: Callable[[HttpRequest], HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def handle(request: HttpRequest) -> HttpResponse:
            if request.method != method:
                response = _json({"error": "method not allowed"}, 405)
                response["Allow"] = method
                return response
            try:
                return view(request)
            except EndpointError as err:
                return _json(err.body(), err.status)

        return handle

    return wrap


def query(request: HttpRequest) -> dict[str, str]:
    # The raw string, not request.GET (a QueryDict whose .get keeps the last repeated key).
    return logic.parse_query(request.META.get("QUERY_STRING", ""))


@endpoint("GET")
def health(request: HttpRequest) -> HttpResponse:
    return _json(logic.health(STACK))


@endpoint("GET")
def json_hello(request: HttpRequest) -> HttpResponse:
    return _json(logic.hello())


@endpoint("GET")
def plaintext(request: HttpRequest) -> HttpResponse:
    return HttpResponse(logic.PLAINTEXT, content_type="text/plain; charset=utf-8")


@endpoint("GET")
def io_sleep(request: HttpRequest) -> HttpResponse:
    ms = logic.sleep_ms(query(request))
    time.sleep(ms / 1000)
    return _json(logic.slept(ms))


@endpoint("GET")
def io_upstream(request: HttpRequest) -> HttpResponse:
    ms, fanout = logic.upstream_params(query(request))
    return _json(logic.upstream_result(fanout, ms, upstream.fanout(ms, fanout)))


@endpoint("GET")
def cpu_fib(request: HttpRequest) -> HttpResponse:
    return _json(logic.cpu_fib(query(request)))


@endpoint("GET")
def cpu_hash(request: HttpRequest) -> HttpResponse:
    return _json(logic.cpu_hash(query(request)))


@endpoint("GET")
def cpu_matmul(request: HttpRequest) -> HttpResponse:
    return _json(logic.cpu_matmul(query(request)))


@endpoint("POST")
def cpu_json(request: HttpRequest) -> HttpResponse:
    logic.check_json_request(request.content_type, request.META.get("CONTENT_LENGTH"))
    try:
        body = request.body
    except RequestDataTooBig:
        raise logic.body_too_large() from None
    return HttpResponse(logic.cpu_json(body), content_type="application/json")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _json({"error": "not found"}, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    return _json({"error": "internal error"}, 500)
