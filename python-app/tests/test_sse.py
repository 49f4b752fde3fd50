"""The event stream without a server: framing and padding, and the shared ticker's fan-out."""

from __future__ import annotations

import asyncio
import json

from claimbench_app import sse


def test_an_event_is_an_id_a_data_line_of_the_asked_size_and_a_blank_line():
    for size in (64, 1024, 65536):
        id_line, data_line, blank, end = sse.frame(41, 1796161224350686, size).decode().split("\n")
        assert id_line == "id: 41"
        data = data_line.removeprefix("data: ")
        assert len(data.encode()) == size
        parsed = json.loads(data)
        assert (parsed["seq"], parsed["sent_us"]) == (41, 1796161224350686)
        assert set(parsed["pad"]) <= {"x"}
        assert (blank, end) == ("", "")


def test_two_subscribers_share_one_ticker_and_its_ids_and_the_last_one_stops_it():
    async def scenario() -> tuple[list[bytes], list[bytes], int]:
        first, second = sse.subscribe(1000, 64), sse.subscribe(1000, 64)
        a = [await anext(first)]
        # The second joins the running ticker: from here on both get the same events.
        b = [await anext(second)]
        a.append(await anext(first))
        await first.aclose()
        await second.aclose()
        return a, b, len(sse._TICKERS)

    a, b, left = asyncio.run(scenario())
    assert b[0] == a[1], "one shared ticker sends the same event to both"
    assert left == 0, "the last subscriber's leaving stops the ticker"
