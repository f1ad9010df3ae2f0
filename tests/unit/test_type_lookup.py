"""The TypeLookup service and type matching between two ParticipantCores on the simulated network.

Every byte crosses ``tests.support.simnet`` as a real RTPS datagram, so SPDP announces the service
bits, SEDP carries PID_TYPE_INFORMATION, and requests/replies travel over the reliable builtin
TypeLookup endpoints exactly as they would over UDP.
"""

from __future__ import annotations

from typing import Any

import rtbus.idl
from rtbus import xtypes
from rtbus.qos import Qos
from rtbus.rtps.sedp import EndpointMatched, InconsistentTopic, RemoteEndpointDiscovered
from rtbus.rtps.spdp import ParticipantDiscovered
from rtbus.rtps.wire.constants import BES_TL_SVC_REPLY_READER as TYPE_LOOKUP_REPLY_READER
from rtbus.rtps.wire.constants import BES_TL_SVC_REPLY_WRITER as TYPE_LOOKUP_REPLY_WRITER
from rtbus.rtps.wire.constants import BES_TL_SVC_REQUEST_READER as TYPE_LOOKUP_REQUEST_READER
from rtbus.rtps.wire.constants import BES_TL_SVC_REQUEST_WRITER as TYPE_LOOKUP_REQUEST_WRITER
from tests.support.paths import SHAPE_IDL
from tests.support.simcore import SimCore
from tests.support.simnet import SimNetwork

RELIABLE = Qos(reliability="reliable")


def _shape(members: str) -> Any:
    """A ShapeType (one name, several structures, as different programs may declare it)."""
    return rtbus.idl.parse(f"@appendable struct ShapeType {{ @key string<128> color; {members} }};"
                           ).types["ShapeType"]


FULL = _shape("int32 x; int32 y; int32 shapesize; sequence<uint8> extra;")
SHORT = _shape("int32 x; int32 y; int32 shapesize;")  # an appendable prefix: assignable
WRONG = _shape("string x; int32 y; int32 shapesize;")  # x changed type: not assignable
TYPES = rtbus.idl.parse("""
module nested {
  struct Point { int32 x; int32 y; };
  enum Color { RED, GREEN };
  struct Path { @key int32 id; Color color; sequence<Point> points; Point origin; }; };
""").types
PATH = TYPES["nested::Path"]


def _pair(**kw_b: Any) -> tuple[SimNetwork, SimCore, SimCore]:
    net = SimNetwork(seed=1)
    return net, SimCore(net, 1, 2), SimCore(net, 2, 1, **kw_b)


def _writer(p: SimCore, model: Any, type_name: str = "ShapeType") -> bytes:
    guid = p.core.add_writer("Square", type_name, RELIABLE, True, p.net.now, type_model=model)
    p.drain()
    return bytes(guid)


def _reader(p: SimCore, model: Any, type_name: str = "ShapeType") -> bytes:
    guid = p.core.add_reader("Square", type_name, RELIABLE, True, p.net.now, type_model=model)
    p.drain()
    return bytes(guid)


def _matched(p: SimCore, local: bytes) -> bool:
    return any(e.local_guid == local for e in p.of(EndpointMatched))


def test_spdp_announces_the_type_lookup_endpoints() -> None:
    net, a, b = _pair()
    net.run(until=1.0)
    bits = [e.data.builtin_endpoints for e in b.of(ParticipantDiscovered)]
    tl_bits = (TYPE_LOOKUP_REQUEST_WRITER | TYPE_LOOKUP_REQUEST_READER
               | TYPE_LOOKUP_REPLY_WRITER | TYPE_LOOKUP_REPLY_READER)
    assert bits and bits[0] & tl_bits == tl_bits
    assert a.core.type_lookup is not None
    assert len(a.core.type_lookup.request_writer.readers) == 1  # matched b's request reader
    assert len(a.core.type_lookup.reply_reader.writers) == 1


def test_equal_hashes_match_at_once_without_a_lookup() -> None:
    net, a, b = _pair()
    w = _writer(a, FULL)
    r = _reader(b, FULL)
    net.run(until=2.0)
    assert _matched(a, w) and _matched(b, r)
    remote = [e.data for e in b.of(RemoteEndpointDiscovered)]
    assert remote[0].type_information == xtypes.type_information(FULL)
    for p in (a, b):
        assert p.core.type_lookup is not None
        assert p.core.type_lookup.counters["requests_sent"] == 0


