"""Discovery payloads: parse what Cyclone 11 sent (capture), round trips, tolerance rules."""

import functools
import json
import math
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtbus.errors import MalformedError
from rtbus.qos import Qos
from rtbus.rtps.builtin_data import (
    EndpointData,
    MustUnderstandError,
    ParticipantData,
    build_endpoint_payload,
    build_key_payload,
    build_parameter_list,
    build_participant_payload,
    iter_parameters,
    parse_endpoint_payload,
    parse_key_payload,
    parse_participant_payload,
    parse_status_info,
)
from rtbus.rtps.wire.constants import (
    PID_ENDPOINT_GUID,
    PID_PARTICIPANT_GUID,
    PID_TOPIC_NAME,
    PID_TYPE_NAME,
)
from rtbus.rtps.wire.locator import Locator
from tests.support.paths import SHAPE_IDL

CAPTURE = (Path(__file__).parents[1] / "data" / "captures"
           / "discovery_cyclone11_two_participants.json")


def capture_data_submessages():
    """(writer entity id, flags, inline qos pairs, payload) of every DATA in the capture.

    A deliberately small RTPS walk so these tests do not depend on the wire layer.
    """
    out = []
    for packet in json.loads(CAPTURE.read_text()):
        msg = bytes.fromhex(packet["hex"])
        off = 20
        while off + 4 <= len(msg):
            sid, flags = msg[off], msg[off + 1]
            (length,) = struct.unpack_from("<H", msg, off + 2)
            body = msg[off + 4:off + 4 + length]
            off += 4 + length
            if sid != 0x15:
                continue
            (to_inline,) = struct.unpack_from("<H", body, 2)
            pos = 4 + to_inline
            inline = []
            if flags & 0x02:
                while True:
                    pid, ln = struct.unpack_from("<HH", body, pos)
                    pos += 4
                    if pid == 1:
                        break
                    inline.append((pid, body[pos:pos + ln]))
                    pos += ln
            out.append((body[8:12].hex(), flags, inline, body[pos:]))
    return out


def test_parse_cyclone_spdp():
    spdp = [p for w, f, _, p in capture_data_submessages() if w == "000100c2" and f & 0x4]
    assert spdp
    p = parse_participant_payload(spdp[0])
    assert p.vendor_id == b"\x01\x10" and p.protocol_version == (2, 5)
    assert p.domain_id == 17 and p.lease_duration == 10.0
    assert p.builtin_endpoints == 0xFC3F
    assert p.metatraffic_multicast[0].host == "239.255.0.1"
    assert p.metatraffic_multicast[0].port == 11650
    assert p.default_unicast[0].host == "127.0.0.1"
    assert ("__ProcessName", "python") in p.properties
    assert p.guid.endswith(b"\x00\x00\x01\xc1")


def test_parse_cyclone_sedp_writer_and_reader():
    data = capture_data_submessages()
    writer = [p for w, f, _, p in data if w == "000003c2" and f & 0x4]
    reader = [p for w, f, _, p in data if w == "000004c2" and f & 0x4]
    pw = parse_endpoint_payload(writer[0], "writer")
    assert (pw.topic_name, pw.type_name) == ("Square", "ShapeType")
    assert pw.qos.reliability == "reliable" and pw.qos.durability == "transient_local"
    assert pw.qos.partition == ("partA",)
    assert pw.endpoint_guid.endswith(b"\x00\x00\x05\x02")
    assert pw.type_information is not None and len(pw.type_information) == 100
    pr = parse_endpoint_payload(reader[0], "reader")
    assert pr.qos.partition == ("part*",) and pr.qos.data_representation == (0, 2)
    assert pr.qos.durability == "volatile" and pr.qos.reliability == "reliable"


def test_parse_cyclone_dispose():
    disposals = [(w, inline, p) for w, f, inline, p in capture_data_submessages() if f & 0x8]
    assert disposals
    for writer_id, inline, payload in disposals:
        assert parse_status_info(inline) == 3  # disposed | unregistered
        guid = parse_key_payload(payload)
        assert len(guid) == 16
        if writer_id == "000100c2":
            assert guid.endswith(b"\x00\x00\x01\xc1")


def test_participant_round_trip():
    p = ParticipantData(
        guid_prefix=bytes(range(12)),
        metatraffic_unicast=(Locator.udpv4("127.0.0.1", 7410),),
        metatraffic_multicast=(Locator.udpv4("239.255.0.1", 7400),),
        default_unicast=(Locator.udpv4("127.0.0.1", 7411),),
        default_multicast=(Locator.udpv4("239.255.0.1", 7401),),
        lease_duration=20.0, domain_id=3, domain_tag="lab", entity_name="dp",
        user_data=b"abc", manual_liveliness_count=2)
    assert parse_participant_payload(build_participant_payload(p)) == p


