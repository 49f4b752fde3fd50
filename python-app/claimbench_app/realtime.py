"""The framework-free parts of the contract's WebSocket endpoints (group "realtime").

Owns: the room-name rule, the message limits and close codes, and the room registry (which
members a broadcast goes to). Leaves the sockets themselves, the accept and the sends, to the
stack (stacks/fastapi_app.py), which stores whatever member objects it likes here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Generic, TypeVar

from claimbench_app.limits import LIMITS
from claimbench_app.logic import EndpointError, bad_request

ECHO_MAX_BYTES = LIMITS.ws_echo_max_bytes
ROOM_MAX_BYTES = LIMITS.ws_room_max_bytes
CLOSE_TOO_LARGE = 1009
CLOSE_UNSUPPORTED = 1003

_ROOM_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")

M = TypeVar("M")


def room_name(query: Mapping[str, str]) -> str:
    """The room a /ws/room handshake asks for; an EndpointError (400) if missing or malformed."""
    name = query.get("name")
    if name is None:
        raise bad_request("missing query parameter name")
    if not _ROOM_NAME.fullmatch(name):
        raise bad_request("name must match ^[A-Za-z0-9_-]{1,64}$")
    return name


def upgrade_required() -> EndpointError:
    """The answer to a plain GET on a WebSocket path."""
    return EndpointError(426, "this path is a WebSocket: send Upgrade: websocket")


def text_too_large(text: str, limit: int) -> bool:
    """True when `text` is over `limit` UTF-8 bytes; encodes only when the length cannot tell."""
    # A str of n code points is between n and 4n UTF-8 bytes.
    if len(text) > limit:
        return True
    return len(text) * 4 > limit and len(text.encode()) > limit


class Rooms(Generic[M]):
    """Room name -> its members, in one worker process; an empty room is forgotten."""

    def __init__(self) -> None:
        self._rooms: dict[str, list[M]] = {}

    def join(self, name: str, member: M) -> list[M]:
        members = self._rooms.setdefault(name, [])
        members.append(member)
        return members

    def leave(self, name: str, member: M) -> None:
        members = self._rooms.get(name)
        if members is None:
            return
        if member in members:
            members.remove(member)
        if not members:
            del self._rooms[name]

    def members(self, name: str) -> list[M]:
        """A snapshot: members joining or leaving during a broadcast do not disturb it."""
        return list(self._rooms.get(name, ()))
