"""The framework-free rules of the WebSocket endpoints: room names, the size limit counted in
UTF-8 bytes, the room registry, and limits read from the contract."""

from __future__ import annotations

import json

import pytest

from claimbench_app import limits, realtime
from claimbench_app.limits import ContractError, read_limits
from claimbench_app.logic import EndpointError


def test_a_room_name_is_checked_and_the_first_of_repeated_keys_wins():
    assert realtime.room_name({"name": "lobby_1-A"}) == "lobby_1-A"
    for bad in ["", "no spaces", "a" * 65, "é"]:
        with pytest.raises(EndpointError) as err:
            realtime.room_name({"name": bad})
        assert err.value.status == 400
    with pytest.raises(EndpointError, match="missing query parameter name"):
        realtime.room_name({})


def test_the_size_limit_counts_utf8_bytes_not_characters():
    assert not realtime.text_too_large("a" * 10, 10)
    assert realtime.text_too_large("a" * 11, 10)
    # Four 3-byte characters are 12 bytes, over a 10-byte limit, in only 4 characters.
    assert realtime.text_too_large("✓" * 4, 10)
    assert not realtime.text_too_large("✓" * 3, 10)


def test_a_room_forgets_members_that_left_and_itself_when_empty():
    rooms: realtime.Rooms[str] = realtime.Rooms()
    rooms.join("r", "a")
    rooms.join("r", "b")
    rooms.join("s", "c")
    snapshot = rooms.members("r")
    rooms.leave("r", "a")
    assert snapshot == ["a", "b"], "a broadcast's snapshot is not disturbed by a leave"
    assert rooms.members("r") == ["b"]
    assert rooms.members("s") == ["c"]
    rooms.leave("r", "b")
    rooms.leave("r", "b")
    assert rooms.members("r") == []
    assert "r" not in rooms._rooms


def test_the_message_limits_are_the_contract_file_s(tmp_path):
    doc = json.loads(limits.CONTRACT_PATH.read_text(encoding="utf-8"))
    echo = next(e for e in doc["endpoints"] if e["path"] == "/ws/echo")
    assert limits.LIMITS.ws_echo_max_bytes == echo["websocket"]["max_message_bytes"]
    del echo["websocket"]
    path = tmp_path / "contract.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ContractError, match="GET /ws/echo needs websocket.max_message_bytes"):
        read_limits(path)
