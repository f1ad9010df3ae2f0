"""Build -> parse gives back the same submessages (hypothesis), across datagram splits."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rtbus.rtps import wire

eids = st.binary(min_size=4, max_size=4).map(wire.EntityId)
prefixes = st.binary(min_size=12, max_size=12).map(wire.GuidPrefix)
seqs = st.integers(1, (1 << 63) - 1)
u32 = st.integers(0, 0xFFFFFFFF)
aligned_payloads = st.binary(min_size=4, max_size=300).map(lambda b: b + bytes((-len(b)) & 3))


@st.composite
def seq_sets(draw: st.DrawFn) -> wire.SequenceNumberSet:
    base = draw(st.integers(1, (1 << 63) - 300))
    offs = draw(st.sets(st.integers(0, 255), max_size=20))
    return wire.SequenceNumberSet(base, tuple(sorted(base + o for o in offs)))


@st.composite
def frag_sets(draw: st.DrawFn) -> wire.FragmentNumberSet:
    base = draw(st.integers(1, 0xFFFFFFFF - 256))
    offs = draw(st.sets(st.integers(0, 255), max_size=20))
    return wire.FragmentNumberSet(base, tuple(sorted(base + o for o in offs)))


params = st.lists(st.tuples(st.integers(0x0002, 0x3FFF).filter(lambda p: p not in (0x70, 0x71)),
                            st.binary(max_size=12).map(lambda b: b + bytes((-len(b)) & 3))),
                  max_size=3).map(tuple)
inline_qos = st.none() | st.builds(wire.InlineQos, st.none() | st.binary(min_size=16,
                                                                          max_size=16),
                                   st.none() | u32, params)


@st.composite
def data_frags(draw: st.DrawFn) -> wire.DataFrag:
    fsize = draw(st.integers(4, 200))
    count = draw(st.integers(1, 4))
    start = draw(st.integers(1, 1000))
    before = (start - 1) * fsize
    ssize = draw(st.integers(before + (count - 1) * fsize + 4, before + count * fsize + 500))
    n = min(count * fsize, ssize - before)
    return wire.DataFrag(draw(eids), draw(eids), draw(seqs), start, count, fsize, ssize,
                         draw(inline_qos), draw(st.binary(min_size=n, max_size=n)),
                         draw(st.booleans()), draw(st.booleans()), draw(st.integers(0, 0xFFFF)))


@st.composite
def heartbeats(draw: st.DrawFn) -> wire.Heartbeat:
    first = draw(st.integers(1, 1 << 40))
    last = draw(st.integers(first - 1, first + (1 << 20)))
    group = draw(st.none() | st.builds(wire.HeartbeatGroupInfo, seqs, seqs, seqs,
                                       st.binary(min_size=4, max_size=4),
                                       st.binary(min_size=4, max_size=4)))
    return wire.Heartbeat(draw(eids), draw(eids), first, last, draw(u32), draw(st.booleans()),
                          draw(st.booleans()), group)


locators = st.builds(wire.Locator, st.integers(-(1 << 31), (1 << 31) - 1), u32,
                     st.binary(min_size=16, max_size=16))

submessages = st.one_of(
    st.builds(wire.Data, eids, eids, seqs, inline_qos, st.none() | aligned_payloads,
              st.booleans(), st.booleans(), st.integers(0, 0xFFFF)),
    data_frags(),
    heartbeats(),
    st.builds(wire.HeartbeatFrag, eids, eids, seqs, st.integers(1, 0xFFFFFFFF), u32),
    st.builds(wire.AckNack, eids, eids, seq_sets(), u32, st.booleans()),
    st.builds(wire.NackFrag, eids, eids, seqs, frag_sets(), u32),
    st.builds(wire.Gap, eids, eids, seqs, seq_sets(), st.none() | st.tuples(seqs, seqs),
              st.none() | u32),
    st.builds(wire.InfoSrc, st.tuples(st.integers(0, 255), st.integers(0, 255)),
              st.integers(0, 0xFFFF), prefixes),
    st.builds(wire.InfoReply, st.lists(locators, max_size=3).map(tuple),
              st.none() | st.lists(locators, max_size=2).map(tuple)),
    st.builds(wire.Pad, st.integers(0, 16).map(lambda n: n * 4)),
)


def _normalized(sub: object) -> object:
    # a Data without a payload cannot say it is key-only (no K flag without a payload)
    if isinstance(sub, wire.Data) and sub.serialized_payload is None and sub.key_only:
        return wire.Data(sub.reader_id, sub.writer_id, sub.writer_sn, sub.inline_qos, None,
                         False, sub.non_standard_payload, sub.extra_flags)
    return sub


@settings(max_examples=300, deadline=None)
@given(submessages)
def test_single_submessage_round_trip(sub: wire.Submessage) -> None:
    b = wire.MessageBuilder(bytes(12))
    b.add(sub)
    msg = wire.parse_message(b.build())
    assert msg.dropped == []
    assert msg.submessages == [_normalized(sub)]


@settings(max_examples=150, deadline=None)
@given(prefixes, st.lists(st.tuples(st.none() | prefixes,
                                    st.none() | st.integers(0, (2**31 - 1) * 10**9),
                                    submessages.filter(lambda s: not isinstance(
                                        s, wire.InfoSrc | wire.InfoReply | wire.Pad))),
                          min_size=1, max_size=12),
       st.integers(200, 3000))
def test_message_round_trip_with_context_and_splits(
        prefix: wire.GuidPrefix,
        items: list[tuple[wire.GuidPrefix | None, int | None, wire.Submessage]],
        max_size: int) -> None:
    """Each submessage arrives once, in order, with the destination and timestamp it was given."""
    b = wire.MessageBuilder(prefix, max_size=max_size)
    expected = []
    dst = wire.GUIDPREFIX_UNKNOWN
    ts = None
    for d, t, sub in items:
        if d is not None:
            dst = d
            b.add(wire.InfoDst(d))
        if t is not None:
            ts = t
            b.add(wire.InfoTs(t))
        b.add(sub)
        expected.append((_normalized(sub), dst, ts))
    got = []
    for dgram in b.datagrams():
        msg = wire.parse_message(dgram)
        assert msg.dropped == []
        assert msg.guid_prefix == prefix
        got.extend((r.submessage, r.dst_prefix, r.timestamp) for r in msg.received)
    assert got == expected