names = st.text(st.characters(blacklist_characters="\0", max_codepoint=0x2FF), min_size=1,
                max_size=20)


@settings(max_examples=100, deadline=None)
@given(role=st.sampled_from(["writer", "reader"]), topic=names, type_name=names,
       guid=st.binary(min_size=16, max_size=16), typeinfo=st.none() | st.binary(max_size=40),
       partition=st.lists(names, max_size=3), inline=st.booleans())
def test_endpoint_round_trip(role, topic, type_name, guid, typeinfo, partition, inline):
    e = EndpointData(role=role, endpoint_guid=guid, topic_name=topic, type_name=type_name,
                     qos=Qos(partition=partition, durability="transient_local"),
                     participant_guid=guid[:12] + b"\0\0\1\xc1",
                     type_information=None if typeinfo is None
                     else typeinfo + b"\0" * (-len(typeinfo) % 4),
                     unicast_locators=(Locator.udpv4("10.0.0.1", 1234),),
                     expects_inline_qos=inline and role == "reader", entity_name="e",
                     vendor_id=b"\x01\xfe")
    assert parse_endpoint_payload(build_endpoint_payload(e), role) == e


def _endpoint_params():
    return [(PID_ENDPOINT_GUID, bytes(16)),
            (PID_TOPIC_NAME, struct.pack("<I", 2) + b"T\0\0\0"),
            (PID_TYPE_NAME, struct.pack("<I", 2) + b"U\0\0\0")]


def test_unknown_and_vendor_pids_are_skipped():
    payload = build_parameter_list([*_endpoint_params(), (0x0FFF, b"junk"), (0xC123, b"v")])
    e = parse_endpoint_payload(payload, "writer")
    assert e.topic_name == "T" and e.type_name == "U"


def test_unknown_must_understand_pid_rejects_sample():
    payload = build_parameter_list([*_endpoint_params(), (0x4FFF, b"\0\0\0\0")])
    with pytest.raises(MustUnderstandError) as info:
        parse_endpoint_payload(payload, "writer")
    assert info.value.pid == 0x4FFF and info.value.reason == "must_understand"


def test_missing_required_pids():
    with pytest.raises(MalformedError, match="PID_TOPIC_NAME"):
        parse_endpoint_payload(build_parameter_list(_endpoint_params()[::2]), "reader")
    with pytest.raises(MalformedError, match="PID_PARTICIPANT_GUID"):
        parse_participant_payload(build_parameter_list([]))


def test_truncations_and_bad_encapsulation():
    good = build_endpoint_payload(EndpointData("writer", bytes(16), "T", "U"))
    for cut in range(0, len(good) - 1, 7):
        with pytest.raises(MalformedError):
            parse_endpoint_payload(good[:cut], "writer")
    with pytest.raises(MalformedError, match="PL_CDR_LE"):
        list(iter_parameters(b"\x00\x07\x00\x00\x01\x00\x00\x00"))
    with pytest.raises(MalformedError, match="PID_SENTINEL"):  # big endian: PID 0x0100
        list(iter_parameters(b"\x00\x02\x00\x00\x01\x00\x00\x00"))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_garbage_raises_only_malformed(blob):
    for parse in (parse_participant_payload,
                  lambda b: parse_endpoint_payload(b, "reader"), parse_key_payload):
        try:
            parse(b"\x00\x03\x00\x00" + blob)
        except MalformedError:
            pass


def test_key_payload_round_trip():
    g = bytes(range(16))
    assert parse_key_payload(build_key_payload(PID_PARTICIPANT_GUID, g)) == g


@pytest.mark.parametrize("pid", [0x0015, 0x0016, 0x000F, 0x0058, 0x0002, 0x002C, 0x0062])
def test_short_participant_values_are_malformed(pid):
    payload = build_parameter_list([(PID_PARTICIPANT_GUID, bytes(16)), (pid, b"")])
    with pytest.raises(MalformedError):
        parse_participant_payload(payload)


def test_infinite_lease_round_trip():
    p = ParticipantData(guid_prefix=bytes(12), lease_duration=math.inf)
    assert parse_participant_payload(build_participant_payload(p)).lease_duration == math.inf


