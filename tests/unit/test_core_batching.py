"""Send batching is the core's (ParticipantCore.datagrams_to_send(now, batch=True)): a burst of
small writes to one address shares datagrams, a lone write leaves at once, and a joined
datagram means exactly what its messages meant (the peer gets every sample, in order, with
its own timestamp)."""

from __future__ import annotations

from typing import Any

import rtbus.idl
from rtbus.qos import Qos
from rtbus.rtps import wire
from rtbus.rtps.participant import SEND_BATCH_WINDOW
from tests.support.simcore import SimCore
from tests.support.simnet import LinkConditions, SimNetwork

MODEL = rtbus.idl.parse("struct Blob { @key long id; string text; };").types["Blob"]
RELIABLE = Qos(reliability="reliable", history="keep_all")
T0 = 1_700_000_000_000_000_000


def sample(i: int, size: int = 8) -> bytes:
    return b"\x00\x01\x00\x00" + i.to_bytes(4, "little") + b"\x00" * size


def matched() -> tuple[SimNetwork, SimCore, SimCore, wire.Guid, wire.Guid]:
    net = SimNetwork(seed=1, conditions=LinkConditions(delay=0.001))
    a, b = SimCore(net, 1, 2), SimCore(net, 2, 1)
    w = a.core.add_writer("Burst", "Blob", RELIABLE, False, net.now, type_model=MODEL)
    r = b.core.add_reader("Burst", "Blob", RELIABLE, False, net.now, type_model=MODEL)
    a.drain()
    b.drain()
    net.run(until=net.now + 5.0, stop=lambda: w in b.core.readers[r.entity_id].core.writers
            and bool(a.core.writers[w.entity_id].core.readers))
    net.run(until=net.now + 0.5)  # let discovery's own traffic settle
    return net, a, b, w, r


def data_count(datagram: bytes) -> int:
    return sum(type(rec.submessage) is wire.Data
               for rec in wire.parse_message(datagram).received)


def test_a_burst_shares_datagrams_and_the_peer_gets_every_sample_in_order() -> None:
    net, a, b, w, r = matched()
    now = net.now
    sent: list[tuple[bytes, Any]] = []
    for i in range(10):
        a.core.write(w, sample(i), None, 0, T0 + i, now)
        sent += a.core.datagrams_to_send(now, batch=True)
    assert len(sent) == 1 and data_count(sent[0][0]) == 1  # the first leaves at once
    assert a.core.holding
    released = a.core.datagrams_to_send(now)  # what the engine's loop does at once
    assert not a.core.holding
    assert len(released) == 1 and data_count(released[0][0]) == 9
    for datagram, _ in sent + released:
        b.core.receive(datagram, None, now)
    got = b.core.take(r, None, now)
    assert [bytes(s.payload) for s in got] == [sample(i) for i in range(10)]
    # each message kept its own INFO_TS inside the joined datagram
    assert [s.info.source_timestamp for s in got] == [T0 + i for i in range(10)]


def test_writes_further_apart_than_the_window_are_never_held() -> None:
    net, a, _b, w, _r = matched()
    now = net.now
    out = []
    for i in range(5):
        a.core.write(w, sample(i), None, 0, T0 + i, now)
        out.append(a.core.datagrams_to_send(now, batch=True))
        now += SEND_BATCH_WINDOW * 5
    assert all(len(o) == 1 for o in out) and not a.core.holding


