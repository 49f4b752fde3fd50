"""The database group's parts that need no server: the queries=N rule, the fortunes page's
escaping and order, and the 503 every database call answers without DATABASE_URL. Against a real
PostgreSQL the endpoints are checked by crates/conformance/tests/stacks.rs; node-app's
test/db.test.js checks the same rules on its side."""

from __future__ import annotations

import asyncio
import re

import pytest

from claimbench_app import db
from claimbench_app.logic import EndpointError


@pytest.mark.parametrize(
    ("raw", "want"),
    [("2", 2), ("0", 1), ("foo", 1), ("501", 500), ("", 1), ("1.5", 1), ("-3", 1), ("500", 500)],
)
def test_queries_are_clamped_as_techempower_verifies(raw: str, want: int) -> None:
    assert db.query_count({"queries": raw}) == want


def test_a_missing_queries_parameter_means_one() -> None:
    assert db.query_count({}) == 1


class _FakePool:
    async def fetch(self, sql: str) -> list[tuple[int, str]]:
        assert sql == db.SELECT_FORTUNES
        return [(11, '<script>alert("x");</script>'), (1, "b & c")]


def test_fortunes_are_escaped_sorted_and_include_the_added_row() -> None:
    database = db.Database("postgres://unused", "claimbench", 1)
    database._pool = _FakePool()  # type: ignore[assignment]
    html = asyncio.run(database.fortunes())
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "<tr><td>0</td><td>Additional fortune added at request time.</td></tr>" in html
    assert re.findall(r"<tr><td>(\d+)</td>", html) == ["11", "0", "1"]


def test_every_database_call_answers_503_without_a_database() -> None:
    database = db.Database(None, "claimbench", 1)
    for call in (database.world, lambda: database.worlds(2), lambda: database.updates(2), database.fortunes):
        with pytest.raises(EndpointError, match="DATABASE_URL") as caught:
            asyncio.run(call())
        assert caught.value.status == 503