@functools.cache
def _valid_payloads():
    data = capture_data_submessages()
    spdp = next(p for w, f, _, p in data if w == "000100c2" and f & 0x4)
    pub = next(p for w, f, _, p in data if w == "000003c2" and f & 0x4)
    sub = next(p for w, f, _, p in data if w == "000004c2" and f & 0x4)
    return [bytes(spdp), bytes(pub), bytes(sub)]


@settings(max_examples=300, deadline=None)
@given(which=st.integers(0, 2), edits=st.lists(
    st.tuples(st.integers(0, 2000), st.integers(0, 255)), min_size=1, max_size=6))
def test_mutated_cyclone_payloads_raise_only_malformed(which, edits):
    payload = bytearray(_valid_payloads()[which])
    for pos, value in edits:
        payload[pos % len(payload)] = value
    for parse in (parse_participant_payload, lambda b: parse_endpoint_payload(b, "writer"),
                  lambda b: parse_endpoint_payload(b, "reader")):
        try:
            parse(bytes(payload))
        except MalformedError:
            pass


# --- lean SEDP: only what differs from the defaults ------------------------------------------

QOS_PIDS = frozenset({0x1D, 0x23, 0x27, 0x1B, 0x1A, 0x25, 0x40, 0x41, 0x1F, 0x21, 0x29, 0x2E,
                      0x2D, 0x2C, 0x73, 0x06, 0x2B, 0x49, 0x04})


def _pids(payload):
    return [pid for pid, _ in iter_parameters(payload)]


@pytest.mark.parametrize("role", ["writer", "reader"])
def test_default_qos_is_not_announced(role):
    qos = Qos() if role == "writer" else Qos(reliability="best_effort")
    e = EndpointData(role, bytes(range(16)), "Square", "ShapeType", qos, vendor_id=b"\x01\xf7")
    payload = build_endpoint_payload(e)
    assert not QOS_PIDS & set(_pids(payload))
    assert parse_endpoint_payload(payload, role) == e
    assert len(payload) <= 100  # was 292 / 276 with every policy spelled out


def test_non_default_qos_is_announced_and_role_defaults_differ():
    reliable_reader = EndpointData("reader", bytes(16), "T", "U", Qos(reliability="reliable"))
    assert 0x1A in _pids(build_endpoint_payload(reliable_reader))
    reliable_writer = EndpointData("writer", bytes(16), "T", "U", Qos(reliability="reliable"))
    assert 0x1A not in _pids(build_endpoint_payload(reliable_writer))
    best_effort_writer = EndpointData("writer", bytes(16), "T", "U",
                                      Qos(reliability="best_effort"), vendor_id=b"\x01\xf7")
    payload = build_endpoint_payload(best_effort_writer)
    assert _pids(payload).count(0x1A) == 1
    assert parse_endpoint_payload(payload, "writer") == best_effort_writer
    tl = EndpointData("writer", bytes(16), "T", "U", Qos(durability="transient_local",
                                                       history=("keep_last", 5)))
    assert {0x1D, 0x40} <= set(_pids(build_endpoint_payload(tl)))


durations = st.sampled_from([0.0, 0.25, 1.5, math.inf])


@settings(max_examples=150, deadline=None)
@given(role=st.sampled_from(["writer", "reader"]),
       reliability=st.sampled_from(["best_effort", "reliable"]),
       max_blocking_time=st.sampled_from([0.0, 0.1, 2.0]),
       durability=st.sampled_from(["volatile", "transient_local"]),
       history=st.sampled_from([("keep_last", 1), ("keep_last", 7), "keep_all"]),
       deadline=durations, latency_budget=durations, liveliness_lease=durations,
       liveliness=st.sampled_from(["automatic", "manual_by_participant"]),
       ownership=st.sampled_from(["shared", "exclusive"]),
       destination_order=st.sampled_from(["by_reception_timestamp", "by_source_timestamp"]),
       partition=st.lists(names, max_size=2),
       data_representation=st.sampled_from([(0,), (2,), (0, 2)]),
       user_data=st.binary(max_size=5))
def test_lean_qos_round_trip(role, **policies):
    e = EndpointData(role, bytes(range(16)), "T", "U", Qos(**policies), vendor_id=b"\x01\xf7")
    assert parse_endpoint_payload(build_endpoint_payload(e), role) == e


# --- big-endian parameter lists (PL_CDR_BE) --------------------------------------------------

def _be_param(pid, value):
    pad = -len(value) % 4
    return struct.pack(">HH", pid, len(value) + pad) + value + b"\0" * pad


def _be_string(text):
    raw = text.encode() + b"\0"
    return struct.pack(">I", len(raw)) + raw


