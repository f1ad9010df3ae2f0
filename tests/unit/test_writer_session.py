"""How a reliable writer starts a session with a reader it just matched (writer.py docstring).

Regression for the intermittent 8 MiB rtbus -> Cyclone failure: the heartbeat sent at matching
was lost because Cyclone had not yet discovered our writer, Cyclone's pre-emptive ACKNACK was
not answered (nothing was written yet), so the first heartbeat Cyclone saw was the one after the
8 MiB sample -- and Cyclone reads a reader's first heartbeat as "the session starts after
lastSN": it dropped the partly received sample and acknowledged it. The writer now keeps
heartbeating a reader until it sends a Final ACKNACK, answers every non-final ACKNACK with a
heartbeat, and announces nothing newer than the matching point until then.
"""

from __future__ import annotations

from typing import Any

import pytest

from rtbus.qos import Qos
from rtbus.rtps import wire
from rtbus.rtps.actions import Action, Send
from rtbus.rtps.history import HistoryQos
from rtbus.rtps.writer import StatefulWriter, WriterConfig, Written
from tests.support.simcore import SimCore, submessages
from tests.support.simnet import LinkConditions, SimNetwork

WP = wire.GuidPrefix(bytes(range(1, 13)))
RP = wire.GuidPrefix(bytes(range(21, 33)))
WG = wire.Guid(WP, wire.EntityId(b"\0\0\x01", 0x02))
RG = wire.Guid(RP, wire.EntityId(b"\0\0\x01", 0x07))
LOC = ("loc", 1)


def subs(actions: list[Action], kind: type) -> list[Any]:
    return [s for a in actions if isinstance(a, Send) for s in a.submessages
            if isinstance(s, kind)]


def acknack(base: int, count: int, final: bool = False) -> wire.AckNack:
    return wire.AckNack(RG.entity_id, WG.entity_id, wire.SequenceNumberSet(base, ()), count,
                        final)


def test_pre_emptive_acknack_is_answered_even_with_nothing_written() -> None:
    w = StatefulWriter(WG, WriterConfig(history=HistoryQos("keep_all")))
    w.add_reader(RG, [LOC], now=0.0)
    hbs = subs(w.handle_acknack(RP, acknack(1, count=1), now=0.0), wire.Heartbeat)
    assert [(h.first_sn, h.last_sn) for h in hbs] == [(1, 0)]


def test_reader_that_never_answered_keeps_getting_heartbeats() -> None:
    w = StatefulWriter(WG, WriterConfig(heartbeat_period=0.1, history=HistoryQos("keep_all")))
    w.add_reader(RG, [LOC], now=0.0)
    for t in (0.1, 0.2, 0.3):  # nothing written, but the match-time heartbeat may be lost
        due = w.next_timer()
        assert due == pytest.approx(t)
        hbs = subs(w.handle_timer(due), wire.Heartbeat)
        assert [(h.first_sn, h.last_sn, h.final) for h in hbs] == [(1, 0, False)]
    w.handle_acknack(RP, acknack(1, count=1, final=True), now=0.35)
    assert w.next_timer() is None


def test_heartbeats_before_the_first_acknack_announce_only_the_matching_point() -> None:
    w = StatefulWriter(WG, WriterConfig(fragment_size=100, heartbeat_period=0.1,
                                        history=HistoryQos("keep_all")))
    w.write(b"before", now=0.0)
    w.add_reader(RG, [LOC], now=0.0)  # volatile: starts at 2
    res = w.write(bytes(1000), now=0.01)  # fragmented: a heartbeat follows the fragments
    assert isinstance(res, Written)
    assert [(h.first_sn, h.last_sn) for h in subs(res.actions, wire.Heartbeat)] == [(2, 1)]
    assert [(h.first_sn, h.last_sn) for h in subs(w.handle_timer(0.1), wire.Heartbeat)] \
        == [(2, 1)]
    # a pre-emptive ACKNACK (Final clear) does not show the reader has seen a heartbeat
    out = w.handle_acknack(RP, acknack(2, count=1), now=0.11)
    assert [(h.first_sn, h.last_sn, h.final) for h in subs(out, wire.Heartbeat)] \
        == [(2, 1, False)]
    # a Final one does (it was answering a pre-data heartbeat): now the truth, at once
    out = w.handle_acknack(RP, acknack(2, count=2, final=True), now=0.12)
    assert [(h.first_sn, h.last_sn, h.final) for h in subs(out, wire.Heartbeat)] \
        == [(2, 2, False)]
    assert [(h.first_sn, h.last_sn) for h in subs(w.handle_timer(0.2), wire.Heartbeat)] \
        == [(2, 2)]


def _session_pair(seed: int, loss: float) -> tuple[SimNetwork, SimCore, SimCore, wire.Guid,
                                                    wire.Guid, StatefulWriter]:
    """Two ParticipantCores on the simulated network, a KEEP_ALL writer on ``a`` and a reader
    on ``b`` of one topic; discovery (SPDP, SEDP) has begun but has not matched them yet."""
    net = SimNetwork(seed=seed, conditions=LinkConditions(loss=loss))
    a, b = SimCore(net, 1, type_lookup=False), SimCore(net, 2, type_lookup=False)
    keep_all = Qos(reliability="reliable", history="keep_all")
    w = a.core.add_writer("Session", "Blob", keep_all, False, net.now)
    r = b.core.add_reader("Session", "Blob", keep_all, False, net.now)
    a.drain()
    b.drain()
    return net, a, b, w, r, a.core.writers[w.entity_id].core


