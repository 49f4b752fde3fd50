"""The framework-free logic with plain values, no sockets: parameter rules, the kernels against
independent references, and the /cpu/json aggregate against the payload files, whose expected
answers fixtures/payloads/generate.py computes with SQL, not with this code. The Node app's
test/logic.test.js checks the same rules on its side; the contract examples that both stacks
answer over HTTP are checked by the conformance crate."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from claimbench_app import logic
from claimbench_app.limits import LIMITS, IntRange
from claimbench_app.logic import EndpointError

PAYLOADS = Path(__file__).resolve().parents[2] / "fixtures" / "payloads"


def payload(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()


def refused(call, pattern: str, status: int = 400) -> None:
    with pytest.raises(EndpointError, match=pattern) as caught:
        call()
    assert caught.value.status == status
    assert caught.value.body() == {"error": caught.value.message}


class TestIntegerParameters:
    spec = IntRange(0, 35)

    def test_accept_digits_within_the_range_leading_zeros_included(self):
        assert [logic.int_param({"n": raw}, "n", self.spec) for raw in ("0", "35", "007")] == [0, 35, 7]

    @pytest.mark.parametrize(
        "raw", ["", "-1", "+3", "1.5", "12abc", "abc", "1e1", " 1", "1\n", "36", "٣", "9" * 5000]
    )
    def test_reject_everything_else_naming_the_parameter_and_its_range(self, raw):
        refused(lambda: logic.int_param({"n": raw}, "n", self.spec), r"\bn\b.*0\.\.=35")

    def test_a_missing_required_parameter_is_named(self):
        refused(lambda: logic.int_param({}, "n", self.spec), r"missing parameter n.*0\.\.=35")

    def test_fall_back_to_the_default_only_when_the_key_is_absent(self):
        assert logic.int_param({}, "fanout", LIMITS.fanout) == LIMITS.fanout.default
        refused(lambda: logic.int_param({"fanout": ""}, "fanout", LIMITS.fanout), r"fanout.*1\.\.=32")

    def test_the_first_value_of_a_repeated_key_wins(self):
        assert logic.parse_query(b"n=3&n=x&m=") == {"n": "3", "m": ""}
        assert logic.int_param(logic.parse_query("n=3&n=x"), "n", self.spec) == 3
        refused(lambda: logic.int_param(logic.parse_query("n=x&n=3"), "n", self.spec), r"\bn\b")

    def test_a_choice_parameter_is_one_of_its_words(self):
        assert logic.choice_param({"impl": "pure"}, "impl", ("lib", "pure")) == "pure"
        refused(lambda: logic.choice_param({"impl": "gpu"}, "impl", ("lib", "pure")), "impl.*lib, pure.*'gpu'")
        refused(lambda: logic.choice_param({}, "impl", ("lib", "pure")), "impl.*got nothing")

    def test_long_values_are_cut_short_in_the_message(self):
        with pytest.raises(EndpointError) as caught:
            logic.int_param({"n": "x" * 1000}, "n", self.spec)
        assert len(caught.value.message) < 120


class TestEndpointsUseTheContractLimits:
    def test_each_endpoint_refuses_one_past_its_contract_maximum(self):
        cases = [
            (logic.sleep_ms, {"ms": LIMITS.sleep_ms.hi}, {"ms": LIMITS.sleep_ms.hi + 1}),
            (logic.upstream_params, {"ms": "0", "fanout": LIMITS.fanout.hi}, {"ms": "0", "fanout": LIMITS.fanout.hi + 1}),
            (logic.cpu_fib, {"n": LIMITS.fib_n.hi}, {"n": LIMITS.fib_n.hi + 1}),
            (logic.cpu_hash, {"rounds": LIMITS.hash_rounds.lo}, {"rounds": LIMITS.hash_rounds.lo - 1}),
            (logic.cpu_matmul, {"n": LIMITS.matmul_n.lo, "impl": "pure"}, {"n": LIMITS.matmul_n.hi + 1, "impl": "pure"}),
        ]
        for endpoint, good, bad in cases:
            endpoint({k: str(v) for k, v in good.items()})
            refused(lambda: endpoint({k: str(v) for k, v in bad.items()}), "must be an integer in")

    def test_upstream_fanout_defaults_when_absent(self):
        assert logic.upstream_params({"ms": "20"}) == (20, LIMITS.fanout.default)


class TestCpuKernels:
    def test_fib_follows_the_recurrence_from_its_base_cases(self):
        assert [logic.fib(n) for n in (0, 1, 2, 3, 10, 20, 25)] == [0, 1, 1, 2, 55, 6765, 75025]
        assert logic.cpu_fib({"n": "20"}) == {"n": 20, "value": 6765}

    def test_hash_chain_matches_a_one_shot_sha256_and_the_contract_digests(self):
        assert logic.hash_chain(1) == hashlib.sha256(b"claimbench").hexdigest()
        assert logic.hash_chain(1) == "39f80b9f2900a996ae68503edaaddabf56e92ea973882da7267d362e30eca58a"
        assert logic.hash_chain(1000) == "9705c68a4b24ade9a010f51a0ee59a611b20e9c6cd43645ec6bc0e6f99ed6104"

    @staticmethod
    def textbook_checksum(n: int) -> int:
        """The contract's definition, in exact integers and the i-j-k order."""
        a = [[(7 * i + 3 * j) % 11 - 5 for j in range(n)] for i in range(n)]
        b = [[(5 * i + 2 * j) % 13 - 6 for j in range(n)] for i in range(n)]
        return sum(
            sum(a[i][k] * b[k][j] for k in range(n)) * ((3 * i + j) % 7 - 3)
            for i in range(n)
            for j in range(n)
        )

    def test_matmul_lib_and_pure_agree_with_each_other_and_with_the_definition(self):
        assert (logic.matmul_checksum_pure(1), logic.matmul_checksum_lib(4), logic.matmul_checksum_pure(16)) == (
            -90,
            91,
            1211,
        )
        for n in (1, 2, 3, 7, 16, 33):
            expected = self.textbook_checksum(n)
            assert logic.matmul_checksum_lib(n) == expected, n
            assert logic.matmul_checksum_pure(n) == expected, n

    def test_matmul_is_an_exact_json_integer_at_the_largest_n(self):
        result = logic.cpu_matmul({"n": str(LIMITS.matmul_n.hi), "impl": "lib"})
        assert type(result["checksum"]) is int
        assert json.dumps(result) == f'{{"n": 512, "impl": "lib", "checksum": {result["checksum"]}}}'