def _type_information_be():
    """A ShapeType TypeInformation as a big-endian peer sends it (serialized by Cyclone)."""
    idl_support = pytest.importorskip("cyclonedds.idl._support")
    from cyclonedds.idl._typesupport.DDS.XTypes import TypeInformation

    import rtbus.idl
    from rtbus import xtypes

    model = rtbus.idl.load(SHAPE_IDL).ShapeType.__rtbus_type__
    le = xtypes.type_information(model)
    value = TypeInformation.deserialize(b"\x00\x07\x00\x00" + le)
    be = value.serialize(use_version_2=True, endianness=idl_support.Endianness.Big)
    assert be[:2] == b"\x00\x0a" and be[4:] != le
    return be[4:], le


def test_big_endian_endpoint_payload():
    ti_be, ti_le = _type_information_be()
    guid = bytes(range(16))
    payload = b"\x00\x02\x00\x00" + b"".join([
        _be_param(PID_ENDPOINT_GUID, guid),
        _be_param(PID_TOPIC_NAME, _be_string("Square")),
        _be_param(PID_TYPE_NAME, _be_string("ShapeType")),
        _be_param(0x1A, struct.pack(">IiI", 2, 1, 0)),  # reliable, max_blocking_time 1 s
        _be_param(0x1D, struct.pack(">I", 1)),  # transient local
        _be_param(0x40, struct.pack(">Ii", 0, 5)),  # keep last 5
        _be_param(0x23, struct.pack(">iI", 0, 1 << 31)),  # deadline 0.5 s
        _be_param(0x29, struct.pack(">I", 2) + _be_string("a") + b"\0\0" + _be_string("bc")),
        _be_param(0x73, struct.pack(">Ih", 1, 2)),  # data representation [XCDR2]
        _be_param(0x2F, struct.pack(">iI", 1, 7411) + bytes(12) + bytes([10, 0, 0, 1])),
        _be_param(0x75, ti_be),
        _be_param(0x16, b"\x01\x10"),
        _be_param(0xC001, b"\x00\x00\x00\x07"),  # vendor-specific: skipped
        struct.pack(">HH", 1, 0)])
    e = parse_endpoint_payload(payload, "reader")
    assert (e.endpoint_guid, e.topic_name, e.type_name) == (guid, "Square", "ShapeType")
    assert e.qos == Qos(reliability="reliable", max_blocking_time=1.0,
                        durability="transient_local", history=("keep_last", 5), deadline=0.5,
                        partition=("a", "bc"), data_representation=(2,))
    assert e.unicast_locators == (Locator.udpv4("10.0.0.1", 7411),)
    assert e.type_information == ti_le
    assert e.vendor_id == b"\x01\x10"


def test_big_endian_participant_payload():
    guid = bytes(range(12)) + b"\0\0\1\xc1"
    payload = b"\x00\x02\x00\x00" + b"".join([
        _be_param(PID_PARTICIPANT_GUID, guid),
        _be_param(0x02, struct.pack(">iI", 20, 0)),  # lease duration 20 s
        _be_param(0x58, struct.pack(">I", 0x3F | 0xF000)),  # builtin endpoint set
        _be_param(0x0F, struct.pack(">I", 7)),  # domain id
        _be_param(0x32, struct.pack(">iI", 1, 7410) + bytes(12) + bytes([10, 0, 0, 2])),
        _be_param(0x31, struct.pack(">iI", 1, 7411) + bytes(12) + bytes([10, 0, 0, 2])),
        _be_param(0x62, _be_string("be-peer")),
        struct.pack(">HH", 1, 0)])
    p = parse_participant_payload(payload)
    assert p.guid_prefix == guid[:12] and p.lease_duration == 20.0
    assert p.builtin_endpoints == 0x3F | 0xF000 and p.domain_id == 7
    assert p.metatraffic_unicast == (Locator.udpv4("10.0.0.2", 7410),)
    assert p.default_unicast == (Locator.udpv4("10.0.0.2", 7411),)
    assert p.entity_name == "be-peer"
    assert parse_key_payload(b"\x00\x02\x00\x00" + _be_param(PID_PARTICIPANT_GUID, guid)
                             + struct.pack(">HH", 1, 0)) == guid


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_big_endian_garbage_raises_only_malformed(blob):
    for parse in (parse_participant_payload,
                  lambda b: parse_endpoint_payload(b, "reader"), parse_key_payload):
        try:
            parse(b"\x00\x02\x00\x00" + blob)
        except MalformedError:
            pass
