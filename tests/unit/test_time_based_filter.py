"""TIME_BASED_FILTER in the sans-IO reader cache (rtbus.rtps.time_based_filter).

Driven through ``ReaderCache.accept`` as the reader core drives it; no sockets, no clock but
the ``now`` passed in. A sample "passes" when the cache delivered it into the history.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtbus.rtps.history import STATUS_DISPOSED, STATUS_UNREGISTERED
from rtbus.rtps.instances import InstanceState
from rtbus.rtps.time_based_filter import TimeBasedFilter
from tests.support.stage_reader import KEY_A, KEY_B, StageReader, guid

MS = 1_000_000  # ns
T0 = 1_700_000_000 * 1_000_000_000  # a plausible source time, ns since the Unix epoch


class Reader(StageReader):
    """A reader cache with one time-based filter, and what it delivered."""

    def __init__(self, separation: float) -> None:
        self.stage = TimeBasedFilter(separation)
        super().__init__(self.stage, now=1000.0, step=0.001)

    def write(self, source: int | None, key: bytes = KEY_A, writer: bytes = guid(1),
              status: int = 0, at: float | None = None) -> bool:
        """True when the change entered the history (a Deliver came out)."""
        return self.offer(writer, key, status, source, at)


@pytest.mark.parametrize("separation", [0, 0.0, -0.5, float("nan")])
def test_a_non_positive_separation_builds_no_stage(separation: float) -> None:
    with pytest.raises(ValueError):
        TimeBasedFilter(separation)


def test_the_first_sample_passes_and_closer_ones_are_dropped() -> None:
    r = Reader(0.1)
    assert r.write(T0)
    assert not r.write(T0 + 1)
    assert not r.write(T0 + 99 * MS)
    assert r.cache.counters["filtered"] == 2
    assert r.write(T0 + 150 * MS)
    # measured from the last sample let through, not the last offered
    assert not r.write(T0 + 200 * MS)
    assert r.write(T0 + 250 * MS)


def test_exactly_the_minimum_separation_passes() -> None:
    r = Reader(0.1)
    assert r.write(T0)
    assert not r.write(T0 + 100 * MS - 1)
    assert r.write(T0 + 100 * MS)
    assert r.write(T0 + 200 * MS)


def test_an_older_sample_is_dropped() -> None:
    r = Reader(0.1)
    assert r.write(T0)
    assert not r.write(T0 - 500 * MS)


def test_instances_are_filtered_independently() -> None:
    r = Reader(0.1)
    assert r.write(T0, KEY_A)
    assert r.write(T0 + 1 * MS, KEY_B)  # B's first sample: A's does not count
    assert not r.write(T0 + 50 * MS, KEY_A)
    assert not r.write(T0 + 50 * MS, KEY_B)
    assert r.write(T0 + 100 * MS, KEY_A)
    assert not r.write(T0 + 100 * MS, KEY_B)
    assert r.write(T0 + 101 * MS, KEY_B)


def test_the_filter_is_per_instance_across_writers() -> None:
    r = Reader(0.1)
    assert r.write(T0, writer=guid(1))
    assert not r.write(T0 + 10 * MS, writer=guid(2))
    assert r.write(T0 + 100 * MS, writer=guid(2))


def test_without_source_timestamp_the_reception_time_is_used() -> None:
    r = Reader(0.1)
    assert r.write(None, at=10.0)
    assert not r.write(None, at=10.05)
    assert r.write(None, at=10.1)  # exactly the separation, in float seconds
    assert not r.write(None, at=10.15)
    assert r.write(None, at=10.2)
    assert r.write(None, at=10.3)


def test_the_two_clocks_are_never_compared_with_each_other() -> None:
    r = Reader(0.1)
    # source time in ns is huge next to reception seconds: a mix-up would drop or pass all
    assert r.write(T0, at=10.0)
    assert not r.write(None, at=10.05)  # judged against 10.0, the reception of the last
    assert r.write(None, at=10.2)
    # the last let through had no source time: its reception time is the common clock
    assert not r.write(T0 + 500 * MS, at=10.25)
    assert r.write(T0 + 500 * MS, at=10.3)
    assert not r.write(T0 + 550 * MS, at=10.9)  # both stamped: source time rules
    assert r.write(T0 + 600 * MS, at=10.91)


def test_dispose_and_unregister_always_pass() -> None:
    r = Reader(1.0)
    assert r.write(T0)
    assert r.write(T0 + 1 * MS, status=STATUS_DISPOSED)
    assert r.state() is InstanceState.NOT_ALIVE_DISPOSED
    # after a dispose the next sample starts a new generation: it passes
    assert r.write(T0 + 2 * MS)
    assert r.state() is InstanceState.ALIVE
    assert not r.write(T0 + 3 * MS)
    assert r.write(T0 + 4 * MS, status=STATUS_UNREGISTERED)
    assert r.state() is InstanceState.NOT_ALIVE_NO_WRITERS
    assert r.cache.counters["filtered"] == 1


def test_entries_are_gone_after_unregister_and_dispose() -> None:
    r = Reader(0.1)
    for i in range(50):
        assert r.write(T0, key=bytes([i]) * 16)
    assert len(r.stage) == 50
    for i in range(25):
        r.write(T0 + 1, key=bytes([i]) * 16, status=STATUS_UNREGISTERED)
    for i in range(25, 50):
        r.write(T0 + 1, key=bytes([i]) * 16, status=STATUS_DISPOSED | STATUS_UNREGISTERED)
    assert len(r.stage) == 0


def test_one_writers_unregister_keeps_the_filter_for_the_others() -> None:
    r = Reader(0.1)
    a, b = guid(1), guid(2)
    assert r.write(T0, writer=a)
    assert not r.write(T0 + 1 * MS, writer=b)  # filtered, but b writes the instance too
    r.write(T0 + 2 * MS, writer=a, status=STATUS_UNREGISTERED)
    assert r.state() is InstanceState.ALIVE  # b keeps it alive
    assert len(r.stage) == 1
    assert not r.write(T0 + 3 * MS, writer=b)
    r.write(T0 + 4 * MS, writer=b, status=STATUS_UNREGISTERED)
    assert len(r.stage) == 0


def test_entries_are_gone_when_the_last_writer_is_removed() -> None:
    r = Reader(0.1)
    a, b = guid(1), guid(2)
    assert r.write(T0, KEY_A, writer=a)
    assert r.write(T0, KEY_B, writer=a)
    assert not r.write(T0 + 1, KEY_B, writer=b)
    r.cache.writer_removed(a, r.now)
    assert len(r.stage) == 1  # b still writes B
    assert r.state(KEY_A) is InstanceState.NOT_ALIVE_NO_WRITERS
    r.cache.writer_removed(b, r.now)
    assert len(r.stage) == 0
    # a writer coming back: the first sample of the instance again
    assert r.write(T0 + 2, KEY_A, writer=a)


def test_forget_lets_the_next_sample_pass() -> None:
    r = Reader(0.1)
    assert r.write(T0)
    r.stage.forget(KEY_A)
    assert r.write(T0 + 1)


@settings(max_examples=200, deadline=None)
@given(st.floats(0.001, 0.5),
       st.lists(st.tuples(st.integers(1, 300 * MS), st.sampled_from([KEY_A, KEY_B]),
                          st.sampled_from([1, 2])), max_size=60))
def test_delivered_samples_are_a_separation_apart_and_none_is_missed(
        separation: float, steps: list[tuple[int, bytes, int]]) -> None:
    """Over increasing source timestamps, for each instance: the delivered timestamps are
    pairwise at least ``minimum_separation`` apart, and every sample at least that long after
    the last delivered one is delivered."""
    r = Reader(separation)
    sep_ns = round(separation * 1e9)
    stamp = T0
    delivered: dict[bytes, list[int]] = {KEY_A: [], KEY_B: []}
    for step, key, writer in steps:
        stamp += step
        last = delivered[key][-1] if delivered[key] else None
        passed = r.write(stamp, key, guid(writer))
        if last is None or stamp - last >= sep_ns:
            assert passed, (stamp, last, sep_ns)
        if passed:
            delivered[key].append(stamp)
    for stamps in delivered.values():
        for i, x in enumerate(stamps):
            assert all(y - x >= sep_ns for y in stamps[i + 1:])
