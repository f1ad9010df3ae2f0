"""Hostile input: crafted malformed datagrams and ~20k random mutations of valid ones.

The parser may only raise MalformedError (bad header) or report drops; it never allocates in
proportion to a size a peer claims, and its output is bounded by the datagram's size.
"""

from __future__ import annotations

import json
import random
import struct
import tracemalloc
from pathlib import Path

import pytest

from rtbus.errors import MalformedError
from rtbus.rtps import wire
from rtbus.rtps.wire import constants as C

PREFIX = bytes(range(1, 13))
HEADER = b"RTPS\x02\x05\x01\xf7" + PREFIX
RID = b"\x00\x00\x01\x07"
WID = b"\x00\x00\x01\x02"
CAPTURES = Path(__file__).parent.parent / "data" / "captures"


def sm(smid: int, flags: int, body: bytes, length: int | None = None, e: str = "<") -> bytes:
    flags |= 1 if e == "<" else 0
    return struct.pack(e + "BBH", smid, flags, len(body) if length is None else length) + body


def sn(n: int, e: str = "<") -> bytes:
    return struct.pack(e + "iI", n >> 32, n & 0xFFFFFFFF)


def data_body(seq: int = 1, to_qos: int = 16, rest: bytes = b"\0\1\0\0") -> bytes:
    return struct.pack("<HH", 0, to_qos) + RID + WID + sn(seq) + rest


def frag_body(start: int, count: int, fsize: int, ssize: int, payload: bytes,
              to_qos: int = 28) -> bytes:
    return struct.pack("<HH", 0, to_qos) + RID + WID + sn(1) + \
        struct.pack("<IHHI", start, count, fsize, ssize) + payload


def hb_body(first: int, last: int) -> bytes:
    return RID + WID + sn(first) + sn(last) + struct.pack("<I", 1)


def set_body(base: int, num_bits: int, words: int) -> bytes:
    return sn(base) + struct.pack("<I", num_bits) + bytes(4 * words)


GOOD_HB = sm(C.SMID_HEARTBEAT, 0, hb_body(1, 1))

