"""Submessages parsed from byte vectors written from the RTPS 2.5 layouts (9.4.5), both byte
orders; receiver context (8.3.4); framing rules; the builder."""

from __future__ import annotations

import struct

import pytest

from rtbus.rtps import wire
from rtbus.rtps.wire import constants as C

PREFIX = bytes(range(1, 13))
OTHER = bytes(range(100, 112))
RID = b"\x00\x00\x01\x07"
WID = b"\x00\x00\x01\x02"
HEADER = b"RTPS\x02\x05\x01\x10" + PREFIX
ORDERS = pytest.mark.parametrize("e", ["<", ">"], ids=["le", "be"])


def sub(e: str, smid: int, flags: int, body: bytes, length: int | None = None) -> bytes:
    flags |= 1 if e == "<" else 0
    return struct.pack(e + "BBH", smid, flags, len(body) if length is None else length) + body


def sn(e: str, n: int) -> bytes:
    return struct.pack(e + "iI", n >> 32, n & 0xFFFFFFFF)


def parse_one(datagram: bytes) -> object:
    msg = wire.parse_message(datagram)
    assert msg.dropped == []
    assert len(msg.submessages) == 1
    return msg.submessages[0]


def test_header_fields() -> None:
    msg = wire.parse_message(HEADER)
    assert msg.protocol_version == (2, 5)
    assert msg.vendor_id == C.VENDORID_CYCLONEDDS
    assert msg.guid_prefix == PREFIX and msg.submessages == [] and msg.dropped == []


@ORDERS
def test_data_with_inline_qos_and_payload(e: str) -> None:
    qos = struct.pack(e + "HH", C.PID_KEY_HASH, 16) + b"K" * 16 + \
        struct.pack(e + "HH", C.PID_STATUS_INFO, 4) + b"\x00\x00\x00\x01" + \
        struct.pack(e + "HH", 0x8001, 4) + b"vend" + struct.pack(e + "HH", C.PID_SENTINEL, 0)
    payload = b"\x00\x01\x00\x00" + b"abcdefgh"
    body = struct.pack(e + "HH", 0, 16) + RID + WID + sn(e, (1 << 32) + 5) + qos + payload
    d = parse_one(HEADER + sub(e, C.SMID_DATA, C.DATA_FLAG_Q | C.DATA_FLAG_D, body))
    assert isinstance(d, wire.Data)
    assert d.reader_id == RID and d.writer_id == WID and d.writer_sn == (1 << 32) + 5
    assert d.inline_qos == wire.InlineQos(b"K" * 16, 1, ((0x8001, b"vend"),))
    assert bytes(d.serialized_payload) == payload and not d.key_only
    assert isinstance(d.serialized_payload, memoryview)  # zero copy


@ORDERS
def test_data_key_only_and_octets_to_inline_qos_skips_unknown_fields(e: str) -> None:
    # octetsToInlineQos = 20: a future 4-byte field sits between writerSN and the payload
    body = struct.pack(e + "HH", 0x1234, 20) + RID + WID + sn(e, 9) + b"XXXX" + b"\0\1\0\0kkkk"
    d = parse_one(HEADER + sub(e, C.SMID_DATA, C.DATA_FLAG_K, body))
    assert isinstance(d, wire.Data)
    assert d.key_only and d.inline_qos is None and d.extra_flags == 0x1234
    assert bytes(d.serialized_payload) == b"\0\1\0\0kkkk"


@ORDERS
def test_data_without_payload_flags_has_no_payload(e: str) -> None:
    body = struct.pack(e + "HH", 0, 16) + RID + WID + sn(e, 1)
    d = parse_one(HEADER + sub(e, C.SMID_DATA, 0, body))
    assert isinstance(d, wire.Data) and d.serialized_payload is None


@ORDERS
def test_data_with_sequence_number_unknown_is_accepted(e: str) -> None:
    """writerSN UNKNOWN ({-1, 0}) passes, as in Cyclone (stateless writers use it)."""
    body = struct.pack(e + "HH", 0, 16) + RID + WID + sn(e, wire.SEQUENCE_NUMBER_UNKNOWN)
    d = parse_one(HEADER + sub(e, C.SMID_DATA, 0, body))
    assert isinstance(d, wire.Data) and d.writer_sn == wire.SEQUENCE_NUMBER_UNKNOWN