def test_server_answers_get_types_minimal_and_complete_with_dependencies() -> None:
    net, a, b = _pair()
    _writer(a, PATH, "nested::Path")
    net.run(until=1.0)
    assert a.core.type_lookup is not None and b.core.type_lookup is not None
    info = xtypes.type_information_of(PATH)
    ids = [info.minimal.typeid_with_size.type_id, info.complete.typeid_with_size.type_id]
    ids += [d.type_id for d in info.minimal.dependent_typeids + info.complete.dependent_typeids]
    assert b.core.type_lookup.fetch(bytes(a.prefix), ids)
    b.core.handle_timer(net.now)  # flush the queued request
    b.drain()
    net.run(until=2.0)
    objects = b.core.type_lookup.known_objects()
    for tid in ids:
        assert objects.get(tid) == a.core.type_lookup.registry.type_object(tid), tid
    assert a.core.type_lookup.counters["requests_answered"] == 1
    assert b.core.type_lookup.counters["type_objects_learnt"] == len(set(ids))


def test_get_type_dependencies_then_get_types() -> None:
    net, a, b = _pair()
    _writer(a, PATH, "nested::Path")
    net.run(until=1.0)
    assert a.core.type_lookup is not None and b.core.type_lookup is not None
    top = xtypes.type_identifier(PATH, "minimal")
    assert b.core.type_lookup.fetch(bytes(a.prefix), [top], dependencies=True)
    b.core.handle_timer(net.now)
    b.drain()
    net.run(until=2.0)
    deps = xtypes.type_information_of(PATH).minimal.dependent_typeids
    assert deps and all(d.type_id in b.core.type_lookup.registry for d in deps)
    assert top in b.core.type_lookup.registry
    assert a.core.type_lookup.counters["requests_answered"] == 2  # dependencies, then types


def test_different_hash_fetched_then_assignable_types_match() -> None:
    net, a, b = _pair()
    w = _writer(a, FULL)
    r = _reader(b, SHORT)
    net.run(until=3.0)
    assert _matched(a, w) and _matched(b, r)
    for p in (a, b):
        assert p.core.type_lookup is not None
        assert p.core.type_lookup.counters["type_objects_learnt"] >= 1
        assert p.core.type_lookup.counters["requests_answered"] >= 1
        assert not p.of(InconsistentTopic)


def test_incompatible_type_under_the_same_name_is_reported_not_matched() -> None:
    net, a, b = _pair()
    w = _writer(a, FULL)
    r = _reader(b, WRONG)
    net.run(until=10.0)  # well past the request timeout: the answer, not a fallback, decides
    assert not a.of(EndpointMatched) and not b.of(EndpointMatched)
    assert [e.local_guid for e in a.of(InconsistentTopic)] == [w]
    assert [e.local_guid for e in b.of(InconsistentTopic)] == [r]
    assert b.of(InconsistentTopic)[0].remote_type_name == "ShapeType"


def test_unanswered_request_times_out_and_type_names_decide() -> None:
    net, a, b = _pair()
    # a takes every request of b for another participant's: b never gets an answer, and
    # its matching must not wait forever
    assert a.core.type_lookup is not None
    a.core.type_lookup.instance_names = set()
    w = _writer(a, FULL)
    r = _reader(b, SHORT)
    net.run(until=2.0)
    assert _matched(a, w) and not _matched(b, r)  # a got b's type; b is still waiting
    net.run(until=6.0)
    assert _matched(b, r)
    assert b.core.type_lookup is not None
    assert b.core.type_lookup.counters["requests_timed_out"] == 1
    assert a.core.type_lookup.counters["request_for_other"] == 1


def test_peer_without_type_information_matches_by_name() -> None:
    """Like RTI Connext 6.1: no TypeInformation, no TypeLookup service."""
    net, a, b = _pair(type_lookup=False)
    w = _writer(a, FULL)
    r = _reader(b, WRONG)  # different structure: only the name is compared
    net.run(until=2.0)
    assert _matched(a, w) and _matched(b, r)
    assert [e.data.type_information for e in a.of(RemoteEndpointDiscovered)] == [None]
    assert b.core.type_lookup is None
    assert a.core.type_lookup is not None
    assert a.core.type_lookup.counters["requests_sent"] == 0