# (datagram, expected MalformedError reason or None, expected drop reasons)
CRAFTED: list[tuple[str, bytes, str | None, list[str]]] = [
    ("empty", b"", "short_header", []),
    ("short_header", HEADER[:19], "short_header", []),
    # RTI Connext's reachability ping, as captured from rticonnextdds-connector 1.2.4
    ("rti_ping", bytes.fromhex("52545053020101014e44445350494e47"), None, ["rtps_ping"]),
    ("rti_ping_other_mark", b"RTPS\x02\x01\x01\x01NDDSPONG", "short_header", []),
    ("rti_ping_bad_magic", b"RTPX\x02\x01\x01\x01NDDSPING", "short_header", []),
    ("rti_ping_trailing", b"RTPS\x02\x01\x01\x01NDDSPING\x00", "short_header", []),
    ("bad_magic", b"RTPX" + HEADER[4:], "bad_protocol", []),
    ("lowercase_magic", b"rtps" + HEADER[4:], "bad_protocol", []),
    ("version_1", b"RTPS\x01\x00" + HEADER[6:], "version", []),
    ("version_3", b"RTPS\x03\x00" + HEADER[6:], "version", []),
    ("header_plus_3", HEADER + b"\x15\x01\x00", None, ["submsg_truncated"]),
    ("length_past_end", HEADER + sm(C.SMID_DATA, 4, data_body(), 200), None,
     ["submsg_truncated"]),
    ("length_ffff", HEADER + sm(C.SMID_HEARTBEAT, 0, hb_body(1, 1), 0xFFFF), None,
     ["submsg_truncated"]),
    ("data_short", HEADER + sm(C.SMID_DATA, 0, data_body()[:10]), None, ["submsg_length"]),
    ("data_seq_zero", HEADER + sm(C.SMID_DATA, 4, data_body(0)), None, ["bad_seqnum"]),
    ("data_seq_negative", HEADER + sm(C.SMID_DATA, 4, data_body(-5)), None, ["bad_seqnum"]),
    ("data_seq_minus_two", HEADER + sm(C.SMID_DATA, 4, data_body(-(2 << 32))), None,
     ["bad_seqnum"]),
    ("frag_last_beyond_sample", HEADER + sm(C.SMID_DATA_FRAG, 0, frag_body(1, 3, 4, 8,
                                                                          bytes(12))),
     None, ["frag_fields"]),
    ("data_d_and_k", HEADER + sm(C.SMID_DATA, 0x0C, data_body()), None, ["bad_flags"]),
    ("data_to_qos_small", HEADER + sm(C.SMID_DATA, 4, data_body(to_qos=8)), None,
     ["submsg_length"]),
    ("data_to_qos_past_end", HEADER + sm(C.SMID_DATA, 4, data_body(to_qos=0xFFF0)), None,
     ["submsg_length"]),
    ("data_qos_no_sentinel", HEADER + sm(C.SMID_DATA, 2, data_body(rest=struct.pack(
        "<HH", C.PID_TOPIC_NAME, 4) + b"abcd")), None, ["bad_parameter_list"]),
    ("data_qos_param_overrun", HEADER + sm(C.SMID_DATA, 2, data_body(rest=struct.pack(
        "<HH", C.PID_TOPIC_NAME, 0xFFF0) + b"abcd")), None, ["bad_parameter_list"]),
    ("data_qos_short_key_hash", HEADER + sm(C.SMID_DATA, 2, data_body(rest=struct.pack(
        "<HH", C.PID_KEY_HASH, 4) + b"abcd" + struct.pack("<HH", 1, 0))), None,
     ["bad_parameter_list"]),
    ("data_payload_under_4", HEADER + sm(C.SMID_DATA, 4, data_body(rest=b"ab")), None,
     ["submsg_length"]),
    ("frag_first_under_4", HEADER + sm(C.SMID_DATA_FRAG, 0, frag_body(1, 1, 2, 2, b"ab")),
     None, ["submsg_length"]),
    ("frag_start_zero", HEADER + sm(C.SMID_DATA_FRAG, 0, frag_body(0, 1, 4, 8, b"abcd")),
     None, ["frag_fields"]),
    ("frag_size_zero", HEADER + sm(C.SMID_DATA_FRAG, 0, frag_body(1, 1, 0, 8, b"abcd")),
     None, ["frag_fields"]),
    ("frag_count_zero", HEADER + sm(C.SMID_DATA_FRAG, 0, frag_body(1, 0, 4, 8, b"abcd")),
     None, ["frag_fields"]),
    ("frag_beyond_sample", HEADER + sm(C.SMID_DATA_FRAG, 0, frag_body(3, 1, 4, 8, b"abcd")),
     None, ["frag_fields"]),
    ("frag_payload_short", HEADER + sm(C.SMID_DATA_FRAG, 0, frag_body(1, 2, 4, 8, b"abcd")),
     None, ["frag_fields"]),
    ("frag_sample_zero", HEADER + sm(C.SMID_DATA_FRAG, 0, frag_body(1, 1, 4, 0, b"abcd")),
     None, ["frag_fields"]),
    ("hb_first_zero", HEADER + sm(C.SMID_HEARTBEAT, 0, hb_body(0, 5)), None, ["bad_seqnum"]),
    ("hb_last_before_first", HEADER + sm(C.SMID_HEARTBEAT, 0, hb_body(10, 5)), None,
     ["bad_seqnum"]),
    ("hb_last_negative", HEADER + sm(C.SMID_HEARTBEAT, 0, hb_body(1, -1)), None,
     ["bad_seqnum"]),
    ("hb_group_flag_no_fields", HEADER + sm(C.SMID_HEARTBEAT, C.HEARTBEAT_FLAG_G,
                                            hb_body(1, 1)), None, ["submsg_length"]),
    ("acknack_bits_257", HEADER + sm(C.SMID_ACKNACK, 0, RID + WID + set_body(1, 257, 9)
                                     + b"\0\0\0\0"), None, ["bad_numset"]),
    ("acknack_bits_huge", HEADER + sm(C.SMID_ACKNACK, 0, RID + WID + set_body(1, 0xFFFFFFFF, 0)
                                      + b"\0\0\0\0"), None, ["bad_numset"]),
    ("acknack_words_missing", HEADER + sm(C.SMID_ACKNACK, 0, RID + WID + set_body(1, 64, 1)),
     None, ["bad_numset"]),
    ("acknack_no_count", HEADER + sm(C.SMID_ACKNACK, 0, RID + WID + set_body(1, 32, 1)), None,
     ["submsg_length"]),
    ("acknack_base_zero", HEADER + sm(C.SMID_ACKNACK, 0, RID + WID + set_body(0, 1, 1)
                                      + b"\0\0\0\0"), None, ["bad_numset"]),
    ("acknack_base_negative", HEADER + sm(C.SMID_ACKNACK, 0, RID + WID + set_body(-1, 0, 0)
                                          + b"\0\0\0\0"), None, ["bad_numset"]),
    ("nackfrag_base_zero", HEADER + sm(C.SMID_NACK_FRAG, 0, RID + WID + sn(1) + struct.pack(
        "<II", 0, 0) + b"\0\0\0\0"), None, ["bad_numset"]),
    ("nackfrag_bits_300", HEADER + sm(C.SMID_NACK_FRAG, 0, RID + WID + sn(1) + struct.pack(
        "<II", 1, 300) + bytes(40) + b"\0\0\0\0"), None, ["bad_numset"]),
    ("nackfrag_seq_zero", HEADER + sm(C.SMID_NACK_FRAG, 0, RID + WID + sn(0) + struct.pack(
        "<II", 1, 0) + b"\0\0\0\0"), None, ["bad_seqnum"]),
    ("gap_start_zero", HEADER + sm(C.SMID_GAP, 0, RID + WID + sn(0) + set_body(1, 0, 0)), None,
     ["bad_seqnum"]),
    ("gap_filtered_flag_no_field", HEADER + sm(C.SMID_GAP, C.GAP_FLAG_F, RID + WID + sn(1)
                                               + set_body(2, 0, 0)), None, ["submsg_length"]),
    ("hbfrag_last_zero", HEADER + sm(C.SMID_HEARTBEAT_FRAG, 0, RID + WID + sn(1)
                                     + struct.pack("<II", 0, 1)), None, ["frag_fields"]),
    ("info_ts_short", HEADER + sm(C.SMID_INFO_TS, 0, b"\0\0\0\0"), None, ["submsg_length"]),
    ("info_dst_short", HEADER + sm(C.SMID_INFO_DST, 0, b"\0" * 8), None, ["submsg_length"]),
    ("info_src_short", HEADER + sm(C.SMID_INFO_SRC, 0, b"\0" * 12), None, ["submsg_length"]),
    ("info_reply_count_huge", HEADER + sm(C.SMID_INFO_REPLY, 0, struct.pack("<I", 0x10000000)),
     None, ["submsg_length"]),
    ("bad_then_good", HEADER + sm(C.SMID_HEARTBEAT, 0, hb_body(0, 0)) + GOOD_HB, None,
     ["bad_seqnum"]),
    ("good_then_truncated", HEADER + GOOD_HB + b"\x07\x01\x40", None, ["submsg_truncated"]),
]


