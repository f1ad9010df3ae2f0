"""Writer and reader state machines driven by hand, submessage by submessage (no network)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from rtbus.rtps import wire
from rtbus.rtps.actions import (
    Acknowledged,
    Action,
    Deliver,
    SampleRejected,
    SamplesLost,
    Send,
)
from rtbus.rtps.history import STATUS_DISPOSED, HistoryQos
from rtbus.rtps.instances import InstanceState, SampleState, ViewState
from rtbus.rtps.reader import BestEffortReader, ReaderConfig, StatefulReader
from rtbus.rtps.writer import StatefulWriter, StatelessWriter, WouldBlock, WriterConfig, Written

WP = wire.GuidPrefix(bytes(range(1, 13)))
RP = wire.GuidPrefix(bytes(range(21, 33)))
WG = wire.Guid(WP, wire.EntityId(b"\0\0\x01", 0x02))
RG = wire.Guid(RP, wire.EntityId(b"\0\0\x01", 0x07))
RG2 = wire.Guid(RP, wire.EntityId(b"\0\0\x02", 0x07))
LOC = ("loc", 1)
K = b"\x05" * 16


def subs(actions: list[Action], kind: type | None = None) -> list[Any]:
    out = [s for a in actions if isinstance(a, Send) for s in a.submessages]
    return [s for s in out if kind is None or isinstance(s, kind)]


def written(res: Written | WouldBlock) -> Written:
    assert isinstance(res, Written), res
    return res


def acknack(base: int, missing: tuple[int, ...] = (), count: int = 1,
            final: bool = False, reader: wire.Guid = RG) -> wire.AckNack:
    return wire.AckNack(reader.entity_id, WG.entity_id, wire.SequenceNumberSet(base, missing),
                        count, final)


def data(seq: int, payload: bytes | None = b"x", qos: wire.InlineQos | None = None,
         ) -> wire.Data:
    return wire.Data(RG.entity_id, WG.entity_id, seq, qos, payload)


def heartbeat(first: int, last: int, count: int, final: bool = False) -> wire.Heartbeat:
    return wire.Heartbeat(RG.entity_id, WG.entity_id, first, last, count, final)


def payloads(actions: list[Action]) -> list[bytes]:
    return [bytes(a.sample.payload) for a in actions
            if isinstance(a, Deliver) and a.sample.payload is not None]


# ------------------------------------------------------------------------------------ writer
def test_write_pushes_data_with_timestamp_and_inline_qos_to_each_reader() -> None:
    w = StatefulWriter(WG)
    w.add_reader(RG, [LOC])
    w.add_reader(RG2, [LOC], reliable=False)
    res = written(w.write(b"payload", K, timestamp=1_700_000_000_123_456_789))
    assert res.seq == 1
    sends = [a for a in res.actions if isinstance(a, Send)]
    assert [s.dest_prefix for s in sends] == [RP, RP]
    ts, d = sends[0].submessages
    assert ts == wire.InfoTs(1_700_000_000_123_456_789)
    assert isinstance(d, wire.Data) and d.writer_sn == 1 and d.reader_id == RG.entity_id
    assert d.inline_qos == wire.InlineQos(key_hash=K)
    assert bytes(d.serialized_payload) == b"payload"


def test_large_payload_goes_out_as_data_frag() -> None:
    w = StatefulWriter(WG, WriterConfig(fragment_size=1000))
    w.add_reader(RG, [LOC])
    payload = bytes(range(256)) * 10  # 2560 bytes -> 3 fragments
    frags = subs(written(w.write(payload, K)).actions, wire.DataFrag)
    assert [f.fragment_starting_num for f in frags] == [1, 2, 3]
    assert all(f.sample_size == 2560 and f.fragment_size == 1000 for f in frags)
    assert b"".join(bytes(f.serialized_payload) for f in frags) == payload
    assert frags[0].inline_qos is not None and frags[1].inline_qos is None


def test_acknack_requests_are_resent_and_acks_free_volatile_history() -> None:
    w = StatefulWriter(WG, WriterConfig(history=HistoryQos("keep_all")))
    w.add_reader(RG, [LOC])
    for i in range(5):
        w.write(b"%d" % i)
    out = w.handle_acknack(RP, acknack(2, (3, 5)), now=1.0)
    resent = subs(out, wire.Data)
    assert [d.writer_sn for d in resent] == [3, 5]
    assert Acknowledged(WG, 1) in out
    assert 1 not in w.history and 2 in w.history
    out = w.handle_acknack(RP, acknack(6, count=2, final=True), now=1.1)
    assert Acknowledged(WG, 5) in out and len(w.history) == 0
    assert w.is_acked_by_all(5) and not w.is_acked_by_all(6)


def test_duplicate_and_stale_acknacks_are_ignored() -> None:
    w = StatefulWriter(WG, WriterConfig(history=HistoryQos("keep_all")))
    w.add_reader(RG, [LOC])
    for i in range(5):
        w.write(b"%d" % i)
    assert subs(w.handle_acknack(RP, acknack(1, (1, 2), count=5), 0.0), wire.Data)
    assert w.handle_acknack(RP, acknack(1, (1, 2), count=5), 0.0) == []  # duplicate
    assert w.handle_acknack(RP, acknack(4, count=3), 0.0) == []  # stale: older count
    assert w.readers[RG].acked == 0
    assert w.counters["acknack_stale"] == 2


def test_requests_for_changes_no_longer_held_are_answered_with_gap() -> None:
    w = StatefulWriter(WG, WriterConfig(history=HistoryQos("keep_last", depth=1)))
    w.add_reader(RG, [LOC])
    for i in range(6):
        w.write(b"%d" % i, K)  # only seq 6 is still held
    out = w.handle_acknack(RP, acknack(1, (1, 2, 3, 4, 6)), now=0.0)
    gaps = subs(out, wire.Gap)
    assert len(gaps) == 1 and gaps[0].gap_start == 1
    assert gaps[0].gap_list == wire.SequenceNumberSet(5, ())  # 1..4 irrelevant
    assert [d.writer_sn for d in subs(out, wire.Data)] == [6]


def test_nack_response_delay_and_suppression() -> None:
    w = StatefulWriter(WG, WriterConfig(history=HistoryQos("keep_all"), nack_response_delay=0.05,
                                        nack_suppression_duration=0.2, heartbeat_period=10.0))
    w.add_reader(RG, [LOC], now=1.0)
    w.handle_acknack(RP, acknack(1, count=1, final=True), now=1.0)  # answers the first HB
    w.write(b"a", now=1.0)
    w.write(b"b", now=1.0)
    assert w.handle_acknack(RP, acknack(1, (1,), count=2), now=1.0) == []
    w.handle_acknack(RP, acknack(1, (1, 2), count=3), now=1.01)
    assert w.next_timer() == 1.05
    out = w.handle_timer(1.05)
    assert [d.writer_sn for d in subs(out, wire.Data)] == [1, 2]  # both requests, one answer
    w.handle_acknack(RP, acknack(1, (1, 2), count=4), now=1.1)
    due = w.next_timer()
    assert due is not None and due < 1.2
    assert subs(w.handle_timer(due), wire.Data) == []  # resent 0.05 s ago: suppressed
    assert w.counters["resend_suppressed"] == 2
    w.handle_acknack(RP, acknack(1, (1, 2), count=5), now=1.3)
    due = w.next_timer()
    assert due is not None and due < 1.4
    assert len(subs(w.handle_timer(due), wire.Data)) == 2


def test_nackfrag_resends_only_the_missing_fragments() -> None:
    w = StatefulWriter(WG, WriterConfig(fragment_size=100, history=HistoryQos("keep_all")))
    w.add_reader(RG, [LOC])
    w.write(bytes(1000))
    nf = wire.NackFrag(RG.entity_id, WG.entity_id, 1, wire.FragmentNumberSet(3, (3, 7)), 1)
    out = w.handle_nackfrag(RP, nf, now=0.0)
    assert [f.fragment_starting_num for f in subs(out, wire.DataFrag)] == [3, 7]
    assert w.handle_nackfrag(RP, nf, now=0.0) == []  # same count: duplicate


def test_periodic_heartbeat_only_while_unacknowledged() -> None:
    w = StatefulWriter(WG, WriterConfig(heartbeat_period=0.1, history=HistoryQos("keep_all")))
    w.add_reader(RG, [LOC], now=0.0)
    w.handle_acknack(RP, acknack(1, count=1, final=True), now=0.0)  # answers the first HB
    w.write(b"a", now=0.0)
    assert w.next_timer() == 0.1
    hbs = subs(w.handle_timer(0.1), wire.Heartbeat)
    assert len(hbs) == 1 and (hbs[0].first_sn, hbs[0].last_sn) == (1, 1)
    counts = [hbs[0].count]
    hbs = subs(w.handle_timer(0.2), wire.Heartbeat)
    counts.append(hbs[0].count)
    assert counts[0] < counts[1]
    w.handle_acknack(RP, acknack(2, count=2, final=True), now=0.25)
    assert w.next_timer() is None
    assert subs(w.handle_timer(0.4), wire.Heartbeat) == []


def test_volatile_reader_joining_late_gets_gap_for_older_changes() -> None:
    w = StatefulWriter(WG, WriterConfig(durability="transient_local",
                                        history=HistoryQos("keep_last", depth=5)))
    for i in range(3):
        w.write(b"%d" % i)
    out = w.add_reader(RG, [LOC], durability="volatile")
    gaps = subs(out, wire.Gap)
    assert len(gaps) == 1 and gaps[0].gap_start == 1 and gaps[0].gap_list.base == 4
    assert subs(out, wire.Data) == []
    out = w.add_reader(RG2, [LOC], durability="transient_local")
    assert [d.writer_sn for d in subs(out, wire.Data)] == [1, 2, 3]


def test_keep_all_would_block_then_room_after_acknowledgement() -> None:
    w = StatefulWriter(WG, WriterConfig(history=HistoryQos("keep_all", max_samples=2)))
    w.add_reader(RG, [LOC])
    w.write(b"1")
    w.write(b"2")
    blocked = w.write(b"3")
    assert isinstance(blocked, WouldBlock) and blocked.reason.limit == "max_samples"
    assert w.last_seq == 2
    out = w.handle_acknack(RP, acknack(2, count=1), now=0.0)
    assert Acknowledged(WG, 1) in out
    assert written(w.write(b"3")).seq == 3


def test_stateless_writer_never_waits_for_acks() -> None:
    w = StatelessWriter(WG)
    w.add_reader(RG, [LOC], reliable=True)  # a best-effort writer serves it best effort
    for i in range(3):
        assert subs(written(w.write(b"%d" % i)).actions, wire.Heartbeat) == []
    assert w.next_timer() is None and len(w.history) == 0 and w.is_acked_by_all(3)


# ------------------------------------------------------------------------------------ reader
def test_reader_buffers_out_of_order_and_delivers_exactly_once() -> None:
    r = StatefulReader(RG, ReaderConfig(history=HistoryQos("keep_all")))
    r.add_writer(WG, [LOC])
    assert payloads(r.handle_data(WP, data(2, b"b"), 0.0)) == []
    assert payloads(r.handle_data(WP, data(3, b"c"), 0.0)) == []
    assert payloads(r.handle_data(WP, data(1, b"a"), 0.0)) == [b"a", b"b", b"c"]
    assert payloads(r.handle_data(WP, data(2, b"b"), 0.0)) == []
    assert r.counters["duplicate"] == 1
    samples, _ = r.take()
    assert [s.info.sequence_number for s in samples] == [1, 2, 3]


def test_reader_acknack_lists_missing_and_is_final_only_when_complete() -> None:
    r = StatefulReader(RG, ReaderConfig(history=HistoryQos("keep_all")))
    first = subs(r.add_writer(WG, [LOC]), wire.AckNack)
    assert len(first) == 1 and not first[0].final  # pre-emptive: asks for a heartbeat
    r.handle_data(WP, data(1), 0.0)
    r.handle_data(WP, data(4), 0.0)
    an = subs(r.handle_heartbeat(WP, heartbeat(1, 5, 1), 0.0), wire.AckNack)
    assert len(an) == 1 and an[0].reader_sn_state == wire.SequenceNumberSet(2, (2, 3, 5))
    assert not an[0].final and an[0].count > first[0].count
    for s in (2, 3, 5):
        r.handle_data(WP, data(s), 0.0)
    an2 = subs(r.handle_heartbeat(WP, heartbeat(1, 5, 2), 0.0), wire.AckNack)
    assert an2[0].reader_sn_state.base == 6 and an2[0].final and an2[0].count > an[0].count
    # a final heartbeat with nothing missing needs no answer
    assert r.handle_heartbeat(WP, heartbeat(1, 5, 3, final=True), 0.0) == []


def test_stale_heartbeat_ignored_and_response_delay_respected() -> None:
    r = StatefulReader(RG, ReaderConfig(heartbeat_response_delay=0.02, nack_retry_period=0.0))
    r.add_writer(WG, [LOC])
    assert r.handle_heartbeat(WP, heartbeat(1, 3, 5), 1.0) == []
    assert r.next_timer() == 1.02
    assert r.handle_heartbeat(WP, heartbeat(1, 3, 4), 1.01) == []
    assert r.counters["heartbeat_stale"] == 1
    an = subs(r.handle_timer(1.02), wire.AckNack)
    assert an[0].reader_sn_state == wire.SequenceNumberSet(1, (1, 2, 3))
    assert r.next_timer() is None


def test_gap_and_heartbeat_first_close_holes() -> None:
    r = StatefulReader(RG, ReaderConfig(history=HistoryQos("keep_all")))
    r.add_writer(WG, [LOC])
    r.handle_data(WP, data(3, b"c"), 0.0)
    gap = wire.Gap(RG.entity_id, WG.entity_id, 1, wire.SequenceNumberSet(3, ()))
    assert payloads(r.handle_gap(WP, gap, 0.0)) == [b"c"]
    r.handle_data(WP, data(6, b"f"), 0.0)
    gap2 = wire.Gap(RG.entity_id, WG.entity_id, 4, wire.SequenceNumberSet(5, (7,)))
    assert payloads(r.handle_gap(WP, gap2, 0.0)) == []  # 5 still missing
    out = r.handle_heartbeat(WP, heartbeat(6, 8, 1), 0.0)  # writer no longer has 5
    assert payloads(out) == [b"f"]
    assert SamplesLost(WG, 1) in out
    an = subs(out, wire.AckNack)
    assert an[0].reader_sn_state == wire.SequenceNumberSet(8, (8,))


def test_huge_gap_range_costs_nothing() -> None:
    r = StatefulReader(RG)
    r.add_writer(WG, [LOC])
    gap = wire.Gap(RG.entity_id, WG.entity_id, 1, wire.SequenceNumberSet(10**12, ()))
    r.handle_gap(WP, gap, 0.0)
    assert payloads(r.handle_data(WP, data(10**12, b"z"), 0.0)) == [b"z"]


def test_reader_nackfrags_missing_fragments_of_partial_sample() -> None:
    r = StatefulReader(RG)
    r.add_writer(WG, [LOC])
    for num in (1, 2, 4):
        df = wire.DataFrag(RG.entity_id, WG.entity_id, 1, num, 1, 100, 500,
                           serialized_payload=bytes(100))
        r.handle_data_frag(WP, df, 0.0)
    out = r.handle_heartbeat(WP, heartbeat(1, 1, 1), 0.0)
    an = subs(out, wire.AckNack)[0]
    assert an.reader_sn_state == wire.SequenceNumberSet(1, ())  # not re-requested whole
    nf = subs(out, wire.NackFrag)
    assert len(nf) == 1 and nf[0].writer_sn == 1
    assert nf[0].fragment_number_state == wire.FragmentNumberSet(3, (3, 5))
    hbf = wire.HeartbeatFrag(RG.entity_id, WG.entity_id, 1, 3, 1)
    nf2 = subs(r.handle_heartbeat_frag(WP, hbf, 0.0), wire.NackFrag)
    assert nf2[0].fragment_number_state.members() == (3,)
    assert nf2[0].count > nf[0].count


def test_best_effort_reader_keeps_newest_only() -> None:
    r = BestEffortReader(RG, ReaderConfig(history=HistoryQos("keep_all")))
    assert r.add_writer(WG, [LOC]) == []
    assert payloads(r.handle_data(WP, data(2, b"b"), 0.0)) == [b"b"]
    assert payloads(r.handle_data(WP, data(1, b"a"), 0.0)) == []
    out = r.handle_data(WP, data(5, b"e"), 0.0)
    assert payloads(out) == [b"e"] and SamplesLost(WG, 2) in out
    assert r.handle_heartbeat(WP, heartbeat(1, 5, 1), 0.0) == []


def test_keep_last_reader_replaces_and_keep_all_best_effort_rejects() -> None:
    r = StatefulReader(RG, ReaderConfig(history=HistoryQos("keep_last", depth=2)))
    r.add_writer(WG, [LOC])
    qos = wire.InlineQos(key_hash=K)
    for s in range(1, 5):
        r.handle_data(WP, data(s, b"%d" % s, qos), 0.0)
    samples, _ = r.take()
    assert [bytes(s.payload) for s in samples] == [b"3", b"4"]
    be = BestEffortReader(RG, ReaderConfig(history=HistoryQos("keep_all", max_samples=1)))
    be.add_writer(WG, [LOC])
    be.handle_data(WP, data(1), 0.0)
    out = be.handle_data(WP, data(2), 0.0)
    assert SampleRejected(WG, 2, "max_samples") in out


def test_key_only_dispose_maps_to_known_instance() -> None:
    r = StatefulReader(RG, ReaderConfig(history=HistoryQos("keep_all")))
    r.add_writer(WG, [LOC])
    r.handle_data(WP, data(1, b"v", wire.InlineQos(key_hash=K)), 0.0)
    out = r.handle_data(WP, data(2, None, wire.InlineQos(key_hash=K,
                                                         status_info=STATUS_DISPOSED)), 0.0)
    delivered = [a.sample for a in out if isinstance(a, Deliver)]
    assert len(delivered) == 1 and delivered[0].payload is None
    assert not delivered[0].info.valid_data and delivered[0].key_hash == K
    assert len(r.instances) == 1


def test_key_hash_computed_when_not_inline() -> None:
    r = StatefulReader(RG, ReaderConfig(history=HistoryQos("keep_last", depth=1)),
                       key_hash_of=lambda payload: bytes(payload[:1]) * 16)
    r.add_writer(WG, [LOC])
    for s, p in enumerate((b"a1", b"b1", b"a2"), start=1):
        r.handle_data(WP, data(s, p), 0.0)
    samples, _ = r.take()
    assert sorted(bytes(s.payload) for s in samples) == [b"a2", b"b1"]


def test_a_keyed_sample_whose_key_cannot_be_read_is_dropped_and_counted() -> None:
    """A Cyclone-style sample (no inline key hash) whose payload holds no readable key cannot
    be given an instance: it is dropped and counted, and the stream goes on."""
    import rtbus.idl
    from rtbus import cdr
    from rtbus.engine.node import key_hash_readers

    cls = rtbus.idl.loads("struct KeyedS { @key string name; long v; };").KeyedS
    of_sample, of_key = key_hash_readers(cls)
    r = StatefulReader(RG, key_hash_of=of_sample, key_hash_of_key=of_key)
    r.add_writer(WG, [LOC], reliable=False)
    good = cdr.encode(cls(name="a", v=1))
    broken = b"\x00\x01\x00\x00\xff\xff\xff\x7f"  # the key string's length runs past the end
    out = r.handle_data(WP, data(1, broken), 0.0)
    assert not [a for a in out if isinstance(a, Deliver)]
    assert r.counters["dropped_undecodable_key"] == 1
    out = r.handle_data(WP, data(2, good), 0.0)
    delivered = [a.sample for a in out if isinstance(a, Deliver)]
    assert len(delivered) == 1 and delivered[0].key_hash == cdr.key_hash(cls(name="a"))


def test_unknown_writer_data_dropped() -> None:
    r = StatefulReader(RG)
    assert r.handle_data(WP, data(1), 0.0) == []
    assert r.counters["data_unknown_writer"] == 1


def test_late_joiner_first_heartbeat_is_not_sample_loss() -> None:
    r = StatefulReader(RG)
    r.add_writer(WG, [LOC])
    out = r.handle_heartbeat(WP, heartbeat(50, 60, 1), 0.0)
    assert not [a for a in out if isinstance(a, SamplesLost)]
    an = subs(out, wire.AckNack)[0]
    assert an.reader_sn_state == wire.SequenceNumberSet(50, tuple(range(50, 61)))


def test_hostile_scattered_gaps_far_ahead_are_not_stored() -> None:
    r = StatefulReader(RG, ReaderConfig(max_out_of_order=100))
    r.add_writer(WG, [LOC])
    for base in range(1000, 100_000, 300):
        bits = tuple(range(base, base + 256, 2))
        r.handle_gap(WP, wire.Gap(RG.entity_id, WG.entity_id, base,
                                  wire.SequenceNumberSet(base, bits)), 0.0)
    proxy = r.writers[WG]
    assert proxy.irrelevant == []
    bits = tuple(range(10, 60, 2))
    r.handle_gap(WP, wire.Gap(RG.entity_id, WG.entity_id, 5, wire.SequenceNumberSet(8, bits)),
                 0.0)
    assert proxy.irrelevant[0] == [5, 7] and len(proxy.irrelevant) == 1 + len(bits)


def test_history_push_to_late_joiner_gaps_the_holes() -> None:
    w = StatefulWriter(WG, WriterConfig(durability="transient_local",
                                        history=HistoryQos("keep_last", depth=1)))
    k2 = b"\x06" * 16
    for key in (K, k2, K, K, k2, K):  # held: 5 (k2), 6 (K)
        w.write(b"v", key)
    out = w.add_reader(RG, [LOC], durability="transient_local")
    r = StatefulReader(RG, ReaderConfig(durability="transient_local",
                                        history=HistoryQos("keep_all")))
    r.add_writer(WG, [LOC])
    delivered = []
    for sub in subs(out):
        if isinstance(sub, wire.Data):
            delivered += payloads(r.handle_data(WP, sub, 0.0))
        elif isinstance(sub, wire.Gap):
            r.handle_gap(WP, sub, 0.0)
        elif isinstance(sub, wire.Heartbeat):
            an = subs(r.handle_heartbeat(WP, sub, 0.0), wire.AckNack)
    assert len(delivered) == 2
    assert an[0].reader_sn_state == wire.SequenceNumberSet(7, ()) and an[0].final


_seq = st.one_of(st.integers(-5, 40), st.integers(0, 2**63 - 1))
_frag = st.integers(1, 2**32 - 1)


def _hostile_to_reader() -> st.SearchStrategy[Any]:
    rid, wid = st.just(RG.entity_id), st.just(WG.entity_id)
    sets = st.builds(lambda b, off: wire.SequenceNumberSet(b, tuple(sorted({b + o for o in off}))),
                     st.integers(1, 2**40), st.lists(st.integers(0, 255), max_size=20))
    return st.one_of(
        st.builds(wire.Data, rid, wid, st.integers(1, 2**63 - 1), st.none(),
                  st.binary(max_size=40)),
        st.builds(wire.DataFrag, rid, wid, st.integers(1, 60), st.integers(1, 50),
                  st.integers(1, 3), st.integers(1, 70000), st.integers(1, 2**32 - 1),
                  st.none(), st.binary(max_size=300)),
        st.builds(wire.Heartbeat, rid, wid, _seq, _seq, st.integers(0, 2**31), st.booleans()),
        st.builds(wire.Gap, rid, wid, _seq, sets),
        st.builds(wire.HeartbeatFrag, rid, wid, _seq, _frag, st.integers(0, 2**31)),
    )


@settings(max_examples=100, deadline=None)
@given(st.lists(_hostile_to_reader(), max_size=25), st.booleans())
def test_reader_survives_nonsense_with_bounded_state(msgs: list[Any], reliable: bool) -> None:
    cfg = ReaderConfig(reliable=reliable, max_out_of_order=64, max_bytes_in_progress=100_000,
                       history=HistoryQos("keep_last", depth=3))
    r = StatefulReader(RG, cfg)
    r.add_writer(WG, [LOC])
    now = 0.0
    for m in msgs:
        now += 0.01
        handler = {wire.Data: r.handle_data, wire.DataFrag: r.handle_data_frag,
                   wire.Heartbeat: r.handle_heartbeat, wire.Gap: r.handle_gap,
                   wire.HeartbeatFrag: r.handle_heartbeat_frag}[type(m)]
        handler(WP, m, now)
        r.handle_timer(now)
    proxy = r.writers[WG]
    assert len(proxy.pending) <= 64
    assert len(proxy.irrelevant) <= 64 + 1
    assert proxy.reassembler.bytes_in_progress <= 100_000
    assert len(r.history) <= 3


def _hostile_to_writer() -> st.SearchStrategy[Any]:
    rid, wid = st.just(RG.entity_id), st.just(WG.entity_id)
    sets = st.builds(lambda b, off: wire.SequenceNumberSet(b, tuple(sorted({b + o for o in off}))),
                     st.integers(1, 2**40) | st.integers(1, 12),
                     st.lists(st.integers(0, 255), max_size=20))
    fsets = st.builds(lambda b, off: wire.FragmentNumberSet(b, tuple(sorted({b + o for o in off}))),
                      st.integers(1, 2**31), st.lists(st.integers(0, 255), max_size=20))
    return st.one_of(
        st.builds(wire.AckNack, rid, wid, sets, st.integers(-3, 2**31), st.booleans()),
        st.builds(wire.NackFrag, rid, wid, _seq, fsets, st.integers(-3, 2**31)),
    )


@settings(max_examples=100, deadline=None)
@given(st.lists(_hostile_to_writer(), max_size=25))
def test_writer_survives_nonsense_acknacks(msgs: list[Any]) -> None:
    w = StatefulWriter(WG, WriterConfig(history=HistoryQos("keep_last", depth=4),
                                        fragment_size=100))
    w.add_reader(RG, [LOC])
    for i in range(10):
        w.write(bytes(250) if i % 3 == 0 else b"x", K if i % 2 else None)
    now = 0.0
    for m in msgs:
        now += 0.01
        handler = w.handle_acknack if type(m) is wire.AckNack else w.handle_nackfrag
        for sub in subs(handler(RP, m, now) + w.handle_timer(now)):
            if isinstance(sub, (wire.Data, wire.DataFrag)):
                assert 1 <= sub.writer_sn <= 10
    proxy = w.readers[RG]
    assert proxy.acked <= 10 and not proxy.requested and not proxy.requested_frags


def test_second_heartbeat_right_after_a_nack_does_not_repeat_it() -> None:
    r = StatefulReader(RG, ReaderConfig(nack_repeat_interval=0.01, nack_retry_period=0.5))
    r.add_writer(WG, [LOC])
    first = subs(r.handle_heartbeat(WP, heartbeat(1, 3, 1), 1.0), wire.AckNack)[0]
    assert first.reader_sn_state.members() == (1, 2, 3)
    assert r.handle_heartbeat(WP, heartbeat(1, 3, 2), 1.005) == []  # deferred, not dropped
    assert r.counters["nack_repeat_deferred"] == 1
    assert r.next_timer() == 1.01
    again = subs(r.handle_timer(1.01), wire.AckNack)[0]
    assert again.reader_sn_state.members() == (1, 2, 3) and again.count > first.count


def test_nack_is_retried_without_a_new_heartbeat() -> None:
    r = StatefulReader(RG, ReaderConfig(nack_retry_period=0.2))
    r.add_writer(WG, [LOC])
    r.handle_heartbeat(WP, heartbeat(1, 2, 1, final=True), 1.0)
    assert r.next_timer() == 1.2
    retry = subs(r.handle_timer(1.2), wire.AckNack)[0]
    assert retry.reader_sn_state.members() == (1, 2)
    r.handle_data(WP, data(1), 1.3)
    r.handle_data(WP, data(2), 1.3)
    done = subs(r.handle_timer(1.4), wire.AckNack)[0]  # nothing missing: a final ack, no more
    assert done.reader_sn_state == wire.SequenceNumberSet(3, ()) and done.final
    assert r.next_timer() is None


class _StrongestWriterWins:
    """A toy exclusive-ownership filter: the strongest writer seen for an instance owns it."""

    def __init__(self, strength: dict[Any, int]) -> None:
        self.strength = strength

    def accept(self, writer_guid: Any, instance: Any, now: float) -> bool:
        owner = instance.owner
        if owner is None or self.strength[writer_guid] >= self.strength[owner]:
            instance.owner = writer_guid
            return True
        return False

    def writer_removed(self, writer_guid: Any, now: float) -> None:
        return None


def test_delivery_filter_hook_sees_every_sample_and_can_drop() -> None:
    wg2 = wire.Guid(bytes(range(41, 53)), WG.entity_id)
    filt = _StrongestWriterWins({WG: 10, wg2: 20})
    r = StatefulReader(RG, ReaderConfig(history=HistoryQos("keep_all")), delivery_filter=filt)
    r.add_writer(WG, [LOC])
    r.add_writer(wg2, [LOC])
    qos = wire.InlineQos(key_hash=K)
    assert payloads(r.handle_data(WP, data(1, b"weak1", qos), 0.0)) == [b"weak1"]
    strong = wire.Data(RG.entity_id, WG.entity_id, 1, qos, b"strong1")
    assert payloads(r.handle_data(wg2.prefix, strong, 0.0)) == [b"strong1"]
    assert payloads(r.handle_data(WP, data(2, b"weak2", qos), 0.0)) == []
    assert r.counters["filtered"] == 1
    assert r.instances.get(K).owner == wg2  # type: ignore[union-attr]
    # a writer that does not own the instance cannot dispose it
    dispose = wire.Data(RG.entity_id, WG.entity_id, 3,
                        wire.InlineQos(key_hash=K, status_info=0x1), None)
    assert r.handle_data(WP, dispose, 0.0) == []
    assert r.instances.get(K).state == InstanceState.ALIVE  # type: ignore[union-attr]
    # unregistering the owner releases the instance; the weaker writer takes over
    unreg = wire.Data(RG.entity_id, WG.entity_id, 2,
                      wire.InlineQos(key_hash=K, status_info=0x2), None)
    r.handle_data(wg2.prefix, unreg, 0.0)
    assert payloads(r.handle_data(WP, data(4, b"weak4", qos), 0.0)) == [b"weak4"]


def test_peer_counting_from_zero_is_accepted() -> None:
    w = StatefulWriter(WG, WriterConfig(history=HistoryQos("keep_all")))
    w.add_reader(RG, [LOC])
    w.write(b"a")
    assert subs(w.handle_acknack(RP, acknack(1, (1,), count=0), 0.0), wire.Data)
    r = StatefulReader(RG)
    r.add_writer(WG, [LOC])
    assert subs(r.handle_heartbeat(WP, heartbeat(1, 1, 0), 0.0), wire.AckNack)


def test_transient_local_keep_all_full_frees_what_all_acknowledged() -> None:
    w = StatefulWriter(WG, WriterConfig(durability="transient_local",
                                        history=HistoryQos("keep_all", max_samples=3)))
    w.add_reader(RG, [LOC], durability="transient_local")
    for i in range(3):
        w.write(b"%d" % i)
    assert isinstance(w.write(b"3"), WouldBlock)
    w.handle_acknack(RP, acknack(3, count=1), 0.0)  # 1 and 2 acknowledged
    assert [c.seq for c in w.history] == [1, 2, 3]  # transient local keeps them...
    assert written(w.write(b"3")).seq == 4  # ...until room is needed
    assert [c.seq for c in w.history] == [3, 4]


def test_key_only_dispose_without_key_hash_uses_the_key_hook() -> None:
    r = StatefulReader(RG, ReaderConfig(history=HistoryQos("keep_all")),
                       key_hash_of=lambda sample: bytes(sample[:1]) * 16,
                       key_hash_of_key=lambda key: bytes(key[-1:]) * 16)
    r.add_writer(WG, [LOC])
    r.handle_data(WP, data(1, b"a-sample"), 0.0)
    dispose = wire.Data(RG.entity_id, WG.entity_id, 2,
                        wire.InlineQos(status_info=STATUS_DISPOSED), b"key:a", key_only=True)
    out = r.handle_data(WP, dispose, 0.0)
    [sample] = [a.sample for a in out if isinstance(a, Deliver)]
    assert sample.key_hash == b"a" * 16 and not sample.info.valid_data
    assert r.instances.get(b"a" * 16).state == InstanceState.NOT_ALIVE_DISPOSED  # type: ignore


def test_removing_the_slow_reader_completes_acknowledgement() -> None:
    w = StatefulWriter(WG, WriterConfig(history=HistoryQos("keep_all", max_samples=2)))
    w.add_reader(RG, [LOC])
    w.add_reader(RG2, [LOC])
    w.write(b"1")
    w.write(b"2")
    w.handle_acknack(RP, acknack(3, count=1), 0.0)  # RG has both, RG2 nothing
    assert not w.is_acked_by_all(1) and isinstance(w.write(b"3"), WouldBlock)
    assert w.remove_reader(RG2) == [Acknowledged(WG, 2)]
    assert len(w.history) == 0 and written(w.write(b"3")).seq == 3


def test_read_then_take_report_sample_view_and_instance_states() -> None:
    r = StatefulReader(RG, ReaderConfig(history=HistoryQos("keep_all")))
    r.add_writer(WG, [LOC])
    qos = wire.InlineQos(key_hash=K)
    r.handle_data(WP, data(1, b"a", qos), 0.0)
    r.handle_data(WP, data(2, b"b", qos), 0.0)
    first = r.read()
    assert [s.info.sample_state for s in first] == [SampleState.NOT_READ] * 2
    assert [s.info.view_state for s in first] == [ViewState.NEW] * 2
    again = r.read(1)
    assert again[0].info.sample_state == SampleState.READ
    assert again[0].info.view_state == ViewState.NOT_NEW
    r.handle_data(WP, data(3, None, wire.InlineQos(key_hash=K, status_info=STATUS_DISPOSED)),
                  0.0)
    taken, _ = r.take()
    assert [s.info.sample_state for s in taken] == [SampleState.READ, SampleState.READ,
                                                   SampleState.NOT_READ]
    # the instance is disposed now: every taken sample says so
    assert {s.info.instance_state for s in taken} == {InstanceState.NOT_ALIVE_DISPOSED}
    assert len(r.history) == 0
    assert r.instances.get(K) is not None  # kept: its writer still has it registered
