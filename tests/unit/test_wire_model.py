"""The wire data model: ids, sequence numbers, number sets, locators, time conversions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtbus.rtps import wire
from rtbus.rtps.wire import constants as C
from rtbus.rtps.wire.sequence_numbers import bitmap_members, bitmap_words


def test_entity_id_forms_and_properties() -> None:
    eid = wire.EntityId(b"\x00\x01\x00", 0xC2)
    assert eid == wire.ENTITYID_SPDP_BUILTIN_PARTICIPANT_WRITER
    assert eid == wire.EntityId(0x000100C2) == wire.EntityId(b"\x00\x01\x00\xc2")
    assert eid.key == b"\x00\x01\x00" and eid.kind == 0xC2
    assert eid.is_builtin and eid.is_writer and not eid.is_reader
    assert wire.ENTITYID_SEDP_BUILTIN_PUBLICATIONS_READER.is_reader
    with pytest.raises(ValueError):
        wire.EntityId(b"\x00\x01", 2)
    with pytest.raises(ValueError):
        wire.EntityId(b"\x00\x01\x02")


def test_guid_is_bytes_and_splits() -> None:
    prefix = wire.GuidPrefix(bytes(range(12)))
    eid = wire.EntityId(b"\0\0\1", 7)
    g = wire.Guid(prefix, eid)
    assert bytes(g) == bytes(range(12)) + b"\0\0\1\7"
    assert g.prefix == prefix and isinstance(g.prefix, wire.GuidPrefix)
    assert g.entity_id == eid and isinstance(g.entity_id, wire.EntityId)
    assert wire.Guid(bytes(g)) == g
    assert {g: 1}[wire.Guid(prefix, eid)] == 1
    with pytest.raises(ValueError):
        wire.GuidPrefix(b"short")


@given(st.integers(-(1 << 63), (1 << 63) - 1))
def test_seq_split_join_round_trip(seq: int) -> None:
    high, low = wire.seq_split(seq)
    assert -(1 << 31) <= high < 1 << 31 and 0 <= low < 1 << 32
    assert wire.seq_join(high, low) == seq


def test_sequence_number_unknown_is_high_minus_one_low_zero() -> None:
    assert wire.seq_split(wire.SEQUENCE_NUMBER_UNKNOWN) == (-1, 0)


@settings(max_examples=200)
@given(st.integers(1, 1 << 40), st.sets(st.integers(0, 255), max_size=40))
def test_bitmap_words_round_trip(base: int, offsets: set[int]) -> None:
    numbers = tuple(sorted(base + o for o in offsets))
    bits = (max(offsets) + 1) if offsets else 0
    words = bitmap_words(base, numbers, bits)
    assert len(words) == (bits + 31) // 32
    assert bitmap_members(base, bits, words) == numbers


def test_bitmap_msb_first() -> None:
    # base+0 is the most significant bit of the first word (RTPS 9.4.2.6)
    assert bitmap_words(10, (10,), 1) == [0x80000000]
    assert bitmap_words(10, (41, 42), 33) == [0x00000001, 0x80000000]


def test_set_check_rejects_out_of_window() -> None:
    wire.SequenceNumberSet(5, (5, 260)).check()
    with pytest.raises(ValueError):
        wire.SequenceNumberSet(5, (261,)).check()
    with pytest.raises(ValueError):
        wire.SequenceNumberSet(0, ()).check()
    with pytest.raises(ValueError):
        wire.FragmentNumberSet(1, (), num_bits=257).check()
    assert wire.SequenceNumberSet(3, [4, 5]).members() == (4, 5)
    assert wire.SequenceNumberSet(3, (4,), num_bits=100) == wire.SequenceNumberSet(3, (4,))


def test_locator_udpv4() -> None:
    loc = wire.Locator.udpv4("239.255.0.1", 7400)
    assert loc.kind == C.LOCATOR_KIND_UDPv4 and loc.port == 7400
    assert loc.address == bytes(12) + bytes([239, 255, 0, 1])
    assert loc.host == "239.255.0.1" and str(loc) == "udp/239.255.0.1:7400"
    assert wire.Locator.udpv6("::1", 1).host == "::1"


@given(st.integers(0, (1 << 31) * 1_000_000_000 - 1))
def test_time_ns_round_trip_is_exact(ns: int) -> None:
    t = wire.Time.from_ns(ns)
    assert 0 <= t.fraction <= 0xFFFFFFFF
    assert t.to_ns() == ns


def test_time_constants_and_durations() -> None:
    assert wire.Time(1, 0x80000000).to_ns() == 1_500_000_000
    assert wire.duration_to_ns(0x7FFFFFFF, 0xFFFFFFFF) == wire.DURATION_INFINITE_NS
    assert wire.duration_from_ns(wire.DURATION_INFINITE_NS) == wire.DURATION_INFINITE
    assert wire.duration_from_ns(100_000_000_000) == wire.Time(100, 0)
    assert wire.TIME_INVALID == wire.Time(-1, 0xFFFFFFFF)


def test_constant_values_match_the_spec_tables() -> None:
    assert (C.SMID_DATA, C.SMID_DATA_FRAG, C.SMID_HEARTBEAT, C.SMID_ACKNACK, C.SMID_GAP,
            C.SMID_INFO_TS, C.SMID_INFO_DST, C.SMID_NACK_FRAG, C.SMID_HEARTBEAT_FRAG) == \
        (0x15, 0x16, 0x07, 0x06, 0x08, 0x09, 0x0E, 0x12, 0x13)
    assert (C.PID_KEY_HASH, C.PID_STATUS_INFO, C.PID_PARTICIPANT_GUID, C.PID_DOMAIN_TAG) == \
        (0x70, 0x71, 0x50, 0x4014)
    assert C.VENDORID_CYCLONEDDS == 0x0110 and C.VENDORID_RTBUS not in {
        v for k, v in vars(C).items() if k.startswith("VENDORID_") and k != "VENDORID_RTBUS"}
