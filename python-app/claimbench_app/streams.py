"""The framework-free parts of the contract's streamed bodies (group "streams").

Owns: the stream pattern (notes.streams: the byte at offset i is i mod 251), cutting it into the
chunks of a download, and hashing an upload as it arrives. Leaves the response and request objects
to the stack (stacks/fastapi_app.py: a StreamingResponse over `download_chunks`, `request.stream()`
into `UploadDigest`), and the limits to the contract (`claimbench_app.limits`). Nothing here holds
a whole body.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from claimbench_app.limits import LIMITS
from claimbench_app.logic import EndpointError

PERIOD = 251
UPLOAD_MAX_BYTES = LIMITS.stream_upload_bytes

# One buffer long enough that any chunk is a view into it: the chunk at offset o is
# PATTERN[o % 251 : o % 251 + K]. Views are read-only, so every response shares it.
_PATTERN = memoryview(bytes(i % PERIOD for i in range(PERIOD + LIMITS.stream_chunk.hi)))


def download_chunks(size: int, chunk: int) -> Iterator[memoryview]:
    """The first `size` bytes of the pattern, as views of `chunk` bytes (the last may be shorter)."""
    offset = 0
    while offset < size:
        length = min(chunk, size - offset)
        start = offset % PERIOD
        offset += length
        yield _PATTERN[start : start + length]


def upload_too_large() -> EndpointError:
    return EndpointError(413, f"request body is over the {UPLOAD_MAX_BYTES} byte limit")


class UploadDigest:
    """Counts and hashes an upload piece by piece; a 413 once it passes the contract's limit."""

    def __init__(self) -> None:
        self.size = 0
        self._hash = hashlib.sha256()

    def update(self, piece: bytes) -> None:
        self.size += len(piece)
        if self.size > UPLOAD_MAX_BYTES:
            raise upload_too_large()
        self._hash.update(piece)

    def result(self) -> dict[str, int | str]:
        """The answer: {"bytes": length, "sha256": lowercase hex}."""
        return {"bytes": self.size, "sha256": self._hash.hexdigest()}