@pytest.mark.parametrize("name,dgram,error,drops", CRAFTED, ids=[c[0] for c in CRAFTED])
def test_crafted(name: str, dgram: bytes, error: str | None, drops: list[str]) -> None:
    if error is not None:
        with pytest.raises(MalformedError) as exc:
            wire.parse_message(dgram)
        assert exc.value.reason == error
        return
    msg = wire.parse_message(dgram)
    assert msg.dropped == drops
    if name.startswith(("bad_then_good", "good_then")):
        assert len(msg.received) == 1 and isinstance(msg.received[0].submessage, wire.Heartbeat)


def test_crafted_count() -> None:
    assert len(CRAFTED) >= 30


def test_huge_claims_allocate_nothing_big() -> None:
    """Sizes in the datagram (sample size, numBits, counts, lengths) never size an allocation."""
    hostile = [
        HEADER + sm(C.SMID_DATA_FRAG, 0, frag_body(1, 1, 1344, 0xFFFFFFFF, bytes(1344))),
        HEADER + sm(C.SMID_DATA_FRAG, 0, frag_body(0xFFFFFFFF, 0xFFFF, 0xFFFF, 0xFFFFFFFF,
                                                   bytes(64))),
        HEADER + sm(C.SMID_INFO_REPLY, 2, struct.pack("<I", 0xFFFFFFFF)),
        HEADER + sm(C.SMID_ACKNACK, 0, RID + WID + set_body(1, 0xFFFFFFFF, 8) + bytes(4)),
        HEADER + sm(C.SMID_DATA, 2, data_body(rest=struct.pack("<HH", 0x0005, 0xFFFF))),
    ]
    tracemalloc.start()
    try:
        for dgram in hostile:
            for _ in range(20):
                wire.parse_message(dgram)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 256 * 1024


