"""The framework-free parts of the contract's server-sent events (GET /sse/ticks, group "realtime").

Owns: one shared ticker per process and per (hz, bytes), started by its first subscriber and
stopped with its last, that builds each timestamped event once and hands it to every subscriber's
queue; the event's framing and padding; dropping an event for a subscriber whose queue is full (it
sees a gap in the ids, never a stall of the others). Leaves the response to the stack
(stacks/fastapi_app.py streams a subscriber's queue with StreamingResponse), and the limits to the
contract (`claimbench_app.limits`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from claimbench_app.limits import LIMITS

HZ = LIMITS.sse_hz
BYTES = LIMITS.sse_bytes
# Events a subscriber may have waiting before it loses the next ones: a second's worth at the
# highest rate, so only a subscriber that has stopped reading loses any.
QUEUE_EVENTS = 1024


def frame(seq: int, sent_us: int, size: int) -> bytes:
    """One event: `id: SEQ`, a `data:` line whose value is exactly `size` bytes, a blank line."""
    head = f'{{"seq":{seq},"sent_us":{sent_us},"pad":"'
    pad = "x" * max(0, size - len(head) - 2)
    return f'id: {seq}\ndata: {head}{pad}"}}\n\n'.encode()


class Ticker:
    """The ticker of one (hz, bytes): tick n is due n/hz seconds after it started."""

    def __init__(self, hz: int, size: int, tickers: dict[tuple[int, int], Ticker]) -> None:
        self.period = 1.0 / hz
        self.size = size
        self.queues: set[asyncio.Queue[bytes]] = set()
        self._key = (hz, size)
        self._tickers = tickers
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        seq = 0
        while True:
            # Drift-free: each tick is due at its own time, whenever the previous one ran.
            await asyncio.sleep(max(0.0, started + (seq + 1) * self.period - loop.time()))
            event = frame(seq, time.time_ns() // 1000, self.size)
            seq += 1
            for queue in self.queues:
                if queue.qsize() < QUEUE_EVENTS:
                    queue.put_nowait(event)

    def leave(self, queue: asyncio.Queue[bytes]) -> None:
        self.queues.discard(queue)
        if not self.queues:
            self._task.cancel()
            self._tickers.pop(self._key, None)


_TICKERS: dict[tuple[int, int], Ticker] = {}


async def subscribe(hz: int, size: int) -> AsyncIterator[bytes]:
    """The events a new subscriber receives, until it goes away (the generator is closed)."""
    ticker = _TICKERS.get((hz, size))
    if ticker is None:
        ticker = _TICKERS[(hz, size)] = Ticker(hz, size, _TICKERS)
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    ticker.queues.add(queue)
    try:
        while True:
            yield await queue.get()
    finally:
        ticker.leave(queue)