def test_a_large_message_is_not_held_and_keeps_its_place_behind_held_ones() -> None:
    net, a, b, w, r = matched()
    now = net.now
    sizes = [8, 8, 8, a.core.max_message_size // 2 + 100, 8]
    sent = []
    for i, size in enumerate(sizes):
        a.core.write(w, sample(i, size), None, 0, T0 + i, now)
        sent += a.core.datagrams_to_send(now, batch=True)
    sent += a.core.datagrams_to_send(now)
    for datagram, _ in sent:
        b.core.receive(datagram, None, now)
    got = b.core.take(r, None, now)
    # order on the wire is order of writing: the held batch left before the large one
    assert [bytes(s.payload) for s in got] == [sample(i, n) for i, n in enumerate(sizes)]
    seqs = [[rec.submessage.writer_sn for rec in wire.parse_message(d).received
             if type(rec.submessage) is wire.Data] for d, _ in sent]
    assert [sn for group in seqs for sn in group] == sorted(sn for group in seqs for sn in group)


def test_without_batch_nothing_is_held() -> None:
    net, a, _b, w, _r = matched()
    now = net.now
    total = 0
    for i in range(5):
        a.core.write(w, sample(i), None, 0, T0 + i, now)
        out = a.core.datagrams_to_send(now)
        assert len(out) == 1
        total += 1
    assert total == 5 and not a.core.holding


def test_a_joined_datagram_wakes_its_reader_once_and_delivers_every_sample() -> None:
    """One Delivered per reader and datagram (it wakes takers, who take all there is): a
    datagram of nine samples must not cost nine wake-ups, and none of the nine is lost."""
    from rtbus.rtps.participant import Delivered
    net, a, b, w, r = matched()
    now = net.now
    sent: list[tuple[bytes, Any]] = []
    for i in range(10):
        a.core.write(w, sample(i), None, 0, T0 + i, now)
        sent += a.core.datagrams_to_send(now, batch=True)
    sent += a.core.datagrams_to_send(now)
    assert [data_count(d) for d, _ in sent] == [1, 9]
    b.core.events()
    woken = []
    for datagram, _ in sent:
        b.core.receive(datagram, None, now)
        woken.append(sum(type(e) is Delivered and e.reader_guid == r for e in b.core.events()))
    assert woken == [1, 1]
    assert [bytes(s.payload) for s in b.core.take(r, None, now)] == [sample(i) for i in range(10)]


def test_a_released_batch_counts_as_sent_recently() -> None:
    """The loop releasing a held batch is a batching send: the write that follows within the
    window joins a new batch instead of leaving alone (else a steady burst alternates one
    lone datagram and one batch, twice the datagrams for the same samples)."""
    net, a, _b, w, _r = matched()
    now = net.now
    a.core.write(w, sample(0), None, 0, T0, now)
    assert len(a.core.datagrams_to_send(now, batch=True)) == 1
    a.core.write(w, sample(1), None, 0, T0 + 1, now)
    assert a.core.datagrams_to_send(now, batch=True) == [] and a.core.holding
    later = now + SEND_BATCH_WINDOW * 0.75  # the loop's release, a moment later
    assert len(a.core.datagrams_to_send(later)) == 1
    a.core.write(w, sample(2), None, 0, T0 + 2, later + SEND_BATCH_WINDOW * 0.75)
    assert a.core.datagrams_to_send(later + SEND_BATCH_WINDOW * 0.75, batch=True) == []
    assert a.core.holding


def test_the_heartbeats_of_one_datagram_get_one_acknack() -> None:
    """A joined datagram carries a piggy-backed HEARTBEAT every ``heartbeat_every`` DATA; the
    reader answers the last one only, after all the DATA (nothing looks missing)."""
    net, a, b, w, r = matched()
    now = net.now
    every = a.core.writers[w.entity_id].core.config.heartbeat_every
    sent: list[tuple[bytes, Any]] = []
    for i in range(3 * every + 1):
        a.core.write(w, sample(i), None, 0, T0 + i, now)
        sent += a.core.datagrams_to_send(now, batch=True)
    sent += a.core.datagrams_to_send(now)
    joined = sent[-1][0]
    heartbeats = [rec.submessage for rec in wire.parse_message(joined).received
                  if type(rec.submessage) is wire.Heartbeat]
    assert len(heartbeats) == 3
    b.core.datagrams_to_send(now)
    for datagram, _ in sent:
        b.core.receive(datagram, None, now)
    answers = [rec.submessage for d, _ in b.core.datagrams_to_send(now)
               for rec in wire.parse_message(d).received]
    acknacks = [s for s in answers if type(s) is wire.AckNack]
    assert len(acknacks) == 1
    assert acknacks[0].reader_sn_state.base == 3 * every + 2  # all of them, none missing
    assert not acknacks[0].reader_sn_state.numbers
    assert b.core.counters["heartbeat_superseded"] == 2
    assert len(b.core.take(r, None, now)) == 3 * every + 1
