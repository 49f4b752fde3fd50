"""Endpoint logic and input validation, exactly as fixtures/contract/contract.json defines them.

Owns: query-string parsing (first value of a repeated key wins), the integer and choice parameter
rules, the CPU workloads (fib, hash, matmul, order aggregation) and the shape of every response
body. Failures are raised as `EndpointError`, which carries the HTTP status and the message.

Leaves to `limits`: reading the parameter ranges and the body limit from the contract. Leaves to
the stacks: routing, reading the request body, choosing sync or async handlers, and
turning dicts into responses. Leaves to `upstream`: the outbound HTTP client.

Nothing here imports a web framework, so every stack computes byte-identical answers.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl

import numpy as np

from claimbench_app.limits import LIMITS, IntRange

MAX_JSON_BODY_BYTES = LIMITS.json_body_bytes
"""The contract's max_body_bytes for POST /cpu/json; a larger body is a 413."""

_DIGITS = re.compile(r"[0-9]+")
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")


class EndpointError(Exception):
    """A request the endpoint refuses: answered with `status` and {"error": message}."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def body(self) -> dict[str, str]:
        """The JSON error body the contract prescribes."""
        return {"error": self.message}


def bad_request(message: str) -> EndpointError:
    return EndpointError(400, message)


# ---------------------------------------------------------------------------------------------
# Query parameters


def parse_query(raw: str | bytes) -> dict[str, str]:
    """Decodes a raw query string; for a repeated key the first value wins, as the contract says.

    Frameworks disagree on repeated keys (Starlette's `QueryParams.get` keeps the last one), so
    stacks hand the raw string here instead of using their own parsing.
    """
    if isinstance(raw, bytes):
        raw = raw.decode("latin-1")
    params: dict[str, str] = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        params.setdefault(key, value)
    return params


def int_param(query: Mapping[str, str], name: str, limits: IntRange) -> int:
    """The parameter `name` as an integer in lo..=hi; digits only, so '+3', '-1', '1.5' fail."""
    lo, hi = limits.lo, limits.hi
    expected = f"an integer in {lo}..={hi}"
    raw = query.get(name)
    if raw is None:
        if limits.default is not None:
            return limits.default
        raise bad_request(f"missing parameter {name}: expected {expected}")
    # fullmatch, not `$`: Python's `$` also matches before a trailing newline.
    # Past 18 significant digits every value is out of range, and int() refuses 4300 digits.
    if not _DIGITS.fullmatch(raw) or len(raw.lstrip("0")) > 18 or not lo <= int(raw) <= hi:
        raise bad_request(f"parameter {name} must be {expected}, got {_shown(raw)}")
    return int(raw)


def _shown(raw: str) -> str:
    """The offending value for an error message, quoted and cut short: it echoes client input."""
    return repr(raw if len(raw) <= 24 else raw[:24] + "...")


def choice_param(query: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    """The parameter `name`, which must be one of `choices` (required)."""
    raw = query.get(name)
    if raw not in choices:
        got = "nothing" if raw is None else _shown(raw)
        raise bad_request(f"parameter {name} must be one of {', '.join(choices)}, got {got}")
    return raw


# ---------------------------------------------------------------------------------------------
# Overhead and I/O endpoints (the waiting itself is done by the stack or by `upstream`)


def health(stack: str) -> dict[str, str]:
    return {"status": "ok", "stack": stack}


def hello() -> dict[str, str]:
    # A fresh dict per call: TechEmpower's json rules forbid caching the object or its bytes.
    return {"message": "Hello, World!"}


PLAINTEXT = "Hello, World!"


def sleep_ms(query: Mapping[str, str]) -> int:
    """The validated `ms` of GET /io/sleep."""
    return int_param(query, "ms", LIMITS.sleep_ms)


def slept(ms: int) -> dict[str, int]:
    return {"slept_ms": ms}


def upstream_params(query: Mapping[str, str]) -> tuple[int, int]:
    """The validated (ms, fanout) of GET /io/upstream."""
    return int_param(query, "ms", LIMITS.upstream_ms), int_param(query, "fanout", LIMITS.fanout)


def upstream_result(calls: int, ms: int, body_bytes: int) -> dict[str, int]:
    return {"calls": calls, "ms": ms, "bytes": body_bytes}


# ---------------------------------------------------------------------------------------------
# CPU endpoints: each takes the decoded query and returns the response dict


def fib(n: int) -> int:
    """Naive recursion on purpose: the contract measures interpreter speed, not algorithms."""
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def cpu_fib(query: Mapping[str, str]) -> dict[str, int]:
    n = int_param(query, "n", LIMITS.fib_n)
    return {"n": n, "value": fib(n)}


def hash_chain(rounds: int) -> str:
    """SHA-256 applied `rounds` times to its own raw 32-byte digest, starting from b"claimbench"."""
    digest = b"claimbench"
    sha256 = hashlib.sha256
    for _ in range(rounds):
        digest = sha256(digest).digest()
    return digest.hex()


def cpu_hash(query: Mapping[str, str]) -> dict[str, Any]:
    rounds = int_param(query, "rounds", LIMITS.hash_rounds)
    return {"rounds": rounds, "digest": hash_chain(rounds)}


def matmul_checksum_lib(n: int) -> int:
    """The matmul checksum with numpy (float64 `@`, which calls BLAS)."""
    i = np.arange(n, dtype=np.float64).reshape(n, 1)
    j = np.arange(n, dtype=np.float64).reshape(1, n)
    a = (7 * i + 3 * j) % 11 - 5
    b = (5 * i + 2 * j) % 13 - 6
    weights = (3 * i + j) % 7 - 3
    c = a @ b
    # Every term is an integer below 2**53, so the float sum is exact and int() loses nothing.
    return int((c * weights).sum())


def matmul_checksum_pure(n: int) -> int:
    """The matmul checksum with nested lists of floats and plain loops.

    i-k-j loop order, the order the Node app uses: the same algorithm in both runtimes, so the
    comparison is between interpreters, not between loop orders.
    """
    rng = range(n)
    a = [[float((7 * i + 3 * j) % 11 - 5) for j in rng] for i in rng]
    b = [[float((5 * i + 2 * j) % 13 - 6) for j in rng] for i in rng]
    checksum = 0.0
    for i in rng:
        a_row = a[i]
        c_row = [0.0] * n
        for k in rng:
            a_ik = a_row[k]
            b_row = b[k]
            for j in rng:
                c_row[j] += a_ik * b_row[j]
        for j in rng:
            checksum += c_row[j] * ((3 * i + j) % 7 - 3)
    return int(checksum)


def cpu_matmul(query: Mapping[str, str]) -> dict[str, Any]:
    n = int_param(query, "n", LIMITS.matmul_n)
    impl = choice_param(query, "impl", LIMITS.matmul_impls)
    checksum = matmul_checksum_lib(n) if impl == "lib" else matmul_checksum_pure(n)
    return {"n": n, "impl": impl, "checksum": checksum}


# ---------------------------------------------------------------------------------------------
# POST /cpu/json: order aggregation


def is_json_content_type(content_type: str | None) -> bool:
    """True for application/json with or without parameters (charset=utf-8 is common)."""
    if not content_type:
        return False
    return content_type.split(";", 1)[0].strip().lower() == "application/json"


def check_json_request(content_type: str | None, content_length: str | None) -> None:
    """The checks a stack makes before reading the body: media type (400), declared size (413)."""
    if not is_json_content_type(content_type):
        raise bad_request(f"content type must be application/json, got {content_type or 'none'}")
    if content_length is not None and content_length.isdigit():
        if int(content_length) > MAX_JSON_BODY_BYTES:
            raise body_too_large()


def body_too_large() -> EndpointError:
    return EndpointError(413, f"request body is over the {MAX_JSON_BODY_BYTES} byte limit")


def _reject_constant(name: str) -> Any:
    # Python's json accepts NaN and Infinity, which are not JSON; JSON.parse in Node refuses them.
    raise ValueError(f"{name} is not valid JSON")


def _integer(value: Any, where: str, lo: int | None = None, hi: int | None = None) -> int:
    """A JSON number with an integral value (3.0 is 3), optionally in lo..=hi; bools are not."""
    expected = "an integer" if lo is None else f"an integer in {lo}..={hi}"
    # bool is a subclass of int in Python, but `true` is not a number in JSON.
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    else:
        raise bad_request(f"{where} must be {expected}")
    if lo is not None and hi is not None and not lo <= number <= hi:
        raise bad_request(f"{where} must be {expected}, got {number}")
    return number


def _name(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise bad_request(f"{where} must be a string of 1 to 64 characters from [A-Za-z0-9_.-]")
    return value


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad_request(f"{where} must be an object")
    return value


def _array(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise bad_request(f"{where} must be an array")
    return value


def aggregate_orders(document: Any) -> dict[str, Any]:
    """Validates an orders document and totals it per customer, in the contract's key order."""
    orders = _array(_object(document, "the body").get("orders"), "orders")
    return summarise(_validated_orders(orders))


def _validated_orders(orders: list[Any]) -> Iterator[tuple[str, Iterator[tuple[int, int]]]]:
    # Lazy, so `summarise` meets the first invalid field in document order and stops there.
    for o, order in enumerate(orders):
        where = f"orders[{o}]"
        order = _object(order, where)
        _integer(order.get("id"), f"{where}.id")
        customer = _name(order.get("customer"), f"{where}.customer")
        yield customer, _validated_items(_array(order.get("items"), f"{where}.items"), where)


def _validated_items(items: list[Any], where: str) -> Iterator[tuple[int, int]]:
    for i, item in enumerate(items):
        item_where = f"{where}.items[{i}]"
        item = _object(item, item_where)
        _name(item.get("sku"), f"{item_where}.sku")
        qty = _integer(item.get("qty"), f"{item_where}.qty", 1, 10_000)
        price = _integer(item.get("price_cents"), f"{item_where}.price_cents", 0, 10_000_000)
        yield qty, price


def summarise(orders: Iterable[tuple[str, Iterable[tuple[int, int]]]]) -> dict[str, Any]:
    """The /cpu/json answer for valid orders, each given as (customer, [(qty, price_cents), ...]).

    Every stack shares this arithmetic, whichever way it validated the body (by hand above, or
    with a framework's models).
    """
    per_customer: dict[str, dict[str, Any]] = {}
    order_count = 0
    item_count = 0
    total_cents = 0
    for customer, items in orders:
        order_items = 0
        order_total = 0
        for qty, price in items:
            order_items += qty
            order_total += qty * price
        totals = per_customer.get(customer)
        if totals is None:
            totals = {"customer": customer, "orders": 0, "items": 0, "total_cents": 0}
            per_customer[customer] = totals
        totals["orders"] += 1
        totals["items"] += order_items
        totals["total_cents"] += order_total
        order_count += 1
        item_count += order_items
        total_cents += order_total
    # Names are ASCII, so code-point order here equals the UTF-16 order Node sorts by.
    customers = sorted(per_customer.values(), key=lambda c: (-c["total_cents"], c["customer"]))
    return {
        "order_count": order_count,
        "item_count": item_count,
        "total_cents": total_cents,
        "customers": customers,
    }


def cpu_json(body: bytes) -> bytes:
    """POST /cpu/json from raw body bytes to response bytes: parse, validate, aggregate, serialize.

    The whole pipeline is one call so a stack can run it in a worker thread: parsing is part of
    the CPU work the endpoint measures, as it is in Node.
    """
    if len(body) > MAX_JSON_BODY_BYTES:
        raise body_too_large()
    try:
        # Decode first: json.loads(bytes) would also guess UTF-16/32, which Node never does.
        document = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, RecursionError) as err:
        raise bad_request(f"the body is not valid JSON: {err}") from None
    result = aggregate_orders(document)
    return json.dumps(result, separators=(",", ":")).encode()