@ORDERS
def test_data_without_flags_ignores_octets_to_inline_qos(e: str) -> None:
    body = struct.pack(e + "HH", 0, 0) + RID + WID + sn(e, 4)
    d = parse_one(HEADER + sub(e, C.SMID_DATA, 0, body))
    assert isinstance(d, wire.Data) and d.writer_sn == 4 and d.serialized_payload is None


@ORDERS
def test_data_frag(e: str) -> None:
    frag = bytes(range(100))
    body = struct.pack(e + "HH", 0, 28) + RID + WID + sn(e, 3) + \
        struct.pack(e + "IHHI", 3, 2, 50, 250) + frag + b"\0\0\0\0"
    d = parse_one(HEADER + sub(e, C.SMID_DATA_FRAG, 0, body))
    assert isinstance(d, wire.DataFrag)
    assert (d.writer_sn, d.fragment_starting_num, d.fragments_in_submessage, d.fragment_size,
            d.sample_size) == (3, 3, 2, 50, 250)
    assert bytes(d.serialized_payload) == frag  # trailing padding cut off


@ORDERS
def test_data_frag_last_fragment_is_cut_to_the_sample_size(e: str) -> None:
    body = struct.pack(e + "HH", 0, 28) + RID + WID + sn(e, 3) + \
        struct.pack(e + "IHHI", 5, 1, 50, 203) + b"z" * 3 + b"\0"
    d = parse_one(HEADER + sub(e, C.SMID_DATA_FRAG, C.DATAFRAG_FLAG_K, body))
    assert isinstance(d, wire.DataFrag) and bytes(d.serialized_payload) == b"zzz" and d.key_only


@ORDERS
def test_heartbeat_flags_and_count(e: str) -> None:
    body = RID + WID + sn(e, 1) + sn(e, 10) + struct.pack(e + "I", 77)
    h = parse_one(HEADER + sub(e, C.SMID_HEARTBEAT, C.HEARTBEAT_FLAG_F | C.HEARTBEAT_FLAG_L,
                               body))
    assert h == wire.Heartbeat(wire.EntityId(RID), wire.EntityId(WID), 1, 10, 77, final=True,
                               liveliness=True)


@ORDERS
def test_heartbeat_group_info(e: str) -> None:
    body = RID + WID + sn(e, 1) + sn(e, 0) + struct.pack(e + "I", 1) + sn(e, 40) + sn(e, 30) + \
        sn(e, 35) + b"\1\2\3\4" + b"\5\6\7\x08"
    h = parse_one(HEADER + sub(e, C.SMID_HEARTBEAT, C.HEARTBEAT_FLAG_G, body))
    assert isinstance(h, wire.Heartbeat) and h.last_sn == 0
    assert h.group_info == wire.HeartbeatGroupInfo(40, 30, 35, b"\1\2\3\4", b"\5\6\7\x08")


@ORDERS
def test_acknack_bitmap(e: str) -> None:
    # base 100, 40 bits: 100, 131 (word 0 bits 0 and 31), 135 (word 1 bit 3)
    body = RID + WID + sn(e, 100) + struct.pack(e + "III", 40, 0x80000001, 0x10000000) + \
        struct.pack(e + "I", 4)
    a = parse_one(HEADER + sub(e, C.SMID_ACKNACK, C.ACKNACK_FLAG_F, body))
    assert isinstance(a, wire.AckNack) and a.final and a.count == 4
    assert a.reader_sn_state.base == 100 and a.reader_sn_state.members() == (100, 131, 135)
    assert a.reader_sn_state.num_bits == 40


@ORDERS
def test_acknack_empty_set(e: str) -> None:
    body = RID + WID + sn(e, 1) + struct.pack(e + "I", 0) + struct.pack(e + "I", 1)
    a = parse_one(HEADER + sub(e, C.SMID_ACKNACK, 0, body))
    assert isinstance(a, wire.AckNack) and a.reader_sn_state == wire.SequenceNumberSet(1, ())
    assert not a.final


@ORDERS
def test_preemptive_acknack_with_base_zero_is_read_as_base_one(e: str) -> None:
    """Fast DDS and Connext send base 0 / numBits 0 (invalid per 8.3.5.5); Cyclone accepts it."""
    body = RID + WID + sn(e, 0) + struct.pack(e + "I", 0) + struct.pack(e + "I", 1)
    a = parse_one(HEADER + sub(e, C.SMID_ACKNACK, 0, body))
    assert isinstance(a, wire.AckNack) and a.reader_sn_state == wire.SequenceNumberSet(1, ())
    assert a.count == 1