class TestOrderAggregation:
    @pytest.mark.parametrize("name", ["orders-small", "orders-100k"])
    def test_reproduces_the_expected_file_byte_for_byte(self, name):
        assert logic.cpu_json(payload(f"{name}.json")) == payload(f"{name}.expected.json")

    def test_an_empty_order_list_aggregates_to_zeros(self):
        assert logic.cpu_json(b'{"orders":[]}') == b'{"order_count":0,"item_count":0,"total_cents":0,"customers":[]}'

    def test_ties_break_by_customer_name_in_code_point_order_and_orders_without_items_count(self):
        doc = {
            "orders": [
                {"id": 1, "customer": "b", "items": [{"sku": "x", "qty": 1, "price_cents": 10}]},
                {"id": 2, "customer": "B", "items": [{"sku": "x", "qty": 2, "price_cents": 5}]},
                {"id": 3, "customer": "a", "items": []},
                {"id": 4, "customer": "__proto__", "items": [{"sku": "x", "qty": 1, "price_cents": 10}]},
            ]
        }
        result = logic.aggregate_orders(doc)
        assert [c["customer"] for c in result["customers"]] == ["B", "__proto__", "b", "a"]
        assert result["customers"][-1] == {"customer": "a", "orders": 1, "items": 0, "total_cents": 0}

    def test_3_0_is_the_integer_3_and_unknown_keys_are_ignored(self):
        body = b'{"extra":1,"orders":[{"id":1.0,"customer":"c","note":"x","items":[{"sku":"A","qty":3.0,"price_cents":5,"w":0}]}]}'
        assert json.loads(logic.cpu_json(body))["total_cents"] == 15

    @pytest.mark.parametrize(
        ("doc", "pattern"),
        [
            ([1, 2, 3], "object"),
            (None, "object"),
            ({}, "orders"),
            ({"orders": {}}, "orders"),
            ({"orders": [1]}, r"orders\[0\]"),
            ({"orders": [{"id": "1", "customer": "c", "items": []}]}, r"orders\[0\]\.id"),
            ({"orders": [{"id": 1.5, "customer": "c", "items": []}]}, r"orders\[0\]\.id"),
            ({"orders": [{"id": True, "customer": "c", "items": []}]}, r"orders\[0\]\.id"),
            ({"orders": [{"id": 1, "customer": "", "items": []}]}, "customer"),
            ({"orders": [{"id": 1, "customer": "x" * 65, "items": []}]}, "customer"),
            ({"orders": [{"id": 1, "customer": "has space", "items": []}]}, "customer"),
            ({"orders": [{"id": 1, "customer": 7, "items": []}]}, "customer"),
            ({"orders": [{"id": 1, "customer": "c", "items": None}]}, "items"),
        ]
        + [
            ({"orders": [{"id": 1, "customer": "c", "items": [{"sku": "A", "qty": 1, "price_cents": 0, **item}]}]}, p)
            for item, p in [
                ({"qty": True}, "qty"),
                ({"qty": "3"}, "qty"),
                ({"qty": 0}, r"qty.*1\.\.=10000"),
                ({"qty": 10001}, "qty"),
                ({"price_cents": -1}, "price_cents"),
                ({"price_cents": 10_000_001}, "price_cents"),
                ({"price_cents": 0.5}, "price_cents"),
                ({"sku": "é"}, "sku"),
            ]
        ],
    )
    def test_rejects_what_the_schema_rules_out_naming_the_field(self, doc, pattern):
        refused(lambda: logic.aggregate_orders(doc), pattern)

    def test_the_bad_type_payload_is_refused_at_its_qty(self):
        refused(lambda: logic.cpu_json(payload("bad-type.json")), "qty")

    @pytest.mark.parametrize("body", [b"", b"{", b'{"orders": NaN}', b'{"orders": Infinity}', "{}".encode("utf-16"), b"[" * 100_000])
    def test_a_body_that_is_not_json_is_a_400(self, body):
        refused(lambda: logic.cpu_json(body), "not valid JSON")

    def test_accepts_the_extremes_of_every_range(self):
        doc = {"orders": [{"id": 0, "customer": "x" * 64, "items": [{"sku": "A-._z9", "qty": 10000, "price_cents": 10_000_000}]}]}
        assert logic.aggregate_orders(doc)["total_cents"] == 10**11


class TestRequestChecks:
    def test_the_content_type_must_be_json_parameters_allowed(self):
        logic.check_json_request("application/json; charset=utf-8", "10")
        logic.check_json_request("Application/JSON", None)
        refused(lambda: logic.check_json_request("text/plain", "10"), "application/json, got text/plain")
        refused(lambda: logic.check_json_request(None, "10"), "got none")

    def test_a_body_over_the_contract_limit_is_a_413_declared_or_not(self):
        limit = LIMITS.json_body_bytes
        logic.check_json_request("application/json", str(limit))
        refused(lambda: logic.check_json_request("application/json", str(limit + 1)), str(limit), status=413)
        refused(lambda: logic.cpu_json(b" " * (limit + 1)), "over the", status=413)
