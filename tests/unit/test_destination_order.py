"""DESTINATION_ORDER BY_SOURCE_TIMESTAMP in the sans-IO reader cache
(rtbus.rtps.destination_order).

Driven through ``ReaderCache.accept`` as the reader core drives it; no sockets, no clock but
the ``now`` passed in. A change "passes" when the cache delivered it into the history.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rtbus.rtps.destination_order import SourceTimestampOrder
from rtbus.rtps.history import STATUS_DISPOSED, STATUS_UNREGISTERED
from rtbus.rtps.instances import InstanceState
from tests.support.stage_reader import KEY_A, KEY_B, StageReader, guid

T0 = 1_700_000_000 * 1_000_000_000  # ns since the Unix epoch


class Reader(StageReader):
    """A reader cache with the source-timestamp order stage, and what it delivered."""

    def __init__(self) -> None:
        self.stage = SourceTimestampOrder()
        super().__init__(self.stage, now=1000.0, step=0.001)

    def write(self, source: int | None, key: bytes = KEY_A, writer: bytes = guid(1),
              status: int = 0) -> bool:
        """True when the change entered the history (a Deliver came out)."""
        return self.offer(writer, key, status, source)


def test_an_older_change_than_the_newest_accepted_is_dropped() -> None:
    r = Reader()
    assert r.write(T0 + 10)
    assert not r.write(T0 + 5)
    assert r.cache.counters["filtered"] == 1
    assert r.write(T0 + 11)
    assert not r.write(T0 + 10)
    assert r.stage.newest(KEY_A) == T0 + 11


def test_equal_timestamps_pass() -> None:
    r = Reader()
    assert r.write(T0)
    assert r.write(T0)
    assert r.write(T0, writer=guid(2))


def test_the_mark_is_per_instance_from_any_writer() -> None:
    r = Reader()
    assert r.write(T0 + 10, KEY_A, guid(1))
    assert r.write(T0 + 1, KEY_B, guid(1))  # B's own first change
    assert not r.write(T0 + 5, KEY_A, guid(2))  # another writer's older one
    assert r.write(T0 + 5, KEY_B, guid(2))
    assert r.write(T0 + 12, KEY_A, guid(2))
    assert not r.write(T0 + 11, KEY_A, guid(1))


def test_a_change_without_source_timestamp_passes_and_keeps_the_mark() -> None:
    r = Reader()
    assert r.write(None)  # no mark yet, none made
    assert r.stage.newest(KEY_A) is None
    assert r.write(T0 + 10)
    assert r.write(None)
    assert r.stage.newest(KEY_A) == T0 + 10
    assert not r.write(T0 + 9)


def test_an_older_dispose_does_not_kill_a_newer_sample() -> None:
    r = Reader()
    assert r.write(T0 + 10, writer=guid(1))
    assert not r.write(T0 + 5, writer=guid(2), status=STATUS_DISPOSED)
    assert r.state() is InstanceState.ALIVE
    assert not r.write(T0 + 5, writer=guid(1), status=STATUS_UNREGISTERED)
    assert r.state() is InstanceState.ALIVE


def test_an_older_sample_does_not_bring_back_a_newer_dispose() -> None:
    r = Reader()
    assert r.write(T0 + 10, writer=guid(1))
    assert r.write(T0 + 20, writer=guid(2), status=STATUS_DISPOSED)
    assert r.state() is InstanceState.NOT_ALIVE_DISPOSED
    assert len(r.stage) == 1  # the writers still register it: the mark is kept
    assert not r.write(T0 + 15, writer=guid(1))
    assert r.state() is InstanceState.NOT_ALIVE_DISPOSED
    assert r.write(T0 + 21, writer=guid(1))
    assert r.state() is InstanceState.ALIVE


def test_the_writer_of_a_dropped_sample_keeps_the_instance_alive() -> None:
    r = Reader()
    a, b = guid(1), guid(2)
    assert r.write(T0 + 10, writer=a)
    assert not r.write(T0 + 5, writer=b)  # b's clock is behind: dropped, but b writes it
    assert r.write(T0 + 11, writer=a, status=STATUS_UNREGISTERED) is False  # b remains
    assert r.state() is InstanceState.ALIVE
    assert len(r.stage) == 1


def test_marks_are_gone_after_the_last_writer_unregisters() -> None:
    r = Reader()
    for i in range(50):
        assert r.write(T0 + 10, key=bytes([i]) * 16)
    assert len(r.stage) == 50
    for i in range(50):
        assert r.write(T0 + 11, key=bytes([i]) * 16, status=STATUS_UNREGISTERED)
    assert len(r.stage) == 0


def test_one_writers_unregister_keeps_the_mark_for_the_others() -> None:
    r = Reader()
    a, b = guid(1), guid(2)
    assert r.write(T0 + 10, writer=a)
    assert r.write(T0 + 10, writer=b)
    r.write(T0 + 11, writer=a, status=STATUS_UNREGISTERED)  # b still writes: no state change
    assert r.stage.newest(KEY_A) == T0 + 11
    assert r.state() is InstanceState.ALIVE
    assert not r.write(T0 + 10, writer=b)
    assert r.write(T0 + 12, writer=b, status=STATUS_DISPOSED | STATUS_UNREGISTERED)
    assert len(r.stage) == 0


def test_marks_are_gone_when_the_last_writer_is_removed() -> None:
    r = Reader()
    a, b = guid(1), guid(2)
    assert r.write(T0 + 10, KEY_A, a)
    assert r.write(T0 + 10, KEY_B, a)
    assert r.write(T0 + 11, KEY_B, b)
    r.cache.writer_removed(a, r.now)
    assert len(r.stage) == 1 and r.stage.newest(KEY_B) == T0 + 11
    assert r.state(KEY_A) is InstanceState.NOT_ALIVE_NO_WRITERS
    r.cache.writer_removed(b, r.now)
    assert len(r.stage) == 0


def test_forget_drops_the_mark() -> None:
    r = Reader()
    assert r.write(T0 + 10)
    r.stage.forget(KEY_A)
    assert r.write(T0 + 1)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.none(), st.integers(0, 40)),
                          st.sampled_from([KEY_A, KEY_B]), st.sampled_from([1, 2, 3])),
                max_size=60))
def test_delivered_source_timestamps_never_go_back(
        steps: list[tuple[int | None, bytes, int]]) -> None:
    """Over any sequence of timestamps from several writers, for each instance: the delivered
    source timestamps are non-decreasing, each is >= every earlier timestamp offered for that
    instance, and every change that is >= all of those is delivered."""
    r = Reader()
    offered: dict[bytes, list[int]] = {KEY_A: [], KEY_B: []}
    delivered: dict[bytes, list[int]] = {KEY_A: [], KEY_B: []}
    for offset, key, writer in steps:
        stamp = None if offset is None else T0 + offset
        passed = r.write(stamp, key, guid(writer))
        if stamp is None:
            assert passed
            continue
        newest = all(stamp >= x for x in offered[key])
        assert passed == newest, (stamp, offered[key])
        if passed:
            delivered[key].append(stamp)
        offered[key].append(stamp)
    for stamps in delivered.values():
        assert stamps == sorted(stamps)