@ORDERS
def test_nack_frag(e: str) -> None:
    body = RID + WID + sn(e, 8) + struct.pack(e + "III", 3, 3, 0xA0000000) + \
        struct.pack(e + "I", 2)
    n = parse_one(HEADER + sub(e, C.SMID_NACK_FRAG, 0, body))
    assert isinstance(n, wire.NackFrag) and n.writer_sn == 8 and n.count == 2
    assert n.fragment_number_state.members() == (3, 5)


@ORDERS
def test_heartbeat_frag(e: str) -> None:
    body = RID + WID + sn(e, 8) + struct.pack(e + "II", 12, 3)
    h = parse_one(HEADER + sub(e, C.SMID_HEARTBEAT_FRAG, 0, body))
    assert h == wire.HeartbeatFrag(wire.EntityId(RID), wire.EntityId(WID), 8, 12, 3)


@ORDERS
def test_gap_plain_and_with_group_info_and_filtered_count(e: str) -> None:
    body = RID + WID + sn(e, 5) + sn(e, 9) + struct.pack(e + "II", 2, 0x40000000)
    g = parse_one(HEADER + sub(e, C.SMID_GAP, 0, body))
    assert isinstance(g, wire.Gap) and g.gap_start == 5
    assert g.gap_list.base == 9 and g.gap_list.members() == (10,)
    assert g.group_info is None and g.filtered_count is None
    body2 = body + sn(e, 50) + sn(e, 54) + struct.pack(e + "I", 3)
    g2 = parse_one(HEADER + sub(e, C.SMID_GAP, C.GAP_FLAG_G | C.GAP_FLAG_F, body2))
    assert isinstance(g2, wire.Gap) and g2.group_info == (50, 54) and g2.filtered_count == 3


@ORDERS
def test_info_submessages(e: str) -> None:
    ts = parse_one(HEADER + sub(e, C.SMID_INFO_TS, 0, struct.pack(e + "iI", 10, 1 << 31)))
    assert ts == wire.InfoTs(10_500_000_000)
    assert parse_one(HEADER + sub(e, C.SMID_INFO_TS, C.INFO_TS_FLAG_I, b"")) == wire.InfoTs(None)
    assert parse_one(HEADER + sub(e, C.SMID_INFO_DST, 0, OTHER)) == wire.InfoDst(OTHER)
    src = parse_one(HEADER + sub(e, C.SMID_INFO_SRC, 0, bytes(4) + b"\2\4\1\1" + OTHER))
    assert src == wire.InfoSrc((2, 4), 0x0101, wire.GuidPrefix(OTHER))
    loc = struct.pack(e + "iI", 1, 7411) + bytes(12) + bytes([10, 0, 0, 1])
    rep = parse_one(HEADER + sub(e, C.SMID_INFO_REPLY, C.INFO_REPLY_FLAG_M,
                                 struct.pack(e + "I", 1) + loc + struct.pack(e + "I", 0)))
    assert rep == wire.InfoReply((wire.Locator.udpv4("10.0.0.1", 7411),), ())
    rep4 = parse_one(HEADER + sub(e, C.SMID_INFO_REPLY_IP4, 0,
                                  bytes([10, 0, 0, 2]) + struct.pack(e + "I", 7412)))
    assert rep4 == wire.InfoReply((wire.Locator.udpv4("10.0.0.2", 7412),), None)
    assert parse_one(HEADER + sub(e, C.SMID_PAD, 0, bytes(8))) == wire.Pad(8)


def _hb(e: str, count: int) -> bytes:
    return sub(e, C.SMID_HEARTBEAT, 0, RID + WID + sn(e, 1) + sn(e, 1) +
               struct.pack(e + "I", count))


