"""The contract's parameter and body limits for Python, read once at import from
fixtures/contract/contract.json, which is their only home.

Owns: finding the contract file and turning its params into `IntRange`s and choice tuples. Leaves
the checking of a request to `logic`. A contract that lacks an endpoint or parameter the app
serves stops the app at startup with a `ContractError` naming it, instead of accepting anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONTRACT_PATH = Path(__file__).resolve().parents[2] / "fixtures" / "contract" / "contract.json"
"""The contract, found from this file's place in the repository (python-app/claimbench_app/)."""


class ContractError(Exception):
    """The contract file cannot give the limits the app needs."""


@dataclass(frozen=True)
class IntRange:
    """An integer parameter's limits: lo..=hi, and the value taken when an optional one is absent."""

    lo: int
    hi: int
    default: int | None = None


@dataclass(frozen=True)
class Limits:
    """Every limit the endpoints check, as the contract states them."""

    sleep_ms: IntRange
    upstream_ms: IntRange
    fanout: IntRange
    fib_n: IntRange
    hash_rounds: IntRange
    matmul_n: IntRange
    matmul_impls: tuple[str, ...]
    json_body_bytes: int
    ws_echo_max_bytes: int
    ws_room_max_bytes: int
    sse_hz: IntRange
    sse_bytes: IntRange
    stream_bytes: IntRange
    stream_chunk: IntRange
    stream_upload_bytes: int


def read_limits(path: Path = CONTRACT_PATH) -> Limits:
    """The limits stated by the contract at `path`."""
    try:
        contract = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ContractError(f"cannot read the endpoint limits from {path}: {err}") from None

    def endpoint(method: str, route: str) -> dict[str, Any]:
        for candidate in contract.get("endpoints", []):
            if candidate.get("method") == method and candidate.get("path") == route:
                return candidate
        raise ContractError(f"{path} has no endpoint {method} {route}, which the Python app serves")

    def param(route: str, name: str) -> dict[str, Any]:
        for candidate in endpoint("GET", route).get("params", []):
            if candidate.get("name") == name:
                return candidate
        raise ContractError(f"{path}: {route} has no parameter {name}, which the Python app reads")

    def int_range(route: str, name: str) -> IntRange:
        spec = param(route, name)
        lo, hi = spec.get("min"), spec.get("max")
        if not isinstance(lo, int) or not isinstance(hi, int):
            raise ContractError(f"{path}: {route} parameter {name} needs integer min and max")
        return IntRange(lo, hi, None if spec.get("required") else spec.get("default"))

    impls = param("/cpu/matmul", "impl").get("one_of")
    if not isinstance(impls, list):
        raise ContractError(f"{path}: /cpu/matmul parameter impl needs one_of")
    body_bytes = (endpoint("POST", "/cpu/json").get("request") or {}).get("max_body_bytes")
    if not isinstance(body_bytes, int):
        raise ContractError(f"{path}: POST /cpu/json needs request.max_body_bytes")

    upload_bytes = (endpoint("POST", "/stream/upload").get("request") or {}).get("max_body_bytes")
    if not isinstance(upload_bytes, int):
        raise ContractError(f"{path}: POST /stream/upload needs request.max_body_bytes")

    def ws_max_bytes(route: str) -> int:
        limit = (endpoint("GET", route).get("websocket") or {}).get("max_message_bytes")
        if not isinstance(limit, int):
            raise ContractError(f"{path}: GET {route} needs websocket.max_message_bytes")
        return limit

    return Limits(
        sleep_ms=int_range("/io/sleep", "ms"),
        upstream_ms=int_range("/io/upstream", "ms"),
        fanout=int_range("/io/upstream", "fanout"),
        fib_n=int_range("/cpu/fib", "n"),
        hash_rounds=int_range("/cpu/hash", "rounds"),
        matmul_n=int_range("/cpu/matmul", "n"),
        matmul_impls=tuple(impls),
        json_body_bytes=body_bytes,
        ws_echo_max_bytes=ws_max_bytes("/ws/echo"),
        ws_room_max_bytes=ws_max_bytes("/ws/room"),
        sse_hz=int_range("/sse/ticks", "hz"),
        sse_bytes=int_range("/sse/ticks", "bytes"),
        stream_bytes=int_range("/stream/download", "bytes"),
        stream_chunk=int_range("/stream/download", "chunk"),
        stream_upload_bytes=upload_bytes,
    )


LIMITS = read_limits()
"""The limits of the repository's contract, read when the app starts."""
