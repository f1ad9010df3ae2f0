"""READER_DATA_LIFECYCLE in the sans-IO reader (virtual time): a NOT_ALIVE instance keeps its
samples for the autopurge delay of its state, then is purged -- unless it came back before."""

from __future__ import annotations

from rtbus.qos import Qos
from rtbus.rtps import wire
from rtbus.rtps.history import STATUS_DISPOSED
from rtbus.rtps.instances import InstanceState
from tests.support.simcore import SimCore
from tests.support.simnet import SimNetwork

TOPIC, TYPE = "Lifecycle", "Blob"
KEY = bytes([5]) * 16
DELAY = 0.5


def cdr(body: bytes) -> bytes:
    pad = -len(body) & 3
    return b"\x00\x01\x00" + bytes([pad]) + body + bytes(pad)


class Bus:
    def __init__(self, **reader_qos: float) -> None:
        self.net = SimNetwork(seed=5)
        self.w, self.r = SimCore(self.net, 1, type_lookup=False), SimCore(self.net, 2,
                                                                          type_lookup=False)
        self.writer = self.add_writer()
        self.reader = self.r.core.add_reader(
            TOPIC, TYPE, Qos(reliability="reliable", history="keep_all", **reader_qos), True,
            self.net.now)
        self.r.drain()
        self.wait_matched()

    def add_writer(self) -> wire.Guid:
        w = self.w.core.add_writer(TOPIC, TYPE, Qos(reliability="reliable", history="keep_all"),
                                   True, self.net.now)
        self.w.drain()
        return w

    def wait_matched(self) -> None:
        streams = self.r.core.readers[self.reader.entity_id].core.writers
        self.net.run(until=self.net.now + 30, stop=lambda: self.writer in streams)
        assert self.writer in streams

    def write(self, body: bytes, status: int = 0) -> None:
        now = self.net.now
        self.w.core.write(self.writer, None if status else cdr(body), KEY, status,
                          int(now * 1e9), now)
        self.w.drain()

    def run(self, seconds: float) -> None:
        self.net.run(until=self.net.now + seconds)

    @property
    def cache(self):  # type: ignore[no-untyped-def]
        return self.r.core.readers[self.reader.entity_id].core.cache

    def held(self) -> list[bool]:
        """valid_data of each sample the reader history holds (read, not taken)."""
        return [s.info.valid_data for s in self.cache.read()]


def test_a_no_writers_instance_is_purged_after_its_delay() -> None:
    bus = Bus(autopurge_nowriter_samples_delay=DELAY)
    bus.write(b"one")
    bus.run(0.2)
    bus.w.core.remove_endpoint(bus.writer, bus.net.now)  # its only writer goes
    bus.w.drain()
    bus.net.run(until=bus.net.now + 5, stop=lambda: bus.held() == [True, False])
    assert bus.held() == [True, False]  # the sample, and the NOT_ALIVE_NO_WRITERS notice
    assert bus.cache.instances.get(KEY).state == InstanceState.NOT_ALIVE_NO_WRITERS
    gone_at = bus.net.now
    bus.net.run(until=gone_at + DELAY + 0.01, stop=lambda: not bus.held())
    assert bus.held() == []
    assert bus.cache.instances.get(KEY) is None
    assert bus.cache.counters["autopurged"] == 2
    assert bus.net.now - gone_at <= DELAY + 0.01


def test_a_disposed_instance_is_purged_after_its_delay_but_not_one_that_came_back() -> None:
    bus = Bus(autopurge_disposed_samples_delay=DELAY)
    bus.write(b"one")
    bus.write(b"", STATUS_DISPOSED)
    bus.net.run(until=bus.net.now + 5, stop=lambda: bus.held() == [True, False])
    assert bus.cache.instances.get(KEY).state == InstanceState.NOT_ALIVE_DISPOSED
    bus.write(b"two")  # alive again before the delay: no purge
    bus.run(DELAY * 2)
    assert bus.held() == [True, False, True]
    assert bus.cache.counters["autopurged"] == 0
    bus.write(b"", STATUS_DISPOSED)
    bus.run(DELAY * 2)
    assert bus.held() == []
    assert bus.cache.counters["autopurged"] == 4


def test_by_default_not_alive_instances_keep_their_samples() -> None:
    bus = Bus()
    bus.write(b"one")
    bus.write(b"", STATUS_DISPOSED)
    bus.run(10.0)
    assert bus.held() == [True, False]
    assert bus.cache.next_timer() is None