def test_receiver_context_is_applied_per_rtps_8_3_4() -> None:
    e = "<"
    dgram = HEADER + _hb(e, 1) \
        + sub(e, C.SMID_INFO_TS, 0, struct.pack(e + "iI", 5, 0)) + _hb(e, 2) \
        + sub(e, C.SMID_INFO_DST, 0, OTHER) + _hb(e, 3) \
        + sub(e, C.SMID_INFO_TS, C.INFO_TS_FLAG_I, b"") + _hb(e, 4) \
        + sub(e, C.SMID_INFO_TS, 0, struct.pack(e + "iI", 6, 0)) \
        + sub(e, C.SMID_INFO_SRC, 0, bytes(4) + b"\2\3\1\2" + OTHER) + _hb(e, 5) \
        + sub(e, C.SMID_INFO_DST, 0, bytes(12)) + _hb(e, 6)
    msg = wire.parse_message(dgram)
    assert msg.dropped == []
    got = [(r.submessage.count, r.src_prefix, r.dst_prefix, r.timestamp)  # type: ignore
           for r in msg.received]
    unknown = wire.GUIDPREFIX_UNKNOWN
    assert got == [
        (1, PREFIX, unknown, None),
        (2, PREFIX, unknown, 5_000_000_000),
        (3, PREFIX, OTHER, 5_000_000_000),
        (4, PREFIX, OTHER, None),  # I flag invalidates
        (5, OTHER, unknown, None),  # INFO_SRC resets destination and timestamp
        (6, OTHER, unknown, None),
    ]
    assert msg.received[4].src_vendor_id == 0x0102 and msg.received[4].src_version == (2, 3)
    assert msg.received[0].src_vendor_id == C.VENDORID_CYCLONEDDS


def test_info_reply_sets_reply_locators_until_info_src() -> None:
    e = "<"
    uni = struct.pack(e + "iI", 1, 7411) + bytes(12) + bytes([10, 0, 0, 1])
    multi = struct.pack(e + "iI", 1, 7400) + bytes(12) + bytes([239, 255, 0, 1])
    dgram = HEADER + _hb(e, 1) \
        + sub(e, C.SMID_INFO_REPLY, C.INFO_REPLY_FLAG_M, struct.pack(e + "I", 1) + uni
              + struct.pack(e + "I", 1) + multi) + _hb(e, 2) \
        + sub(e, C.SMID_INFO_SRC, 0, bytes(4) + b"\2\5\1\x10" + OTHER) + _hb(e, 3)
    got = [(r.reply_unicast, r.reply_multicast) for r in wire.parse_message(dgram).received]
    assert got == [((), ()),
                   ((wire.Locator.udpv4("10.0.0.1", 7411),),
                    (wire.Locator.udpv4("239.255.0.1", 7400),)),
                   ((), ())]


def test_mixed_endianness_in_one_message() -> None:
    msg = wire.parse_message(HEADER + _hb("<", 1) + _hb(">", 2) + _hb("<", 3))
    assert [s.count for s in msg.submessages] == [1, 2, 3]  # type: ignore[union-attr]


def test_zero_length_means_to_the_end_except_pad_and_info_ts() -> None:
    e = "<"
    body = struct.pack(e + "HH", 0, 16) + RID + WID + sn(e, 1) + b"\0\1\0\0tail"
    dgram = HEADER + sub(e, C.SMID_PAD, 0, b"", 0) + \
        sub(e, C.SMID_INFO_TS, C.INFO_TS_FLAG_I, b"", 0) + \
        sub(e, C.SMID_DATA, C.DATA_FLAG_D, body, 0)
    msg = wire.parse_message(dgram)
    assert msg.dropped == []
    assert [type(s) for s in msg.submessages] == [wire.Pad, wire.InfoTs, wire.Data]
    assert bytes(msg.submessages[2].serialized_payload) == b"\0\1\0\0tail"  # type: ignore


def test_unknown_and_vendor_submessages_are_skipped_by_length() -> None:
    e = "<"
    dgram = HEADER + sub(e, 0x80, 0x40, b"vendor!!") + sub(e, 0x31, 0, b"secp") + \
        sub(e, 0x7F, 0, bytes(4)) + _hb(e, 9)
    msg = wire.parse_message(dgram)
    assert msg.dropped == []
    assert msg.submessages[0] == wire.RawSubmessage(0x80, 0x41, b"vendor!!")
    assert msg.submessages[1] == wire.RawSubmessage(0x31, 0x01, b"secp")
    assert [r.submessage.count for r in msg.received  # type: ignore[union-attr]
            if isinstance(r.submessage, wire.Heartbeat)] == [9]


def test_one_bad_submessage_does_not_kill_the_others() -> None:
    e = "<"
    bad_hb = sub(e, C.SMID_HEARTBEAT, 0, RID + WID + sn(e, 0) + sn(e, 1) + struct.pack("<I", 1))
    msg = wire.parse_message(HEADER + _hb(e, 1) + bad_hb + _hb(e, 3))
    assert msg.dropped == ["bad_seqnum"]
    assert [s.count for s in msg.submessages] == [1, 3]  # type: ignore[union-attr]