def _write_when_matched(net: SimNetwork, a: SimCore, w: wire.Guid, writer: StatefulWriter,
                        payload: bytes) -> None:
    """Run until the writer matches the reader, then write ``payload`` at that very moment."""
    net.run(stop=lambda: bool(writer.readers), until=net.now + 60.0)
    assert writer.readers, dict(net.stats)
    res = a.core.write(w, payload, None, 0, None, net.now)
    assert isinstance(res, Written)
    a.drain()


def test_large_sample_at_matching_with_lost_handshake_arrives_and_first_heartbeat_is_empty(
        ) -> None:
    """Simulated network: the reader's pre-emptive ACKNACK and the writer's first heartbeat
    are lost (all traffic between the user endpoints is, until 50 ms after the writer matched
    the reader), a 200 kB sample is written the moment the writer matches, and a third of
    everything is lost. The reader must see only empty heartbeats until the writer has heard
    from it, and get the sample exactly once."""
    net, a, b, w, r, writer = _session_pair(seed=11, loss=0.3)
    matched_at: list[float] = []

    def handshake_lost(src: Any, dst: Any, datagram: bytes) -> bool:
        if writer.readers and not matched_at:
            matched_at.append(net.now)
        return (not matched_at or net.now < matched_at[0] + 0.05) and any(
            getattr(sub, "writer_id", None) == w.entity_id for _, sub in submessages(datagram))
    net.drop_filter = handshake_lost
    timeline: list[tuple[str, Any]] = []

    def observe(src: Any, dst: Any, datagram: bytes) -> None:
        for _, sub in submessages(datagram):
            if getattr(sub, "writer_id", None) != w.entity_id:
                continue  # discovery's own traffic
            if isinstance(sub, wire.Heartbeat) and dst is b:
                timeline.append(("hb", (sub.first_sn, sub.last_sn)))
            elif isinstance(sub, wire.AckNack) and dst is a:
                timeline.append(("acknack", sub.reader_sn_state.base))
    net.tap = observe

    payload = b"\x00\x01\x00\x00" + bytes(range(256)) * 800
    _write_when_matched(net, a, w, writer, payload)
    net.run(stop=lambda: a.core.acked_by_all(w), until=net.now + 60.0)

    assert a.core.acked_by_all(w)
    assert [bytes(s.payload) for s in b.core.take(r, None, net.now)] == [payload]
    first_ack = next(i for i, (kind, _) in enumerate(timeline) if kind == "acknack")
    before = [v for kind, v in timeline[:first_ack] if kind == "hb"]
    assert before and all(v == (1, 0) for v in before), timeline[:first_ack + 1]
    assert net.stats["datagrams_dropped"] > 0 and net.stats["datagrams_lost"] > 0


@pytest.mark.parametrize("seed", range(12))
def test_first_heartbeat_a_reader_receives_is_the_pre_data_one(seed: int) -> None:
    """Whatever gets lost -- the match-time heartbeat, the answer to the reader's first
    ACKNACK, the heartbeat after the fragments -- the first heartbeat that reaches the reader
    announces nothing newer than the matching point (found by capture: Cyclone's receive buffer
    overflowed during an 8 MiB burst and dropped the datagram answering its first ACKNACK; the
    next periodic heartbeat was a true one, and Cyclone dropped the sample)."""
    net, a, b, w, r, writer = _session_pair(seed=seed, loss=0.5)
    seen: list[tuple[int, int]] = []

    def observe(src: Any, dst: Any, datagram: bytes) -> None:
        for _, sub in submessages(datagram):
            if isinstance(sub, wire.Heartbeat) and dst is b and sub.writer_id == w.entity_id:
                seen.append((sub.first_sn, sub.last_sn))
    net.tap = observe
    _write_when_matched(net, a, w, writer, b"\x00\x01\x00\x00" + bytes([0]) * 40_000)
    net.run(until=net.now + 0.002)
    for i in (1, 2):
        res = a.core.write(w, b"\x00\x01\x00\x00" + bytes([i]) * 40_000, None, 0, None, net.now)
        assert isinstance(res, Written)
        a.drain()
        net.run(until=net.now + 0.002)
    net.run(stop=lambda: a.core.acked_by_all(w), until=net.now + 120.0)
    assert a.core.acked_by_all(w)
    assert seen[0] == (1, 0), seen[:5]
    assert [bytes(s.payload)[4] for s in b.core.take(r, None, net.now)] == [0, 1, 2]


def test_only_a_sample_of_many_fragments_is_followed_by_a_heartbeat() -> None:
    """A few fragments travel in one datagram and are lost or not together, like a small
    sample: a heartbeat after each (and the ACKNACK it asks for) cost 4 KiB throughput ~30%.
    A large sample still asks at once, so its repair starts one round trip later."""
    from rtbus.rtps.writer import HEARTBEAT_AFTER_FRAGMENTS

    w = StatefulWriter(WG, WriterConfig(fragment_size=100, history=HistoryQos("keep_all")))
    w.add_reader(RG, [LOC], now=0.0)
    w.handle_acknack(RP, acknack(1, count=1, final=True), now=0.0)  # session started
    few = w.write(bytes(100 * HEARTBEAT_AFTER_FRAGMENTS), now=0.01)
    assert isinstance(few, Written)
    assert len(subs(few.actions, wire.DataFrag)) == HEARTBEAT_AFTER_FRAGMENTS
    assert subs(few.actions, wire.Heartbeat) == []
    many = w.write(bytes(100 * HEARTBEAT_AFTER_FRAGMENTS + 1), now=0.02)
    assert isinstance(many, Written)
    assert [(h.first_sn, h.last_sn) for h in subs(many.actions, wire.Heartbeat)] == [(1, 2)]