def test_type_names_still_decide_without_type_information_on_one_side() -> None:
    net, a, b = _pair()
    w = _writer(a, FULL)
    guid = b.core.add_reader("Square", "OtherName", RELIABLE, True, net.now)  # no model: no TI
    b.drain()
    net.run(until=2.0)
    assert not _matched(a, w)
    assert [e.local_guid for e in b.of(InconsistentTopic)] == [bytes(guid)]


def test_entity_ids_are_the_xtypes_ones() -> None:
    from rtbus.rtps import type_lookup as service
    from rtbus.xtypes import lookup_messages as tl

    for ours, spec in ((service.ENTITYID_TL_REQUEST_WRITER, tl.ENTITYID_TL_SVC_REQ_WRITER),
                       (service.ENTITYID_TL_REQUEST_READER, tl.ENTITYID_TL_SVC_REQ_READER),
                       (service.ENTITYID_TL_REPLY_WRITER, tl.ENTITYID_TL_SVC_REPLY_WRITER),
                       (service.ENTITYID_TL_REPLY_READER, tl.ENTITYID_TL_SVC_REPLY_READER)):
        assert bytes(ours) == spec.to_bytes(4, "big")


def test_mutated_requests_and_replies_raise_only_malformed() -> None:
    """TypeLookup samples are network input: damage must end in MalformedError (dropped)."""
    import random

    from rtbus.errors import MalformedError
    from rtbus.xtypes import lookup_messages as tl

    registry = tl.TypeRegistry()
    registry.add(PATH)
    info = xtypes.type_information_of(PATH)
    ids = (info.minimal.typeid_with_size.type_id, info.complete.typeid_with_size.type_id,
           *(d.type_id for d in info.complete.dependent_typeids))
    rid = tl.SampleIdentity(bytes(16), 1)
    samples = []
    for request in (tl.GetTypesRequest(rid, ids), tl.GetTypeDependenciesRequest(rid, ids[:2])):
        payload = tl.with_encapsulation(tl.encode_request(request))
        samples += [(payload, tl.decode_request_payload),
                    (tl.lookup(registry, payload), tl.decode_reply_payload)]
    rng = random.Random(7)
    for base, decode in samples:
        for _ in range(3000):
            damaged = bytearray(base)
            for _ in range(rng.randint(1, 4)):
                damaged[rng.randrange(len(damaged))] = rng.randrange(256)
            if rng.random() < 0.2:
                del damaged[rng.randrange(len(damaged)):]
            try:
                parsed = decode(bytes(damaged))
                if isinstance(parsed, (tl.GetTypesRequest, tl.GetTypeDependenciesRequest)):
                    registry.answer(parsed)
                elif isinstance(parsed, tl.GetTypesReply):
                    for pair in parsed.types:
                        pair.hash_matches()
            except MalformedError:
                pass


def test_reply_with_damaged_octets_is_malformed_not_a_crash() -> None:
    """Every single-octet change of a getTypes reply (kinds, discriminators, lengths)."""
    from rtbus.errors import MalformedError
    from rtbus.xtypes import lookup_messages as tl

    shape = rtbus.idl.load(SHAPE_IDL).ShapeType.__rtbus_type__
    registry = tl.TypeRegistry()
    registry.add(shape)
    ids = (xtypes.type_identifier(shape, "minimal"), xtypes.type_identifier(shape, "complete"))
    request = tl.GetTypesRequest(tl.SampleIdentity(bytes(16), 1), ids)
    reply = tl.lookup(registry, tl.with_encapsulation(tl.encode_request(request)))
    for offset in range(4, len(reply)):
        for value in (0x00, 0x71, 0x73, 0x7F, 0xFF):
            damaged = bytearray(reply)
            damaged[offset] = value
            try:
                parsed = tl.decode_reply_payload(bytes(damaged))
                for pair in getattr(parsed, "types", ()):
                    pair.hash_matches()
            except MalformedError:
                pass
