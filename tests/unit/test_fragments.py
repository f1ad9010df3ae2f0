"""Fragment reassembly: exact bytes back, any order, duplicates, and hostile size claims."""

from __future__ import annotations

import random
import tracemalloc

from hypothesis import given, settings
from hypothesis import strategies as st

from rtbus.rtps.fragments import (
    CHUNK_OVERHEAD,
    MIN_FRAGMENT_SIZE,
    Reassembler,
    fragment_count,
    fragment_slice,
)


def feed_all(r: Reassembler, seq: int, payload: bytes, fsize: int, order: list[int],
             per_sub: int = 1) -> bytes | None:
    total = fragment_count(len(payload), fsize)
    out = None
    for first in order:
        count = min(per_sub, total - first + 1)
        res = r.add(seq, len(payload), fsize, first, count,
                    fragment_slice(payload, first, count, fsize))
        if res is not None:
            # the caller stops feeding a completed sequence number (its stream knows it)
            return res[0]
    return out


def test_fragment_count_and_slices() -> None:
    assert fragment_count(1344, 1344) == 1
    assert fragment_count(1345, 1344) == 2
    data = bytes(range(256)) * 10
    assert bytes(fragment_slice(data, 2, 1, 100)) == data[100:200]
    assert bytes(fragment_slice(data, 26, 3, 100)) == data[2500:2560]


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 20000), st.integers(MIN_FRAGMENT_SIZE, 2000), st.integers(0, 2**32),
       st.integers(1, 4))
def test_any_order_with_duplicates_reassembles_exactly(size: int, fsize: int, seed: int,
                                                       per_sub: int) -> None:
    rng = random.Random(seed)
    payload = rng.randbytes(size)
    total = fragment_count(size, fsize)
    firsts = list(range(1, total + 1, per_sub))
    order = firsts + rng.choices(firsts, k=len(firsts) // 3)
    rng.shuffle(order)
    r = Reassembler()
    assert feed_all(r, 7, payload, fsize, order, per_sub) == payload
    assert len(r) == 0 and r.bytes_in_progress == 0


def test_missing_lists_holes_in_order() -> None:
    r = Reassembler()
    payload = bytes(1000)
    for first in (1, 2, 5, 9):
        r.add(1, 1000, 100, first, 1, fragment_slice(payload, first, 1, 100))
    buf = r.partial(1)
    assert buf is not None
    assert buf.missing() == [3, 4, 6, 7, 8, 10]
    assert buf.missing(base=7, limit=2) == [7, 8]
    assert buf.first_missing() == 3


def test_claimed_4gib_sample_allocates_nothing_big() -> None:
    r = Reassembler()  # default max sample size 64 MiB
    assert r.add(1, 0xFFFF_FFFF, 1344, 1, 1, b"\0" * 1344) is None
    assert r.dropped["sample_too_large"] == 1
    assert len(r) == 0
    # even with the cap lifted, memory follows the bytes received, not the bytes claimed
    big = Reassembler(max_sample_size=2**32)
    tracemalloc.start()
    try:
        for first in range(1, 200):
            big.add(1, 0xFFFF_FFFF, 1344, first, 1, b"\1" * 1344)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert big.bytes_in_progress == 199 * (1344 + CHUNK_OVERHEAD)
    assert peak < 2 * 1024 * 1024


def test_memory_budget_and_inconsistent_fragments_dropped() -> None:
    r = Reassembler(max_bytes_in_progress=250 + 2 * CHUNK_OVERHEAD)
    assert r.add(1, 1000, 100, 1, 2, bytes(200)) is None
    assert r.add(1, 1000, 100, 3, 1, bytes(100)) is None
    assert r.dropped["reassembly_memory"] == 1
    assert r.bytes_in_progress == 200 + 2 * CHUNK_OVERHEAD
    assert r.add(1, 2000, 100, 4, 1, bytes(100)) is None  # contradicts the claimed size
    assert r.dropped["inconsistent_fragment"] == 1
    assert r.add(1, 1000, 100, 10, 2, bytes(200)) is None  # past the last fragment
    assert r.dropped["fragment_out_of_range"] == 1
    assert r.add(1, 1000, 100, 5, 2, bytes(150)) is None  # shorter than two fragments
    assert r.dropped["fragment_truncated"] == 1
    r.discard_below(2)
    assert r.bytes_in_progress == 0 and len(r) == 0


def test_samples_in_progress_bounded() -> None:
    r = Reassembler(max_samples_in_progress=2)
    r.add(1, 300, 100, 1, 1, bytes(100))
    r.add(2, 300, 100, 1, 1, bytes(100))
    assert r.add(3, 300, 100, 1, 1, bytes(100)) is None
    assert r.dropped["too_many_in_progress"] == 1
    assert r.partial(3) is None


def test_meta_kept_from_first_fragment_that_has_it() -> None:
    r = Reassembler()
    r.add(4, 200, 100, 2, 1, bytes(100))
    res = r.add(4, 200, 100, 1, 1, bytes(100), meta={"key": 1})
    assert res is not None and res[1] == {"key": 1}


def test_newest_wins_evicts_older_partial_samples() -> None:
    r = Reassembler(max_samples_in_progress=2, max_bytes_in_progress=3 * (100 + CHUNK_OVERHEAD)
                    + 50, newest_wins=True)
    r.add(1, 300, 100, 1, 1, bytes(100))
    r.add(2, 300, 100, 1, 1, bytes(100))
    r.add(3, 300, 100, 1, 1, bytes(100))  # evicts 1
    assert sorted(r.buffers) == [2, 3]
    assert r.add(0, 300, 100, 1, 1, bytes(100)) is None  # older than all: refused
    assert r.partial(0) is None
    assert r.add(3, 300, 100, 2, 2, bytes(200)) is not None  # memory: 2 evicted to fit 3
    assert r.dropped["superseded"] == 2 and r.bytes_in_progress == 0


def test_tiny_fragments_are_refused_and_memory_is_charged_with_its_overhead() -> None:
    """1-byte fragments are refused outright; 64-byte ones (the smallest accepted) are charged
    their object overhead, so what they really hold stays within twice what is accounted."""
    r = Reassembler()
    assert r.add(1, 10_000, 1, 1, 1, b"x") is None
    assert r.dropped["fragment_too_small"] == 1 and r.bytes_in_progress == 0
    small = Reassembler(max_bytes_in_progress=1 << 20)
    tracemalloc.start()
    try:
        for first in range(1, 20_001):
            small.add(1, 64 * 100_000, 64, first, 1, bytes([first % 251]) * 64)
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert small.dropped["reassembly_memory"] > 0  # the cap held
    assert small.bytes_in_progress <= 1 << 20
    assert held <= 2 * small.bytes_in_progress, (held, small.bytes_in_progress)
