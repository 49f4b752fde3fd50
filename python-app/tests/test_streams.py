"""The streamed bodies without a server: the download's chunks are the contract's pattern at any
chunk size, and the upload's digest and limit."""

from __future__ import annotations

import hashlib

import pytest

from claimbench_app import streams
from claimbench_app.logic import EndpointError


def pattern(n: int) -> bytes:
    return bytes(i % 251 for i in range(n))


def test_the_download_is_the_pattern_in_chunks_of_the_asked_size():
    pieces = list(streams.download_chunks(1000, 7))
    assert [len(p) for p in pieces[:-1]] == [7] * 142
    assert len(pieces[-1]) == 6
    assert b"".join(pieces) == pattern(1000)


def test_the_download_wraps_at_251_with_chunks_larger_than_the_period():
    assert b"".join(streams.download_chunks(3000, 1000)) == pattern(3000)
    assert list(streams.download_chunks(0, 65536)) == []


def test_the_upload_digest_is_the_length_and_sha256_of_the_pieces():
    digest = streams.UploadDigest()
    body = pattern(5000)
    digest.update(body[:13])
    digest.update(body[13:])
    assert digest.result() == {"bytes": 5000, "sha256": hashlib.sha256(body).hexdigest()}


def test_an_upload_past_the_limit_is_a_413(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(streams, "UPLOAD_MAX_BYTES", 10)
    digest = streams.UploadDigest()
    digest.update(b"x" * 10)
    with pytest.raises(EndpointError) as refused:
        digest.update(b"x")
    assert refused.value.status == 413