# -- random mutations --------------------------------------------------------------------------

def _seeds() -> list[bytes]:
    eid_r, eid_w = wire.EntityId(RID), wire.EntityId(WID)
    subs: list[wire.Submessage] = [
        wire.Data(eid_r, eid_w, 7, wire.InlineQos(b"k" * 16, 1, ((0x8001, b"vend"),)),
                  b"\0\1\0\0" + bytes(range(40))),
        wire.Data(eid_r, eid_w, 8, None, b"\0\1\0\0abcd", key_only=True),
        wire.DataFrag(eid_r, eid_w, 9, 2, 2, 16, 100, wire.InlineQos(None, 2), bytes(32)),
        wire.Heartbeat(eid_r, eid_w, 1, 9, 3, final=True),
        wire.Heartbeat(eid_r, eid_w, 1, 9, 4, group_info=wire.HeartbeatGroupInfo(
            1, 2, 3, b"abcd", b"efgh")),
        wire.HeartbeatFrag(eid_r, eid_w, 9, 4, 1),
        wire.AckNack(eid_r, eid_w, wire.SequenceNumberSet(3, (3, 40, 258)), 5),
        wire.NackFrag(eid_r, eid_w, 9, wire.FragmentNumberSet(1, (1, 2, 200)), 2),
        wire.Gap(eid_r, eid_w, 1, wire.SequenceNumberSet(5, (6, 9)), (10, 12), 3),
        wire.InfoSrc((2, 4), 0x0101, wire.GuidPrefix(bytes(12))),
        wire.InfoReply((wire.Locator.udpv4("1.2.3.4", 5),), (wire.Locator.udpv4("239.1.1.1",
                                                                                 6),)),
        wire.Pad(8),
    ]
    b = wire.MessageBuilder(PREFIX, max_size=400)
    b.add(wire.InfoDst(wire.GuidPrefix(bytes(range(12)))))
    for i, s in enumerate(subs):
        b.add(wire.InfoTs(i * 1_000_000_007))
        b.add(s)
    seeds = b.datagrams()
    # big-endian framing of a few, by hand
    seeds.append(HEADER + sm(C.SMID_HEARTBEAT, 0, RID + WID + sn(1, ">") + sn(5, ">")
                             + struct.pack(">I", 1), e=">")
                 + sm(C.SMID_ACKNACK, 0, RID + WID + sn(2, ">") + struct.pack(">II", 40, 1 << 31)
                      + bytes(4) + struct.pack(">I", 3), e=">"))
    for path in sorted(CAPTURES.glob("*.json"))[:2]:
        entries = json.loads(path.read_text())
        seeds.extend(bytes.fromhex(e["hex"]) for e in entries[:: max(1, len(entries) // 12)])
    return seeds


def _submessage_offsets(dgram: bytes) -> list[int]:
    out = []
    pos = 20
    while pos + 4 <= len(dgram):
        out.append(pos)
        e = "<" if dgram[pos + 1] & 1 else ">"
        (length,) = struct.unpack_from(e + "H", dgram, pos + 2)
        if length == 0:
            break
        pos += 4 + length
    return out


def _mutate(rng: random.Random, dgram: bytes, seeds: list[bytes]) -> bytes:
    buf = bytearray(dgram)
    if len(buf) < 24:
        return HEADER[:rng.randint(0, 20)] + rng.randbytes(rng.randint(0, 40))
    op = rng.randrange(8)
    if op == 0:  # bit flips
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(len(buf))
            buf[i] ^= 1 << rng.randrange(8)
    elif op == 1:  # interesting bytes
        for _ in range(rng.randint(1, 4)):
            buf[rng.randrange(len(buf))] = rng.choice((0, 1, 0x7F, 0x80, 0xFF))
    elif op == 2:  # truncation
        del buf[rng.randrange(len(buf)):]
    elif op == 3:  # extension with junk
        buf += rng.randbytes(rng.randint(1, 64))
    elif op == 4:  # submessage length corruption
        offs = _submessage_offsets(dgram)
        if offs:
            pos = rng.choice(offs)
            e = "<" if buf[pos + 1] & 1 else ">"
            struct.pack_into(e + "H", buf, pos + 2,
                             rng.choice((0, 1, 3, 4, 0xFFFF, rng.randrange(0x10000))))
    elif op == 5:  # flags corruption (flips the byte order, Q/D/K/G/F bits ...)
        offs = _submessage_offsets(dgram)
        if offs:
            buf[rng.choice(offs) + 1] = rng.randrange(256)
    elif op == 6:  # 32-bit field corruption inside a submessage body (counts, numBits, sizes)
        if len(buf) > 28:
            i = rng.randrange(20, len(buf) - 4) & ~3
            struct.pack_into("<I", buf, i, rng.choice((0, 1, 256, 257, 0x7FFFFFFF, 0xFFFFFFFF,
                                                       rng.randrange(1 << 32))))
    else:  # splice two datagrams
        other = rng.choice(seeds)
        cut = rng.randrange(20, max(21, len(buf)))
        buf = buf[:cut] + other[rng.randrange(20, max(21, len(other))):]
    return bytes(buf)


def _check_bounded(dgram: bytes, msg: wire.Message) -> None:
    n = len(dgram)
    assert len(msg.submessages) + len(msg.dropped) <= (n - 20) // 4 + 1
    assert len(msg.received) <= len(msg.submessages)
    payload_bytes = 0
    for s in msg.submessages:
        for name in ("serialized_payload", "body"):
            p = getattr(s, name, None)
            if p is not None:
                payload_bytes += len(p)
        for name in ("reader_sn_state", "gap_list", "fragment_number_state"):
            st = getattr(s, name, None)
            if st is not None:
                assert len(st.members()) <= 256
                assert all(st.base <= m < st.base + 256 for m in st.members())
    assert payload_bytes <= n


def test_random_mutations_only_malformed_or_clean_drops() -> None:
    rng = random.Random(20261123)
    seeds = _seeds()
    assert len(seeds) >= 10
    for s in seeds:  # the seeds themselves are clean
        assert wire.parse_message(s).dropped == []
    outcomes = {"raised": 0, "dropped": 0, "clean": 0}
    for _ in range(20_000):
        dgram = rng.choice(seeds)
        for _ in range(rng.randint(1, 3)):
            dgram = _mutate(rng, dgram, seeds)
        try:
            msg = wire.parse_message(dgram)
        except MalformedError as exc:
            assert exc.reason in {"short_header", "bad_protocol", "version"}
            outcomes["raised"] += 1
            continue
        _check_bounded(dgram, msg)
        outcomes["dropped" if msg.dropped else "clean"] += 1
        # whatever parsed is well-formed enough to be built again
        for sub in msg.submessages:
            try:
                wire.encode_submessage(sub)
            except ValueError:
                # a parsed set may hold bits beyond what we would send (num_bits kept), or a
                # DATA payload too large for one submessage: refusing to build is fine
                pass
    # the mutations exercise all three outcomes
    assert min(outcomes.values()) > 500, outcomes


def test_rti_ping_is_counted_not_malformed() -> None:
    """A participant that receives Connext's ping counts it as such, not as a bad header."""
    from rtbus.rtps.participant import ParticipantCore

    loc = (wire.Locator.udpv4("127.0.0.1", 7410),)
    core = ParticipantCore(b"\x01" * 12, 0, metatraffic_unicast=loc, default_unicast=loc)
    core.receive(bytes.fromhex("52545053020101014e44445350494e47"), ("127.0.0.1", 7400), 0.0)
    assert core.counters == {"dropped_rtps_ping": 1}