# -- builder -----------------------------------------------------------------------------------

def _data(n: int, size: int = 100) -> wire.Data:
    return wire.Data(wire.EntityId(RID), wire.EntityId(WID), n, None, bytes([n & 0xFF]) * size)


def test_builder_header_and_little_endian() -> None:
    b = wire.MessageBuilder(PREFIX)
    b.add(_data(1, 8))
    dgram = b.build()
    assert dgram[:20] == b"RTPS\x02\x05" + C.VENDORID_RTBUS.to_bytes(2, "big") + PREFIX
    assert dgram[20] == C.SMID_DATA and dgram[21] & C.FLAG_E
    assert len(dgram) % 4 == 0


def test_builder_emits_info_only_when_it_changes() -> None:
    b = wire.MessageBuilder(PREFIX)
    b.add(wire.InfoDst(wire.GuidPrefix(OTHER)))
    for i in range(1, 4):
        b.add(wire.InfoTs(1_000))
        b.add(_data(i, 4))
    b.add(wire.InfoTs(2_000))
    b.add(_data(4, 4))
    msg = wire.parse_message(b.build())
    names = [type(s).__name__ for s in msg.submessages]
    assert names == ["InfoDst", "InfoTs", "Data", "Data", "Data", "InfoTs", "Data"]
    assert [r.timestamp for r in msg.received] == [1_000, 1_000, 1_000, 2_000]
    assert {r.dst_prefix for r in msg.received} == {OTHER}


def test_builder_splits_at_max_size_and_repeats_the_context() -> None:
    b = wire.MessageBuilder(PREFIX, max_size=1000)
    b.add(wire.InfoDst(wire.GuidPrefix(OTHER)))
    b.add(wire.InfoTs(123))
    for i in range(1, 31):
        b.add(_data(i, 100))
    dgrams = b.datagrams()
    assert len(dgrams) > 3 and all(len(d) <= 1000 for d in dgrams)
    seen = []
    for d in dgrams:
        msg = wire.parse_message(d)
        assert isinstance(msg.submessages[0], wire.InfoDst)
        for r in msg.received:
            assert r.dst_prefix == OTHER and r.timestamp == 123
            seen.append(r.submessage.writer_sn)  # type: ignore[union-attr]
    assert seen == list(range(1, 31))
    with pytest.raises(ValueError):
        b2 = wire.MessageBuilder(PREFIX, max_size=300)
        for i in range(1, 5):
            b2.add(_data(i, 100))
        b2.build()


def test_builder_puts_an_oversized_submessage_alone() -> None:
    b = wire.MessageBuilder(PREFIX, max_size=200)
    b.add(_data(1, 500))
    b.add(_data(2, 10))
    dgrams = b.datagrams()
    assert len(dgrams) == 2 and len(dgrams[0]) > 500


def test_submessage_size_matches_encoding() -> None:
    subs = [_data(1, 5), _data(2, 0), wire.Data(wire.EntityId(RID), wire.EntityId(WID), 3,
                                                wire.InlineQos(b"k" * 16, 2), b"x" * 7),
            wire.DataFrag(wire.EntityId(RID), wire.EntityId(WID), 1, 1, 1, 9, 20, None,
                          b"y" * 9),
            wire.Heartbeat(wire.EntityId(RID), wire.EntityId(WID), 1, 2, 3),
            wire.InfoTs(None), wire.InfoTs(5)]
    for s in subs:
        assert wire.submessage_size(s) == len(wire.encode_submessage(s))


def test_builder_rejects_bad_values() -> None:
    with pytest.raises(ValueError):
        wire.encode_submessage(wire.AckNack(wire.EntityId(RID), wire.EntityId(WID),
                                            wire.SequenceNumberSet(1, (300,)), 1))
    with pytest.raises(ValueError):
        wire.encode_submessage(_data(0))
    with pytest.raises(ValueError):
        wire.MessageBuilder(b"short")
    with pytest.raises(ValueError):  # fragmentSize is 16 bits on the wire
        wire.encode_submessage(wire.DataFrag(wire.EntityId(RID), wire.EntityId(WID), 1, 1, 1,
                                             70000, 80000, None, b""))
    with pytest.raises(ValueError):  # count is 32 bits
        wire.encode_submessage(wire.Heartbeat(wire.EntityId(RID), wire.EntityId(WID), 1, 1,
                                              1 << 32))
