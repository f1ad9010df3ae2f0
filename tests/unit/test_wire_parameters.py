"""Parameter lists and typed PID values (RTPS 9.6.2), both byte orders."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtbus.errors import MalformedError
from rtbus.rtps import wire
from rtbus.rtps.wire import constants as C
from rtbus.rtps.wire import parameters as P

ORDERS = pytest.mark.parametrize("le", [True, False], ids=["le", "be"])
GUID = wire.Guid(bytes(range(12)), b"\0\0\1\xc1")

SAMPLES = {
    C.PID_PARTICIPANT_GUID: GUID,
    C.PID_ENDPOINT_GUID: GUID,
    C.PID_PROTOCOL_VERSION: (2, 5),
    C.PID_VENDORID: C.VENDORID_RTBUS,
    C.PID_DEFAULT_UNICAST_LOCATOR: wire.Locator.udpv4("10.1.2.3", 7411),
    C.PID_METATRAFFIC_UNICAST_LOCATOR: wire.Locator.udpv4("127.0.0.1", 7410),
    C.PID_METATRAFFIC_MULTICAST_LOCATOR: wire.Locator.udpv4("239.255.0.1", 7400),
    C.PID_DEFAULT_MULTICAST_LOCATOR: wire.Locator.udpv6("ff02::1", 7401),
    C.PID_UNICAST_LOCATOR: wire.Locator.udpv4("10.0.0.9", 1),
    C.PID_MULTICAST_LOCATOR: wire.Locator.udpv4("239.0.0.9", 2),
    C.PID_PARTICIPANT_LEASE_DURATION: 100_000_000_000,
    C.PID_BUILTIN_ENDPOINT_SET: 0x3FFC,
    C.PID_DOMAIN_ID: 42,
    C.PID_DOMAIN_TAG: "lab",
    C.PID_ENTITY_NAME: "näme",
    C.PID_TOPIC_NAME: "Square",
    C.PID_TYPE_NAME: "ShapeType",
    C.PID_KEY_HASH: bytes(range(16)),
    C.PID_STATUS_INFO: 3,
    C.PID_RELIABILITY: P.Reliability(C.RELIABILITY_RELIABLE, 100_000_000),
    C.PID_DURABILITY: C.DURABILITY_TRANSIENT_LOCAL,
    C.PID_DEADLINE: wire.DURATION_INFINITE_NS,
    C.PID_LATENCY_BUDGET: 0,
    C.PID_LIVELINESS: P.Liveliness(C.LIVELINESS_AUTOMATIC, wire.DURATION_INFINITE_NS),
    C.PID_OWNERSHIP: C.OWNERSHIP_EXCLUSIVE,
    C.PID_OWNERSHIP_STRENGTH: -5,
    C.PID_DESTINATION_ORDER: 1,
    C.PID_HISTORY: P.History(C.HISTORY_KEEP_LAST, 10),
    C.PID_RESOURCE_LIMITS: P.ResourceLimits(-1, 100, -1),
    C.PID_PRESENTATION: P.Presentation(C.PRESENTATION_TOPIC, True, False),
    C.PID_PARTITION: ("a", "b*", ""),
    C.PID_USER_DATA: b"user\x00data",
    C.PID_TOPIC_DATA: b"",
    C.PID_GROUP_DATA: b"g",
    C.PID_DATA_REPRESENTATION: (C.DATA_REPRESENTATION_XCDR2, C.DATA_REPRESENTATION_XCDR1),
    C.PID_TYPE_CONSISTENCY: P.TypeConsistency(1, b"\0\0\0\1\0\0"),
    C.PID_TYPE_INFORMATION: b"\x01\x02\x03\x04opaque!!",  # raw: padded if not 4n
    C.PID_LIFESPAN: 1_500_000_000,
    C.PID_DURABILITY_SERVICE: P.DurabilityService(0, C.HISTORY_KEEP_LAST, 1, -1, -1, -1),
    C.PID_TIME_BASED_FILTER: 250_000_000,
    C.PID_TRANSPORT_PRIORITY: 7,
    C.PID_EXPECTS_INLINE_QOS: True,
    C.PID_BUILTIN_ENDPOINT_QOS: 1,
    C.PID_PROPERTY_LIST: P.PropertyList((("dds.sec.auth", "x"), ("k", "")), (("b", b"\1\2"),)),
    C.PID_CONTENT_FILTER_PROPERTY: P.ContentFilterProperty("cft", "Square", "DDSSQL",
                                                           "x > %0", ("10",)),
    C.PID_ENDPOINT_SECURITY_INFO: P.SecurityInfo(0x80000003, 0x80000001),
    C.PID_PARTICIPANT_SECURITY_INFO: P.SecurityInfo(0x80000000, 0),
    C.PID_IDENTITY_TOKEN: P.DataHolder("DDS:Auth:PKI-DH:1.0", (("dds.cert.sn", "x"),
                                                              ("dds.ca.algo", "RSA-2048"))),
    C.PID_PERMISSIONS_TOKEN: P.DataHolder("DDS:Access:Permissions:1.0", (),
                                          (("b", b"\1\2\3"),)),
    C.PID_IDENTITY_STATUS_TOKEN: P.DataHolder("x"),
}


def test_every_pid_the_brief_names_has_a_codec_and_a_sample() -> None:
    assert set(SAMPLES) <= set(P.CODECS)
    assert len(SAMPLES) >= 44


@ORDERS
@pytest.mark.parametrize("pid", sorted(SAMPLES), ids=[hex(p) for p in sorted(SAMPLES)])
def test_typed_round_trip(pid: int, le: bool) -> None:
    encoded = wire.encode_parameter(pid, SAMPLES[pid], le)
    assert len(encoded) % 4 == 0
    items, end = wire.parse_parameter_list(memoryview(encoded + _sentinel(le)), 0, le)
    assert end == len(encoded) + 4 and [p for p, _ in items] == [pid]
    assert wire.decode_parameter(pid, items[0][1], le) == SAMPLES[pid]


def _sentinel(le: bool) -> bytes:
    return struct.pack("<HH" if le else ">HH", C.PID_SENTINEL, 0)


@ORDERS
def test_hand_written_values(le: bool) -> None:
    e = "<" if le else ">"
    loc = struct.pack(e + "iI", 1, 7400) + bytes(12) + bytes([239, 255, 0, 1])
    assert wire.decode_parameter(C.PID_METATRAFFIC_MULTICAST_LOCATOR, loc, le) == \
        wire.Locator.udpv4("239.255.0.1", 7400)
    assert wire.decode_parameter(C.PID_TOPIC_NAME, struct.pack(e + "I", 4) + b"abc\0", le) == "abc"
    dur = struct.pack(e + "iI", 2, 0x40000000)
    assert wire.decode_parameter(C.PID_PARTICIPANT_LEASE_DURATION, dur, le) == 2_250_000_000
    rel = struct.pack(e + "IiI", 2, 0, 0x19999999)
    assert wire.decode_parameter(C.PID_RELIABILITY, rel, le) == P.Reliability(2, 99_999_999)
    # vendor id and protocol version are octets: byte order does not apply
    assert wire.decode_parameter(C.PID_VENDORID, b"\x01\x10\0\0", le) == 0x0110
    assert wire.decode_parameter(C.PID_STATUS_INFO, b"\0\0\0\x02", le) == 2


@ORDERS
def test_list_skips_pad_and_keeps_vendor_pids(le: bool) -> None:
    e = "<" if le else ">"
    raw = struct.pack(e + "HH", C.PID_PAD, 4) + b"\0\0\0\0" + \
        struct.pack(e + "HH", 0x8007, 4) + b"vvvv" + \
        struct.pack(e + "HH", C.PID_DOMAIN_ID, 4) + struct.pack(e + "I", 3) + \
        struct.pack(e + "HH", C.PID_SENTINEL, 0) + b"trailing"
    items, end = wire.parse_parameter_list(memoryview(raw), 0, le)
    assert [(p, bytes(v)) for p, v in items] == [(0x8007, b"vvvv"),
                                                 (C.PID_DOMAIN_ID, struct.pack(e + "I", 3))]
    assert end == len(raw) - len(b"trailing")
    assert wire.decode_parameters(items, le) == {0x8007: b"vvvv", C.PID_DOMAIN_ID: 3}


def test_must_understand() -> None:
    assert wire.unknown_must_understand([(C.PID_DOMAIN_TAG, b"")]) is None  # known
    assert wire.unknown_must_understand([(0x4099, b"")]) == 0x4099
    assert wire.unknown_must_understand([(0xC099, b"")]) is None  # vendor-specific: ignored
    assert wire.unknown_must_understand([(0x0099, b"")]) is None  # may be ignored


def test_inline_qos_with_unknown_must_understand_drops_the_data() -> None:
    rid, wid = b"\0\0\1\7", b"\0\0\1\2"
    body = struct.pack("<HH", 0, 16) + rid + wid + struct.pack("<iI", 0, 1) + \
        struct.pack("<HH", 0x4099, 0) + struct.pack("<HH", C.PID_SENTINEL, 0)
    dgram = b"RTPS\2\5\1\xf7" + bytes(12) + struct.pack("<BBH", C.SMID_DATA, 3, len(body)) + body
    assert wire.parse_message(dgram).dropped == ["inline_qos_must_understand"]


@pytest.mark.parametrize("raw", [
    b"",  # no sentinel
    struct.pack("<HH", C.PID_DOMAIN_ID, 4) + b"\0\0\0\0",  # no sentinel after a value
    struct.pack("<HH", C.PID_DOMAIN_ID, 8) + b"\0\0\0\0",  # length past the end
    struct.pack("<HH", C.PID_DOMAIN_ID, 0xFFFF),
], ids=["empty", "no_sentinel", "overrun", "huge"])
def test_bad_lists(raw: bytes) -> None:
    with pytest.raises(MalformedError) as exc:
        wire.parse_parameter_list(memoryview(raw), 0, True)
    assert exc.value.reason == "bad_parameter_list"


@pytest.mark.parametrize("pid,raw", [
    (C.PID_TOPIC_NAME, struct.pack("<I", 100) + b"abc\0"),  # string longer than the value
    (C.PID_TOPIC_NAME, struct.pack("<I", 3) + b"abc\0"),  # no NUL
    (C.PID_TOPIC_NAME, struct.pack("<I", 0)),  # no NUL at all
    (C.PID_TOPIC_NAME, struct.pack("<I", 3) + b"\xff\xfe\0\0"),  # not UTF-8
    (C.PID_PARTITION, struct.pack("<I", 0x7FFFFFFF)),  # absurd count, no allocation
    (C.PID_USER_DATA, struct.pack("<I", 0xFFFFFFFF)),
    (C.PID_METATRAFFIC_UNICAST_LOCATOR, b"\1\0\0\0"),
    (C.PID_PARTICIPANT_GUID, b"\1" * 8),
    (C.PID_RELIABILITY, b"\2\0\0\0"),
    (C.PID_KEY_HASH, b"short"),
    (C.PID_PROPERTY_LIST, struct.pack("<I", 5)),
])
def test_bad_values_raise_malformed(pid: int, raw: bytes) -> None:
    with pytest.raises(MalformedError) as exc:
        wire.decode_parameter(pid, raw, True)
    assert exc.value.reason == "bad_parameter"


@ORDERS
def test_pl_cdr_payload_round_trip(le: bool) -> None:
    items = [(C.PID_PARTICIPANT_GUID, GUID), (C.PID_DOMAIN_ID, 0),
             (C.PID_METATRAFFIC_UNICAST_LOCATOR, wire.Locator.udpv4("127.0.0.1", 7410)),
             (C.PID_METATRAFFIC_UNICAST_LOCATOR, wire.Locator.udpv4("10.0.0.1", 7410)),
             (0x8001, b"vendor")]
    payload = wire.build_pl_cdr(items, le)
    assert payload[:4] == (b"\0\3\0\0" if le else b"\0\2\0\0")
    parsed, got_le = wire.parse_pl_cdr(payload)
    assert got_le == le
    values = wire.decode_parameters(parsed, le)
    assert values[C.PID_PARTICIPANT_GUID] == GUID and values[C.PID_DOMAIN_ID] == 0
    assert values[C.PID_METATRAFFIC_UNICAST_LOCATOR] == [items[2][1], items[3][1]]
    assert values[0x8001] == b"vendor\0\0"  # padded to 4 on the wire
    with pytest.raises(MalformedError):
        wire.parse_pl_cdr(b"\0\1\0\0" + payload[4:])  # CDR_LE is not a parameter list


@settings(max_examples=200)
@given(st.binary(max_size=64), st.booleans())
def test_random_bytes_never_raise_anything_but_malformed(raw: bytes, le: bool) -> None:
    try:
        items, _ = wire.parse_parameter_list(memoryview(raw), 0, le)
    except MalformedError:
        return
    for pid in P.CODECS:
        for _, value in items:
            try:
                wire.decode_parameter(pid, value, le)
            except MalformedError:
                pass
