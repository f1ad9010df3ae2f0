"""LIFESPAN between whole sans-IO participants on the simulated network (virtual time, whose
seconds are also the source timestamps' wall clock: the cores' ``wall_offset`` is 0)."""

from __future__ import annotations

from rtbus.qos import Qos
from rtbus.rtps import wire
from rtbus.rtps.history import HistoryCache, HistoryQos
from rtbus.rtps.lifespan import WriterLifespan, expires_at
from tests.support.simcore import SimCore
from tests.support.simnet import SimNetwork

TOPIC, TYPE = "Lifespan", "Blob"
LIFESPAN = 1.0


def cdr(body: bytes) -> bytes:
    pad = -len(body) & 3
    return b"\x00\x01\x00" + bytes([pad]) + body + bytes(pad)


class Bus:
    def __init__(self) -> None:
        self.net = SimNetwork(seed=3)
        self.w = SimCore(self.net, 1, type_lookup=False)
        self.writer = self.w.core.add_writer(
            TOPIC, TYPE, Qos(reliability="reliable", durability="transient_local",
                             history="keep_all", lifespan=LIFESPAN), True, self.net.now)
        self.w.drain()
        self.n = 1

    def write(self, body: bytes, age: float = 0.0) -> None:
        """A sample stamped ``age`` seconds before now."""
        now = self.net.now
        self.w.core.write(self.writer, cdr(body), bytes([len(body)]) * 16, 0,
                          int((now - age) * 1e9), now)
        self.w.drain()

    def reader(self) -> tuple[SimCore, wire.Guid]:
        self.n += 1
        p = SimCore(self.net, self.n, type_lookup=False)
        r = p.core.add_reader(TOPIC, TYPE, Qos(reliability="reliable",
                                               durability="transient_local",
                                               history="keep_all"), True, self.net.now)
        p.drain()
        streams = p.core.readers[r.entity_id].core.writers
        self.net.run(until=self.net.now + 30, stop=lambda: self.writer in streams)
        assert self.writer in streams
        return p, r

    def run(self, seconds: float) -> None:
        self.net.run(until=self.net.now + seconds)


def bodies(p: SimCore, r: wire.Guid) -> list[bytes]:
    got = p.core.take(r, None, p.net.now)
    p.drain()
    return [bytes(s.payload)[4:] for s in got if s.payload is not None]


def test_the_writer_history_forgets_expired_samples_so_late_joiners_do_not_get_them() -> None:
    bus = Bus()
    bus.write(b"old!")
    bus.run(0.6)
    bus.write(b"new!")
    early, r1 = bus.reader()  # within both lifespans: both samples
    bus.net.run(until=bus.net.now + 0.2)
    assert bodies(early, r1) == [b"old!", b"new!"]
    bus.net.run(until=1.2)  # the first expired at 1.0, the second lives until 1.6
    late, r2 = bus.reader()
    bus.net.run(until=min(bus.net.now + 0.2, 1.55))
    assert bodies(late, r2) == [b"new!"]
    assert bus.w.core.writers[bus.writer.entity_id].core.counters["lifespan_expired"] >= 1


def test_a_sample_that_expires_in_the_reader_history_is_never_taken() -> None:
    bus = Bus()
    p, r = bus.reader()
    bus.write(b"soon")
    bus.run(0.5)
    bus.write(b"late")
    bus.run(0.7)  # the first expired at 1.0 s after it was written, the second has 0.8 s left
    assert bodies(p, r) == [b"late"]
    assert p.core.readers[r.entity_id].core.counters["expired_lifespan"] == 1


def test_a_sample_that_arrives_already_expired_is_dropped_and_counted() -> None:
    bus = Bus()
    p, r = bus.reader()
    bus.write(b"stal", age=2 * LIFESPAN)  # stamped long ago (in transit too long)
    bus.write(b"good", age=0.1)
    bus.run(0.3)
    assert bodies(p, r) == [b"good"]
    assert p.core.readers[r.entity_id].core.counters["expired_lifespan"] == 1


def test_writer_lifespan_removes_in_write_order_and_skips_changes_already_gone() -> None:
    class Change:
        def __init__(self, seq: int) -> None:
            self.seq, self.key_hash, self.size = seq, None, 1

    history: HistoryCache[Change] = HistoryCache(HistoryQos("keep_all"))
    tracker = WriterLifespan(1.0)
    for seq, t in ((1, 0.0), (2, 0.3), (3, 0.6)):
        history.add(Change(seq))  # type: ignore[arg-type]
        tracker.written(seq, t)
    history.remove(2)  # acknowledged by all and trimmed, say
    assert tracker.next_timer() == 1.0
    assert tracker.expire(1.35, history) == 1  # seq 1; seq 2 was gone already
    assert [c.seq for c in history] == [3]
    assert tracker.next_timer() == 1.6


def test_expiry_is_by_source_timestamp_on_the_drivers_clock() -> None:
    # wall = now + 1000: a sample stamped at wall 1004.5 with lifespan 1 expires at now 5.5
    assert expires_at(int(1004.5e9), 1.0, 5.0, 1000.0) == 5.5
    assert expires_at(None, 1.0, 5.0, 1000.0) == 6.0  # no timestamp: from reception
