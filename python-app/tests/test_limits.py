"""The endpoint limits come from fixtures/contract/contract.json and nowhere else: the values
match the file, an edited file gives edited limits, and a contract the app cannot serve from is
refused with a message naming what is missing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from claimbench_app import limits
from claimbench_app.limits import ContractError, IntRange, read_limits


def contract() -> dict:
    return json.loads(limits.CONTRACT_PATH.read_text(encoding="utf-8"))


def endpoint(doc: dict, route: str) -> dict:
    return next(e for e in doc["endpoints"] if e["path"] == route)


def param(doc: dict, route: str, name: str) -> dict:
    return next(p for p in endpoint(doc, route)["params"] if p["name"] == name)


def written(tmp_path: Path, doc: dict) -> Path:
    path = tmp_path / "contract.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_the_app_limits_are_the_contract_file_s():
    doc = contract()
    fib = param(doc, "/cpu/fib", "n")
    assert limits.LIMITS.fib_n == IntRange(fib["min"], fib["max"])
    assert limits.LIMITS.matmul_impls == tuple(param(doc, "/cpu/matmul", "impl")["one_of"])
    assert limits.LIMITS.json_body_bytes == endpoint(doc, "/cpu/json")["request"]["max_body_bytes"]


def test_an_edited_contract_gives_edited_limits(tmp_path):
    doc = contract()
    param(doc, "/io/upstream", "fanout").update(min=2, max=7, default=3)
    param(doc, "/io/sleep", "ms")["max"] = 5
    endpoint(doc, "/cpu/json")["request"]["max_body_bytes"] = 99
    read = read_limits(written(tmp_path, doc))
    assert read.fanout == IntRange(2, 7, 3)
    assert read.sleep_ms == IntRange(0, 5)
    assert read.json_body_bytes == 99


def test_a_contract_without_an_endpoint_the_app_serves_is_refused_naming_it(tmp_path):
    doc = contract()
    doc["endpoints"] = [e for e in doc["endpoints"] if e["path"] != "/cpu/hash"]
    with pytest.raises(ContractError, match="no endpoint GET /cpu/hash"):
        read_limits(written(tmp_path, doc))


def test_a_parameter_without_its_range_is_refused_naming_it(tmp_path):
    doc = contract()
    del param(doc, "/cpu/matmul", "n")["max"]
    with pytest.raises(ContractError, match="/cpu/matmul parameter n needs integer min and max"):
        read_limits(written(tmp_path, doc))


def test_an_unreadable_contract_names_the_file(tmp_path):
    with pytest.raises(ContractError, match="cannot read the endpoint limits from .*missing.json"):
        read_limits(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(ContractError, match="bad.json"):
        read_limits(bad)
