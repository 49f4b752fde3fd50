"""The database endpoints (TechEmpower's /db, /queries, /updates, /fortunes) for async stacks.

Owns: the one asyncpg pool each worker process opens (lazily, DATABASE_POOL connections) from
DATABASE_URL and DATABASE_SCHEMA, the SQL, the queries=N rule, and the fortunes page (a Jinja2
template with autoescape). Leaves routing and serialization to the stacks, which call these
coroutines and send what they return. Equal to node-app/lib/db.js: same statements, same pool
size, same batching of updates.
"""

from __future__ import annotations

import os
import random
import re
from operator import itemgetter
from typing import Any

import asyncpg
import jinja2

from .logic import EndpointError

# TechEmpower's bounds: queries=N is clamped to 1..=500, and anything that is not digits is 1.
MAX_QUERIES = 500
WORLD_ROWS = 10_000
# Connections per worker process; claimbench hands over the same DATABASE_POOL to every stack.
DEFAULT_POOL = 16

SELECT_WORLD = "SELECT id, randomnumber FROM world WHERE id = $1"
SELECT_FORTUNES = "SELECT id, message FROM fortune"
UPDATE_WORLDS = (
    "UPDATE world SET randomnumber = v.r FROM (SELECT unnest($1::int[]) AS id, unnest($2::int[]) AS r) AS v "
    "WHERE world.id = v.id"
)
ADDED_FORTUNE = "Additional fortune added at request time."

_DIGITS = re.compile(r"[0-9]+")

_TEMPLATE = jinja2.Environment(autoescape=True).from_string(
    "<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>"
    "<tr><th>id</th><th>message</th></tr>"
    "{% for id, message in fortunes %}<tr><td>{{ id }}</td><td>{{ message }}</td></tr>{% endfor %}"
    "</table></body></html>"
)


def query_count(query: dict[str, str]) -> int:
    """TechEmpower's queries=N: digits clamped to 1..=500; missing, empty or anything else is 1."""
    raw = query.get("queries", "")
    if not _DIGITS.fullmatch(raw):
        return 1
    return min(MAX_QUERIES, max(1, int(raw)))


def _random_id() -> int:
    return random.randint(1, WORLD_ROWS)


class Database:
    """One pool per process; every method is safe to call from many requests at once."""

    def __init__(self, url: str | None, schema: str, pool_size: int) -> None:
        self.url = url
        self.schema = schema
        self.pool_size = pool_size
        self._pool: asyncpg.Pool | None = None

    @classmethod
    def from_env(cls) -> Database:
        raw_size = os.environ.get("DATABASE_POOL", "")
        size = int(raw_size) if raw_size.isdigit() and int(raw_size) > 0 else DEFAULT_POOL
        schema = os.environ.get("DATABASE_SCHEMA") or "claimbench"
        return cls(os.environ.get("DATABASE_URL") or None, schema, size)

    async def open(self) -> None:
        if self.url:
            # min_size=0: connections open on first use, as node-postgres's Pool does.
            self._pool = await asyncpg.create_pool(
                self.url,
                min_size=0,
                max_size=self.pool_size,
                server_settings={"search_path": self.schema},
            )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()

    def _need(self) -> asyncpg.Pool:
        if self._pool is None:
            raise EndpointError(503, "no database: DATABASE_URL is not set")
        return self._pool

    async def world(self) -> dict[str, int]:
        row = await self._need().fetchrow(SELECT_WORLD, _random_id())
        return {"id": row[0], "randomNumber": row[1]}

    async def worlds(self, count: int) -> list[dict[str, int]]:
        pool = self._need()
        # One SELECT per row, on one connection, as TechEmpower's asyncpg entries do.
        async with pool.acquire() as conn:
            statement = await conn.prepare(SELECT_WORLD)
            rows = [await statement.fetchrow(_random_id()) for _ in range(count)]
        return [{"id": r[0], "randomNumber": r[1]} for r in rows]

    async def updates(self, count: int) -> list[dict[str, int]]:
        worlds = await self.worlds(count)
        # A row drawn twice gets one new number, so the answer matches what is written.
        fresh: dict[int, int] = {}
        for world in worlds:
            world["randomNumber"] = fresh.setdefault(world["id"], _random_id())
        # Sorted ids: concurrent batches lock rows in the same order, so they cannot deadlock.
        ids = sorted(fresh)
        await self._need().execute(UPDATE_WORLDS, ids, [fresh[i] for i in ids])
        return worlds

    async def fortunes(self) -> str:
        rows: list[Any] = [tuple(r) for r in await self._need().fetch(SELECT_FORTUNES)]
        rows.append((0, ADDED_FORTUNE))
        rows.sort(key=itemgetter(1))
        return _TEMPLATE.render(fortunes=rows)
