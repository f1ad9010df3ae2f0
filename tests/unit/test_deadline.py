"""Requested DEADLINE in the sans-IO reader cache (rtbus.rtps.deadline), alone and driving an
EXCLUSIVE ownership hand-over; time is the ``now`` the test passes in."""

from __future__ import annotations

from typing import Any

import pytest

from rtbus.qos import Qos
from rtbus.rtps.actions import DeadlineMissed, OfferedDeadlineMissed
from rtbus.rtps.deadline import OfferedDeadline, RequestedDeadline
from rtbus.rtps.history import STATUS_DISPOSED, STATUS_UNREGISTERED
from rtbus.rtps.ownership import ExclusiveOwnership
from tests.support.stage_reader import KEY_A, KEY_B, StageReader, guid

PERIOD = 0.1


class Reader(StageReader):
    def __init__(self, exclusive: bool = False) -> None:
        self.own = ExclusiveOwnership() if exclusive else None
        self.deadline = RequestedDeadline(PERIOD, self.own)
        super().__init__(*(s for s in (self.own, self.deadline) if s is not None))
        self.missed: list[tuple[float, Any]] = []

    def match(self, writer: bytes, strength: int = 0) -> list[Any]:  # type: ignore[override]
        return super().match(writer, Qos(ownership="exclusive" if self.own else "shared",
                                         ownership_strength=strength))

    def write(self, writer: bytes, key: bytes = KEY_A, status: int = 0) -> bool:
        return self.offer(writer, key, status, at=self.now)

    def advance(self, to: float) -> None:
        """Run the stage's timer as a driver would, up to ``to``."""
        while True:
            t = self.deadline.next_timer()
            if t is None or t > to:
                break
            self.now = t
            for a in self.deadline.handle_timer(t):
                assert type(a) is DeadlineMissed
                self.missed.append((t, a.key_hash))
        self.now = to


def test_a_silent_instance_misses_once_per_period_and_a_sample_rearms_it() -> None:
    r = Reader()
    w = guid(1)
    r.match(w)
    r.write(w, KEY_A)
    r.advance(0.05)
    r.write(w, KEY_A)  # due again at 0.15
    r.advance(0.149)
    assert r.missed == []
    r.advance(0.36)
    assert r.missed == [(pytest.approx(0.15), KEY_A), (pytest.approx(0.25), KEY_A),
                        (pytest.approx(0.35), KEY_A)]
    r.write(w, KEY_A)
    r.advance(0.45)
    assert len(r.missed) == 3


def test_deadlines_are_per_instance() -> None:
    r = Reader()
    w = guid(1)
    r.match(w)
    r.write(w, KEY_A)
    r.write(w, KEY_B)
    for step in range(1, 6):  # A keeps coming, B falls silent
        r.advance(step * 0.05)
        r.write(w, KEY_A)
    assert {k for _, k in r.missed} == {KEY_B}


def test_a_disposed_or_unregistered_instance_is_no_longer_timed() -> None:
    r = Reader()
    w = guid(1)
    r.match(w)
    r.write(w, KEY_A)
    r.write(w, KEY_B)
    r.write(w, KEY_A, STATUS_DISPOSED)
    r.write(w, KEY_B, STATUS_UNREGISTERED)
    r.advance(1.0)
    assert r.missed == [] and r.deadline.watched == 0


def test_one_timer_entry_per_instance_whatever_the_rate() -> None:
    r = Reader()
    w = guid(1)
    r.match(w)
    for i in range(1000):
        r.now = i * 0.001
        r.write(w, KEY_A)
    assert len(r.deadline._times._heap) == 1
    r.advance(1.05)
    assert r.missed == []  # the last sample (0.999) is due again at 1.099
    r.advance(1.1)
    assert r.missed == [(pytest.approx(1.099), KEY_A)]
    assert len(r.deadline._times._heap) == 1


def test_a_silent_owner_loses_the_instance_to_the_backup_and_takes_it_back() -> None:
    r = Reader(exclusive=True)
    primary, backup = guid(1), guid(2)
    r.match(primary, 10)
    r.match(backup, 5)
    assert r.write(primary)
    r.advance(0.05)
    assert not r.write(backup)
    assert r.write(primary)
    r.advance(0.12)
    assert not r.write(backup)  # the primary's deadline (0.15) has not passed
    r.advance(0.16)  # missed: the owner loses the instance
    assert r.missed and r.cache.instances.get(KEY_A).owner is None  # type: ignore[union-attr]
    assert r.write(backup)  # the silent primary does not count as a rival any more
    assert r.write(backup)
    assert r.write(primary)  # it writes again: stronger, it takes the instance back
    assert not r.write(backup)


def test_the_period_must_be_finite_and_positive() -> None:
    for bad in (0.0, -1.0, float("inf")):
        with pytest.raises(ValueError):
            RequestedDeadline(bad)


def test_the_writer_reports_each_instance_it_keeps_alive_but_does_not_write() -> None:
    w = OfferedDeadline(b"W" * 16, PERIOD)
    w.written(KEY_A, 0, 0.0)
    w.written(KEY_B, 0, 0.0)
    w.written(KEY_A, 0, 0.08)
    assert w.handle_timer(0.1) == [OfferedDeadlineMissed(b"W" * 16, KEY_B)]
    assert w.next_timer() == pytest.approx(0.18)
    assert w.handle_timer(0.185) == [OfferedDeadlineMissed(b"W" * 16, KEY_A)]
    w.written(KEY_A, STATUS_UNREGISTERED, 0.19)  # given up: no promise left for A
    w.written(KEY_B, STATUS_DISPOSED, 0.19)
    assert w.handle_timer(5.0) == []
    assert w.next_timer() is None
